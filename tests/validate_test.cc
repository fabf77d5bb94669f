// Input validation of ids, names and idempotency keys: what may reach a file name or a
// terminal. Sweeps rather than examples: every byte, every control code point, every
// length boundary.
#include "drovebank/validate.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace drovebank {
namespace {

// UTF-8 of one code point (no validity checks: tests build hostile ones on purpose).
std::string Utf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST_CASE("validate: account ids from 1 to the maximum parse", "[validate]") {
  for (AccountId id : {1u, 2u, 9u, 10u, 99u, 100u, 1001u, 123456u, 9999999u, 10000000u,
                       kMaxAccountId - 1, kMaxAccountId}) {
    auto v = ParseAccountId(std::to_string(id));
    REQUIRE(v.ok());
    CHECK(*v == id);
  }
  // Zero padding up to 8 digits names the same account (and so the same file).
  CHECK(ParseAccountId("00000001").value() == 1);
  CHECK(ParseAccountId("0042").value() == 42);
}

TEST_CASE("validate: an id can never name a path outside the tree", "[validate][security]") {
  const std::vector<std::string> bad = {"",
                                        "0",
                                        "00",
                                        "00000000",
                                        "-1",
                                        "+1",
                                        "1e3",
                                        "1E3",
                                        "1.0",
                                        "0x1",
                                        "100000000",
                                        "000000001",
                                        "4294967296",
                                        "4294967297",
                                        "99999999999",
                                        "../x",
                                        "..",
                                        ".",
                                        "/",
                                        "1/2",
                                        "../../etc/passwd",
                                        "1/../2",
                                        "./1",
                                        "1\\2",
                                        " 1",
                                        "1 ",
                                        "1\n",
                                        "\t1",
                                        "１",
                                        "\xd9\xa1",
                                        std::string("1\0", 2),
                                        std::string("\0", 1),
                                        "abc",
                                        "1a",
                                        "a1",
                                        "*",
                                        "?",
                                        "~",
                                        "$HOME",
                                        "%2e%2e",
                                        "1;rm",
                                        "1|2"};
  for (const std::string& t : bad) {
    auto v = ParseAccountId(t);
    INFO("'" << t << "'");
    REQUIRE(!v.ok());
    CHECK(v.status().code() == Code::kInvalidArgument);
    CHECK(v.status().message().find("not an account id") != std::string::npos);
  }
}

TEST_CASE("validate: every non-digit byte in an id is refused", "[validate][security]") {
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    if (c >= '0' && c <= '9') continue;
    for (std::string t : {std::string(1, c), "1" + std::string(1, c), std::string(1, c) + "1",
                          "12" + std::string(1, c) + "34"}) {
      INFO("byte " << b);
      CHECK(!ParseAccountId(t).ok());
    }
  }
}

TEST_CASE("validate: names of 1 to 64 code points pass, whatever their byte length", "[validate]") {
  for (const std::string& unit :
       {std::string("a"), Utf8(0xE9), Utf8(0x540D), Utf8(0x1F600), Utf8(0x10FFFF)}) {
    for (size_t n : {1u, 2u, 63u, 64u}) {
      INFO(unit << " x " << n);
      CHECK(ValidateName(Repeat(unit, n), "name").ok());
      CHECK(Utf8Length(Repeat(unit, n)) == n);
    }
    auto too_long = ValidateName(Repeat(unit, 65), "name");
    REQUIRE(!too_long.ok());
    CHECK(too_long.message().find("65 characters") != std::string::npos);
  }
  CHECK(!ValidateName("", "first name").ok());
  CHECK(ValidateName("", "first name").message() == "first name is empty");
}

TEST_CASE("validate: punctuation people use in names is allowed", "[validate]") {
  for (const char* n :
       {"O'Brien, Jr.", "\"Ziggy\"", "Mary Ann", "Jean-Luc", "=SUM(A1)", "+1", "-2", "@home", "a,b",
        "100%", "<b>", "Zoë", "Ελληνικά", "名前", "😀", " lead", "trail ", "\\", "'"}) {
    INFO(n);
    CHECK(ValidateName(n, "name").ok());
  }
}

TEST_CASE("validate: every C0, DEL and C1 control code point is refused anywhere",
          "[validate][security]") {
  std::vector<std::uint32_t> controls;
  for (std::uint32_t cp = 0; cp < 0x20; ++cp) controls.push_back(cp);
  controls.push_back(0x7F);
  for (std::uint32_t cp = 0x80; cp < 0xA0; ++cp) controls.push_back(cp);
  for (std::uint32_t cp : controls) {
    std::string c = Utf8(cp);
    for (const std::string& name : {c, "Ada" + c, c + "Ada", "A" + c + "da"}) {
      Status s = ValidateName(name, "last name");
      INFO("U+" << std::hex << cp);
      REQUIRE(!s.ok());
      CHECK(s.code() == Code::kInvalidArgument);
      CHECK(s.message().find("control character") != std::string::npos);
    }
  }
  // The first code points past the ranges pass.
  CHECK(ValidateName(Utf8(0x20), "n").ok());
  CHECK(ValidateName(Utf8(0x7E), "n").ok());
  CHECK(ValidateName(Utf8(0xA0), "n").ok());
}

TEST_CASE("validate: terminal escape sequences cannot pass in a name", "[validate][security]") {
  for (const std::string& esc :
       {std::string("\x1b[31m"), std::string("\x1b[2J\x1b[H"), std::string("\x1b]0;pwned\x07"),
        std::string("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), std::string("\x1bP+q\x1b\\"),
        std::string("\x1b"
                    "c"),
        std::string("\x9b"
                    "31m"),
        Utf8(0x9B) + "31m", Utf8(0x9D) + "0;t" + Utf8(0x9C), std::string("\x07"),
        std::string("\b\b\bX"), std::string("\r"), std::string("a\nb"), std::string("\x1b")}) {
    INFO(esc);
    CHECK(!ValidateName("Ada" + esc + "Lovelace", "name").ok());
  }
}

TEST_CASE("validate: malformed UTF-8 is refused", "[validate][security]") {
  for (const std::string& bad :
       {std::string("\x80"), std::string("\xbf"), std::string("\xc0\xaf"),  // stray, overlong
        std::string("\xc1\xbf"), std::string("\xe0\x80\xaf"), std::string("\xf0\x80\x80\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xed\xbf\xbf"),          // surrogates
        std::string("\xf4\x90\x80\x80"), std::string("\xf5\x80\x80\x80"),  // > U+10FFFF
        std::string("\xf8\x88\x80\x80\x80"), std::string("\xfe"), std::string("\xff"),
        std::string("\xc3"), std::string("\xe5\x90"), std::string("\xf0\x9f\x98"),  // cut
        std::string("\xc3\x28"), std::string("\xe2\x28\xa1")}) {
    for (const std::string& name : {bad, "Ada" + bad, bad + "Ada"}) {
      Status s = ValidateName(name, "name");
      INFO(name);
      REQUIRE(!s.ok());
      CHECK(s.message().find("UTF-8") != std::string::npos);
    }
  }
}

TEST_CASE("validate: memos of 0 to 200 code points pass, whatever their byte length",
          "[validate][memo]") {
  CHECK(ValidateMemo("").ok());  // no memo
  for (const std::string& unit :
       {std::string("a"), std::string(" "), Utf8(0xE9), Utf8(0x540D), Utf8(0x1F600),
        Utf8(0x10FFFF), Utf8(0x2010), Utf8(0x2065)}) {
    for (size_t n : {1u, 2u, 199u, 200u}) {
      INFO(unit << " x " << n);
      CHECK(ValidateMemo(Repeat(unit, n)).ok());
    }
    Status too_long = ValidateMemo(Repeat(unit, 201));
    REQUIRE(!too_long.ok());
    CHECK(too_long.message().find("201 characters") != std::string::npos);
  }
  for (const char* m : {"rent, November", "O'Brien \"Jr.\"", "=SUM(A1)", "+1", "-2", "@home"}) {
    CHECK(ValidateMemo(m).ok());
  }
}

TEST_CASE("validate: a memo refuses controls, invisible and direction characters, bad UTF-8",
          "[validate][memo][security]") {
  std::vector<std::uint32_t> refused;
  for (std::uint32_t cp = 0; cp < 0x20; ++cp) refused.push_back(cp);
  refused.push_back(0x7F);
  for (std::uint32_t cp = 0x80; cp < 0xA0; ++cp) refused.push_back(cp);
  for (std::uint32_t cp = 0x200B; cp <= 0x200F; ++cp) refused.push_back(cp);
  for (std::uint32_t cp = 0x202A; cp <= 0x202E; ++cp) refused.push_back(cp);
  for (std::uint32_t cp = 0x2066; cp <= 0x2069; ++cp) refused.push_back(cp);
  refused.push_back(0xFEFF);
  for (std::uint32_t cp : refused) {
    std::string c = Utf8(cp);
    for (const std::string& memo : {c, "rent" + c, c + "rent", "re" + c + "nt"}) {
      INFO("U+" << std::hex << cp);
      Status s = ValidateMemo(memo);
      REQUIRE(!s.ok());
      CHECK(s.code() == Code::kInvalidArgument);
      CHECK(s.message().find("memo") != std::string::npos);
    }
  }
  // The neighbours of each range pass.
  for (std::uint32_t cp : {0x200Au, 0x2010u, 0x2029u, 0x202Fu, 0x2065u, 0x206Au, 0xFEFEu, 0xFF00u}) {
    INFO("U+" << std::hex << cp);
    CHECK(ValidateMemo("a" + Utf8(cp)).ok());
  }
  for (const std::string& bad : {std::string("\x80"), std::string("\xc0\xaf"),
                                 std::string("\xed\xa0\x80"), std::string("\xf0\x9f\x98")}) {
    Status s = ValidateMemo("rent" + bad);
    REQUIRE(!s.ok());
    CHECK(s.message().find("UTF-8") != std::string::npos);
  }
}

TEST_CASE("validate: transaction numbers are digits from 1", "[validate]") {
  CHECK(*ParseTxnNumber("1") == 1);
  CHECK(*ParseTxnNumber("42") == 42);
  CHECK(*ParseTxnNumber("9999999999999999999") == 9999999999999999999ULL);
  for (const char* bad : {"", "0", "00", "-1", "+1", "1.0", "1e3", " 1", "x", "10000000000000000000"}) {
    INFO(bad);
    CHECK(ParseTxnNumber(bad).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("validate: keys are 1-64 file-name-safe characters", "[validate][security]") {
  CHECK(ValidateKey("a").ok());
  CHECK(ValidateKey("pay-2026:11.salary_01").ok());
  CHECK(ValidateKey(std::string(64, 'k')).ok());
  CHECK(!ValidateKey(std::string(65, 'k')).ok());
  CHECK(!ValidateKey("").ok());
  for (const char* bad : {".", "..", ".hidden", "../x", "a/b", "/abs", "a\\b", "a b", "a\nb",
                          "k\x1b[31m", "ключ", "a*", "a?", "~a"}) {
    INFO(bad);
    CHECK(!ValidateKey(bad).ok());
  }
  const std::string allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:";
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    bool ok = allowed.find(c) != std::string::npos;
    INFO("byte " << b);
    CHECK(ValidateKey("k" + std::string(1, c)).ok() == ok);
    CHECK(ValidateKey(std::string(1, c) + "k").ok() == (ok && c != '.'));
  }
}

}  // namespace
}  // namespace drovebank
