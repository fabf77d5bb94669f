// Names as people write them (issue 26 item 15): what real names need passes (the
// zero-width non-joiner of Persian, the joiner of Indic conjuncts and emoji sequences,
// combining marks), what only deceives is refused (bidi controls, invisible characters,
// line separators, a blank name), and length is what a person sees. Tables of inputs.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/validate.h"

namespace drovebank {
namespace {

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A name as `open` takes it: trimmed and normalized, then checked.
Status New(const std::string& typed) { return ValidateNewName(TrimName(typed), "last name"); }

TEST_CASE("names: what real names need passes", "[validate][names]") {
  const std::vector<std::pair<const char*, std::string>> ok = {
      {"Persian, ZWNJ between joining letters", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645"},
      {"Persian first name", "\u0645\u0647\u062F\u06CC"},
      {"Devanagari, ZWJ after a virama", "\u0915\u094D\u200D\u0937"},
      {"Devanagari, ZWNJ after a virama", "\u0915\u094D\u200C\u0937"},
      {"Malayalam chillu (virama + ZWJ)",
       "\u0D28\u0D4D\u200D"
       "\u0D2E"},
      {"emoji ZWJ sequence", "Ada \U0001F469\u200D\U0001F4BB"},
      {"emoji with skin tone in a ZWJ sequence", "\U0001F469\U0001F3FD\u200D\U0001F52C"},
      {"emoji with VS16 in a ZWJ sequence", "\u2764\uFE0F\u200D\U0001F525"},
      {"combining acute (decomposed)", "Zoe\u0301"},
      {"several marks", "A\u0301\u0323da"},
      {"Vietnamese", "Nguy\u1EC5n"},
      {"no-break space inside", "Mary\u00A0Ann"},
      {"ideographic space inside", "\u5C71\u7530\u3000\u592A\u90CE"},
      {"CJK variation selector", "\u845B\U000E0100"},
      {"Hebrew with points", "\u05E9\u05C1\u05B8\u05DC\u05D5\u05B9\u05DD"},
      {"apostrophes and hyphens", "O'Brien-Smith, Jr."},
      {"Arabic with harakat between a ZWNJ", "\u0628\u064E\u200C\u0628"},
  };
  for (const auto& [what, name] : ok) {
    INFO(what);
    Status s = New(name);
    CHECK(s.ok());
    CHECK(s.message().empty());
    CHECK(ValidateName(TrimName(name), "last name").ok());  // and a reader takes it
  }
}

TEST_CASE("names: what only deceives is refused, saying which character", "[validate][names]") {
  struct Case {
    const char* what;
    std::string name;
    const char* message;
  };
  const std::vector<Case> refused = {
      {"right-to-left override", "Ada\u202Eecalevol",
       "contains an invisible or text-direction character (U+202E)"},
      {"left-to-right embedding", "\u202AAda",
       "contains an invisible or text-direction character (U+202A)"},
      {"pop directional formatting", "Ada\u202C",
       "contains an invisible or text-direction character (U+202C)"},
      {"first strong isolate", "A\u2068da",
       "contains an invisible or text-direction character (U+2068)"},
      {"pop directional isolate", "Ada\u2069x",
       "contains an invisible or text-direction character (U+2069)"},
      {"right-to-left mark", "Ada\u200Fx",
       "contains an invisible or text-direction character (U+200F)"},
      {"Arabic letter mark", "Ada\u061Cx",
       "contains an invisible or text-direction character (U+061C)"},
      {"zero-width space", "Ada\u200BLovelace",
       "contains an invisible or text-direction character (U+200B)"},
      {"byte order mark", "\uFEFFAda",
       "contains an invisible or text-direction character (U+FEFF)"},
      {"soft hyphen", "Love\u00ADlace",
       "contains an invisible or text-direction character (U+00AD)"},
      {"word joiner", "Love\u2060lace",
       "contains an invisible or text-direction character (U+2060)"},
      {"Hangul filler (a blank name)", "\u3164",
       "contains an invisible or text-direction character (U+3164)"},
      {"halfwidth Hangul filler", "A\uFFA0",
       "contains an invisible or text-direction character (U+FFA0)"},
      {"tag character", "Ada\U000E0041",
       "contains an invisible or text-direction character (U+E0041)"},
      {"line separator", "Ada\u2028Lovelace", "contains a line or paragraph separator (U+2028)"},
      {"paragraph separator", "Ada\u2029x", "contains a line or paragraph separator (U+2029)"},
      {"noncharacter", "Ada\uFFFF", "contains a noncharacter (U+FFFF)"},
      {"escape", "Ada\x1b[31m", "contains a control character (U+001B)"},
      {"C1 control", "Ada\u0085", "contains a control character (U+0085)"},
      {"ZWJ between Latin letters", "Love\u200Dlace",
       "contains a zero-width joiner or non-joiner that joins nothing (U+200D)"},
      {"ZWNJ between Latin letters", "Love\u200Clace",
       "contains a zero-width joiner or non-joiner that joins nothing (U+200C)"},
      {"ZWNJ at the end", "\u0645\u06CC\u200C",
       "contains a zero-width joiner or non-joiner that joins nothing (U+200C)"},
      {"ZWJ at the start", "\u200D\U0001F4BB",
       "contains a zero-width joiner or non-joiner that joins nothing (U+200D)"},
      {"ZWJ after an emoji, before a letter", "\U0001F469\u200Da",
       "contains a zero-width joiner or non-joiner that joins nothing (U+200D)"},
      {"ZWNJ between emoji", "\U0001F469\u200C\U0001F4BB",
       "contains a zero-width joiner or non-joiner that joins nothing (U+200C)"},
      {"a mark with no letter", "\u0301Ada",
       "starts with a combining mark (U+0301), which has no letter to go on"},
      {"only spaces", "   ", "is empty"},
      {"only a no-break space", "\u00A0", "is empty"},
      {"only ideographic and em spaces", "\u3000\u2003", "is empty"},
      {"nothing", "", "is empty"},
  };
  for (const Case& c : refused) {
    INFO(c.what);
    Status s = New(c.name);
    REQUIRE(!s.ok());
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message() == std::string("last name ") + c.message);
  }
}

TEST_CASE("names: white space at either end is dropped, and the name is stored in NFC",
          "[validate][names]") {
  CHECK(TrimName("  Ada ") == "Ada");
  CHECK(TrimName("\u00A0Ada\u3000") == "Ada");
  CHECK(TrimName("\u2003Mary\u00A0Ann\u205F") == "Mary\u00A0Ann");
  CHECK(TrimName("Zoe\u0301") == "Zo\u00E9");  // composed
  CHECK(TrimName("A\u030Angstro\u0308m") == "\u00C5ngstr\u00F6m");
  CHECK(TrimName("\u212Bngstr\u00F6m") == "\u00C5ngstr\u00F6m");  // ANGSTROM SIGN is Å
  CHECK(TrimName("Zo\u00E9") == "Zo\u00E9");                      // already NFC: as given
  CHECK(TrimName("\uFB01") == "\uFB01");                          // NFC keeps compatibility forms
  // Not UTF-8: only ASCII spaces go, and the check refuses the rest as it came.
  CHECK(TrimName(" \xff ") == "\xff");
  CHECK(New(" \xff ").message() == "last name is not valid UTF-8");
}

TEST_CASE("names: length is counted in characters a person sees", "[validate][names]") {
  struct Unit {
    const char* what;
    std::string text;
  };
  const std::vector<Unit> units = {
      {"ASCII", "a"},
      {"precomposed", "\u00E9"},
      {"e + combining acute", "e\u0301"},
      {"two marks", "a\u0301\u0323"},
      {"Devanagari syllable", "\u0915\u093F"},
      {"Hangul jamo", "\u1100\u1161\u11A8"},
      {"emoji ZWJ sequence", "\U0001F469\u200D\U0001F4BB"},
      {"flag", "\U0001F1EB\U0001F1F7"},
      {"CJK", "\u540D"},
  };
  for (const Unit& u : units) {
    INFO(u.what);
    for (size_t n : {1u, 40u, 63u, 64u}) {
      // Stored without TrimName (a decomposed name as an older drovebank wrote it) and as
      // given now: both count the same.
      CHECK(ValidateName(Repeat(u.text, n), "last name").ok());
      CHECK(New(Repeat(u.text, n)).ok());
    }
    Status s = New(Repeat(u.text, 65));
    REQUIRE(!s.ok());
    CHECK(s.message() == "last name is 65 characters long; at most 64 are allowed");
    CHECK(ValidateName(Repeat(u.text, 65), "last name").message() == s.message());
  }
  // A character may carry marks, but not without end: at most 256 code points in all.
  // ("x" + U+0301 has no composed form, so NFC leaves every mark.)
  CHECK(New("x" + Repeat("\u0301", 255)).ok());
  Status zalgo = New("x" + Repeat("\u0301", 256));
  CHECK(zalgo.message() ==
        "last name is too long: 257 code points (letters and the marks on them); at most 256 "
        "are allowed");
  CHECK(!ValidateName("x" + Repeat("\u0301", 256), "last name").ok());
}

TEST_CASE("names: what a store written before these rules holds stays readable",
          "[validate][names]") {
  // The old rule: 1-64 code points, no controls. A reader still takes every such name,
  // the ones `open` now refuses or would have normalized included.
  for (const std::string& old :
       {std::string("Love\u200Dlace"), std::string("\u00A0"), std::string("Ada\u2028"),
        std::string(" lead"), std::string("Zoe\u0301"), std::string("\u0301"),
        std::string("\u202EAda"), Repeat("e\u0301", 32), Repeat("x", 64)}) {
    INFO(old);
    CHECK(ValidateName(old, "first name").ok());
  }
}

TEST_CASE("memos: the joiners pass where names let them, and length counts characters",
          "[validate][memo]") {
  CHECK(ValidateMemo("\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645").ok());
  CHECK(ValidateMemo("gift \U0001F469\u200D\U0001F4BB").ok());
  CHECK(ValidateMemo("re\u200Cnt").message() ==
        "memo contains an invisible or text-direction character (U+200C)");
  // Another invisible character between two joining letters, after a joiner that passed.
  CHECK(ValidateMemo("\u0645\u06CC\u200C\u062E \u0628\u200B\u0628").message() ==
        "memo contains an invisible or text-direction character (U+200B)");
  CHECK(ValidateMemo(Repeat("e\u0301", 200)).ok());
  CHECK(ValidateMemo(Repeat("e\u0301", 201)).message() ==
        "memo is 201 characters long; at most 200 are allowed");
}

}  // namespace
}  // namespace drovebank
