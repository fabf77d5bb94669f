// Journal records: encode/decode round trips, the decoder refusing damage, and
// ScanRecords telling a torn tail (cut it) from corruption in the middle (stop).
#include "drovebank/record.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace drovebank {
namespace {

Op MakeOp(OpKind kind, AccountId id, Cents amount, AccountId to = 0) {
  Op op;
  op.kind = kind;
  op.id = id;
  op.amount = amount;
  op.after = amount;
  if (kind == OpKind::kTransfer) {
    op.to = to;
    op.to_after = 1;
  }
  return op;
}

Record MakeRecord(std::uint64_t txn, const std::string& first = "Ada",
                  const std::string& last = "Lovelace") {
  Record r;
  r.txn = txn;
  r.time_ms = 1'767'225'600'000 + static_cast<std::int64_t>(txn);
  Op open = MakeOp(OpKind::kOpen, static_cast<AccountId>(txn), 100);
  open.first = first;
  open.last = last;
  r.ops = {open, MakeOp(OpKind::kDeposit, static_cast<AccountId>(txn), 5)};
  r.request = RequestText(r.ops);
  Account a;
  a.id = static_cast<AccountId>(txn);
  a.first = first;
  a.last = last;
  a.balance = 105;
  a.version = 2;
  a.last_txn = txn;
  r.accounts = {{a, 0}};
  return r;
}

std::string Line(const Record& r) {
  std::string l = EncodeRecord(r);
  return l.substr(0, l.size() - 1);
}

TEST_CASE("record: every op kind and hostile text round-trips", "[record]") {
  const std::vector<std::string> names = {"O'Brien, Jr.", "\"Ziggy\"",    "a\\b",
                                          "Zoë",          "名前",         "😀",
                                          "=1+2",         "}{\"txn\":1}", "\\n-not-a-newline"};
  for (const std::string& name : names) {
    Record r = MakeRecord(42, name, name);
    r.key = "pay-2026:11.x_y";
    r.ops.push_back(MakeOp(OpKind::kWithdraw, 42, 3));
    r.ops.push_back(MakeOp(OpKind::kTransfer, 42, 2, 43));
    r.ops.push_back(MakeOp(OpKind::kClose, 43, 0));
    r.request = RequestText(r.ops);
    Account b;
    b.id = 43;
    b.first = "B";
    b.last = name;
    b.closed = true;
    b.version = 7;
    b.last_txn = 42;
    r.accounts.push_back({b, 41});
    std::string line = EncodeRecord(r);
    INFO(line);
    // One record, one line: a newline in a name must be escaped by the JSON.
    CHECK(line.find('\n') == line.size() - 1);
    auto back = DecodeRecordLine(Line(r));
    REQUIRE(back.ok());
    CHECK(*back == r);
  }
}

TEST_CASE("record: a name no input can make is one line on disk and refused on reading",
          "[record]") {
  for (const std::string& bad : {std::string("a\nb"), std::string("\x1b[31m"), std::string("")}) {
    Record r = MakeRecord(9, bad, "Lovelace");
    std::string line = EncodeRecord(r);
    CHECK(line.find('\n') == line.size() - 1);
    auto back = DecodeRecordLine(Line(r));
    REQUIRE(!back.ok());
    CHECK(back.status().code() == Code::kCorruption);
  }
}

TEST_CASE("record: extreme numbers round-trip", "[record]") {
  Record r = MakeRecord(1);
  r.txn = 9'223'372'036'854'775'807ULL;
  r.time_ms = -1;
  r.accounts[0].state.last_txn = r.txn;
  r.accounts[0].state.id = kMaxAccountId;
  r.accounts[0].state.balance = kMaxCents;
  r.accounts[0].state.version = 18'446'744'073'709'551'615ULL;
  r.accounts[0].prev_txn = r.txn - 1;
  r.ops[1].amount = kMaxCents;
  auto back = DecodeRecordLine(Line(r));
  REQUIRE(back.ok());
  CHECK(*back == r);
}

TEST_CASE("record: any damaged byte of a line is refused", "[record]") {
  std::string line = Line(MakeRecord(5, "O'Brien, Jr.", "\"Ziggy\""));
  for (size_t pos = 0; pos < line.size(); ++pos) {
    std::string t = line;
    t[pos] = static_cast<char>(t[pos] ^ (1 << (pos % 8)));
    INFO("byte " << pos);
    auto r = DecodeRecordLine(t);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kCorruption);
  }
  for (size_t len = 0; len < line.size(); ++len) {
    INFO("length " << len);
    CHECK(!DecodeRecordLine(line.substr(0, len)).ok());
  }
}

TEST_CASE("record: JSON of the wrong shape is corruption, never a guess", "[record]") {
  Record r = MakeRecord(3);
  std::string good = RecordJson(r);
  REQUIRE(ParseRecordJson(good).ok());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    size_t at = t.find(from);
    REQUIRE(at != std::string::npos);
    return t.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "null",
      "[]",
      "{}",
      "\"x\"",
      "{\"txn\":1}",
      good.substr(0, good.size() - 1),
      replace("\"txn\":3", "\"txn\":\"3\""),
      replace("\"txn\":3", "\"txn\":-3"),
      replace("\"txn\":3", "\"txn\":3.5"),
      replace("\"txn\":3", "\"txn\":1e300"),
      replace("\"op\":\"open\"", "\"op\":\"steal\""),
      replace("\"balance\":105", "\"balance\":-1"),
      replace("\"balance\":105", "\"balance\":100000000000000"),
      replace("\"balance\":105", "\"balance\":1.5"),
      replace("\"balance\":105", "\"balance\":1e300"),
      replace("\"balance\":105", "\"balance\":\"105\""),
      replace("\"version\":2", "\"version\":-2"),
      replace("\"closed\":false", "\"closed\":0"),
      replace("\"accounts\":[{\"balance\"", "\"accounts\":[{\"x\""),
      replace("\"amount\":100", "\"amount\":1e300"),
      replace("\"amount\":100", "\"amount\":-1e300"),
      replace("\"amount\":100", "\"amount\":0.5"),
      replace("\"after\":100", "\"after\":9223372036854775808"),
      replace("\"key\":\"\"", "\"key\":null"),
  };
  for (const std::string& j : bad) {
    INFO(j);
    auto p = ParseRecordJson(j);
    REQUIRE(!p.ok());
    CHECK(p.status().code() == Code::kCorruption);
  }
}

TEST_CASE("record: ids out of range are corruption in ops and accounts", "[record]") {
  Record r = MakeRecord(3);
  std::string good = RecordJson(r);
  for (std::string id :
       {"0", "-1", "100000000", "4294967296", "4294967297", "1.5", "1e9", "\"3\""}) {
    for (std::string where : {"\"ops\":[{\"after\":100,\"amount\":100,\"first\":"
                              "\"Ada\",\"id\":3",
                              "\"accounts\":[{\"balance\":105,\"closed\":false,"
                              "\"first\":\"Ada\",\"id\":3"}) {
      std::string t = good;
      size_t at = t.find(where);
      REQUIRE(at != std::string::npos);
      t.replace(at + where.size() - 1, 1, id);
      INFO(t);
      CHECK(!ParseRecordJson(t).ok());
    }
  }
}

TEST_CASE("record: an id reservation round-trips and is absent from other records", "[record]") {
  Record plain = MakeRecord(3);
  CHECK(RecordJson(plain).find("reserve_ids") == std::string::npos);
  CHECK(LargestIdUsed(plain) == 3);
  CHECK(AccountsOpened(plain) == 1);

  Record r;
  r.txn = 9;
  r.time_ms = 1'767'225'600'000;
  r.reserve_ids = 57;
  auto back = DecodeRecordLine(Line(r));
  REQUIRE(back.ok());
  CHECK(*back == r);
  CHECK(LargestIdUsed(*back) == 57);
  CHECK(AccountsOpened(*back) == 0);

  // A reservation below an open's id does not lower what the record uses up.
  plain.reserve_ids = 2;
  CHECK(LargestIdUsed(plain) == 3);

  std::string good = RecordJson(r);
  for (std::string id : {"0", "-1", "100000000", "1.5", "\"57\""}) {
    std::string t = good;
    size_t at = t.find("\"reserve_ids\":57");
    REQUIRE(at != std::string::npos);
    t.replace(at + std::string("\"reserve_ids\":").size(), 2, id);
    INFO(t);
    CHECK(!ParseRecordJson(t).ok());
  }
}

TEST_CASE("record: a memo and a reversal link round-trip and are absent when unset",
          "[record][memo]") {
  Record plain = MakeRecord(3);
  std::string plain_json = RecordJson(plain);
  CHECK(plain_json.find("memo") == std::string::npos);
  CHECK(plain_json.find("reverses") == std::string::npos);
  CHECK(plain.request.find("memo") == std::string::npos);
  for (const std::string& memo :
       {std::string("rent"), std::string("O'Brien, \"Jr.\" \\ =1+2"), std::string("Zoë 名前 😀"),
        std::string(200, 'x')}) {
    CAPTURE(memo);
    Record r = MakeRecord(8);
    r.ops[1].memo = memo;
    r.reverses = 5;
    r.request = RequestText(r.ops);
    auto back = DecodeRecordLine(Line(r));
    REQUIRE(back.ok());
    CHECK(*back == r);
    CHECK(back->ops[1].memo == memo);
    CHECK(back->reverses == 5);
  }
}

TEST_CASE("record: a memo is part of the request a key compares", "[record][memo]") {
  Op a = MakeOp(OpKind::kDeposit, 7, 1000);
  Op b = a;
  b.memo = "rent";
  Op c = a;
  c.memo = "Rent";
  CHECK(RequestText({a}) == "deposit 7 1000");  // the text records without a memo hold
  CHECK(RequestText({b}) == "deposit 7 1000 memo \"rent\"");
  CHECK(RequestText({a}) != RequestText({b}));
  CHECK(RequestText({b}) != RequestText({c}));
}

TEST_CASE("record: a record written before memos existed still decodes", "[record][memo]") {
  // Bytes as drovebank wrote them before memos and reversals (no "memo", no "reverses").
  const std::string old_json =
      R"({"accounts":[{"balance":11550,"closed":false,"first":"Ada","id":1,"last":"Lovelace",)"
      R"("prev_txn":3,"version":3}],"key":"","ops":[{"after":11550,"amount":1000,"id":1,)"
      R"("op":"deposit"}],"req":"deposit 1 1000","time":1795317641962,"txn":4})";
  std::string line = Crc32Hex(old_json) + " " + old_json;
  auto r = DecodeRecordLine(line);
  REQUIRE(r.ok());
  CHECK(r->ops.at(0).memo.empty());
  CHECK(r->reverses == 0);
  CHECK(r->request == RequestText(r->ops));  // a key reused on such a request still replays
  CHECK(RecordJson(*r) == old_json);          // and it encodes to the very same bytes
  // (A keyed record gains key_prev in this build; that is keys/index's, not the memo's.)
}

TEST_CASE("record: a memo or link no input can make is corruption on reading",
          "[record][memo]") {
  Record r = MakeRecord(8);
  r.ops[1].memo = "ok";
  r.reverses = 5;
  std::string good = RecordJson(r);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    size_t at = t.find(from);
    REQUIRE(at != std::string::npos);
    return t.replace(at, from.size(), to);
  };
  for (const std::string& bad :
       {with("\"memo\":\"ok\"", "\"memo\":\"\""), with("\"memo\":\"ok\"", "\"memo\":\"a\\nb\""),
        with("\"memo\":\"ok\"", "\"memo\":\"a\\u202eb\""),
        with("\"memo\":\"ok\"", "\"memo\":\"" + std::string(201, 'x') + "\""),
        with("\"memo\":\"ok\"", "\"memo\":7"), with("\"reverses\":5", "\"reverses\":0"),
        with("\"reverses\":5", "\"reverses\":8"), with("\"reverses\":5", "\"reverses\":9"),
        with("\"reverses\":5", "\"reverses\":\"5\""), with("\"reverses\":5", "\"reverses\":-5")}) {
    INFO(bad);
    auto back = ParseRecordJson(bad);
    REQUIRE(!back.ok());
    CHECK(back.status().code() == Code::kCorruption);
  }
}

std::string Segment(size_t n, std::vector<size_t>* starts = nullptr) {
  std::string out;
  for (size_t i = 1; i <= n; ++i) {
    if (starts != nullptr) starts->push_back(out.size());
    out += EncodeRecord(MakeRecord(i, i % 2 ? "O'Brien, Jr." : "Zoë"));
  }
  return out;
}

TEST_CASE("scan: whole records scan clean", "[record][scan]") {
  for (size_t n : {0u, 1u, 2u, 5u}) {
    std::string seg = Segment(n);
    ScanResult s = ScanRecords(seg);
    CHECK(s.records.size() == n);
    CHECK(s.good_bytes == seg.size());
    CHECK(!s.torn_tail);
    CHECK(!s.corrupt_middle);
    for (size_t i = 0; i < n; ++i) CHECK(s.records[i].txn == i + 1);
  }
}

TEST_CASE("scan: a last record cut at any length is a torn tail at its start", "[record][scan]") {
  std::vector<size_t> starts;
  std::string seg = Segment(4, &starts);
  for (size_t len = starts[3] + 1; len < seg.size(); ++len) {
    ScanResult s = ScanRecords(std::string_view(seg).substr(0, len));
    INFO("length " << len);
    CHECK(s.torn_tail);
    CHECK(!s.corrupt_middle);
    CHECK(s.records.size() == 3);
    CHECK(s.good_bytes == starts[3]);
  }
}

TEST_CASE("scan: any flipped byte of the last record is a torn tail", "[record][scan]") {
  std::vector<size_t> starts;
  std::string seg = Segment(4, &starts);
  for (size_t pos = starts[3]; pos < seg.size(); ++pos) {
    std::string t = seg;
    t[pos] = static_cast<char>(t[pos] ^ (1 << (pos % 8)));
    ScanResult s = ScanRecords(t);
    INFO("byte " << pos);
    CHECK(s.torn_tail);
    CHECK(!s.corrupt_middle);
    CHECK(s.good_bytes == starts[3]);
  }
}

TEST_CASE("scan: garbage after the last record is a torn tail", "[record][scan]") {
  std::string seg = Segment(3);
  for (const std::string& junk :
       {std::string("x"), std::string("\n"), std::string(4096, '\0'), std::string("{}\n"),
        std::string("00000000 {}\n"), std::string(100, '\0') + "\n"}) {
    ScanResult s = ScanRecords(seg + junk);
    CHECK(s.torn_tail);
    CHECK(!s.corrupt_middle);
    CHECK(s.records.size() == 3);
    CHECK(s.good_bytes == seg.size());
  }
}

TEST_CASE("scan: any damaged byte of a middle record is corruption, never a cut",
          "[record][scan]") {
  std::vector<size_t> starts;
  std::string seg = Segment(5, &starts);
  // Every record but the last, every byte: a good record follows the damage somewhere.
  for (size_t k = 0; k + 1 < starts.size(); ++k) {
    size_t end = starts[k + 1];
    for (size_t pos = starts[k]; pos < end; ++pos) {
      std::string t = seg;
      t[pos] = static_cast<char>(t[pos] ^ (1 << (pos % 8)));
      ScanResult s = ScanRecords(t);
      INFO("record " << k + 1 << " byte " << pos);
      CHECK(s.corrupt_middle);
      CHECK(!s.torn_tail);
      CHECK(s.records.size() == k);
      CHECK(s.good_bytes == starts[k]);
    }
  }
}

TEST_CASE("scan: a zeroed middle record is corruption", "[record][scan]") {
  std::vector<size_t> starts;
  std::string seg = Segment(3, &starts);
  std::string t = seg;
  std::fill(t.begin() + static_cast<long>(starts[1]), t.begin() + static_cast<long>(starts[2]) - 1,
            '\0');
  ScanResult s = ScanRecords(t);
  CHECK(s.corrupt_middle);
  CHECK(s.records.size() == 1);
}

}  // namespace
}  // namespace drovebank
