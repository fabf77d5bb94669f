// Lock waits: first come, first served (the kernel's queue of F_OFD_SETLKW requests), a
// killed waiter never blocks the line, many waiters in a loop never time out, and no wait
// leaves a file or directory behind.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "store/layout.h"
#include "store/lockfile.h"
#include "drovebank/store.h"
#include "lock_test_util.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

namespace fs = std::filesystem;
using testing::NewLayout;
using testing::Table;
using testing::TempDir;


// How many lock requests wait in the kernel on the file with inode `ino` (/proc/locks
// lists a blocked request with "->").
size_t BlockedOn(std::uint64_t ino) {
  std::ifstream in("/proc/locks");
  std::string line;
  size_t n = 0;
  std::string needle = ":" + std::to_string(ino) + " ";
  while (std::getline(in, line)) {
    if (line.find("->") != std::string::npos && line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

std::uint64_t InodeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

void WaitUntil(const std::function<bool()>& f) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!f()) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST_CASE("lock wait: waiters get the lock in the order they asked", "[lock][fairness]") {
  TempDir t;
  Layout layout = NewLayout(t);
  std::uint64_t ino = InodeOf(layout.AccountLockTable());
  for (int waiters : {2, 5, 8}) {
    INFO(waiters << " waiters");
    auto holder_table = Table(layout);
    LockFile holder(holder_table.get(), AccountSlot(1), layout.AccountLock(1));
    REQUIRE(holder.Hold(LockWait{}).ok());

    std::mutex mu;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int i = 0; i < waiters; ++i) {
      threads.emplace_back([&, i] {
        auto table = Table(layout);
        LockFile lk(table.get(), AccountSlot(1), layout.AccountLock(1));
        LockWait w;
        w.timeout_seconds = 60;
        Status s = lk.Hold(w);
        std::lock_guard<std::mutex> g(mu);
        order.push_back(s.ok() ? i : -1 - i);
        // Released when lk goes out of scope, after the order is recorded.
      });
      // The next waiter asks only once this one waits in the kernel.
      WaitUntil([&] { return BlockedOn(ino) >= static_cast<size_t>(i + 1); });
    }
    REQUIRE(holder.Rollback().ok());
    for (auto& th : threads) th.join();
    std::vector<int> want(waiters);
    for (int i = 0; i < waiters; ++i) want[i] = i;
    CHECK(order == want);
  }
}

TEST_CASE("lock wait: a killed waiter leaves the line, the next one gets the lock",
          "[lock][fairness]") {
  TempDir t;
  Layout layout = NewLayout(t);
  std::uint64_t ino = InodeOf(layout.AccountLockTable());
  auto holder_table = Table(layout);
  LockFile holder(holder_table.get(), AccountSlot(2), layout.AccountLock(2));
  REQUIRE(holder.Hold(LockWait{}).ok());
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
    if (!table.ok()) ::_exit(2);
    LockFile lk(table->get(), AccountSlot(2), layout.AccountLock(2));
    LockWait w;
    w.timeout_seconds = 600;
    (void)lk.Hold(w);
    ::_exit(0);
  }
  WaitUntil([&] { return BlockedOn(ino) >= 1; });
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::thread waiter;
  Status got;
  waiter = std::thread([&] {
    auto table = Table(layout);
    LockFile lk(table.get(), AccountSlot(2), layout.AccountLock(2));
    LockWait w;
    w.timeout_seconds = 10;
    got = lk.Hold(w);
  });
  WaitUntil([&] { return BlockedOn(ino) >= 1; });
  REQUIRE(holder.Rollback().ok());
  waiter.join();
  CHECK(got.ok());
}

TEST_CASE("lock wait: many waiters in a loop never time out and never overlap",
          "[lock][fairness]") {
  TempDir t;
  Layout layout = NewLayout(t);
  std::atomic<int> failures{0};
  std::atomic<int> inside{0};
  std::atomic<int> overlap{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto table = Table(layout);
      for (int k = 0; k < 40; ++k) {
        LockFile lk(table.get(), AccountSlot(3), layout.AccountLock(3));
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
  // Nothing but the three tables: no ticket, no queue directory.
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(layout.locks())) {
    names.insert(e.path().filename().string());
  }
  CHECK(names == std::set<std::string>{"accounts", "keys", "owners"});
}

}  // namespace
}  // namespace drovebank
