// The lock tables and LockFile's calling sequence: kernel-held locks that die with their
// holder, repair flags that do not, spares reused by exchange, no files made or removed.
#include "store/lockfile.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "store/layout.h"
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

// A store's directory layout with its lock tables.

LockPaths Target(const Layout& layout) { return LockPaths{layout.root() + "/x", "thing x"}; }

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// A child process that takes the lock of `slot` (its own table), optionally sets the flag,
// says so on a pipe and waits to be killed. Returns its pid.
pid_t HolderChild(const Layout& layout, LockSlot slot, bool mark) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    auto t = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
    if (!t.ok()) ::_exit(2);
    LockFile lk(t->get(), slot, Target(layout));
    if (!lk.TryHold().ok()) ::_exit(3);
    if (mark && !lk.MarkInFlight().ok()) ::_exit(4);
    (void)!::write(p[1], "x", 1);
    for (;;) ::pause();
  }
  ::close(p[1]);
  char c;
  REQUIRE(::read(p[0], &c, 1) == 1);
  ::close(p[0]);
  return pid;
}

void Kill(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST_CASE("lockfile: hold, commit installs the spare and releases", "[lockfile]") {
  TempDir d;
  Layout layout = NewLayout(d);
  auto mine = Table(layout);
  auto other = Table(layout);
  LockFile lk(mine.get(), AccountSlot(5), Target(layout));
  REQUIRE(lk.Hold(LockWait{}).ok());
  CHECK(other->TryLock(AccountSlot(5)).code() == Code::kBusy);
  REQUIRE(lk.MarkInFlight().ok());
  CHECK(*other->NeedsRepair(AccountSlot(5)));
  REQUIRE(lk.WriteTemp("hello").ok());
  REQUIRE(lk.Commit().ok());
  CHECK(*PosixEnv()->ReadFile(layout.root() + "/x") == "hello");
  CHECK_FALSE(*other->NeedsRepair(AccountSlot(5)));  // cleared by the commit, not before
  CHECK(other->TryLock(AccountSlot(5)).ok());         // released
  other->Unlock(AccountSlot(5));
  CHECK(lk.Rollback().ok());  // after commit: nothing to do
}

TEST_CASE("lockfile: rollback is safe twice, releases, and keeps a flag it set", "[lockfile]") {
  TempDir d;
  Layout layout = NewLayout(d);
  auto mine = Table(layout);
  auto other = Table(layout);
  LockFile lk(mine.get(), AccountSlot(6), Target(layout));
  REQUIRE(lk.Hold(LockWait{}).ok());
  REQUIRE(lk.MarkInFlight().ok());
  REQUIRE(lk.WriteTemp("x").ok());
  CHECK(lk.Rollback().ok());
  CHECK(lk.Rollback().ok());
  CHECK_FALSE(lk.held());
  CHECK_FALSE(fs::exists(layout.root() + "/x"));
  CHECK(*other->NeedsRepair(AccountSlot(6)));  // the next holder must repair
  LockFile next(other.get(), AccountSlot(6), Target(layout));
  REQUIRE(next.TryHold().ok());
  CHECK(next.needs_repair());
  REQUIRE(next.Repaired().ok());
  CHECK_FALSE(*other->NeedsRepair(AccountSlot(6)));
}

TEST_CASE("lockfile: a killed holder's lock is released by the kernel, its flag outlives it",
          "[lockfile]") {
  TempDir d;
  Layout layout = NewLayout(d);
  for (LockSlot slot : {AccountSlot(1), AccountSlot(99'999'999), KeySlot("pay-7")}) {
    for (bool mark : {false, true}) {
      pid_t child = HolderChild(layout, slot, mark);
      auto mine = Table(layout);
      LockFile lk(mine.get(), slot, Target(layout));
      CHECK(lk.TryHold().code() == Code::kBusy);
      Kill(child);
      LockWait w;
      w.timeout_seconds = 5;
      REQUIRE(lk.Hold(w).ok());
      CHECK(lk.needs_repair() == mark);
      REQUIRE(lk.Repaired().ok());
    }
  }
}

TEST_CASE("lockfile: a wait names the holder and times out with Busy", "[lockfile]") {
  TempDir d;
  Layout layout = NewLayout(d);
  pid_t child = HolderChild(layout, AccountSlot(3), false);
  auto mine = Table(layout);
  LockFile lk(mine.get(), AccountSlot(3), Target(layout));
  LockWait w;
  w.timeout_seconds = 0.3;
  std::optional<LockOwner> seen;
  int calls = 0;
  w.on_wait = [&](std::string_view what, const std::optional<LockOwner>& owner) {
    ++calls;
    CHECK(what == "thing x");
    seen = owner;
  };
  auto t0 = std::chrono::steady_clock::now();
  Status s = lk.Hold(w);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Kill(child);
  CHECK(s.code() == Code::kBusy);
  CHECK(s.message().find(fmt::format("held by process {}", child)) != std::string::npos);
  CHECK(calls == 1);
  REQUIRE(seen);
  CHECK(seen->pid == child);
  CHECK(took >= 0.3);
  CHECK(took < 3);
  CHECK_FALSE(lk.held());
}

TEST_CASE("lockfile: cancelling a wait returns Cancelled at once, holding nothing", "[lockfile]") {
  TempDir d;
  Layout layout = NewLayout(d);
  pid_t child = HolderChild(layout, AccountSlot(4), false);
  auto mine = Table(layout);
  LockFile lk(mine.get(), AccountSlot(4), Target(layout));
  LockWait w;
  w.timeout_seconds = 60;
  auto t0 = std::chrono::steady_clock::now();
  w.cancelled = [&] { return std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(100); };
  Status s = lk.Hold(w);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Kill(child);
  CHECK(s.code() == Code::kCancelled);
  CHECK(took < 2);
  CHECK_FALSE(lk.held());
}

TEST_CASE("lockfile: taking, committing and releasing makes no file but the first spare",
          "[lockfile]") {
  TempDir d;
  Layout layout = NewLayout(d);
  auto mine = Table(layout);
  std::set<std::string> locks_before = Names(layout.locks());
  struct stat first {};
  for (int round = 0; round < 5; ++round) {
    LockFile lk(mine.get(), AccountSlot(8), Target(layout));
    REQUIRE(lk.Hold(LockWait{}).ok());
    REQUIRE(lk.MarkInFlight().ok());
    REQUIRE(lk.WriteTemp(fmt::format("round {}", round)).ok());
    REQUIRE(lk.Commit().ok());
    struct stat st {};
    REQUIRE(::stat((layout.root() + "/x").c_str(), &st) == 0);
    if (round == 1) first = st;
    // From the second round on, two inodes take turns: the target's and the spare's.
    if (round == 3) CHECK(st.st_ino == first.st_ino);
  }
  CHECK(Names(layout.locks()) == locks_before);
  CHECK(Names(layout.tmp()) == std::set<std::string>{"spare-0"});
  CHECK(*PosixEnv()->ReadFile(layout.root() + "/x") == "round 4");
}

}  // namespace
}  // namespace drovebank
