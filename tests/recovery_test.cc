// recover and recover --check on the repair flags a killed writer leaves: the two must
// agree, so that a store recover has settled always passes the check.
#include "drovebank/recovery.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>
#include <unistd.h>

#include "store/layout.h"
#include "store/lockfile.h"
#include "drovebank/store.h"
#include "drovebank/env_wrapper.h"
#include "journal_ops.h"
#include "store_ops.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::MustOpen;
using testing::Money;
using testing::NewStore;  // no accounts: a lock needs none
using testing::TempDir;

void Plant(const std::string& path, const std::string& content) {
  REQUIRE(WriteFileDurably(PosixEnv(), path, content).ok());
}

RecoverReport Run(const std::string& data, bool check_only) {
  RecoverOptions o;
  o.data_dir = data;
  o.check_only = check_only;
  RecoverReport r;
  Status s = Recover(o, &r);
  INFO(s.message());
  REQUIRE(s.ok());
  return r;
}

// Flags that dead writers left on accounts and key slots are settled by recover, and the
// check agrees afterwards; a flag whose lock a live writer holds is left alone by both.
TEST_CASE("recover: repair flags of dead writers are settled, a live writer's is left, and the "
          "check agrees",
          "[recover]") {
  TempDir d;
  std::string data = NewStore(d);
  Layout layout(data);
  std::vector<LockSlot> planted;
  {
    auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
    REQUIRE(table.ok());
    for (int n = 0; n < 6; ++n) {
      planted.push_back(n % 2 == 0 ? AccountSlot(1000 + n) : KeySlot(fmt::format("killed-{}", n)));
      REQUIRE((*table)->SetNeedsRepair(planted.back(), true).ok());
    }
  }
  // A live writer's flag (this process, through another table): nothing may touch it.
  auto live_table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(live_table.ok());
  LockFile live(live_table->get(), AccountSlot(7), layout.AccountLock(7));
  REQUIRE(live.TryHold().ok());
  REQUIRE(live.MarkInFlight().ok());

  RecoverReport before = Run(data, true);
  CHECK(before.dead_locks == planted.size());
  CHECK(before.live_locks == 1);
  CHECK_FALSE(before.consistent());

  RecoverOptions o;
  o.data_dir = data;
  o.lock_timeout = 0.3;  // the live writer's flag is waited for, then left
  RecoverReport settled;
  Status s = Recover(o, &settled);
  // recover waits for the live writer's lock and gives up: the rest is settled.
  CHECK(s.code() == Code::kBusy);
  auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(table.ok());
  for (const LockSlot& slot : planted) {
    auto flag = (*table)->NeedsRepair(slot);
    REQUIRE(flag.ok());
    CHECK_FALSE(*flag);
  }
  auto live_flag = (*table)->NeedsRepair(AccountSlot(7));
  REQUIRE(live_flag.ok());
  CHECK(*live_flag);

  REQUIRE(live.Rollback().ok());  // the live writer "dies" with its flag set
  RecoverReport last = Run(data, false);
  CHECK(last.dead_locks == 1);
  RecoverReport check = Run(data, true);
  for (const std::string& note : check.notes) UNSCOPED_INFO(note);
  CHECK(check.consistent());
  CHECK(check.dead_locks == 0);
  CHECK(check.live_locks == 0);
}

TEST_CASE("recover: a format 1 store's lock files and queues become repair flags", "[recover]") {
  TempDir d;
  std::string data = NewStore(d);
  Layout layout(data);
  {
    StoreOptions so;
    so.data_dir = data;
    auto store = Store::Open(so);
    REQUIRE(store.ok());
    MustOpen(**store, 5000);
  }
  // Format 1: no lock tables, a dead writer's lock file and an empty wait queue.
  for (const char* t : {"accounts", "keys", "owners"}) {
    REQUIRE(::unlink((layout.locks() + "/" + t).c_str()) == 0);
  }
  Plant(layout.locks() + "/00000001.lock", "4242 1 boot host 1\n");
  REQUIRE(::mkdir((layout.locks() + "/00000001.q").c_str(), 0700) == 0);
  Plant(layout.tmp() + "/00000001.tmp", "old temp");
  StoreOptions so;
  so.data_dir = data;
  auto refused = Store::Open(so);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kNeedsRecovery);
  CHECK(refused.status().message().find("run `recover") != std::string::npos);
  CHECK_FALSE(Run(data, true).consistent());

  RecoverReport r = Run(data, false);
  CHECK(r.dead_locks >= 1);
  CHECK(::access((layout.locks() + "/00000001.lock").c_str(), F_OK) != 0);
  CHECK(::access((layout.locks() + "/00000001.q").c_str(), F_OK) != 0);
  CHECK(::access((layout.tmp() + "/00000001.tmp").c_str(), F_OK) != 0);
  CHECK(Run(data, true).consistent());
  auto store = Store::Open(so);
  REQUIRE(store.ok());
  auto a = (*store)->Get(1);
  REQUIRE(a.ok());
  CHECK(a->balance == 5000);
}

}  // namespace
}  // namespace drovebank

namespace drovebank {
namespace {

// Fails the first fdatasync of a journal segment with EIO; records, per segment, the
// bytes written with PWrite and whether a DataSync came after them.
class SyncFailingEnv final : public EnvWrapper {
 public:
  SyncFailingEnv() : EnvWrapper(PosixEnv()) {}
  Result<int> Open(const std::string& p, int f, unsigned m) override {
    auto fd = target()->Open(p, f, m);
    if (fd.ok()) paths_[*fd] = p;
    return fd;
  }
  Status DataSync(int fd) override {
    bool segment = paths_[fd].ends_with(".log");
    if (segment && fail_next_) {
      fail_next_ = false;
      return ErrnoStatus(EIO, "injected fdatasync failure");
    }
    if (segment && !rewritten_[paths_[fd]].empty()) synced_after_rewrite_[paths_[fd]] = true;
    return target()->DataSync(fd);
  }
  Status PWrite(int fd, std::string_view d, std::uint64_t o) override {
    if (paths_[fd].ends_with(".log")) rewritten_[paths_[fd]] += std::string(d);
    return target()->PWrite(fd, d, o);
  }
  bool fail_next_ = true;
  std::map<int, std::string> paths_;
  std::map<std::string, std::string> rewritten_;
  std::map<std::string, bool> synced_after_rewrite_;
};

TEST_CASE("recover: after a failed fdatasync the kept journal tail is written anew, then synced",
          "[recover]") {
  TempDir d;
  std::string data = NewStore(d);
  SyncFailingEnv env;
  env.fail_next_ = false;
  {
    StoreOptions so;
    so.data_dir = data;
    so.env = &env;
    auto store = Store::Open(so);
    REQUIRE(store.ok());
    MustOpen(**store, 100);
    Op dep = Money(OpKind::kDeposit, 1, 250);
    env.fail_next_ = true;
    auto failed = (*store)->Commit(Event{{dep}, ""});
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.status().maybe_applied());
  }
  env.rewritten_.clear();
  RecoverOptions o;
  o.data_dir = data;
  o.env = &env;
  RecoverReport r;
  Status s = Recover(o, &r);
  INFO(s.message());
  REQUIRE(s.ok());
  // Both records (the open and the unsynced deposit) were written again, then synced.
  std::string segment = data + "/journal/0000000000000001.log";
  CHECK(env.rewritten_[segment] == *PosixEnv()->ReadFile(segment));
  CHECK(env.synced_after_rewrite_[segment]);
  StoreOptions so;
  so.data_dir = data;
  auto store = Store::Open(so);
  REQUIRE(store.ok());
  CHECK((*store)->Get(1)->balance == 350);
}

// keys/index is derived data: an entry behind the journal tail (a power loss that lost
// its page, a hand edit) is reported by the check and set again by recover, and one lost
// before the checkpoint is rebuilt by recover --full.
TEST_CASE("recover: an entry of keys/index behind the journal is reported, then rebuilt",
          "[recover][keys]") {
  TempDir t;
  std::string data = NewStore(t);
  std::uint64_t txn = 0;
  {
    StoreOptions so;
    so.data_dir = data;
    auto store = Store::Open(so);
    REQUIRE(store.ok());
    MustOpen(**store, 100);
    Op dep = Money(OpKind::kDeposit, 1, 5);
    auto r = (*store)->Commit(Event{{dep}, "pay-1"});
    REQUIRE(r.ok());
    txn = r->record.txn;
  }
  bool checkpointed = GENERATE(false, true);
  CAPTURE(checkpointed);
  if (checkpointed) {
    StoreOptions so;
    so.data_dir = data;
    auto store = Store::Open(so);
    REQUIRE(store.ok());
    REQUIRE((*store)->Checkpoint(true).ok());
  }
  Layout layout(data);
  auto index_entry = [&]() -> std::uint64_t {
    auto text = PosixEnv()->ReadFile(layout.KeyIndexPath());
    REQUIRE(text.ok());
    std::uint64_t at = KeySlot("pay-1").offset * 8, v = 0;
    for (int i = 0; i < 8 && at + i < text->size(); ++i) {
      v |= std::uint64_t{static_cast<unsigned char>((*text)[at + i])} << (8 * i);
    }
    return v;
  };
  REQUIRE(index_entry() == txn);
  {
    int fd = ::open(layout.KeyIndexPath().c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "\0\0\0\0\0\0\0\0", 8, KeySlot("pay-1").offset * 8) == 8);
    ::close(fd);
  }
  RecoverReport check = Run(data, /*check_only=*/true);
  if (!checkpointed) {
    CHECK(check.files_repaired == 1);
    (void)Run(data, false);
    CHECK(index_entry() == txn);
  } else {
    // Past the checkpoint the tail no longer holds the record: only --full looks.
    RecoverOptions o;
    o.data_dir = data;
    o.full = true;
    RecoverReport r;
    REQUIRE(Recover(o, &r).ok());
    CHECK(index_entry() == txn);
  }
  CHECK(Run(data, true).files_repaired == 0);
}

// recover --check takes no lock. Run while a writer commits, it must not report the
// writer's own work in flight (journal synced, file not yet replaced; a flag set; a
// keys/index entry not yet set) or a file read while its inode was being reused.
TEST_CASE("recover: --check while a writer commits reports nothing", "[recover][concurrency]") {
  TempDir t;
  std::string data = NewStore(t);
  StoreOptions so;
  so.data_dir = data;
  {
    auto store = Store::Open(so);
    REQUIRE(store.ok());
    MustOpen(**store, 0);
  }
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::atomic<bool> writer_failed{false};
  Status writer_status;  // read once the writer is joined
  std::thread writer([&] {
    auto store = Store::Open(so);
    if (!store.ok()) {
      writer_status = store.status();
      writer_failed = true;
      return;
    }
    for (int i = 0; !stop; ++i) {
      Op dep = Money(OpKind::kDeposit, 1, 1);
      auto r = (*store)->Commit(Event{{dep}, i % 2 ? fmt::format("w-{}", i) : ""});
      if (!r.ok()) {
        writer_status = r.status();
        writer_failed = true;
        return;
      }
      ++commits;
    }
  });
  // By commits made, not by time: each check must overlap many of them.
  for (int run = 0; run < 5000 && (run < 20 || commits < 300) && !writer_failed; ++run) {
    RecoverReport check = Run(data, /*check_only=*/true);
    CAPTURE(run, check.notes);
    CHECK(check.files_repaired == 0);
    CHECK(check.dead_locks == 0);
  }
  stop = true;
  writer.join();
  INFO(writer_status.message());
  CHECK(writer_status.ok());
  CHECK(commits >= 300);
}

// A live writer's write(2) raises the segment's size page by page, so a check that takes
// no lock can find the last record half there. Cut at four places across the last record
// (its first and last byte among them): finished by its "writer" 150 ms later it is waited
// for, never reported; left cut (a dead writer's torn tail) it is reported as the bad
// record it is.
TEST_CASE("recover: --check waits for a record still being written and reports one left torn",
          "[recover][concurrency]") {
  TempDir t;
  std::string data = NewStore(t);
  StoreOptions so;
  so.data_dir = data;
  {
    auto store = Store::Open(so);
    REQUIRE(store.ok());
    MustOpen(**store, 0);
    Op dep = Money(OpKind::kDeposit, 1, 5);
    REQUIRE((*store)->Commit(Event{{dep}, "last"}).ok());
  }
  std::string seg;
  for (const auto& e : std::filesystem::directory_iterator(Layout(data).journal())) {
    if (e.path().extension() == ".log" && e.path().string() > seg) seg = e.path().string();
  }
  REQUIRE(!seg.empty());
  auto whole = PosixEnv()->ReadFile(seg);
  REQUIRE(whole.ok());
  REQUIRE(whole->size() > 2);
  REQUIRE(whole->back() == '\n');
  size_t last_begin = whole->rfind('\n', whole->size() - 2) + 1;
  auto cut_to = [&](size_t n) { REQUIRE(::truncate(seg.c_str(), static_cast<off_t>(n)) == 0); };
  // Cuts spread over the last record, both ends included.
  size_t len = whole->size() - last_begin;
  for (size_t cut : {size_t{1}, len / 3, len / 2, len - 1}) {
    CAPTURE(cut, len);
    cut_to(last_begin + cut);
    std::thread finisher([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      int fd = ::open(seg.c_str(), O_WRONLY);
      if (fd < 0) return;
      std::string rest = whole->substr(last_begin + cut);
      (void)!::pwrite(fd, rest.data(), rest.size(), static_cast<off_t>(last_begin + cut));
      ::close(fd);
    });
    RecoverReport check = Run(data, /*check_only=*/true);
    finisher.join();
    CAPTURE(check.notes);
    CHECK(check.files_repaired == 0);
    CHECK(check.records_replayed >= 1);
  }
  cut_to(last_begin + len / 2);
  RecoverReport torn = Run(data, /*check_only=*/true);
  CAPTURE(torn.notes);
  CHECK(torn.files_repaired == 1);
  REQUIRE(torn.notes.size() == 1);
  CHECK(torn.notes[0].find("has a bad record") != std::string::npos);
}

}  // namespace
}  // namespace drovebank
