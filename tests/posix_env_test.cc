// PosixEnv's cache hint: WarmForReplace touches what a later replace needs, and never
// changes a file's contents, follows a link, or fails on a path that is not there.
// CreateExclusive: the file appears with its whole content or not at all.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/power_loss_env.h"
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

// The contract of CreateExclusive, for PosixEnv (an O_TMPFILE inode linked into place) and
// for the portable default (O_EXCL, then write), which PowerLossEnv inherits.
TEST_CASE(
    "posix env: CreateExclusive makes the file with its content and refuses any existing name") {
  TempDir dir;
  std::unique_ptr<Env> power;
  Env* env = PosixEnv();
  SECTION("posix, confined to a data directory") { ConfinePaths(dir.path()); }
  SECTION("posix, unconfined") {}
  SECTION("the portable default") {
    power = MakePowerLossEnv(PosixEnv());
    env = power.get();
  }
  const std::string content = "4242 17 boot host 99\n";
  REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
  std::string path = dir / "sub/x.lock";
  REQUIRE(env->CreateExclusive(path, content, 0600).ok());
  CHECK(Slurp(path) == content);
  CHECK((StatOf(path).st_mode & 0777) == 0600);
  CHECK(S_ISREG(StatOf(path).st_mode));

  // Whatever holds the name already (a file, a directory, a link to a file or to nothing)
  // is refused with EEXIST and left as it was.
  Spit(dir / "target", "target");
  REQUIRE(::mkdir((dir / "sub/adir").c_str(), 0700) == 0);
  REQUIRE(::symlink((dir / "target").c_str(), (dir / "sub/link").c_str()) == 0);
  REQUIRE(::symlink((dir / "nothing").c_str(), (dir / "sub/dangling").c_str()) == 0);
  for (const char* name : {"x.lock", "adir", "link", "dangling"}) {
    INFO(name);
    Status s = env->CreateExclusive(dir / "sub" + "/" + name, "other\n", 0600);
    CHECK(s.sys_errno() == EEXIST);
  }
  CHECK(Slurp(path) == content);
  CHECK(Slurp(dir / "target") == "target");
  CHECK(::access((dir / "nothing").c_str(), F_OK) != 0);

  // A missing directory: an error, and nothing made anywhere.
  Status missing = env->CreateExclusive(dir / "no/such/x.lock", content, 0600);
  CHECK(missing.code() == Code::kNotFound);
  CHECK(::access((dir / "no").c_str(), F_OK) != 0);
}

TEST_CASE("posix env: CreateExclusive with a relative path makes the file there, not elsewhere") {
  TempDir dir;
  REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
  char old_cwd[4096];
  REQUIRE(::getcwd(old_cwd, sizeof old_cwd) != nullptr);
  REQUIRE(::chdir(dir.path().c_str()) == 0);
  Status made = PosixEnv()->CreateExclusive("sub/x.lock", "line\n", 0600);
  Status bare = PosixEnv()->CreateExclusive("y.lock", "bare\n", 0600);
  REQUIRE(::chdir(old_cwd) == 0);
  REQUIRE(made.ok());
  REQUIRE(bare.ok());
  CHECK(Slurp(dir / "sub/x.lock") == "line\n");
  CHECK(Slurp(dir / "y.lock") == "bare\n");
  CHECK(::access((dir / "x.lock").c_str(), F_OK) != 0);
}

TEST_CASE("posix env: a file made by CreateExclusive is never seen without its whole content") {
  TempDir dir;
  ConfinePaths(dir.path());
  std::string path = dir / "x.lock";
  // Long enough that the portable way's window (created, not yet written) is wide: with
  // O_EXCL and a write this test sees empty and partial files.
  const std::string content(64 * 1024, 'o');
  std::atomic<bool> stop{false};
  std::atomic<int> made{0};
  std::thread writer([&] {
    while (!stop.load()) {
      if (PosixEnv()->CreateExclusive(path, content, 0600).ok()) {
        ++made;
        // Kept a moment, so the reader finds it often.
        auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
        while (std::chrono::steady_clock::now() < until) {
        }
        ::unlink(path.c_str());
      }
    }
  });
  int seen = 0, incomplete = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen < 300 && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::string got((std::istreambuf_iterator<char>(in)), {});
    // A file unlinked while we read it still reads whole; only a short one is a fault.
    ++seen;
    if (got != content) ++incomplete;
  }
  stop = true;
  writer.join();
  INFO("made " << made.load() << ", seen " << seen);
  CHECK(seen >= 300);
  CHECK(incomplete == 0);
}

}  // namespace
}  // namespace drovebank
