// PosixEnv's cache hint: WarmForReplace touches what a later replace needs, and never
// changes a file's contents, follows a link, or fails on a path that is not there.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "drovebank/env.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::TempDir;

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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
  ConfinePaths(dir.path());
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
  ConfinePaths(dir.path());
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

}  // namespace
}  // namespace drovebank
