// Unicode for typed text as a module (src/base/unicode.h): UTF-8 decoding and its refusals,
// user-perceived characters, NFC, the search fold, trimming of space separators, marks.
// Names and memos built on it are names_test.cc and validate_test.cc; search is
// search_test.cc.
#include "base/unicode.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace drovebank {
namespace {

TEST_CASE("unicode: UTF-8 decodes each length and refuses what is not well formed",
          "[unicode]") {
  std::uint32_t cp = 0;
  CHECK(DecodeUtf8("a", 0, &cp) == 1);
  CHECK(cp == 'a');
  CHECK(DecodeUtf8("x\xc3\xa9", 1, &cp) == 2);
  CHECK(cp == 0xE9);
  CHECK(DecodeUtf8("\xe2\x82\xac", 0, &cp) == 3);
  CHECK(cp == 0x20AC);
  CHECK(DecodeUtf8("\xf0\x9f\x98\x80", 0, &cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(DecodeUtf8("\xf4\x8f\xbf\xbf", 0, &cp) == 4);
  CHECK(cp == 0x10FFFF);

  for (const char* bad : {"\xc0\xaf",           // overlong '/'
                          "\xe0\x80\xaf",       // overlong, 3 bytes
                          "\xed\xa0\x80",       // a surrogate
                          "\xf4\x90\x80\x80",   // past U+10FFFF
                          "\xe2\x82",           // cut
                          "\x80",               // a lone continuation byte
                          "\xff"}) {
    INFO(bad);
    CHECK(DecodeUtf8(bad, 0, &cp) == 0);
    CHECK_FALSE(IsUtf8(std::string("ok ") + bad));
  }
  CHECK(IsUtf8(""));
  CHECK(IsUtf8("Zo\xc3\xab \xf0\x9f\x98\x80"));
}

TEST_CASE("unicode: grapheme clusters, NFC and marks", "[unicode]") {
  const std::string e_acute_decomposed = "e\xcc\x81";  // e + U+0301
  CHECK(GraphemeCount(e_acute_decomposed) == 1);
  CHECK(GraphemeCount("abc") == 3);
  CHECK(GraphemeCount("") == 0);
  // woman + ZWJ + laptop: one emoji a person sees
  CHECK(GraphemeCount("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb") == 1);
  CHECK(Nfc(e_acute_decomposed) == "\xc3\xa9");
  CHECK(Nfc("\xc3\xa9") == "\xc3\xa9");
  CHECK(IsMark(0x0301));
  CHECK_FALSE(IsMark('e'));
  CHECK_FALSE(IsMark(0x200D));
}

TEST_CASE("unicode: the search fold ignores case, form and runs of white space", "[unicode]") {
  CHECK(SearchFold("\xc3\x85NGSTR\xc3\x96M") == SearchFold("\xc3\xa5ngstr\xc3\xb6m"));
  CHECK(SearchFold("  Zo\xc3\xab \xc2\xa0 \xc3\x85ngstr\xc3\xb6m ") == "zo\xc3\xab \xc3\xa5ngstr\xc3\xb6m");
  CHECK(SearchFold("Stra\xc3\x9f" "e") == "strasse");
  CHECK(SearchFold("e\xcc\x81") == SearchFold("\xc3\x89"));
  CHECK(SearchFold("a\xe2\x80\x8d" "b") == "ab");  // an invisible joiner dropped
  CHECK(SearchFold("Ada") != SearchFold("Adam"));
}

TEST_CASE("unicode: TrimSpaces drops space separators at the ends only, never controls",
          "[unicode]") {
  CHECK(TrimSpaces("  Ada  ") == "Ada");
  CHECK(TrimSpaces("\xc2\xa0" "Ada\xe3\x80\x80") == "Ada");  // U+00A0, U+3000
  CHECK(TrimSpaces("Ada  Lovelace") == "Ada  Lovelace");
  CHECK(TrimSpaces("\tAda\n") == "\tAda\n");
  CHECK(TrimSpaces("   ") == "");
}

}  // namespace
}  // namespace drovebank
