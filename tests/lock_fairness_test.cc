// LockFile's waiting line: first come, first served; dead waiters never block it; the
// free-lock fast path makes no queue files; recover clears stale tickets.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "drovebank/layout.h"
#include "drovebank/lockfile.h"
#include "drovebank/recovery.h"
#include "drovebank/store.h"
#include "shell_test_util.h"

namespace drovebank {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

size_t Entries(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  return n;
}

// The identity of a process that has exited (its pid reaped): a dead owner.
ProcessIdentity DeadProcess() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int st;
  ::waitpid(pid, &st, 0);
  ProcessIdentity p = Self();
  p.pid = pid;
  p.start_time = 1;
  return p;
}

LockPaths PathsIn(const TempDir& t, const std::string& name) {
  return LockPaths{t / (name + ".lock"), t / (name + ".tmp"), t / name, "thing " + name};
}

void WriteTicket(const std::string& qdir, const std::string& name, const ProcessIdentity& who) {
  fs::create_directories(qdir);
  std::ofstream(qdir + "/" + name) << FormatLockOwner(LockOwner{who, NowMillis()});
}

}  // namespace

TEST_CASE("lock queue: waiters get the lock in the order they asked", "[lock][fairness]") {
  for (int waiters : {2, 5, 8}) {
    INFO(waiters << " waiters");
    TempDir t;
    LockPaths paths = PathsIn(t, "a");
    std::string qdir = LockQueueDir(paths.lock);
    LockFile holder(PosixEnv(), paths);
    REQUIRE(holder.Hold(LockWait{}).ok());

    std::mutex mu;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int i = 0; i < waiters; ++i) {
      threads.emplace_back([&, i] {
        LockFile lk(PosixEnv(), paths);
        LockWait w;
        w.timeout_seconds = 60;
        Status s = lk.Hold(w);
        std::lock_guard<std::mutex> g(mu);
        order.push_back(s.ok() ? i : -1 - i);
        // Released when lk goes out of scope, after the order is recorded.
      });
      // The next waiter asks only once this one holds its ticket.
      while (Entries(qdir) < static_cast<size_t>(i + 1)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    REQUIRE(holder.Rollback().ok());
    for (auto& th : threads) th.join();
    std::vector<int> want(waiters);
    for (int i = 0; i < waiters; ++i) want[i] = i;
    CHECK(order == want);
    CHECK(Entries(qdir) == 0);  // every ticket was taken back
  }
}

TEST_CASE("lock queue: a free lock is taken at once without queue files", "[lock][fairness]") {
  TempDir t;
  LockPaths paths = PathsIn(t, "b");
  for (int round = 0; round < 3; ++round) {
    LockFile lk(PosixEnv(), paths);
    REQUIRE(lk.Hold(LockWait{}).ok());
    CHECK_FALSE(fs::exists(LockQueueDir(paths.lock)));
  }
}

TEST_CASE("lock queue: a dead waiter's ticket is removed, a live one is respected",
          "[lock][fairness]") {
  TempDir t;
  LockPaths paths = PathsIn(t, "c");
  std::string qdir = LockQueueDir(paths.lock);
  const std::string older = "00000000000000000001-1-0";

  // Dead: skipped and removed; the free lock is taken.
  WriteTicket(qdir, older, DeadProcess());
  {
    LockFile lk(PosixEnv(), paths);
    LockWait w;
    w.timeout_seconds = 10;
    REQUIRE(lk.Hold(w).ok());
    CHECK(Entries(qdir) == 0);
  }

  // Live (this process, as a waiter that asked first): the lock, though free, is not
  // taken past it.
  WriteTicket(qdir, older, Self());
  {
    LockFile lk(PosixEnv(), paths);
    LockWait w;
    w.timeout_seconds = 0.2;
    Status s = lk.Hold(w);
    CHECK(s.code() == Code::kBusy);
    CHECK_FALSE(lk.held());
    CHECK(Entries(qdir) == 1);  // only the live ticket: ours was taken back
  }
  // TryHold never queues.
  LockFile lk(PosixEnv(), paths);
  CHECK(lk.TryHold().ok());
}

TEST_CASE("lock queue: many waiters in a loop never time out", "[lock][fairness]") {
  TempDir t;
  LockPaths paths = PathsIn(t, "d");
  std::atomic<int> failures{0};
  std::atomic<int> inside{0};
  std::atomic<int> overlap{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 40; ++k) {
        LockFile lk(PosixEnv(), paths);
        LockWait w;
        w.timeout_seconds = 60;
        if (!lk.Hold(w).ok()) {
          ++failures;
          continue;
        }
        if (inside.fetch_add(1) != 0) ++overlap;
        inside.fetch_sub(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(overlap == 0);
  CHECK(Entries(LockQueueDir(paths.lock)) == 0);
}

TEST_CASE("recover: stale wait tickets are cleared, --check is not upset by queues",
          "[lock][fairness][recover]") {
  TempDir t;
  std::string data = t / "data";
  {
    StoreOptions o;
    o.data_dir = data;
    REQUIRE(Store::Open(o).ok());
  }
  Layout layout(data);
  std::string qdir = LockQueueDir(layout.AccountLock(7).lock);
  WriteTicket(qdir, "00000000000000000001-1-0", DeadProcess());
  RecoverOptions ro;
  ro.data_dir = data;
  ro.check_only = true;
  RecoverReport check;
  REQUIRE(Recover(ro, &check).ok());
  CHECK(check.consistent());
  ro.check_only = false;
  RecoverReport done;
  REQUIRE(Recover(ro, &done).ok());
  CHECK(Entries(qdir) == 0);
  bool noted = false;
  for (const std::string& n : done.notes) noted = noted || n.find("stale wait ticket") != n.npos;
  CHECK(noted);
}

}  // namespace drovebank
