// The account file: round trips with hostile names, CSV quoting (and the spreadsheet
// formula guard), and the decoder refusing every kind of damage it can be shown.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "store/crc32.h"

namespace drovebank {
namespace {

const std::vector<std::string> kHostileNames = {
    "Ada",
    "O'Brien, Jr.",
    "\"Ziggy\"",
    "Mary Ann",
    "a,b,c",
    ",",
    "\"",
    "\"\"",
    "'",
    "''",
    "=SUM(A1:A9)",
    "+1",
    "-2",
    "@cmd",
    "=HYPERLINK(\"http://x\")",
    " lead",
    "trail ",
    "Zoë",
    "Ελληνικά",
    "名前",
    "😀",
    "\\",
    "a\\\"b",
    "x,\"y\",z",
    "O'Brien, Jr. \"Ziggy\"",
    std::string(64, 'W'),
    "id,first,last,balance,status,version,last_txn,checksum"};

Account Sample() {
  Account a;
  a.id = 1234;
  a.first = "Ada";
  a.last = "Lovelace";
  a.balance = 10050;
  a.version = 3;
  a.last_txn = 17;
  return a;
}

// Frames a record body exactly like the encoder does, with a correct checksum, so the
// tests below reach the field checks behind the CRC.
std::string Framed(const std::string& body) {
  return std::string(kAccountHeader) + "\n" + body + "," + Crc32Hex(body) + "\n";
}

TEST_CASE("account file: hostile names survive the round trip byte for byte", "[account_file]") {
  for (const std::string& first : kHostileNames) {
    for (const std::string& last : {std::string("Lovelace"), first}) {
      Account a = Sample();
      a.first = first;
      a.last = last;
      std::string text = EncodeAccountFile(a);
      INFO(text);
      // Header plus exactly one record line, whatever the names hold.
      CHECK(std::count(text.begin(), text.end(), '\n') == 2);
      auto back = DecodeAccountFile(text, a.id);
      REQUIRE(back.ok());
      CHECK(*back == a);
      CHECK(EncodeAccountFile(*back) == text);
    }
  }
}

TEST_CASE("account file: every field's extreme values round-trip", "[account_file]") {
  for (AccountId id : {1u, 99u, kMaxAccountId}) {
    for (Cents bal : {Cents{0}, Cents{1}, kMaxCents}) {
      for (bool closed : {false, true}) {
        Account a = Sample();
        a.id = id;
        a.balance = bal;
        a.closed = closed;
        a.version = 18446744073709551615ULL;
        a.last_txn = 18446744073709551615ULL;
        auto back = DecodeAccountFile(EncodeAccountFile(a), id);
        REQUIRE(back.ok());
        CHECK(*back == a);
      }
    }
  }
}

// The snapshot's line (journal/SNAPSHOT): the record without its checksum. Lines that
// quote nothing take a split in place, the others the file's own CSV splitter: both give
// back what was encoded, and both refuse the same damage.
TEST_CASE("account line: hostile names and extreme values round-trip, quoted or not",
          "[account_file]") {
  for (const std::string& first : kHostileNames) {
    for (Cents bal : {Cents{0}, Cents{1}, kMaxCents}) {
      for (bool closed : {false, true}) {
        Account a = Sample();
        a.first = first;
        a.balance = bal;
        a.closed = closed;
        a.version = 18446744073709551615ULL;
        std::string line = EncodeAccountLine(a);
        INFO(line);
        CHECK(line.find('\n') == std::string::npos);
        auto back = DecodeAccountLine(line);
        REQUIRE(back.ok());
        CHECK(*back == a);
      }
    }
  }
}

TEST_CASE("account line: a bad field is corruption, whichever splitter reads it",
          "[account_file]") {
  const std::string good = EncodeAccountLine(Sample());
  const std::string quoted = EncodeAccountLine([] {
    Account a = Sample();
    a.last = "O'Brien, Jr.";
    return a;
  }());
  REQUIRE(DecodeAccountLine(good).ok());
  REQUIRE(DecodeAccountLine(quoted).ok());
  for (const std::string& base : {good, quoted}) {
    std::vector<std::string> bad = {
        "", base + ",", base.substr(0, base.rfind(',')), "0" + base.substr(base.find(',')),
        "x" + base};
    std::string cents = base;
    cents.replace(cents.find("100.50"), 6, "100.5");
    bad.push_back(cents);
    std::string status = base;
    status.replace(status.find(",open,"), 6, ",shut,");
    bad.push_back(status);
    std::string version = base;
    version.replace(version.find(",open,3,"), 8, ",open,0,");
    bad.push_back(version);
    for (const std::string& b : bad) {
      INFO(b);
      CHECK(DecodeAccountLine(b).status().code() == Code::kCorruption);
    }
  }
}

TEST_CASE("account file: CsvCell quotes formula starts and CSV specials",
          "[account_file][security]") {
  for (char lead : {'=', '+', '-', '@'}) {
    std::string cell = std::string(1, lead) + "SUM(A1)";
    CHECK(CsvCell(cell) == "\"" + cell + "\"");
  }
  CHECK(CsvCell("a,b") == "\"a,b\"");
  CHECK(CsvCell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvCell("\"") == "\"\"\"\"");
  CHECK(CsvCell("a\nb") == "\"a\nb\"");
  CHECK(CsvCell("a\rb") == "\"a\rb\"");
  CHECK(CsvCell(" lead") == "\" lead\"");
  // Nothing else is touched, including the same characters later in the cell.
  CHECK(CsvCell("Ada") == "Ada");
  CHECK(CsvCell("") == "");
  CHECK(CsvCell("O'Brien") == "O'Brien");
  CHECK(CsvCell("a=b+c-d@e") == "a=b+c-d@e");
  CHECK(CsvCell("Zoë") == "Zoë");
  // Every encoded name cell that starts with a formula character is quoted on disk.
  for (const std::string& name : kHostileNames) {
    Account a = Sample();
    a.first = name;
    std::string text = EncodeAccountFile(a);
    std::string record = text.substr(kAccountHeader.size() + 1);
    std::string cell = record.substr(record.find(',') + 1);
    if (!name.empty() && std::string("=+-@").find(name[0]) != std::string::npos) {
      INFO(record);
      CHECK(cell[0] == '"');
    }
  }
}

TEST_CASE("account file: a field that is wrong behind a good checksum is corruption",
          "[account_file]") {
  CHECK(DecodeAccountFile(Framed("7,Ada,Lovelace,1.00,open,1,1"), 7).ok());
  const std::vector<std::string> bad_bodies = {
      "0,Ada,Lovelace,1.00,open,1,1",          // id 0
      "-7,Ada,Lovelace,1.00,open,1,1",         // signed id
      "100000000,Ada,Lovelace,1.00,open,1,1",  // id past the maximum
      "../7,Ada,Lovelace,1.00,open,1,1",       // path in the id
      "7,,Lovelace,1.00,open,1,1",             // empty first name
      "7,Ada,,1.00,open,1,1",                  // empty last name
      "7,A\x1b[31m,Lovelace,1.00,open,1,1",    // escape in a name
      "7,\xff,Lovelace,1.00,open,1,1",         // bad UTF-8
      "7,Ada,Lovelace,1,open,1,1",             // non-canonical balance
      "7,Ada,Lovelace,1.0,open,1,1",
      "7,Ada,Lovelace,01.00,open,1,1",
      "7,Ada,Lovelace,-1.00,open,1,1",  // negative balance
      "7,Ada,Lovelace,1000000000000.00,open,1,1",
      "7,Ada,Lovelace,1e2,open,1,1",
      "7,Ada,Lovelace,1.00,Open,1,1",  // status
      "7,Ada,Lovelace,1.00,,1,1",
      "7,Ada,Lovelace,1.00,open,0,1",  // version 0
      "7,Ada,Lovelace,1.00,open,-1,1",
      "7,Ada,Lovelace,1.00,open,18446744073709551616,1",  // past 64 bits
      "7,Ada,Lovelace,1.00,open,1,",
      "7,Ada,Lovelace,1.00,open,1,x",
      "7,Ada,Lovelace,1.00,open,1",         // 6 fields
      "7,Ada,Lovelace,1.00,open,1,1,1",     // 8 fields
      "7,\"Ada,Lovelace,1.00,open,1,1",     // unterminated quote
      "7,\"Ada\"x,Lovelace,1.00,open,1,1",  // text after a closing quote
      "7,A\"da,Lovelace,1.00,open,1,1",     // quote inside an unquoted cell
  };
  for (const std::string& body : bad_bodies) {
    auto a = DecodeAccountFile(Framed(body), 0);
    INFO(body);
    REQUIRE(!a.ok());
    CHECK(a.status().code() == Code::kCorruption);
  }
}

TEST_CASE("account file: another account's file is refused by id", "[account_file]") {
  Account two = Sample();
  two.id = 2;
  auto a = DecodeAccountFile(EncodeAccountFile(two), 1);
  REQUIRE(!a.ok());
  CHECK(a.status().code() == Code::kCorruption);
  CHECK(a.status().message() == "account file holds account 2 instead of 1");
  CHECK(DecodeAccountFile(EncodeAccountFile(two), 0).ok());  // 0: any id
}

TEST_CASE("account file: framing damage is refused", "[account_file]") {
  std::string good = EncodeAccountFile(Sample());
  std::string header(kAccountHeader);
  std::string record = good.substr(header.size() + 1);
  const std::vector<std::string> bad = {
      "",
      "\n",
      header,
      header + "\n",
      header + "\n\n",
      good.substr(0, good.size() - 1),        // no final newline
      good + "\n",                            // an extra empty line
      good + good.substr(header.size() + 1),  // two records
      "\xef\xbb\xbf" + good,                  // byte order mark
      header + "\r\n" + record,               // CRLF header
      header + "\n" + record.substr(0, record.size() - 1) + "\r\n",
      "ID" + good.substr(2),     // header case
      header + ",x\n" + record,  // extra header column
  };
  for (const std::string& t : bad) {
    INFO(t);
    auto a = DecodeAccountFile(t, Sample().id);
    REQUIRE(!a.ok());
    CHECK(a.status().code() == Code::kCorruption);
  }
}

TEST_CASE("account file: every single-bit flip and every truncation is detected",
          "[account_file]") {
  Account a = Sample();
  a.first = "O'Brien, Jr.";
  a.last = "\"Ziggy\"";
  std::string good = EncodeAccountFile(a);
  for (size_t pos = 0; pos < good.size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = good;
      t[pos] = static_cast<char>(t[pos] ^ (1 << bit));
      INFO("byte " << pos << " bit " << bit);
      CHECK(!DecodeAccountFile(t, a.id).ok());
    }
  }
  for (size_t len = 0; len < good.size(); ++len) {
    INFO("length " << len);
    CHECK(!DecodeAccountFile(good.substr(0, len), a.id).ok());
  }
}

TEST_CASE("account file: Crc32Hex is the IEEE CRC-32 as 8 lowercase hex digits", "[account_file]") {
  CHECK(Crc32Hex("") == "00000000");
  CHECK(Crc32Hex("123456789") == "cbf43926");  // the standard check value
  CHECK(Crc32("123456789") == 0xcbf43926u);
  CHECK(Crc32Hex(std::string(1, '\xff')) == "ff000000");  // leading hex digits kept
  CHECK(Crc32Hex("The quick brown fox jumps over the lazy dog") == "414fa339");
}

}  // namespace
}  // namespace drovebank
