// PosixEnv's calls on names as a module (src/os/posix_names.cc): ReplaceFile exchanges or
// renames; below a confined root no symbolic link is followed, not even as a directory on
// the way; ListDir lists the names and nothing else; each failure keeps its errno's code.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "drovebank/env.h"
#include "os/posix_env.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Slurp;
using testing::Spit;
using testing::TempDir;

TEST_CASE("posix env: ReplaceFile exchanges with an existing file and renames onto a new name") {
  TempDir dir;
  Env* env = PosixEnv();
  std::ofstream(dir / "spare") << "new";
  std::ofstream(dir / "target") << "old";
  struct stat spare_before {}, target_before {};
  REQUIRE(::stat((dir / "spare").c_str(), &spare_before) == 0);
  REQUIRE(::stat((dir / "target").c_str(), &target_before) == 0);
  auto kept = env->ReplaceFile(dir / "spare", dir / "target");
  REQUIRE(kept.ok());
  CHECK(*kept);
  CHECK(*env->ReadFile(dir / "target") == "new");
  CHECK(*env->ReadFile(dir / "spare") == "old");
  struct stat spare_after {}, target_after {};
  REQUIRE(::stat((dir / "spare").c_str(), &spare_after) == 0);
  REQUIRE(::stat((dir / "target").c_str(), &target_after) == 0);
  CHECK(target_after.st_ino == spare_before.st_ino);
  CHECK(spare_after.st_ino == target_before.st_ino);

  auto renamed = env->ReplaceFile(dir / "spare", dir / "fresh");
  REQUIRE(renamed.ok());
  CHECK_FALSE(*renamed);
  CHECK(*env->ReadFile(dir / "fresh") == "old");
  CHECK_FALSE(env->Stat(dir / "spare").ok());
  CHECK(env->ReplaceFile(dir / "missing", dir / "fresh").status().code() == Code::kNotFound);
}

TEST_CASE("posix names: below a confined root no link is followed, on the way or at the end",
          "[posix_names]") {
  TempDir dir;
  TempDir elsewhere;
  Env* env = PosixEnv();
  env->Confine(dir.path(), /*read_only=*/false);
  Spit(elsewhere / "secret", "not yours");
  REQUIRE(::mkdir((dir / "real").c_str(), 0700) == 0);
  REQUIRE(::symlink(elsewhere.path().c_str(), (dir / "linkdir").c_str()) == 0);
  REQUIRE(::symlink((elsewhere / "secret").c_str(), (dir / "real/linkfile").c_str()) == 0);

  // A linked directory on the way: refused for every call, nothing done through it.
  CHECK_FALSE(env->Stat(dir / "linkdir/secret").ok());
  CHECK_FALSE(env->Access(dir / "linkdir/secret", F_OK).ok());
  CHECK_FALSE(env->Unlink(dir / "linkdir/secret").ok());
  CHECK_FALSE(env->Rename(dir / "linkdir/secret", dir / "real/took").ok());
  CHECK_FALSE(env->MakeDir(dir / "linkdir/new", 0700).ok());
  CHECK_FALSE(env->ListDir(dir / "linkdir").ok());
  CHECK(Slurp(elsewhere / "secret") == "not yours");
  CHECK_FALSE(testing::PathExists(elsewhere / "new"));

  // A link at the end is the link itself: stat sees a link, unlink removes the link only.
  auto st = env->Stat(dir / "real/linkfile");
  REQUIRE(st.ok());
  CHECK(st->is_symlink);
  REQUIRE(env->Unlink(dir / "real/linkfile").ok());
  CHECK(Slurp(elsewhere / "secret") == "not yours");

  // Outside the root a path is used as given.
  CHECK(env->Stat(elsewhere / "secret").ok());
}

TEST_CASE("posix names: ListDir gives the names only, and failures keep their errno's code",
          "[posix_names]") {
  TempDir dir;
  Env* env = PosixEnv();
  env->Confine(dir.path(), /*read_only=*/false);
  REQUIRE(env->MakeDir(dir / "d", 0700).ok());
  Spit(dir / "d/b", "");
  Spit(dir / "d/a", "");
  REQUIRE(env->MakeDir(dir / "d/sub", 0700).ok());
  auto names = env->ListDir(dir / "d");
  REQUIRE(names.ok());
  std::sort(names->begin(), names->end());
  CHECK(*names == std::vector<std::string>{"a", "b", "sub"});
  struct stat st;
  REQUIRE(::stat((dir / "d/sub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  CHECK(env->ListDir(dir / "none").status().code() == Code::kNotFound);
  CHECK(env->Stat(dir / "none").status().code() == Code::kNotFound);
  CHECK(env->Unlink(dir / "none").code() == Code::kNotFound);
  CHECK(env->MakeDir(dir / "d", 0700).ok());  // a directory already there
  Status file = env->MakeDir(dir / "d/a", 0700);
  CHECK(file.code() == Code::kIOError);
  CHECK(file.sys_errno() == EEXIST);
  REQUIRE(::symlink((dir / "d/sub").c_str(), (dir / "dirlink").c_str()) == 0);
  Status link = env->MakeDir(dir / "dirlink", 0700);
  CHECK(link.code() == Code::kIOError);
  CHECK(link.message().find("symbolic link") != std::string::npos);
  CHECK(env->RemoveDir(dir / "d").sys_errno() == ENOTEMPTY);
  REQUIRE(env->Rename(dir / "d/a", dir / "d/c").ok());
  CHECK_FALSE(testing::PathExists(dir / "d/a"));
  CHECK(testing::PathExists(dir / "d/c"));
  CHECK(env->SyncDir(dir / "d").ok());
}

}  // namespace
}  // namespace drovebank
