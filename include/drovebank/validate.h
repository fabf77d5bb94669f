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

// Names and memos are counted in user-perceived characters (grapheme clusters: "é" typed
// as "e" + U+0301 is one, and so is an emoji ZWJ sequence), with at most four code points
// a character on average, so no character carries marks without end.
inline constexpr size_t kMaxNameChars = 64;

// A name as stored: UTF-8 (well-formed, no overlongs or surrogates), 1-64 characters, at
// most 256 code points, no control characters (C0, DEL, C1) so terminal escapes cannot
// pass. Commas, quotes and apostrophes are fine. What every reader of the store checks, so
// a store written by an older drovebank stays readable. On failure: InvalidArgument
// saying why.
Status ValidateName(std::string_view name, std::string_view what);

// A name as typed for a new account: the spaces at either end (U+00A0, U+3000 and the
// other space separators too, not tabs or newlines) dropped, and the rest in Normalization
// Form C (the result is what is stored). Text that is not UTF-8 is only trimmed of ASCII spaces, for
// ValidateNewName to refuse. Names already in the store are never changed.
std::string TrimName(std::string_view name);
// ValidateName for a name being given now (open, the shell's menu, batch): `name` must be
// TrimName'd already, so a blank one is empty, which is refused. Refused too is what only
// deceives: format characters (the bidi controls U+202A-U+202E and U+2066-U+2069, U+200B,
// U+200E, U+200F, U+FEFF, U+00AD, ...), the other characters drawn as nothing
// (Default_Ignorable_Code_Point, e.g. U+3164, except combining marks such as variation
// selectors), the line and paragraph separators U+2028 and U+2029, noncharacters, and a
// combining mark with no letter before it. The zero-width non-joiner and joiner (U+200C,
// U+200D) pass where writing needs them: after a virama, between letters of a joining
// script (Persian "می‌خواهم"), and a joiner between emoji (JoinerInContext in
// src/base/unicode.h). (Stored names are read with ValidateName, so a store written before
// these rules stays readable.)
Status ValidateNewName(std::string_view name, std::string_view what);

// A memo (free text kept with a deposit, withdrawal or transfer) is UTF-8 like a name,
// at most 200 characters (counted as names are) and 800 code points, with no control
// characters (C0, DEL, C1) and none of the invisible or direction-changing characters
// that can make text display as something else: U+200B-U+200F, U+202A-U+202E,
// U+2066-U+2069, U+FEFF; except that U+200C and U+200D pass where a name lets them.
// Empty is fine (no memo). On failure: InvalidArgument saying why.
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
