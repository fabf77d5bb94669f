// The direct record decoder (DecodeRecordDirect, src/store/record_decode.cc) reads what the
// encoder writes without a DOM and gives up on anything else, which ParseRecordJsonDom then
// decides. What it returns must be exactly what the DOM parser returns for the same bytes.
// Swept: every kind of operation with its optional fields, random records (most of them
// refused by the checks, some not ASCII), and every byte of valid records changed to each
// of a set of bytes, deleted, or the record cut there.
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "drovebank/record.h"
#include "store/record_lines.h"

namespace drovebank {
namespace {

Record Valid(OpKind kind, bool optional_fields) {
  Record r;
  r.txn = 42;
  r.time_ms = 1796549062225;
  r.request = "a request with \"quotes\" and \\ back";
  Op op;
  op.kind = kind;
  op.id = 7;
  op.amount = 1234;
  op.after = 99999;
  if (kind == OpKind::kTransfer) op.to = 8, op.to_after = 5;
  if (kind == OpKind::kOpen || kind == OpKind::kRename) op.first = "Ada", op.last = "O'Brien";
  if (kind == OpKind::kRename) op.was_first = "Ann", op.was_last = "Smith-Jones";
  RecordAccount ra;
  ra.state.id = 7;
  ra.state.first = "Ada";
  ra.state.last = "King";
  ra.state.balance = 99999;
  ra.state.version = 3;
  ra.state.last_txn = r.txn;
  ra.prev_txn = 40;
  r.accounts.push_back(ra);
  if (kind == OpKind::kTransfer) {
    ra.state.id = 8;
    ra.state.closed = true;
    ra.prev_txn = 0;
    r.accounts.push_back(ra);
  }
  if (optional_fields) {
    r.key = "pay-2026-001";
    r.key_prev = 17;
    r.prev_hash = std::string(64, 'a');
    r.reserve_ids = 100;
    r.reverses = 41;
    if (kind == OpKind::kDeposit || kind == OpKind::kWithdraw || kind == OpKind::kTransfer) {
      op.memo = "rent, March";
    }
  }
  r.ops.push_back(op);
  return r;
}

std::vector<std::string> ValidTexts() {
  std::vector<std::string> out;
  for (int k = 0; k < 6; ++k) {
    for (bool opt : {false, true}) out.push_back(RecordJson(Valid(static_cast<OpKind>(k), opt)));
  }
  return out;
}

// The property: whatever the direct decoder takes, the DOM parser takes, equal.
void CheckAgrees(const std::string& text) {
  std::optional<Record> direct = DecodeRecordDirect(text);
  if (!direct) return;
  auto dom = ParseRecordJsonDom(text);
  INFO(text);
  REQUIRE(dom.ok());
  CHECK(*direct == *dom);
}

}  // namespace

TEST_CASE("record decode: every record the encoder writes is decoded directly, as the DOM does",
          "[record]") {
  for (const std::string& text : ValidTexts()) {
    INFO(text);
    auto dom = ParseRecordJsonDom(text);
    REQUIRE(dom.ok());
    std::optional<Record> direct = DecodeRecordDirect(text);
    REQUIRE(direct.has_value());  // else nothing is saved
    CHECK(*direct == *dom);
    auto through = ParseRecordJson(text);
    REQUIRE(through.ok());
    CHECK(*through == *dom);
  }
}

TEST_CASE("record decode: a byte changed, deleted or cut anywhere is never read otherwise than by the DOM",
          "[record]") {
  const std::string bytes = std::string(" \t0159-+.eE\"\\,:{}[]xtfn") + '\0' + "\x7f\xc3\xff";
  size_t taken = 0;
  for (const std::string& text : ValidTexts()) {
    for (size_t i = 0; i < text.size(); ++i) {
      CheckAgrees(text.substr(0, i));
      CheckAgrees(text.substr(0, i) + text.substr(i + 1));
      for (char b : bytes) {
        if (b == text[i]) continue;
        std::string t = text;
        t[i] = b;
        CheckAgrees(t);
        taken += DecodeRecordDirect(t).has_value();
      }
    }
  }
  CHECK(taken > 0);  // some changes (a digit for a digit) still decode directly, and agree
}

// Fields an operation of that kind does not have (the DOM path does not read them): the
// encoder never writes them, a hand edit may.
TEST_CASE("record decode: fields another kind of operation has are ignored, as by the DOM",
          "[record]") {
  const std::vector<std::string> extras = {
      "\"to\":8,\"to_after\":5,", "\"first\":\"X\",\"last\":\"Y\",",
      "\"was_first\":\"W\",\"was_last\":\"V\","};
  size_t checked = 0;
  for (const std::string& text : ValidTexts()) {
    size_t op = text.find("\"ops\":[{");
    REQUIRE(op != std::string::npos);
    for (const std::string& extra : extras) {
      std::string t = text;
      t.insert(op + 8, extra);
      if (ParseRecordJsonDom(t).ok()) ++checked;
      CheckAgrees(t);
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("record decode: random records, valid or not, ASCII or not, agree with the DOM",
          "[record]") {
  std::mt19937_64 rng(29);
  const std::vector<std::string> texts = {"Ada", "", "O'Brien", "a\"b", "x\\y", "é", "\x01",
                                          "pay-1", std::string(64, 'f'), std::string(64, 'g')};
  auto text = [&] { return texts[rng() % texts.size()]; };
  auto small = [&]() -> std::int64_t {
    switch (rng() % 4) {
      case 0: return 0;
      case 1: return -1;
      case 2: return static_cast<std::int64_t>(rng() >> 1);
      default: return static_cast<std::int64_t>(rng() % 1000);
    }
  };
  size_t direct = 0;
  for (int n = 0; n < 20000; ++n) {
    Record r;
    r.txn = static_cast<std::uint64_t>(small());
    r.time_ms = small();
    r.key = rng() % 2 ? text() : "";
    r.key_prev = rng() % 2 ? static_cast<std::uint64_t>(small()) : 0;
    r.request = text();
    r.reserve_ids = rng() % 4 == 0 ? static_cast<AccountId>(small()) : 0;
    r.reverses = rng() % 4 == 0 ? static_cast<std::uint64_t>(small()) : 0;
    r.prev_hash = rng() % 2 ? text() : "";
    for (size_t i = rng() % 3; i > 0; --i) {
      Op op;
      op.kind = static_cast<OpKind>(rng() % 6);
      op.id = static_cast<AccountId>(small());
      op.to = static_cast<AccountId>(small());
      op.amount = small();
      op.after = small();
      op.to_after = small();
      op.first = text(), op.last = text(), op.was_first = text(), op.was_last = text();
      op.memo = rng() % 2 ? text() : "";
      r.ops.push_back(op);
    }
    for (size_t i = rng() % 3; i > 0; --i) {
      RecordAccount ra;
      ra.state.id = static_cast<AccountId>(small());
      ra.state.first = text(), ra.state.last = text();
      ra.state.balance = small();
      ra.state.closed = rng() % 2;
      ra.state.version = static_cast<std::uint64_t>(small());
      ra.prev_txn = static_cast<std::uint64_t>(small());
      r.accounts.push_back(ra);
    }
    std::string t = RecordJson(r);
    CheckAgrees(t);
    direct += DecodeRecordDirect(t).has_value();
  }
  CHECK(direct > 0);
}

}  // namespace drovebank
