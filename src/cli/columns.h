// How much of a terminal line text takes: the columns of aligned report tables and of the
// shell's lists. Pure functions of the text, no I/O; the character properties are ICU's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace drovebank {

// Columns `s` takes on a terminal, a code point at a time as wcwidth(3) counts them:
// 0 for combining marks (general category Mn, Me), format characters (Cf: the bidi
// controls, U+200B, U+FEFF, ...), the other default-ignorable code points and Hangul's
// medial vowels and final consonants (U+1160-U+11FF); 2 for East Asian wide and full-width
// characters (Unicode's East_Asian_Width W or F: CJK, Hangul syllables, most emoji); 1 for
// the rest. What is not UTF-8 takes one column for each replacement character a terminal
// draws for it (one per maximal ill-formed subsequence, as ICU's U8_NEXT decodes).
size_t DisplayWidth(std::string_view s);

// `s` cut at a character boundary to at most `width` columns, ending in "…" when it was
// cut; then padded with spaces to exactly `width` columns (on the right, or on the left
// when `right_align`). A wide character that would straddle the cut is left out whole.
std::string FitColumn(std::string_view s, size_t width, bool right_align = false);

}  // namespace drovebank
