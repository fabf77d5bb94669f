// The paths below a data directory as a module (src/os/confinement.h): a path is split into
// a directory descriptor and a name without following a link or "..", only below a
// registered root; the shared and read-only marks of a root; and the cache of directory
// descriptors, which must notice a directory removed behind its back and must not grow
// on names that are simply missing.
#include "os/confinement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "drovebank/env.h"
#include "os/posix_env.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Spit;
using testing::TempDir;

// Confines the env to `dir` and makes dir/a/b with a file in it, through the env, so that
// a/b is in its cache of open directories. Returns dir/a/b.
std::string CachedSubdir(const TempDir& dir, Env* env) {
  env->Confine(dir.path(), /*read_only=*/false);
  std::string sub = dir / "a/b";
  REQUIRE(env->MakeDir(dir / "a", 0700).ok());
  REQUIRE(env->MakeDir(sub, 0700).ok());
  Spit(sub + "/f", "old");
  REQUIRE(env->Stat(sub + "/f").ok());
  return sub;
}

TEST_CASE("posix env: a directory removed and made again behind the env's back is walked anew") {
  // The env keeps the parent directories it walked to open. Removed by hand (or by another
  // program) and made again, the old descriptor names a dead directory: every kind of call
  // must still reach the new one.
  TempDir dir;
  Env* env = PosixEnv();
  std::string sub = CachedSubdir(dir, env);
  for (int round = 0; round < 2; ++round) {
    std::filesystem::remove_all(dir / "a");
    std::filesystem::create_directories(sub);
    Spit(sub + "/f", "new");
    CHECK(env->Stat(sub + "/f").ok());
    auto text = env->ReadFile(sub + "/f");
    REQUIRE(text.ok());
    CHECK(*text == "new");
    auto fd = env->Open(sub + "/g", O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd.ok());
    REQUIRE(env->Close(*fd).ok());
    CHECK(std::filesystem::exists(sub + "/g"));
    CHECK(env->Rename(sub + "/g", sub + "/h").ok());
    CHECK(env->Unlink(sub + "/h").ok());
    CHECK(env->MakeDir(sub + "/c", 0700).ok());
    CHECK(std::filesystem::is_directory(sub + "/c"));
  }
}

TEST_CASE("posix env: calls that find no name in a live cached directory keep no descriptor") {
  // ENOENT on a name that is simply not there (a spare not made yet, a new account's file)
  // must not be taken for a stale cached directory: the env would walk again and keep the
  // old descriptor open, one more per call, until a big batch ran out of descriptors.
  TempDir dir;
  Env* env = PosixEnv();
  std::string sub = CachedSubdir(dir, env);
  size_t before = testing::OpenFdCount();
  for (int i = 0; i < 300; ++i) {
    std::string name = sub + "/new-" + std::to_string(i);
    CHECK(env->Open(sub + "/missing", O_WRONLY, 0).status().code() == Code::kNotFound);
    CHECK(env->Stat(sub + "/missing").status().code() == Code::kNotFound);
    CHECK(env->Unlink(sub + "/missing").code() == Code::kNotFound);
    Spit(sub + "/spare", "y");
    auto replaced = env->ReplaceFile(sub + "/spare", name);  // onto a new name: ENOENT first
    REQUIRE(replaced.ok());
  }
  CHECK(testing::OpenFdCount() <= before + 2);
  CHECK(std::filesystem::exists(sub + "/new-299"));
}

TEST_CASE("confinement: a path below a root is a directory and a name, never through a link "
          "or '..'",
          "[confinement]") {
  TempDir dir;
  TempDir elsewhere;
  std::string root = dir / "root";
  std::filesystem::create_directories(root + "/a/b");
  Spit(root + "/a/b/f", "x");
  REQUIRE(::symlink(elsewhere.path().c_str(), (root + "/a/link").c_str()) == 0);
  Confinement c;
  c.Add(root);

  for (bool cache : {true, false}) {
    INFO("cache " << cache);
    Resolved r;
    REQUIRE(c.Resolve(root + "/a/b/f", &r, cache).ok());
    CHECK(r.dir >= 0);
    CHECK(r.base == "f");
    struct stat st;
    REQUIRE(::fstatat(r.dir, r.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
    CHECK(S_ISREG(st.st_mode));

    Resolved linked;
    CHECK_FALSE(c.Resolve(root + "/a/link/x", &linked, cache).ok());
    Resolved up;
    CHECK_FALSE(c.Resolve(root + "/a/../a/b/f", &up, cache).ok());
  }
  // Outside every root (a sibling whose name starts like the root's too): as given.
  for (const std::string& p : {elsewhere / "x", root + "x/y"}) {
    Resolved r;
    REQUIRE(c.Resolve(p, &r).ok());
    CHECK(r.dir == AT_FDCWD);
    CHECK(r.base == p);
  }
}

}  // namespace
}  // namespace drovebank
