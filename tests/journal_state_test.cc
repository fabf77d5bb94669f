// journal/state as a module (src/store/journal_state.h, journal_state.cc): a state this
// boot wrote is taken as it is, one that fails its checksum or names another boot is
// rebuilt from the segments (replaying the tail), and its lock bytes are held through
// ByteLock, a wait that ends saying nothing changed. The journal's appends are
// journal_test.cc; crashes around the state are recovery_test.cc.
#include "store/journal_state.h"

#include <fcntl.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

// The journal of the store in `data`, opened counting the txns its open hands to replay.
struct Opened {
  explicit Opened(const std::string& data) {
    journal = OpenJournal(data, kSegmentBytes, [this](const std::vector<Record>& tail) {
      for (const Record& r : tail) replayed.push_back(r.txn);
      return Status::Ok();
    });
  }
  std::unique_ptr<Journal> journal;
  std::vector<std::uint64_t> replayed;  // the txns handed to replay
};

TEST_CASE("journal state: this boot's state is taken as it is; a damaged or another boot's is "
          "rebuilt from the segments",
          "[journal_state]") {
  TempDir dir;
  std::string data = ThreeRecords(dir);
  std::string state_path = Layout(data).JournalStatePath();
  const std::string good = testing::Slurp(state_path);
  REQUIRE(good.size() >= sizeof(std::uint64_t) * 2);

  JournalPos end;
  {
    Opened o(data);
    CHECK(o.replayed.empty());  // this boot's, checksum intact: nothing to replay
    end = o.journal->End();
    CHECK(o.journal->max_id() == 2);
    CHECK(o.journal->account_count() == 2);
  }

  // byte 8 on: the boot id; byte 0: the magic. Either damage fails the check.
  for (size_t at : {size_t{8}, size_t{0}, size_t{100}}) {
    INFO("byte " << at << " changed");
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    testing::Spit(state_path, bad);
    Opened o(data);
    CHECK(o.replayed == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(o.journal->End() == end);
    CHECK(o.journal->max_id() == 2);
    CHECK(o.journal->account_count() == 2);
    auto id = o.journal->AllocateId();
    REQUIRE(id.ok());
    CHECK(*id == 3);
  }
}

TEST_CASE("journal state: a lock byte held through one description waits in another, and a "
          "wait that ends says nothing changed",
          "[journal_state]") {
  using namespace journal_internal;
  TempDir dir;
  std::string data = ThreeRecords(dir);
  Env* env = DefaultEnv();
  int a = *env->Open(Layout(data).JournalStatePath(), O_RDWR, 0600);
  int b = *env->Open(Layout(data).JournalStatePath(), O_RDWR, 0600);
  LockWait wait;
  wait.cancelled = [] { return true; };
  {
    ByteLock held(env, a, kAppendLockByte, wait);
    REQUIRE(held.Lock().ok());
    ByteLock other(env, b, kAppendLockByte, wait);
    Status s = other.Lock();
    CHECK(s.code() == Code::kCancelled);
    CHECK(s.message().find("the journal's append lock (byte 100 of journal/state)") !=
          std::string::npos);
    ByteLock sync(env, b, kSyncLockByte, wait);
    CHECK(sync.Lock().ok());  // another byte: free
    CHECK(*env->ByteLocked(b, kAppendLockByte));
  }  // both released at scope end
  CHECK_FALSE(*env->ByteLocked(b, kAppendLockByte));
  CHECK_FALSE(*env->ByteLocked(a, kSyncLockByte));

  CHECK(ByteLock::What(kCheckpointLockByte) ==
        "the journal's checkpoint lock (byte 102 of journal/state)");
  CHECK(ByteLock::What(kSyncLockByte) == "the journal's sync-leader lock (byte 101 of journal/state)");
  Status busy = NothingChanged(Status::Busy("timed out"));
  CHECK(busy.code() == Code::kBusy);
  CHECK(busy.message() == "timed out; nothing changed");
  CHECK(NothingChanged(Status::Cancelled("gave up")).message() == "gave up; nothing changed");
  CHECK(NothingChanged(Status::IOError("disk")).message() == "disk");
  CHECK(NothingChanged(Status::Ok()).ok());
  (void)env->Close(a);
  (void)env->Close(b);
}

}  // namespace
}  // namespace drovebank
