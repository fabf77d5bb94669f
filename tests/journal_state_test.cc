// journal/state as a module (src/store/journal_state.h, journal_state.cc): a state this
// boot wrote is taken as it is, one that fails its checksum or names another boot is
// rebuilt from the segments (replaying the tail), and its lock bytes are held through
// ByteLock, a wait that ends saying nothing changed. The journal's appends are
// journal_test.cc; crashes around the state are recovery_test.cc.
#include "store/journal_state.h"

#include <fcntl.h>

#include <cstddef>
#include <cstring>
#include <filesystem>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/record.h"
#include "journal_ops.h"
#include "store/crc32.h"
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

// The journal of `data` opened as the first process after a reboot opens it, collecting
// the txns its rebuild hands to replay: the status of that open and first use.
Status OpenAfterReboot(const std::string& data, std::vector<std::uint64_t>* replayed) {
  auto j = Journal::Open(DefaultEnv(), Layout(data), StorageMode{},
                         [replayed](const std::vector<Record>& tail) {
                           for (const Record& r : tail) replayed->push_back(r.txn);
                           return Status::Ok();
                         },
                         kSegmentBytes);
  return j.ok() ? (*j)->AllocateId().status() : j.status();
}

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

// After a reboot the state is rebuilt from the segments and their tail replayed into the
// account files. A last record changed with its checksum fixed still follows the one
// before it on the chain; the head another boot's state wrote down (checksum intact) is
// what tells it, and then nothing is replayed: the open fails, naming the txn.
TEST_CASE("journal state: another boot's state whose head the last record no longer gives "
          "stops the rebuild before any replay",
          "[journal_state]") {
  TempDir dir;
  std::string data = ThreeRecords(dir);  // txn 3: a deposit of 5.00 into account 1
  const std::string state_path = Layout(data).JournalStatePath();
  std::string state = testing::Slurp(state_path);
  // docs/FORMAT.md: 192 bytes, the boot id from byte 8, the CRC-32 of bytes 0-183 at 184.
  constexpr size_t kBootIdAt = 8, kCrcAt = 184;
  REQUIRE(state.size() >= 192);
  // Another boot's: its boot id changed, its checksum made right again.
  state[kBootIdAt] ^= 0x11;
  const std::uint32_t crc = Crc32(std::string_view(state.data(), kCrcAt));
  std::memcpy(state.data() + kCrcAt, &crc, sizeof crc);
  testing::Spit(state_path, state);
  for (bool forged : {false, true}) {
    DYNAMIC_SECTION((forged ? "the last record forged" : "the journal as it was")) {
      if (forged) {
        const std::string seg = Layout(data).journal() + "/0000000000000001.log";
        std::string bytes = testing::Slurp(seg);
        const size_t last = bytes.rfind('\n', bytes.size() - 2) + 1;
        std::string json = bytes.substr(last + 9, bytes.size() - last - 10);
        const std::string was = "\"balance\":10500", forged_to = "\"balance\":19500";
        const size_t at = json.find(was);
        REQUIRE(at != std::string::npos);
        json.replace(at, was.size(), forged_to);  // the same length: 90.00 made
        testing::Spit(seg, bytes.substr(0, last) + EncodeRecordJson(json));
      }
      std::vector<std::uint64_t> replayed;
      Status opened = OpenAfterReboot(data, &replayed);
      INFO(opened.message());
      if (forged) {
        CHECK(opened.code() == Code::kCorruption);
        CHECK(opened.message().find("txn 3 was changed") != std::string::npos);
        CHECK(replayed.empty());
      } else {
        CHECK(opened.ok());
        CHECK(replayed == std::vector<std::uint64_t>{1, 2, 3});
      }
    }
  }
}

// The state is written at the append, before the record's fdatasync. A power loss may keep
// the state and take the record; the next boot appends its own txn 4 (here of the same
// length), and a second power loss takes that boot's state (never fsynced) but not its
// synced record. The first boot's head then names the byte where a genuine, acknowledged
// record ends, with another hash: it is no evidence, because that boot never synced it.
// (Judged a forgery, the acknowledged txn 4 was refused, and `recover --accept-loss`
// would have cut it.) Once synced, the same head is evidence, as above.
TEST_CASE("journal state: another boot's head that was never synced is no evidence against "
          "the record a later boot wrote in its place",
          "[journal_state]") {
  namespace fs = std::filesystem;
  TempDir dir;
  std::string data = ThreeRecords(dir);  // txns 1-3
  const std::string alt = dir / "alt";
  fs::copy(data, alt, fs::copy_options::recursive);
  const std::string seg = "/journal/0000000000000001.log";
  const std::uint64_t end3 = static_cast<std::uint64_t>(FileSize(data + seg));
  auto deposit = [](const std::string& where, std::int64_t cents) {
    auto s = MustOpenStore(where, DefaultEnv());
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, 1, cents)}, ""}).ok());
  };
  deposit(data, 500);  // the record the power loss took
  std::string lost = Slurp(Layout(data).JournalStatePath());
  deposit(alt, 600);   // the later boot's, synced
  REQUIRE(FileSize(alt + seg) == FileSize(data + seg));
  REQUIRE(Slurp(alt + seg) != Slurp(data + seg));
  // docs/FORMAT.md: the boot id at 8, the synced position at 96 (segment) and 104, the
  // CRC-32 of bytes 0-183 at 184.
  constexpr size_t kBootIdAt = 8, kSyncedEndAt = 104, kCrcAt = 184;
  REQUIRE(lost.size() >= 192);
  lost[kBootIdAt] ^= 0x11;
  for (bool synced : {false, true}) {
    DYNAMIC_SECTION("the first boot's head " << (synced ? "synced" : "never synced")) {
      std::string state = lost;
      if (!synced) std::memcpy(state.data() + kSyncedEndAt, &end3, sizeof end3);
      const std::uint32_t crc = Crc32(std::string_view(state.data(), kCrcAt));
      std::memcpy(state.data() + kCrcAt, &crc, sizeof crc);
      Spit(Layout(alt).JournalStatePath(), state);
      // What `recover --check` reads.
      auto ro = Journal::OpenReadOnly(DefaultEnv(), Layout(alt), StorageMode{});
      REQUIRE(ro.ok());
      auto written = (*ro)->HeadWrittenDown();
      REQUIRE(written.ok());
      CHECK(written->has_value() == synced);
      // The rebuild after the reboot.
      std::vector<std::uint64_t> replayed;
      Status opened = OpenAfterReboot(alt, &replayed);
      INFO(opened.message());
      if (synced) {
        CHECK(opened.code() == Code::kCorruption);
        CHECK(replayed.empty());
      } else {
        CHECK(opened.ok());
        CHECK(replayed == std::vector<std::uint64_t>{1, 2, 3, 4});
      }
    }
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
