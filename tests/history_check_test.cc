// Each account's history follows from the one before, as a module
// (src/store/history_check.h): the records a real store wrote are followed clean, and a
// record whose result, carried state, version, history link or open breaks the rules is
// Corruption naming its txn, even though no hash or CRC is involved here. recover --check
// on forged journals is chain_test.cc.
#include "store/history_check.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <functional>
#include <string>
#include <vector>

#include "store/journal.h"
#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Money;
using testing::MustOpen;
using testing::MustOpenStore;
using testing::OpenOp;
using testing::Rename;
using testing::TempDir;

// Records 1-6 of a store: two opens, a deposit, a transfer, a rename, a withdrawal.
std::vector<Record> SixRecords(const TempDir& dir) {
  std::string data = dir / "data";
  {
    auto s = MustOpenStore(data, DefaultEnv());
    AccountId a = MustOpen(*s, 10000);
    AccountId b = MustOpen(*s, 5000);
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 250)}, ""}).ok());
    REQUIRE(s->Commit(Event{{Money(OpKind::kTransfer, a, 1000, b)}, ""}).ok());
    REQUIRE(s->Commit(Event{{Rename(b, "Mary", "Somerville")}, ""}).ok());
    REQUIRE(s->Commit(Event{{Money(OpKind::kWithdraw, b, 1)}, ""}).ok());
  }
  auto j = Journal::OpenReadOnly(DefaultEnv(), Layout(data), StorageMode{});
  REQUIRE(j.ok());
  auto records = (*j)->ReadRange(JournalPos{}, (*j)->End());
  REQUIRE(records.ok());
  REQUIRE(records->size() == 6);
  return *records;
}

// The records fed so far, by txn: the follower's source of states it reads back.
AccountHistoryFollower::RecordSource SourceOf(const std::vector<Record>& records) {
  return [&records](std::uint64_t txn) -> Result<Record> {
    for (const Record& r : records) {
      if (r.txn == txn) return r;
    }
    return Status::NotFound(fmt::format("no transaction {}", txn));
  };
}

// The first failure of following `records`, Ok when there is none. `slots`: the whole
// states the follower keeps (1: nearly every state is read back from its record).
Status Follow(const std::vector<Record>& records, size_t slots = 1 << 14,
              std::uint64_t* reads_back = nullptr) {
  AccountHistoryFollower f(SourceOf(records), slots);
  for (const Record& r : records) {
    Status s = f.Feed(r, r.txn);
    if (!s.ok()) return s;
  }
  if (reads_back) *reads_back = f.reads_back();
  return Status::Ok();
}

TEST_CASE("history check: a store's own records follow one from another", "[history_check]") {
  TempDir dir;
  std::vector<Record> records = SixRecords(dir);
  std::vector<Record> cut(records.begin() + 3, records.end());
  for (size_t slots : {size_t{1} << 14, size_t{1}}) {
    INFO("whole states kept: " << slots);
    std::uint64_t reads_back = 0;
    CHECK(Follow(records, slots, &reads_back).ok());
    // With one slot, the two accounts take turns in it: the deposit reads account a back
    // (b's open took the slot), the transfer reads b back; the rest find it kept.
    CHECK(reads_back == (slots == 1 ? 2u : 0u));
    // Cut away its head, the journal is followed from the first state each account shows.
    CHECK(Follow(cut, slots).ok());
  }
}

TEST_CASE("history check: states read back from the journal where the walk found them, one slot kept",
          "[history_check]") {
  TempDir dir;
  const std::vector<Record> good = SixRecords(dir);
  auto j = Journal::OpenReadOnly(DefaultEnv(), Layout(dir / "data"), StorageMode{});
  REQUIRE(j.ok());
  const Journal& journal = **j;
  std::vector<JournalPos> at;  // where each record starts; a record's place is its index + 1
  REQUIRE(journal.ForEach({0, 0}, journal.End(), [&](Record&, JournalPos pos) {
    at.push_back(pos);
    return Status::Ok();
  }).ok());
  REQUIRE(at.size() == good.size());
  auto follow = [&](const std::vector<Record>& records, std::uint64_t* reads_back) {
    AccountHistoryFollower f([&](std::uint64_t where) { return journal.RecordAt(at.at(where - 1)); },
                             1);
    for (size_t i = 0; i < records.size(); ++i) DB_RETURN_IF_ERROR(f.Feed(records[i], i + 1));
    *reads_back = f.reads_back();
    return Status::Ok();
  };
  // RecordAt gives each record back, and nothing where no record starts.
  for (size_t i = 0; i < at.size(); ++i) {
    auto r = journal.RecordAt(at[i]);
    REQUIRE(r.ok());
    CHECK(r->txn == good[i].txn);
  }
  CHECK(journal.RecordAt(JournalPos{at[1].seg, at[1].offset + 1}).status().code() ==
        Code::kCorruption);
  CHECK(journal.RecordAt(JournalPos{at[1].seg, at[1].offset - 1}).status().code() ==
        Code::kCorruption);
  std::uint64_t reads_back = 0;
  CHECK(follow(good, &reads_back).ok());
  CHECK(reads_back == 2);
  // The transfer's amount changed, its results kept: the states it starts from come back
  // from the segment, and it no longer follows from them.
  std::vector<Record> forged = good;
  forged[3].ops[0].amount += 1;
  Status s = follow(forged, &reads_back);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().rfind("txn 4 does not follow", 0) == 0);
}

TEST_CASE("history check: a state read back from a record changed since is Corruption",
          "[history_check]") {
  TempDir dir;
  const std::vector<Record> good = SixRecords(dir);
  std::vector<Record> served = good;  // what the source hands back, changed after the walk
  bool changed = false;
  AccountHistoryFollower f(
      [&](std::uint64_t txn) -> Result<Record> {
        Record r = served.at(txn - 1);
        if (changed) r.accounts.clear();
        return r;
      },
      1);
  for (size_t i = 0; i < good.size(); ++i) {
    if (i == 3) changed = true;  // before the transfer, whose accounts are read back
    Status s = f.Feed(good[i], good[i].txn);
    if (i < 3) {
      REQUIRE(s.ok());
      continue;
    }
    CHECK(s.code() == Code::kCorruption);
    CHECK(s.message().find("no longer carries account") != std::string::npos);
    break;
  }
  // A source that cannot read the record any more fails the walk too.
  AccountHistoryFollower lost([](std::uint64_t) -> Result<Record> {
    return Status::IOError("segment gone");
  }, 1);
  Status s = Status::Ok();
  for (const Record& r : good) {
    s = lost.Feed(r, r.txn);
    if (!s.ok()) break;
  }
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("cannot be read again: segment gone") != std::string::npos);
}

TEST_CASE("history check: a record the rules do not make is Corruption naming its txn",
          "[history_check]") {
  TempDir dir;
  const std::vector<Record> good = SixRecords(dir);
  // Each forgery, applied to a copy of record 4 (the transfer), its txn.
  std::vector<std::pair<const char*, std::function<void(Record*)>>> forgeries = {
      {"an op's result", [](Record* r) { r->ops[0].after += 1; }},
      {"a carried balance", [](Record* r) { r->accounts[0].state.balance += 100; }},
      {"a carried version", [](Record* r) { r->accounts[1].state.version += 1; }},
      {"the history link", [](Record* r) { r->accounts[0].prev_txn = 1; }},
      {"a carried name", [](Record* r) { r->accounts[1].state.first = "Eve"; }},
      {"an account left out", [](Record* r) { r->accounts.pop_back(); }},
      {"the amount, results kept", [](Record* r) { r->ops[0].amount += 1; }},
  };
  forgeries.push_back({"an account carried twice", [](Record* r) {
                         r->accounts.push_back(r->accounts[0]);
                       }});
  for (size_t slots : {size_t{1} << 14, size_t{1}}) {
    for (const auto& [what, forge] : forgeries) {
      INFO(what << ", whole states kept: " << slots);
      std::vector<Record> records = good;
      REQUIRE(records[3].txn == 4);
      REQUIRE(records[3].ops[0].kind == OpKind::kTransfer);
      forge(&records[3]);
      Status s = Follow(records, slots);
      CHECK(s.code() == Code::kCorruption);
      CHECK(s.message().rfind("txn 4 does not follow", 0) == 0);
    }
  }

  // An account opened twice, and one named before its open.
  std::vector<Record> twice = good;
  twice[1].ops[0].id = twice[0].ops[0].id;
  twice[1].accounts[0].state.id = twice[0].ops[0].id;
  CHECK(Follow(twice).code() == Code::kCorruption);
  Status again = Follow(twice);
  CHECK(again.message().find("opened a second time") != std::string::npos);
  Status unopened = Follow({good[0], good[3]});  // a whole journal: account 2 never opened
  CHECK(unopened.code() == Code::kCorruption);
  CHECK(unopened.message().find("no earlier record opens it") != std::string::npos);
}

}  // namespace
}  // namespace drovebank
