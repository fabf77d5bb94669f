// recover's walk of the hash chain as a module (FollowChain, src/store/recovery_parts.h,
// chain_check.cc): a store's own journal follows to its head, a head written down earlier
// is matched where the walk passes its txn, and a head that is not on the chain, past its
// end, or in journal/CHECKPOINT and not on it is Corruption. Forged journals through the
// real program are chain_test.cc.
#include <catch2/catch.hpp>
#include <string>

#include "drovebank/recovery.h"
#include "store/journal.h"
#include "store/recovery_parts.h"
#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Money;
using testing::MustOpen;
using testing::MustOpenStore;
using testing::TempDir;

// Five records: two opens, a deposit, a transfer, a withdrawal.
std::string FiveRecords(const TempDir& dir) {
  std::string data = dir / "data";
  auto s = MustOpenStore(data, DefaultEnv());
  AccountId a = MustOpen(*s, 10000);
  AccountId b = MustOpen(*s, 5000);
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 500)}, ""}).ok());
  REQUIRE(s->Commit(Event{{Money(OpKind::kTransfer, b, 1000, a)}, ""}).ok());
  REQUIRE(s->Commit(Event{{Money(OpKind::kWithdraw, a, 1)}, ""}).ok());
  return data;
}

std::unique_ptr<Journal> ReadOnly(const std::string& data) {
  auto j = Journal::OpenReadOnly(DefaultEnv(), Layout(data), StorageMode{});
  REQUIRE(j.ok());
  return std::move(j).value();
}

// The position after record `txn`.
JournalPos After(const Journal& j, std::uint64_t txn) {
  JournalPos next = j.End();
  bool seen = false;
  REQUIRE(j.ForEach(JournalPos{}, j.End(), [&](Record& r, JournalPos at) {
             if (seen) {
               next = at;
               seen = false;
             }
             if (r.txn == txn) seen = true;
             return Status::Ok();
           }).ok());
  return next;
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
  auto j = ReadOnly(data);
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
  auto j = ReadOnly(data);
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
  auto w = Journal::Open(DefaultEnv(), Layout(data), StorageMode{},
                         [](const std::vector<Record>&) { return Status::Ok(); });
  REQUIRE(w.ok());
  auto ckpt = (*w)->ReadCheckpoint();
  REQUIRE(ckpt.ok());
  CheckpointInfo c = *ckpt;
  c.pos = After(**w, 2);
  c.last_txn = 2;
  auto head = (*w)->HeadAt(c.pos);
  REQUIRE(head.ok());
  c.head = *head;
  REQUIRE((*w)->WriteCheckpoint(c).ok());
  RecoverReport good;
  CHECK(Follow(data, *ReadOnly(data), "", &good).ok());

  c.head->hash[5] ^= 0x10;
  REQUIRE((*w)->WriteCheckpoint(c).ok());
  RecoverReport bad;
  Status s = Follow(data, *ReadOnly(data), "", &bad);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("journal/CHECKPOINT") != std::string::npos);
}

}  // namespace
}  // namespace drovebank
