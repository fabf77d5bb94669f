// src/cli/columns: the terminal columns of text, and cutting it to a column.
#include <catch2/catch.hpp>

#include <string>

#include "cli/columns.h"

using namespace drovebank;

TEST_CASE("columns: ASCII takes a column a byte", "[columns]") {
  CHECK(DisplayWidth("") == 0);
  CHECK(DisplayWidth("Ada Lovelace") == 12);
}

TEST_CASE("columns: wide characters take two, marks and invisible ones none", "[columns]") {
  CHECK(DisplayWidth("\u6F22\u5B57") == 4);          // 漢字
  CHECK(DisplayWidth("\uD55C\uAD6D") == 4);          // 한국 (Hangul syllables)
  CHECK(DisplayWidth("\uFF21") == 2);                // full-width A
  CHECK(DisplayWidth("\U0001F600") == 2);            // emoji
  CHECK(DisplayWidth("\U0001F9FE") == 2);            // 🧾, past the old hand table's ranges
  CHECK(DisplayWidth("e\u0301") == 1);               // combining acute
  CHECK(DisplayWidth("a\u200Bb") == 2);              // zero-width space
  CHECK(DisplayWidth("\u202Eabc") == 3);             // a bidi control
  CHECK(DisplayWidth("\u00AD") == 0);                // soft hyphen (Cf)
  CHECK(DisplayWidth("\u1100\u1161") == 2);          // a syllable from Jamo: lead + vowel
  CHECK(DisplayWidth("Zo\u00EB") == 3);
}

TEST_CASE("columns: what is not UTF-8 takes a column a replacement character", "[columns]") {
  CHECK(DisplayWidth(std::string("a\xFF" "b")) == 3);
  CHECK(DisplayWidth(std::string("\xFF\xFE")) == 2);
  // A cut sequence is one ill-formed subsequence: one U+FFFD, as a terminal shows it.
  CHECK(DisplayWidth(std::string("\xE6\xBC")) == 1);
  CHECK(DisplayWidth(std::string("\xE6\xBC" "a")) == 2);
}

TEST_CASE("columns: FitColumn pads what fits and cuts what does not", "[columns]") {
  CHECK(FitColumn("abc", 5) == "abc  ");
  CHECK(FitColumn("abc", 5, true) == "  abc");
  CHECK(FitColumn("abcdef", 5) == "abcd\u2026");
  CHECK(FitColumn("abcde", 5) == "abcde");
  CHECK(FitColumn("", 0).empty());
  // A wide character that would straddle the cut is left out whole, and the line padded.
  CHECK(FitColumn("\u6F22\u5B57\u6F22", 4) == "\u6F22\u2026 ");
  CHECK(DisplayWidth(FitColumn("\u6F22\u5B57\u6F22", 4)) == 4);
  // A combining mark stays with its letter.
  CHECK(FitColumn("e\u0301e\u0301e\u0301", 2) == "e\u0301\u2026");
}

TEST_CASE("columns: FitColumn always yields exactly the width asked", "[columns]") {
  const std::string samples[] = {"", "a", "Ada Lovelace", "\u6F22\u5B57\u6F22\u5B57",
                                 "e\u0301\u6F22x\U0001F600y", std::string("\xFF\xFEq")};
  for (const auto& s : samples) {
    for (size_t w = 1; w <= 12; ++w) {
      INFO(s << " in " << w);
      CHECK(DisplayWidth(FitColumn(s, w)) == w);
      CHECK(DisplayWidth(FitColumn(s, w, true)) == w);
    }
  }
}
