// RecordJson (src/store/record_json.cc) writes a record's JSON directly; the hash chain and
// the CRC cover those bytes, so they must be exactly what the reference encoder, a nlohmann
// DOM dumped (RecordJsonDom), gives. Swept: every op kind with and without its optional
// fields, every ASCII byte in every string, numbers at their extremes, and strings that
// are not ASCII (UTF-8, and bytes that are not UTF-8), which take the reference's path.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "drovebank/record.h"
#include "store/record_lines.h"

namespace drovebank {
namespace {

std::string RandomText(std::mt19937_64& rng, bool ascii_only) {
  static const std::string kPieces[] = {"é", "日本", "\xff", "\xc3", "\xed\xa0\x80", "😀"};
  std::string s;
  size_t n = rng() % 12;
  for (size_t i = 0; i < n; ++i) {
    if (!ascii_only && rng() % 8 == 0) {
      s += kPieces[rng() % std::size(kPieces)];
    } else {
      s += static_cast<char>(rng() % 128);
    }
  }
  return s;
}

std::int64_t RandomInt(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return std::numeric_limits<std::int64_t>::max();
    case 1: return std::numeric_limits<std::int64_t>::min();
    case 2: return 0;
    default: return static_cast<std::int64_t>(rng()) >> (rng() % 64);
  }
}

Record RandomRecord(std::mt19937_64& rng, bool ascii_only) {
  Record r;
  r.txn = rng();
  r.time_ms = RandomInt(rng);
  if (rng() % 2) r.key = RandomText(rng, ascii_only);
  r.key_prev = rng() % 2 ? rng() : 0;
  r.request = RandomText(rng, ascii_only);
  r.reserve_ids = rng() % 3 == 0 ? static_cast<AccountId>(rng()) : 0;
  r.reverses = rng() % 3 == 0 ? rng() : 0;
  if (rng() % 2) r.prev_hash = RandomText(rng, ascii_only);
  for (size_t i = rng() % 4; i > 0; --i) {
    Op op;
    op.kind = static_cast<OpKind>(rng() % 6);
    op.id = static_cast<AccountId>(rng());
    op.to = static_cast<AccountId>(rng());
    op.amount = RandomInt(rng);
    op.after = RandomInt(rng);
    op.to_after = RandomInt(rng);
    op.first = RandomText(rng, ascii_only);
    op.last = RandomText(rng, ascii_only);
    if (rng() % 2) op.memo = RandomText(rng, ascii_only);
    op.was_first = RandomText(rng, ascii_only);
    op.was_last = RandomText(rng, ascii_only);
    r.ops.push_back(op);
  }
  for (size_t i = rng() % 4; i > 0; --i) {
    RecordAccount ra;
    ra.state.id = static_cast<AccountId>(rng());
    ra.state.first = RandomText(rng, ascii_only);
    ra.state.last = RandomText(rng, ascii_only);
    ra.state.balance = RandomInt(rng);
    ra.state.closed = rng() % 2;
    ra.state.version = rng();
    ra.prev_txn = rng();
    r.accounts.push_back(ra);
  }
  return r;
}

}  // namespace

TEST_CASE("record json: the direct encoder writes the reference encoder's bytes, swept",
          "[record]") {
  std::mt19937_64 rng(20261206);
  for (int i = 0; i < 20000; ++i) {
    Record r = RandomRecord(rng, /*ascii_only=*/i % 4 != 0);
    INFO("record " << i << ": " << RecordJsonDom(r));
    REQUIRE(RecordJson(r) == RecordJsonDom(r));
  }
}

TEST_CASE("record json: every ASCII byte in every string is escaped as the reference does",
          "[record]") {
  for (int c = 0; c < 128; ++c) {
    std::string s = "a" + std::string(1, static_cast<char>(c)) + "z";
    Record r;
    r.txn = 7;
    r.key = s;
    r.request = s;
    r.prev_hash = s;
    Op op;
    op.kind = OpKind::kRename;
    op.first = op.last = op.was_first = op.was_last = op.memo = s;
    r.ops.push_back(op);
    RecordAccount ra;
    ra.state.first = ra.state.last = s;
    r.accounts.push_back(ra);
    INFO("byte " << c);
    CHECK(RecordJson(r) == RecordJsonDom(r));
  }
}

}  // namespace drovebank
