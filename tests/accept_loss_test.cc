// recover --accept-loss's cut as a module (CutJournalToWholeHistory,
// src/store/recovery_parts.h, accept_loss.cc): a whole journal of an unmarked store is
// refused with nothing changed; otherwise the journal is cut at its first record that is
// not whole or does not follow the chain, the cut bytes kept in quarantine/, the
// checkpoint moved to the start and journal/state and keys/index removed. The whole
// recover --accept-loss through the real program is chain_test.cc.
#include <filesystem>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/recovery.h"
#include "store/recovery_parts.h"
#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

namespace fs = std::filesystem;
using namespace testing;

struct Journaled {
  std::string data;
  std::string segment;              // the one segment's path
  std::vector<std::uint64_t> starts;  // where each record starts (txn i+1 at starts[i])
};

// Five records (one keyed), checkpointed at the journal's start, in one segment.
Journaled FiveJournaled(const TempDir& dir) {
  Journaled j;
  j.data = FiveRecords(dir, "pay-1");
  auto journal = OpenJournalReadOnly(j.data);
  REQUIRE(journal->Segments()->size() == 1);
  j.segment = journal->SegmentPath(journal->Segments()->front());
  for (const JournalPos& at : RecordStarts(*journal)) j.starts.push_back(at.offset);
  REQUIRE(j.starts.size() == 5);
  return j;
}

std::vector<std::string> Quarantined(const std::string& data) {
  std::vector<std::string> out;
  if (!fs::exists(data + "/quarantine")) return out;
  for (const auto& e : fs::directory_iterator(data + "/quarantine")) out.push_back(e.path());
  return out;
}

TEST_CASE("accept loss: a whole journal of an unmarked store is refused, nothing changed",
          "[accept_loss]") {
  TempDir dir;
  Journaled j = FiveJournaled(dir);
  Layout layout(j.data);
  std::string segment = Slurp(j.segment);
  std::string checkpoint = Slurp(layout.journal() + "/CHECKPOINT");
  RecoverReport r;
  Status s = CutJournalToWholeHistory(DefaultEnv(), layout, &r);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("nothing changed") != std::string::npos);
  CHECK(Slurp(j.segment) == segment);
  CHECK(Slurp(layout.journal() + "/CHECKPOINT") == checkpoint);
  CHECK(PathExists(layout.JournalStatePath()));
  CHECK(PathExists(layout.KeyIndexPath()));
  CHECK(Quarantined(j.data).empty());
  CHECK(r.quarantined == 0);
}

TEST_CASE("accept loss: the journal is cut at its first broken record, the cut kept, "
          "everything rebuilt from the start",
          "[accept_loss]") {
  TempDir dir;
  Journaled j = FiveJournaled(dir);
  Layout layout(j.data);
  const std::string segment = Slurp(j.segment);
  // A byte of record 3's JSON rots: records 3 to 5 are no longer a whole history.
  std::string rotten = segment;
  size_t at = j.starts[2] + 20;
  rotten[at] = static_cast<char>(rotten[at] ^ 0x04);
  Spit(j.segment, rotten);

  RecoverReport r;
  REQUIRE(CutJournalToWholeHistory(DefaultEnv(), layout, &r).ok());
  CHECK(Slurp(j.segment) == segment.substr(0, j.starts[2]));
  auto kept = Quarantined(j.data);
  REQUIRE(kept.size() == 1);
  CHECK(Slurp(kept[0]) == rotten.substr(j.starts[2]));
  CHECK(r.quarantined == 1);
  CHECK_FALSE(PathExists(layout.JournalStatePath()));
  CHECK_FALSE(PathExists(layout.KeyIndexPath()));

  auto journal = Journal::OpenReadOnly(DefaultEnv(), layout, StorageMode{});
  REQUIRE(journal.ok());
  auto ckpt = (*journal)->ReadCheckpoint();
  REQUIRE(ckpt.ok());
  CHECK(ckpt->pos.offset == 0);
  CHECK(ckpt->last_txn == 0);
}

TEST_CASE("accept loss: a marked store with a whole journal is let through, nothing cut",
          "[accept_loss]") {
  TempDir dir;
  Journaled j = FiveJournaled(dir);
  Layout layout(j.data);
  const std::string segment = Slurp(j.segment);
  REQUIRE(WriteRecoveryMarker(DefaultEnv(), layout, "a test marks it").ok());
  RecoverReport r;
  REQUIRE(CutJournalToWholeHistory(DefaultEnv(), layout, &r).ok());
  CHECK(Slurp(j.segment) == segment);
  CHECK(Quarantined(j.data).empty());
  CHECK_FALSE(PathExists(layout.JournalStatePath()));
}

}  // namespace
}  // namespace drovebank
