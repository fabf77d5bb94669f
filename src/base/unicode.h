// Unicode for text people type (names, memos, search): UTF-8 decoding, and what ICU knows
// of characters: their properties, user-perceived characters (grapheme clusters),
// normalization and case folding. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace drovebank {

// Decodes the code point at s[i] into *cp; returns its length in bytes, or 0 when the
// sequence there is not well-formed UTF-8 (overlong, a surrogate, past U+10FFFF, cut).
size_t DecodeUtf8(std::string_view s, size_t i, std::uint32_t* cp);

// Whether `s` is well-formed UTF-8.
bool IsUtf8(std::string_view s);

// The user-perceived characters of `s` (valid UTF-8): its extended grapheme clusters as
// ICU's character BreakIterator finds them, so "e" + U+0301 is one, and so is an emoji
// ZWJ sequence.
size_t GraphemeCount(std::string_view s);

// `s` (valid UTF-8) in Normalization Form C: "e" + U+0301 becomes U+00E9.
std::string Nfc(std::string_view s);

// `s` (valid UTF-8) folded for comparing as search does: NFKC_Casefold (Unicode's full
// case folding with compatibility normalization; invisible characters such as U+200D
// dropped), then each run of white space (U+00A0 included) made one ' ', none at either
// end. "ÅNGSTRÖM" and "ångström" fold alike, and so do "Zoë  Ångström" and "zoë ångström".
std::string SearchFold(std::string_view s);

// `s` (valid UTF-8) without the spaces at either end: the space separators (general
// category Zs: U+0020, U+00A0, U+2003, U+3000, ...). Controls such as a tab or a newline
// and the line and paragraph separators stay, for a check to refuse.
std::string TrimSpaces(std::string_view s);

// Why a character may not stand in a name as it is given, "" when it may. `at` is its
// index in `cps` (the name's code points): a zero-width joiner or non-joiner depends on
// its neighbours.
std::string_view NameCharProblem(const std::u32string& cps, size_t at);

// Whether the zero-width non-joiner (U+200C) or joiner (U+200D) at cps[at] does what
// some writing needs: after a virama (Indic conjuncts, RFC 5892 A.1-A.2), between two
// letters of a joining script (Arabic, Persian: "می‌خواهم"), or, a joiner, between two
// emoji (a ZWJ sequence: "👩‍💻"). False at either end of the text.
bool JoinerInContext(const std::u32string& cps, size_t at);

// Whether `cp` is a combining mark (general category Mn, Mc or Me).
bool IsMark(std::uint32_t cp);

}  // namespace drovebank
