#include "drovebank/lockfile.h"

#include <catch2/catch.hpp>

#include "test_util.h"

namespace drovebank {
namespace {

using testing::DeadPid;
using testing::TempDir;

LockPaths Paths(const TempDir& d) {
  return LockPaths{d / "x.lock", d / "x.tmp", d / "x", "thing x"};
}

Status Plant(const TempDir& d, const std::string& content) {
  return WriteFileDurably(PosixEnv(), d / "x.lock", content);
}

TEST_CASE("lockfile: hold, commit installs the temp and releases", "[lockfile]") {
  TempDir d;
  LockFile lk(PosixEnv(), Paths(d));
  REQUIRE(lk.Hold(LockWait{}).ok());
  CHECK(PosixEnv()->Stat(d / "x.lock").ok());
  REQUIRE(lk.WriteTemp("hello").ok());
  REQUIRE(lk.Commit().ok());
  CHECK(*PosixEnv()->ReadFile(d / "x") == "hello");
  CHECK_FALSE(PosixEnv()->Stat(d / "x.lock").ok());
  CHECK_FALSE(PosixEnv()->Stat(d / "x.tmp").ok());
  CHECK(lk.Rollback().ok());  // after commit: nothing to do
}

TEST_CASE("lockfile: rollback is safe twice and removes temp and lock", "[lockfile]") {
  TempDir d;
  LockFile lk(PosixEnv(), Paths(d));
  REQUIRE(lk.Hold(LockWait{}).ok());
  REQUIRE(lk.WriteTemp("x").ok());
  CHECK(lk.Rollback().ok());
  CHECK(lk.Rollback().ok());
  CHECK_FALSE(PosixEnv()->Stat(d / "x.lock").ok());
  CHECK_FALSE(PosixEnv()->Stat(d / "x.tmp").ok());
  CHECK_FALSE(PosixEnv()->Stat(d / "x").ok());
}

TEST_CASE("lockfile: the destructor rolls back an uncommitted lock", "[lockfile]") {
  TempDir d;
  {
    LockFile lk(PosixEnv(), Paths(d));
    REQUIRE(lk.Hold(LockWait{}).ok());
  }
  CHECK_FALSE(PosixEnv()->Stat(d / "x.lock").ok());
}

TEST_CASE("lockfile: abandon leaves the lock for repair", "[lockfile]") {
  TempDir d;
  {
    LockFile lk(PosixEnv(), Paths(d));
    REQUIRE(lk.Hold(LockWait{}).ok());
    lk.Abandon();
  }
  CHECK(PosixEnv()->Stat(d / "x.lock").ok());
}

TEST_CASE("lockfile: a live owner is never broken, the wait times out with Busy",
          "[lockfile]") {
  TempDir d;
  LockFile first(PosixEnv(), Paths(d));
  REQUIRE(first.Hold(LockWait{}).ok());
  LockFile second(PosixEnv(), Paths(d));
  int notices = 0;
  LockWait w;
  w.timeout_seconds = 0.2;
  w.on_wait = [&](std::string_view what, const LockOwner& o) {
    ++notices;
    CHECK(what == "thing x");
    CHECK(o.process.pid == Self().pid);
  };
  Status s = second.Hold(w);
  CHECK(s.code() == Code::kBusy);
  CHECK(s.message().find("thing x") != std::string::npos);
  CHECK(notices == 1);
  CHECK_FALSE(second.held());
  CHECK(first.held());
}

TEST_CASE("lockfile: cancellation ends the wait", "[lockfile]") {
  TempDir d;
  LockFile first(PosixEnv(), Paths(d));
  REQUIRE(first.Hold(LockWait{}).ok());
  LockFile second(PosixEnv(), Paths(d));
  LockWait w;
  w.cancelled = [] { return true; };
  CHECK(second.Hold(w).code() == Code::kCancelled);
}

TEST_CASE("lockfile: dead owners are taken over, whatever made them dead", "[lockfile]") {
  TempDir d;
  LockOwner o{Self(), 1};
  SECTION("pid gone") { o.process.pid = DeadPid(); }
  SECTION("pid reused by another process") { o.process.start_time += 1; }
  SECTION("another boot") { o.process.boot_id = "00000000-dead-boot"; }
  REQUIRE(Plant(d, FormatLockOwner(o)).ok());
  LockFile lk(PosixEnv(), Paths(d));
  REQUIRE(lk.Hold(LockWait{}).ok());
  CHECK(lk.took_over_dead_owner());
  auto owner = ParseLockOwner(*PosixEnv()->ReadFile(d / "x.lock"));
  REQUIRE(owner);
  CHECK(owner->process.pid == Self().pid);
}

TEST_CASE("lockfile: a takeover leaves exactly the new owner line, whatever the old one's length",
          "[lockfile]") {
  // The new line is written over the old and the rest cut off, so a reader never finds
  // the file empty; a longer old line must leave no tail behind.
  for (size_t boot_len : {1, 8, 64, 200}) {
    INFO(boot_len);
    TempDir d;
    LockOwner o{Self(), 123456789012};
    o.process.pid = DeadPid();
    o.process.boot_id = std::string(boot_len, 'b');  // an earlier boot's: dead
    REQUIRE(Plant(d, FormatLockOwner(o)).ok());
    LockFile lk(PosixEnv(), Paths(d));
    REQUIRE(lk.TryHold().ok());
    REQUIRE(lk.took_over_dead_owner());
    std::string text = *PosixEnv()->ReadFile(d / "x.lock");
    auto owner = ParseLockOwner(text);
    REQUIRE(owner);
    CHECK(owner->process.pid == Self().pid);
    CHECK(text == FormatLockOwner(*owner));
  }
}

TEST_CASE("lockfile: another host's lock is never broken", "[lockfile]") {
  TempDir d;
  LockOwner o{Self(), 1};
  o.process.host = "some-other-host";
  o.process.pid = DeadPid();
  REQUIRE(Plant(d, FormatLockOwner(o)).ok());
  LockFile lk(PosixEnv(), Paths(d));
  LockWait w;
  w.timeout_seconds = 0.1;
  CHECK(lk.Hold(w).code() == Code::kBusy);
}

TEST_CASE("lockfile: an unreadable lock is live while young and taken over once old",
          "[lockfile]") {
  TempDir d;
  REQUIRE(Plant(d, "").ok());
  LockFile lk(PosixEnv(), Paths(d));
  CHECK(lk.TryHold().code() == Code::kBusy);
  REQUIRE(testing::SetMtimeAgo(d / "x.lock", 10));
  REQUIRE(lk.TryHold().ok());
  CHECK(lk.took_over_dead_owner());
}

TEST_CASE("lockfile: a new lock file holds its owner line from the moment it exists",
          "[lockfile]") {
  TempDir d;
  LockFile lk(PosixEnv(), Paths(d));
  REQUIRE(lk.TryHold().ok());
  CHECK_FALSE(lk.took_over_dead_owner());
  auto owner = ParseLockOwner(*PosixEnv()->ReadFile(d / "x.lock"));
  REQUIRE(owner);
  CHECK(owner->process.pid == Self().pid);
  CHECK(owner->process.start_time == Self().start_time);
}

TEST_CASE("lockfile: owner lines round-trip and garbage is rejected", "[lockfile]") {
  LockOwner o{Self(), 1234567};
  auto back = ParseLockOwner(FormatLockOwner(o));
  REQUIRE(back);
  CHECK(back->process.pid == o.process.pid);
  CHECK(back->process.start_time == o.process.start_time);
  CHECK(back->process.boot_id == o.process.boot_id);
  CHECK(back->process.host == o.process.host);
  CHECK(back->since_ms == 1234567);
  for (const char* bad : {"", "12", "x y z w v", "1 2 3"}) CHECK_FALSE(ParseLockOwner(bad));
}

}  // namespace
}  // namespace drovebank
