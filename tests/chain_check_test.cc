// recover's walk of the hash chain as a module (FollowChain, src/store/recovery_parts.h,
// chain_check.cc): a store's own journal follows to its head, a head written down earlier
// is matched where the walk passes its txn, and a head that is not on the chain, past its
// end, or in journal/CHECKPOINT and not on it is Corruption. Forged journals through the
// real program are chain_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/recovery.h"
#include "store/recovery_parts.h"
#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

// The position after record `txn` (the records are txns 1, 2, ...).
JournalPos After(const Journal& j, std::uint64_t txn) {
  std::vector<JournalPos> starts = RecordStarts(j);
  return txn < starts.size() ? starts[txn] : j.End();
}

Status Follow(const std::string& data, const Journal& j, const std::string& expect_head,
              RecoverReport* r) {
  RecoverOptions o;
  o.data_dir = data;
  o.expect_head = expect_head;
  return FollowChain(DefaultEnv(), Layout(data), j, j.End(), o, r);
}

TEST_CASE("chain check: a store's journal follows to the head its journal gives",
          "[chain_check]") {
  TempDir dir;
  std::string data = FiveRecords(dir);
  auto j = OpenJournalReadOnly(data);
  RecoverReport r;
  REQUIRE(Follow(data, *j, "", &r).ok());
  CHECK(r.chain_records == 5);
  auto head = j->HeadAt(j->End());
  REQUIRE(head.ok());
  CHECK(head->txn == 5);
  CHECK(r.chain_head == FormatHead(*head));
  CHECK_FALSE(r.head_matched);
}

TEST_CASE("chain check: a head written down is matched on the chain, and one off it is "
          "Corruption",
          "[chain_check]") {
  TempDir dir;
  std::string data = FiveRecords(dir);
  auto j = OpenJournalReadOnly(data);
  auto at3 = j->HeadAt(After(*j, 3));
  REQUIRE(at3.ok());
  REQUIRE(at3->txn == 3);

  RecoverReport matched;
  REQUIRE(Follow(data, *j, FormatHead(*at3), &matched).ok());
  CHECK(matched.head_matched);
  CHECK(matched.chain_records == 5);

  ChainHead forged = *at3;
  forged.hash[0] ^= 1;
  RecoverReport off;
  Status s = Follow(data, *j, FormatHead(forged), &off);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("the head given") != std::string::npos);

  ChainHead past = *at3;
  past.txn = 9;
  RecoverReport beyond;
  Status p = Follow(data, *j, FormatHead(past), &beyond);
  CHECK(p.code() == Code::kCorruption);
  CHECK(p.message().find("records were removed") != std::string::npos);
}

TEST_CASE("chain check: journal/CHECKPOINT's head must lie on the chain", "[chain_check]") {
  TempDir dir;
  std::string data = FiveRecords(dir);
  auto w = OpenJournal(data);
  auto ckpt = w->ReadCheckpoint();
  REQUIRE(ckpt.ok());
  CheckpointInfo c = *ckpt;
  c.pos = After(*w, 2);
  c.last_txn = 2;
  auto head = w->HeadAt(c.pos);
  REQUIRE(head.ok());
  c.head = *head;
  REQUIRE(w->WriteCheckpoint(c).ok());
  RecoverReport good;
  CHECK(Follow(data, *OpenJournalReadOnly(data), "", &good).ok());

  c.head->hash[5] ^= 0x10;
  REQUIRE(w->WriteCheckpoint(c).ok());
  RecoverReport bad;
  Status s = Follow(data, *OpenJournalReadOnly(data), "", &bad);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("journal/CHECKPOINT") != std::string::npos);
}

}  // namespace
}  // namespace drovebank
