// The data directory's layout as a module (src/store/layout.h): where an account's file
// and shards are, paths relative to the root, the format marker and what a folder
// without one is, and what PrepareDataDir makes. The refusals of hostile directories
// through the real program are in security_test.cc.
#include "store/layout.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <catch2/catch.hpp>
#include <string>

#include "test_util.h"

namespace drovebank {
namespace {

using testing::PathExists;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;

TEST_CASE("layout: an account's file and its three shards come from its 8 padded digits",
          "[layout]") {
  Layout l("/d");
  CHECK(l.AccountPath(1) == "/d/accounts/00/00/00/01.csv");
  CHECK(l.AccountPath(12345678) == "/d/accounts/12/34/56/78.csv");
  CHECK(l.AccountPath(99999999) == "/d/accounts/99/99/99/99.csv");
  auto dirs = l.AccountDirs(12345678);
  CHECK(dirs[0] == "/d/accounts/12");
  CHECK(dirs[1] == "/d/accounts/12/34");
  CHECK(dirs[2] == "/d/accounts/12/34/56");
  CHECK(l.AccountLock(42).target == l.AccountPath(42));
  CHECK(l.SlotLock(LockSlot{LockTableKind::kAccounts, 42}).target == l.AccountPath(42));
}

// The path is built by hand (for speed); the reference here is the format document's rule,
// printf'd, over ids of every width, up to the largest id.
TEST_CASE("layout: every id's path is its padded digits in groups of two, up to the largest id",
          "[layout]") {
  Layout l("/d");
  std::vector<AccountId> ids = {1, 9, 10, 99, 100, 101, 1001, 999999, 1000000, 1000001,
                                99999999, 100000000, 123456789, 4294967295u};
  for (AccountId id = 1; id < 100000000; id = id * 7 + 3) ids.push_back(id);
  for (AccountId id : ids) {
    char want[64];
    std::snprintf(want, sizeof want, "/d/accounts/%02u/%02u/%02u/%02u.csv",
                  static_cast<unsigned>(id / 1000000), static_cast<unsigned>(id / 10000 % 100),
                  static_cast<unsigned>(id / 100 % 100), static_cast<unsigned>(id % 100));
    INFO("id " << id);
    CHECK(l.AccountPath(id) == want);
    CHECK(l.AccountLock(id).what == "account " + std::to_string(id));
  }
}

TEST_CASE("layout: Relative cuts the root only from paths under it", "[layout]") {
  Layout l("/d/data");
  CHECK(l.Relative("/d/data/accounts/00/00/00/02.csv") == "accounts/00/00/00/02.csv");
  CHECK(l.Relative("/d/data") == "/d/data");
  CHECK(l.Relative("/d/database/x") == "/d/database/x");  // a prefix is not a parent
  CHECK(l.Relative("/elsewhere/x") == "/elsewhere/x");
}

TEST_CASE("layout: the format is the marker's, else 2 with lock tables, 1 with segments only",
          "[layout]") {
  TempDir dir;
  Layout l(dir / "data");
  Env* env = DefaultEnv();

  auto none = ReadStoreFormat(env, l);
  REQUIRE(none.ok());
  CHECK(none->version == 0);

  REQUIRE(dir.Write("data/journal/0000000000000001.log", ""));
  CHECK(ReadStoreFormat(env, l)->version == 1);
  REQUIRE(dir.Write("data/locks/accounts", ""));
  CHECK(ReadStoreFormat(env, l)->version == 2);

  REQUIRE(WriteStoreFormat(env, l, 17).ok());
  auto three = ReadStoreFormat(env, l);
  REQUIRE(three.ok());
  CHECK(three->version == 3);
  CHECK(three->chained_from == 17);

  Spit(l.format_marker(), "drovebank data directory, format 4\nchained-from 1\n");
  CHECK(ReadStoreFormat(env, l).status().code() == Code::kNeedsRecovery);
  Spit(l.format_marker(), "drovebank data directory, format 3\nchained-from 0\n");
  CHECK(ReadStoreFormat(env, l).status().code() == Code::kCorruption);
  Spit(l.format_marker(), "hello\n");
  CHECK(ReadStoreFormat(env, l).status().code() == Code::kCorruption);
}

TEST_CASE("layout: PrepareDataDir makes a private format 3 store, and refuses a shared folder",
          "[layout]") {
  TempDir dir;
  Layout l(dir / "data");
  Env* env = DefaultEnv();
  REQUIRE(PrepareDataDir(env, l).ok());
  struct stat st;
  REQUIRE(::stat(l.root().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  for (const std::string& p : {l.accounts(), l.journal(), l.locks(), l.keys(), l.tmp(),
                               l.AccountLockTable(), l.KeyLockTable(), l.LockOwners()}) {
    INFO(p);
    CHECK(PathExists(p));
  }
  auto f = ReadStoreFormat(env, l);
  REQUIRE(f.ok());
  CHECK(f->version == kStoreFormat);
  CHECK(f->chained_from == 1);
  REQUIRE(PrepareDataDir(env, l).ok());  // again: nothing to do

  Layout shared(dir / "shared");
  REQUIRE(::mkdir(shared.root().c_str(), 0700) == 0);
  REQUIRE(::chmod(shared.root().c_str(), 0770) == 0);
  CHECK(PrepareDataDir(env, shared).code() == Code::kInvalidArgument);
  CHECK_FALSE(PathExists(shared.journal()));

  REQUIRE(dir.Write("file", "x"));
  CHECK(PrepareDataDir(env, Layout(dir / "file")).code() == Code::kInvalidArgument);
}

TEST_CASE("layout: the recovery marker gains one line saying why at each write", "[layout]") {
  TempDir dir;
  Layout l(dir.path());
  REQUIRE(WriteRecoveryMarker(DefaultEnv(), l, "first reason").ok());
  REQUIRE(WriteRecoveryMarker(DefaultEnv(), l, "second reason").ok());
  std::string text = Slurp(l.recovery_marker());
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(text.find("first reason\n") != std::string::npos);
  CHECK(text.find("second reason\n") != std::string::npos);
  CHECK(text.find("first reason") < text.find("second reason"));
}

}  // namespace
}  // namespace drovebank
