// The journal as a module (src/store/journal.h): append and its steps, the own-states
// condition, rotation, look-ups across segments, id allocation. The crash and corruption
// behaviour around it is in recovery_test.cc, corruption_test.cc and fault_matrix_test.cc.
#include "store/journal.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "drovebank/store.h"
#include "store/journal_steps.h"
#include "store/layout.h"
#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Deposit;
using testing::NewStore;
using testing::OpenJournal;
using testing::TempDir;

struct StepLog final : JournalSteps {
  void Reached(JournalStep step) override { steps.push_back(step); }
  std::vector<JournalStep> steps;
};

TEST_CASE("journal: an append numbers, chains and reports its steps in order", "[journal]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto j = OpenJournal(data, kSegmentBytes);
  std::vector<Record> records = {Deposit(1, 5), Deposit(2, 7), Deposit(1, 9)};
  StepLog log;
  auto pos = j->Append(&records, /*only_if_unchanged=*/false, &log);
  REQUIRE(pos.ok());
  REQUIRE(pos->has_value());
  CHECK(log.steps ==
        std::vector<JournalStep>{JournalStep::kEncoded, JournalStep::kWritten,
                                 JournalStep::kPublished});
  CHECK(records[1].txn == records[0].txn + 1);
  CHECK(records[2].txn == records[1].txn + 1);
  CHECK(j->End() == **pos);
  REQUIRE(j->Sync(**pos, &log).ok());
  CHECK(log.steps.back() == JournalStep::kSyncing);
  for (const Record& r : records) {
    auto found = j->FindTxn(r.txn);
    REQUIRE(found.ok());
    CHECK(found->ops == r.ops);
    CHECK(found->prev_hash == r.prev_hash);
  }
  // Each names the one before it: three different links of one chain.
  CHECK(records[0].prev_hash != records[1].prev_hash);
  CHECK(records[1].prev_hash != records[2].prev_hash);
  auto head = j->Head();
  REQUIRE(head.ok());
  CHECK(head->txn == records[2].txn);
}

TEST_CASE("journal: the own-states append writes nothing once another journal appended",
          "[journal]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto mine = OpenJournal(data, kSegmentBytes);
  auto other = OpenJournal(data, kSegmentBytes);  // another process, as far as locks go
  std::vector<Record> first = {Deposit(1, 1)};
  REQUIRE(mine->Append(&first, false, nullptr).ok());
  std::vector<Record> again = {Deposit(1, 2)};
  auto unchanged = mine->Append(&again, true, nullptr);
  REQUIRE(unchanged.ok());
  CHECK(unchanged->has_value());  // nothing joined since this journal's own append
  CHECK(mine->unchanged_at_last_append());

  std::vector<Record> theirs = {Deposit(2, 3)};
  REQUIRE(other->Append(&theirs, false, nullptr).ok());
  JournalPos before = other->End();
  std::vector<Record> stale = {Deposit(1, 4)};
  StepLog log;
  auto refused = mine->Append(&stale, true, &log);
  REQUIRE(refused.ok());
  CHECK(!refused->has_value());
  CHECK(log.steps.empty());  // refused before anything was encoded
  CHECK(mine->End() == before);
  CHECK(mine->FindTxn(theirs[0].txn + 1).status().code() == Code::kNotFound);
}

TEST_CASE("journal: appends past the segment size rotate, and every record stays found",
          "[journal]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto j = OpenJournal(data, 600);  // a few records a segment
  std::vector<std::uint64_t> txns;
  size_t rotations = 0;
  for (int i = 0; i < 40; ++i) {
    std::vector<Record> records = {Deposit(1 + i % 3, i + 1)};
    StepLog log;
    auto pos = j->Append(&records, false, &log);
    REQUIRE(pos.ok());
    REQUIRE(j->Sync(**pos, &log).ok());
    for (JournalStep s : log.steps) rotations += s == JournalStep::kSegmentCreated;
    txns.push_back(records[0].txn);
  }
  auto segments = j->Segments();
  REQUIRE(segments.ok());
  CHECK(segments->size() == rotations + 1);
  CHECK(rotations >= 5);
  for (size_t i = 0; i < txns.size(); ++i) {
    INFO("txn " << txns[i]);
    auto r = j->FindTxn(txns[i]);
    REQUIRE(r.ok());
    CHECK(r->ops[0].amount == static_cast<Cents>(i + 1));
    auto looked = j->LookUpTxn(txns[i]);
    REQUIRE(looked.ok());
    CHECK(looked->ops == r->ops);
  }
  // The whole range reads back in order, across every segment.
  auto all = j->ReadRange(JournalPos{}, j->End());
  REQUIRE(all.ok());
  REQUIRE(all->size() >= txns.size());
  CHECK(all->back().txn == txns.back());
}

TEST_CASE("journal: ids are handed out once each, past every id a record used",
          "[journal]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto j = OpenJournal(data, kSegmentBytes);
  auto a = j->AllocateId();
  auto b = j->AllocateId();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*b == *a + 1);
  Record reserve;
  reserve.reserve_ids = 50;
  reserve.request = "reserve-ids 50";
  std::vector<Record> records = {reserve};
  REQUIRE(j->Append(&records, false, nullptr).ok());
  auto c = j->AllocateId();
  REQUIRE(c.ok());
  CHECK(*c == 51);
}

}  // namespace
}  // namespace drovebank
