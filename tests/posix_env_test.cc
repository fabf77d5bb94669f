// PosixEnv's cache hint: WarmForReplace touches what a later replace needs, and never
// changes a file's contents, follows a link, or fails on a path that is not there.
// PWrite, RemoveDir and Grow: the contracts the store relies on. ReplaceFile is
// posix_names_test.cc, the lock calls posix_locks_test.cc, the directory cache
// confinement_test.cc.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "drovebank/env.h"
#include "testing/power_loss_env.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::Slurp;
using testing::Spit;
using testing::TempDir;



// Sets atime and mtime to the epoch plus `seconds`, so a later touch is visible.
void SetTimes(const std::string& path, long seconds) {
  const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

struct stat StatOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

TEST_CASE("posix env: warming many files touches each one's atime and nothing else") {
  TempDir dir;
  PosixEnv()->Confine(dir.path(), /*read_only=*/false);
  // More files than warming threads, so every thread's stride is exercised.
  std::vector<std::string> paths;
  for (int i = 0; i < 21; ++i) {
    std::string p = dir / ("f" + std::to_string(i));
    Spit(p, "account " + std::to_string(i) + "\n");
    SetTimes(p, 1000);
    paths.push_back(p);
  }
  PosixEnv()->WarmForReplace(paths);
  for (int i = 0; i < 21; ++i) {
    INFO("file " << i);
    struct stat st = StatOf(paths[i]);
    CHECK(st.st_atim.tv_sec > 1000);
    CHECK(st.st_mtim.tv_sec == 1000);
    CHECK(Slurp(paths[i]) == "account " + std::to_string(i) + "\n");
  }
}

TEST_CASE("posix env: warming skips missing files and never follows a symbolic link") {
  TempDir dir;
  PosixEnv()->Confine(dir.path(), /*read_only=*/false);
  std::string target = dir / "target";
  Spit(target, "x");
  SetTimes(target, 1000);
  std::string link = dir / "link";
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  std::string present = dir / "present";
  Spit(present, "y");
  SetTimes(present, 1000);

  PosixEnv()->WarmForReplace({dir / "missing", link, dir / "no/such/dir/file", present});

  CHECK(StatOf(target).st_atim.tv_sec == 1000);
  CHECK(StatOf(present).st_atim.tv_sec > 1000);
  CHECK(::access((dir / "missing").c_str(), F_OK) != 0);
}

// ReplaceFile: an exchange when there is a file to replace (the old version stays at the
// spare's name, the same inode reused next time), a plain rename when there is not.
TEST_CASE("posix env: PWrite writes at an offset, RemoveDir removes an empty directory only") {
  TempDir dir;
  Env* env = PosixEnv();
  auto fd = env->Open(dir / "f", O_RDWR | O_CREAT, 0600);
  REQUIRE(fd.ok());
  REQUIRE(env->PWrite(*fd, "abc", 10).ok());
  REQUIRE(env->PWrite(*fd, "Z", 11).ok());
  char buf[16];
  auto n = env->PRead(*fd, buf, sizeof buf, 0);
  REQUIRE(n.ok());
  CHECK(std::string(buf, *n) == std::string(10, '\0') + "aZc");
  REQUIRE(env->Close(*fd).ok());
  REQUIRE(env->MakeDir(dir / "d", 0700).ok());
  std::ofstream(dir / "d/x") << "x";
  CHECK_FALSE(env->RemoveDir(dir / "d").ok());
  REQUIRE(env->Unlink(dir / "d/x").ok());
  CHECK(env->RemoveDir(dir / "d").ok());
  CHECK_FALSE(env->Stat(dir / "d").ok());
}

TEST_CASE("posix env: Grow lengthens with zeros and never shortens or changes a byte") {
  TempDir dir;
  Spit(dir / "f", "abc");
  auto fd = PosixEnv()->Open(dir / "f", O_RDWR, 0600);
  REQUIRE(fd.ok());
  Env* env = PosixEnv();
  REQUIRE(env->Grow(*fd, 4096).ok());
  CHECK(Slurp(dir / "f") == "abc" + std::string(4093, '\0'));
  REQUIRE(env->PWrite(*fd, "Z", 5000).ok());
  REQUIRE(env->Grow(*fd, 100).ok());  // smaller than the file: nothing changes
  std::string bytes = Slurp(dir / "f");
  CHECK(bytes.size() == 5001);
  CHECK(bytes.substr(0, 3) == "abc");
  CHECK(bytes.back() == 'Z');
  REQUIRE(env->Close(*fd).ok());
}

}  // namespace
}  // namespace drovebank
