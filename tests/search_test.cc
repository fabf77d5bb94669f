// What `search TEXT` finds (issue 26 item 14): case folded by Unicode rules, "first last"
// and "last first", and an all-digit text also finds that account id. A table of
// accounts and queries.
#include "drovebank/search.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

namespace drovebank {
namespace {

Account Named(AccountId id, std::string first, std::string last) {
  Account a;
  a.id = id;
  a.first = std::move(first);
  a.last = std::move(last);
  return a;
}

const std::vector<Account>& People() {
  static const std::vector<Account> people = {
      Named(1, "Ada", "Lovelace"),
      Named(2, "Zo\u00EB", "\u00C5ngstr\u00F6m"),     // Zoë Ångström (NFC)
      Named(3, "Zoe\u0308", "A\u030Angstro\u0308m"),  // the same, decomposed
      Named(4, "Emre", "\u00DCnal"),                  // Ünal
      Named(5, "Hans", "Stra\u00DFe"),                // Straße
      Named(6, "\u039F\u03B4\u03C5\u03C3\u03C3\u03B5\u03CD\u03C2",
            "\u0399\u03B8\u03AC\u03BA\u03B7"),  // Οδυσσεύς Ιθάκη
      Named(7, "Mary\u00A0Ann", "O'Brien"),     // a no-break space inside
      Named(8, "Agent", "Seven"),
      Named(17, "Room", "7B"),
      Named(70, "\u0130lker", "Ayd\u0131n"),  // İlker Aydın
  };
  return people;
}

// A search text and the accounts of People() it finds.
struct Case {
  const char* text;
  std::set<AccountId> want;
};

std::set<AccountId> Found(const std::string& text) {
  auto q = AccountQuery::Parse(text);
  REQUIRE(q.ok());
  std::set<AccountId> ids;
  for (const Account& a : People()) {
    if (q->Matches(a)) ids.insert(a.id);
  }
  return ids;
}

TEST_CASE("search: case is folded by Unicode rules, whatever the normalization", "[search]") {
  const std::vector<Case> cases = {
      {"lovelace", {1}},
      {"LOVELACE", {1}},
      {"\u00C5NGSTR\u00D6M", {2, 3}},    // ÅNGSTRÖM
      {"\u00E5ngstr\u00F6m", {2, 3}},    // ångström
      {"A\u030ANGSTRO\u0308M", {2, 3}},  // decomposed capitals
      {"\u212Bngstr\u00F6m", {2, 3}},    // ANGSTROM SIGN
      {"angstrom", {}},                  // accents are letters
      {"\u00FCnal", {4}},                // ünal
      {"\u00DCNAL", {4}},
      {"STRASSE", {5}},  // ß folds to ss
      {"strasse", {5}},
      {"stra\u00DFe", {5}},
      {"\u1E9E", {5}},                                            // capital sharp s
      {"\u03BF\u03B4\u03C5\u03C3\u03C3\u03B5\u03CD\u03C2", {6}},  // final sigma folds to σ
      {"\u039F\u0394\u03A5\u03A3\u03A3\u0395\u038E\u03A3", {6}},  // all capitals
      {"\u0399\u0398\u0386\u039A\u0397", {6}},
      {"mary ann", {7}},  // a plain space finds U+00A0
      {"MARY\u00A0ANN", {7}},
      {"o'brien", {7}},
      {"\u0130LKER", {70}},  // İ folds to i + U+0307
      {"i\u0307lker", {70}},
      {"ayd\u0131n", {70}},  // ı folds to itself
      {"zz", {}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(Found(c.text) == c.want);
  }
}

TEST_CASE("search: the full name, first then last or last then first, across the space",
          "[search]") {
  const std::vector<Case> cases = {
      {"Zo\u00EB \u00C5ngstr\u00F6m", {2, 3}},  // 'Zoë Ångström'
      {"zo\u00EB \u00E5ng", {2, 3}},            // across the space
      {"\u00EB \u00E5", {2, 3}},
      {"\u00C5ngstr\u00F6m Zo\u00EB", {2, 3}},  // last first
      {"  ada   lovelace ", {1}},               // spaces anywhere, any number
      {"ada\u3000lovelace", {1}},               // any white space
      {"Ada Lovelace", {1}},
      {"Lovelace Ada", {1}},
      {"Ada  Lovelac", {1}},
      {"Lovelace, Ada", {}},  // a comma is text
      {"AdaLovelace", {}},
      {"mary ann o'brien", {7}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(Found(c.text) == c.want);
  }
}

TEST_CASE("search: digits find that account id too, and names holding the digits", "[search]") {
  CHECK(Found("7") == std::set<AccountId>{7, 17});  // id 7, and "7B"
  CHECK(Found("007") == std::set<AccountId>{7});    // the id, zero padded
  CHECK(Found("17") == std::set<AccountId>{17});
  CHECK(Found("70") == std::set<AccountId>{70});
  CHECK(Found("\uFF17") == std::set<AccountId>{7, 17});  // a fullwidth 7 folds to 7
  CHECK(Found("99") == std::set<AccountId>{});           // no such account, no such name
  CHECK(Found("0") == std::set<AccountId>{});            // not an id
  CHECK(Found("100000000") == std::set<AccountId>{});    // past the largest id
  CHECK(Found("7b") == std::set<AccountId>{17});         // not all digits: names only
}

TEST_CASE("search: text that is blank or not UTF-8 is refused", "[search]") {
  for (const std::string& bad :
       {std::string(""), std::string(" "), std::string("\u00A0\u3000"), std::string("\u200D")}) {
    auto q = AccountQuery::Parse(bad);
    REQUIRE(!q.ok());
    CHECK(q.status().code() == Code::kInvalidArgument);
    CHECK(q.status().message() == "search needs some text (not only spaces)");
  }
  auto q = AccountQuery::Parse("Ada\xff");
  REQUIRE(!q.ok());
  CHECK(q.status().message() == "search text is not valid UTF-8");
}

}  // namespace
}  // namespace drovebank
