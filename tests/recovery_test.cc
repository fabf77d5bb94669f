// recover and recover --check on the locks a killed writer leaves: the two must agree, so
// that a store recover has settled always passes the check.
#include "drovebank/recovery.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "drovebank/layout.h"
#include "drovebank/lockfile.h"
#include "drovebank/store.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::DeadPid;
using testing::TempDir;

// A data directory with its layout made (and no accounts: a lock needs none).
std::string NewStore(const TempDir& d) {
  StoreOptions so;
  so.data_dir = d / "data";
  auto store = Store::Open(so);
  REQUIRE(store.ok());
  return so.data_dir;
}

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

// A writer killed between creating its lock file and finishing its owner line (possible
// where CreateExclusive has no O_TMPFILE) leaves any prefix of that line. Every prefix of
// a dead writer's line, on account and key locks at once, freshly made.
TEST_CASE("recover: locks a killed writer left without a whole owner line are cleared, and the "
          "check agrees",
          "[recover]") {
  TempDir d;
  std::string data = NewStore(d);
  Layout layout(data);
  LockOwner dead{Self(), 1};
  dead.process.pid = DeadPid();
  const std::string line = FormatLockOwner(dead);
  std::vector<std::string> planted;
  for (size_t n = 0; n < line.size(); ++n) {
    planted.push_back(n % 2 == 0 ? layout.AccountLock(1000 + n).lock
                                 : layout.KeyLock(fmt::format("killed-{}", n)).lock);
    Plant(planted.back(), line.substr(0, n));
  }
  // And a live writer's lock (this process's), which nothing may touch.
  std::string live = layout.AccountLock(7).lock;
  Plant(live, FormatLockOwner(LockOwner{Self(), 1}));

  RecoverReport settled = Run(data, false);
  CHECK(settled.dead_locks == planted.size());
  CHECK(settled.live_locks == 1);
  for (const std::string& p : planted) {
    INFO(p);
    CHECK(::access(p.c_str(), F_OK) != 0);
  }
  CHECK(::access(live.c_str(), F_OK) == 0);

  RecoverReport check = Run(data, true);
  for (const std::string& note : check.notes) UNSCOPED_INFO(note);
  CHECK(check.consistent());
  CHECK(check.dead_locks == 0);
  CHECK(check.live_locks == 1);
}

TEST_CASE("recover --check: a lock without an owner line is being made while young, abandoned "
          "once old",
          "[recover]") {
  TempDir d;
  std::string data = NewStore(d);
  std::string lock = Layout(data).AccountLock(1001).lock;
  Plant(lock, "");

  RecoverReport young = Run(data, true);
  CHECK(young.live_locks == 1);
  CHECK(young.dead_locks == 0);
  CHECK(young.consistent());

  REQUIRE(testing::SetMtimeAgo(lock, 10));
  RecoverReport old = Run(data, true);
  CHECK(old.live_locks == 0);
  CHECK(old.dead_locks == 1);
  CHECK_FALSE(old.consistent());
  CHECK(::access(lock.c_str(), F_OK) == 0);  // the check changes nothing
}

TEST_CASE("recover --check: a dead owner's lock is reported, a live one's is not", "[recover]") {
  TempDir d;
  std::string data = NewStore(d);
  Layout layout(data);
  LockOwner dead{Self(), 1};
  dead.process.pid = DeadPid();
  Plant(layout.AccountLock(1).lock, FormatLockOwner(dead));
  Plant(layout.KeyLock("k1").lock, FormatLockOwner(LockOwner{Self(), 1}));
  RecoverReport r = Run(data, true);
  CHECK(r.dead_locks == 1);
  CHECK(r.live_locks == 1);
  CHECK_FALSE(r.consistent());
}

}  // namespace
}  // namespace drovebank
