// journal/CHECKPOINT as a module (src/store/journal_checkpoint.cc): what WriteCheckpoint
// writes ReadCheckpoint gives back, with or without a chain head; a missing checkpoint is
// the journal's start; a damaged one is Corruption; and one checkpointer at a time holds
// the checkpoint lock.
#include <catch2/catch.hpp>
#include <string>

#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

// A checkpoint at `pos` with no chain head (as format 2 wrote them).
CheckpointInfo Headless(JournalPos pos, std::uint64_t last_txn, AccountId max_id,
                        std::uint64_t account_count) {
  return {.pos = pos,
          .last_txn = last_txn,
          .max_id = max_id,
          .account_count = account_count,
          .head = std::nullopt};
}

TEST_CASE("journal checkpoint: what is written is read back, head or none; missing is the "
          "start",
          "[journal_checkpoint]") {
  TempDir dir;
  std::string data = NewStore(dir);
  std::string path = data + "/journal/CHECKPOINT";
  auto j = OpenJournal(data);
  ::unlink(path.c_str());
  auto none = j->ReadCheckpoint();
  REQUIRE(none.ok());
  CHECK(none->pos == JournalPos{});
  CHECK(none->last_txn == 0);
  CHECK_FALSE(none->head);

  CheckpointInfo c = Headless(JournalPos{17, 4096}, 41, 99999999, 12);
  REQUIRE(j->WriteCheckpoint(c).ok());
  auto back = j->ReadCheckpoint();
  REQUIRE(back.ok());
  CHECK(back->pos == c.pos);
  CHECK(back->last_txn == 41);
  CHECK(back->max_id == 99999999);
  CHECK(back->account_count == 12);
  CHECK_FALSE(back->head);

  ChainHead head;
  head.txn = 41;
  head.hash[0] = 0xab;
  head.hash[31] = 0x01;
  c.head = head;
  REQUIRE(j->WriteCheckpoint(c).ok());
  auto with_head = OpenJournal(data)->ReadCheckpoint();  // another journal reads the file
  REQUIRE(with_head.ok());
  REQUIRE(with_head->head);
  CHECK(*with_head->head == head);
  CHECK(with_head->pos == c.pos);
}

TEST_CASE("journal checkpoint: any damage is Corruption, never a guess", "[journal_checkpoint]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto j = OpenJournal(data);
  CheckpointInfo c = Headless(JournalPos{1, 300}, 3, 2, 2);
  REQUIRE(j->WriteCheckpoint(c).ok());
  std::string path = data + "/journal/CHECKPOINT";
  const std::string good = testing::Slurp(path);
  REQUIRE(j->ReadCheckpoint().ok());
  for (size_t i = 0; i < good.size(); ++i) {
    if (i == 8) continue;  // the space after the CRC: a separator no parse depends on
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    testing::Spit(path, bad);
    INFO("byte " << i);
    CHECK(j->ReadCheckpoint().status().code() == Code::kCorruption);
  }
  for (size_t n = 0; n < good.size(); ++n) {
    testing::Spit(path, good.substr(0, n));
    INFO("cut to " << n);
    CHECK(j->ReadCheckpoint().status().code() == Code::kCorruption);
  }
}

TEST_CASE("journal checkpoint: one checkpointer at a time", "[journal_checkpoint]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto a = OpenJournal(data);
  auto b = OpenJournal(data);
  REQUIRE(a->LockCheckpoint(false).ok());
  CHECK(b->LockCheckpoint(false).code() == Code::kBusy);
  a->UnlockCheckpoint();
  CHECK(b->LockCheckpoint(false).ok());
  CHECK(a->LockCheckpoint(false).code() == Code::kBusy);
  b->UnlockCheckpoint();
}

}  // namespace
}  // namespace drovebank
