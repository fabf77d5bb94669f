// ParseAmount, FormatCents and AddCents: every valid form, every class of invalid form,
// the kMaxCents boundary, and overflow attempts through long digit strings.
#include "drovebank/money.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace drovebank {
namespace {

// The reference: the value of a digit string, or -1 past kMaxCents (computed in __int128
// so the reference itself cannot overflow for the lengths used here).
Cents Reference(const std::string& whole, const std::string& decimals) {
  __int128 v = 0;
  for (char c : whole) v = v * 10 + (c - '0');
  v *= 100;
  if (decimals.size() >= 1) v += (decimals[0] - '0') * 10;
  if (decimals.size() == 2) v += decimals[1] - '0';
  return v > kMaxCents ? -1 : static_cast<Cents>(v);
}

TEST_CASE("money: every digit count and decimal form parses exactly", "[money]") {
  // Whole parts of 1 to 12 digits built from every digit, with no, one or two decimals.
  for (int len = 1; len <= 12; ++len) {
    for (char d = '0'; d <= '9'; ++d) {
      std::string whole(static_cast<size_t>(len), d);
      whole[0] = len > 1 && d == '0' ? '1' : whole[0];
      for (std::string dec : {"", "0", "5", "9", "00", "01", "10", "99", "45"}) {
        std::string text = dec.empty() ? whole : whole + "." + dec;
        auto v = ParseAmount(text);
        INFO(text);
        REQUIRE(v.ok());
        CHECK(*v == Reference(whole, dec));
      }
    }
  }
}

TEST_CASE("money: all one and two digit decimals", "[money]") {
  for (int c = 0; c <= 99; ++c) {
    std::string two = std::to_string(c / 10) + std::to_string(c % 10);
    auto v = ParseAmount("7." + two);
    REQUIRE(v.ok());
    CHECK(*v == 700 + c);
    CHECK(FormatCents(*v) == "7." + two);
  }
  for (int c = 0; c <= 9; ++c) {
    auto v = ParseAmount("3." + std::to_string(c));
    REQUIRE(v.ok());
    CHECK(*v == 300 + c * 10);
  }
}

TEST_CASE("money: leading zeros are accepted within the digit limit", "[money]") {
  CHECK(ParseAmount("0").value() == 0);
  CHECK(ParseAmount("0.00").value() == 0);
  CHECK(ParseAmount("007").value() == 700);
  CHECK(ParseAmount("000000000001.50").value() == 150);
}

TEST_CASE("money: the maximum is accepted and one cent more is refused", "[money]") {
  CHECK(ParseAmount("999999999999.99").value() == kMaxCents);
  CHECK(ParseAmount("999999999999.9").value() == kMaxCents - 9);
  CHECK(ParseAmount("999999999999").value() == kMaxCents - 99);
  CHECK(FormatCents(kMaxCents) == "999999999999.99");
  for (const char* text : {"1000000000000", "1000000000000.00", "1000000000000.01", "9999999999999",
                           "9999999999999.99", "1234567890123"}) {
    auto v = ParseAmount(text);
    INFO(text);
    REQUIRE(!v.ok());
    CHECK(v.status().code() == Code::kInvalidArgument);
    CHECK(v.status().message().find("maximum") != std::string::npos);
  }
}

TEST_CASE("money: long digit strings never overflow", "[money]") {
  std::vector<std::string> texts = {
      "9223372036854775807",  "9223372036854775808",  "18446744073709551615",
      "18446744073709551616", "92233720368547758.07", "340282366920938463463374607431768211456"};
  for (size_t n : {14u, 15u, 19u, 20u, 21u, 40u, 100u, 1000u, 100000u}) {
    texts.push_back(std::string(n, '9'));
    texts.push_back("1" + std::string(n - 1, '0'));
    texts.push_back(std::string(n, '9') + ".99");
    texts.push_back(std::string(n, '9') + "x");  // the bad byte only after the long run
  }
  for (const std::string& t : texts) {
    auto v = ParseAmount(t);
    INFO(t.substr(0, 40));
    REQUIRE(!v.ok());
    CHECK(v.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("money: every class of invalid form is refused", "[money]") {
  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "1.",
      ".5",
      ".05",
      "1..0",
      "1.2.3",
      "1.234",
      "1.000",
      "0.001",  // shape
      "+1",
      "-1",
      "-0",
      "+0.00",
      "--1",
      "1-",  // signs
      "1e3",
      "1E3",
      "1e-2",
      "1.5e2",
      "inf",
      "Infinity",
      "nan",
      "NaN",  // floats
      "0x10",
      "0X1A",
      "0b1",
      "0o7",
      "1_000",
      "1,000",
      "1'000",
      "1 000",  // bases
      " 1",
      "1 ",
      "\t1",
      "1\n",
      "1\r\n",
      "1 .00",
      "1. 00",
      "\v1",  // spaces
      "abc",
      "1a",
      "a1",
      "1.a",
      "1.0a",
      "$1",
      "1$",
      "€1",
      "1€",  // letters
      "\xd9\xa1",
      "\xef\xbc\x91",
      "1\xd9\xab"
      "5",
      "\xc2\xa0"
      "1",  // unicode
      std::string("1\0", 2),
      std::string("\0"
                  "1",
                  2),
      std::string("1.\0", 3),  // NUL
  };
  for (const std::string& t : bad) {
    auto v = ParseAmount(t);
    INFO("'" << t << "'");
    REQUIRE(!v.ok());
    CHECK(v.status().code() == Code::kInvalidArgument);
    CHECK(!v.status().message().empty());
  }
}

TEST_CASE("money: every byte other than a digit is refused in every position", "[money]") {
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    bool digit = c >= '0' && c <= '9';
    for (std::string t :
         {std::string(1, c), "1" + std::string(1, c), std::string(1, c) + "1",
          "1." + std::string(1, c), "1.0" + std::string(1, c), "12" + std::string(1, c) + "3.45"}) {
      auto v = ParseAmount(t);
      INFO("byte " << b << " in '" << t << "'");
      // In each template a point would make an empty part, a second point or a third
      // decimal, so exactly the digits pass.
      CHECK(v.ok() == digit);
    }
  }
}

TEST_CASE("money: FormatCents is exact and round-trips", "[money]") {
  CHECK(FormatCents(0) == "0.00");
  CHECK(FormatCents(5) == "0.05");
  CHECK(FormatCents(50) == "0.50");
  CHECK(FormatCents(12345) == "123.45");
  CHECK(FormatCents(-5) == "-0.05");
  CHECK(FormatCents(std::numeric_limits<Cents>::min()) == "-92233720368547758.08");
  CHECK(FormatCents(std::numeric_limits<Cents>::max()) == "92233720368547758.07");
  for (Cents c : {Cents{0}, Cents{1}, Cents{99}, Cents{100}, Cents{101}, Cents{123456789},
                  kMaxCents - 1, kMaxCents}) {
    auto back = ParseAmount(FormatCents(c));
    REQUIRE(back.ok());
    CHECK(*back == c);
  }
}

TEST_CASE("money: AddCents refuses to pass the maximum, exactly at the boundary", "[money]") {
  CHECK(AddCents(0, 0).value() == 0);
  CHECK(AddCents(kMaxCents, 0).value() == kMaxCents);
  CHECK(AddCents(kMaxCents - 1, 1).value() == kMaxCents);
  CHECK(AddCents(1, kMaxCents - 1).value() == kMaxCents);
  for (auto [a, b] : {std::pair<Cents, Cents>{kMaxCents, 1},
                      {1, kMaxCents},
                      {kMaxCents, kMaxCents},
                      {kMaxCents / 2 + 1, kMaxCents / 2 + 1}}) {
    auto s = AddCents(a, b);
    REQUIRE(!s.ok());
    CHECK(s.status().code() == Code::kLimit);
  }
}

}  // namespace
}  // namespace drovebank
