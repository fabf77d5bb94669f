// Input validation for everything a user types that is not money.
//
// Contract: pure functions. A Parse*/Validate* call returns Ok (or the value) only for input
// the store accepts as it stands, and otherwise InvalidArgument with a message naming
// what was wrong; nothing is ever stored or changed here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "drovebank/status.h"

namespace drovebank {

using AccountId = std::uint32_t;
inline constexpr AccountId kMaxAccountId = 99'999'999;

// Parses a decimal id in [1, kMaxAccountId]: digits only, no sign, no exponent, no
// path characters. On failure: InvalidArgument naming the bad text.
Result<AccountId> ParseAccountId(std::string_view text);

// Parses a transaction number: decimal digits only, 1 to 10^19 - 1. On failure:
// InvalidArgument naming the bad text.
Result<std::uint64_t> ParseTxnNumber(std::string_view text);

// A name is UTF-8 (well-formed, no overlongs or surrogates), 1-64 characters (code
// points), with no control characters (C0, DEL, C1) so terminal escapes cannot pass.
// Commas, quotes and apostrophes are fine. On failure: InvalidArgument saying why.
Status ValidateName(std::string_view name, std::string_view what);

// A name as typed for a new account: spaces at either end are dropped (the result is what
// is stored). Names already in the store are never trimmed.
std::string TrimName(std::string_view name);
// ValidateName for a name being given now (open, the shell's menu, batch): `name` must be
// TrimName'd already; empty is refused, and so are the invisible and direction-changing
// characters that would make two different names look alike or reorder a line on a
// terminal: U+200B-U+200F, U+202A-U+202E, U+2066-U+2069 and U+FEFF, as for memos. (Stored
// names are read with ValidateName, so a store written before this rule stays readable.)
Status ValidateNewName(std::string_view name, std::string_view what);

// Columns `s` (valid UTF-8) takes on a terminal: 0 for combining marks and the invisible
// characters above, 2 for East Asian wide characters and emoji, else 1.
size_t DisplayWidth(std::string_view s);
// `s` cut to at most `width` columns, ending in "…" when it was cut; then padded with
// spaces to exactly `width` columns (on the right, or on the left when `right_align`).
std::string FitColumn(std::string_view s, size_t width, bool right_align = false);

// A memo (free text kept with a deposit, withdrawal or transfer) is UTF-8 like a name,
// at most 200 characters (code points), with no control characters (C0, DEL, C1) and
// none of the invisible or direction-changing characters that can make text display as
// something else: U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF. Empty is fine
// (no memo). On failure: InvalidArgument saying why.
inline constexpr size_t kMaxMemoChars = 200;
Status ValidateMemo(std::string_view memo);

// An idempotency key is 1-64 characters of [A-Za-z0-9_.:-] not starting with '.'.
// It is used in a file name, so nothing else may pass.
Status ValidateKey(std::string_view key);

// Counts code points of already-validated UTF-8.
size_t Utf8Length(std::string_view s);

// `text` made safe to echo in a message: well-formed UTF-8 passes, while control
// characters (C0 including newline and tab, DEL, C1) and bytes of malformed UTF-8 are
// written as \xNN, so hostile input can never reach a terminal as an escape sequence.
// Longer than `max_chars` code points: cut there and "..." appended.
std::string EscapeForTerminal(std::string_view text, size_t max_chars = 64);

}  // namespace drovebank
