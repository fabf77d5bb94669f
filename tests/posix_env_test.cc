// PosixEnv's cache hint: WarmForReplace touches what a later replace needs, and never
// changes a file's contents, follows a link, or fails on a path that is not there.
// ReplaceFile, PWrite, RemoveDir and the lock calls: the contracts the store relies on.
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

TEST_CASE("posix env: ByteLocked sees another description's lock, also on a read-only one") {
  TempDir dir;
  Env* env = PosixEnv();
  auto a = env->Open(dir / "t", O_RDWR | O_CREAT, 0600);
  auto b = env->Open(dir / "t", O_RDONLY, 0);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK_FALSE(*env->ByteLocked(*b, 7));
  REQUIRE(env->LockByte(*a, 7, false).ok());
  CHECK(*env->ByteLocked(*b, 7));
  CHECK_FALSE(*env->ByteLocked(*b, 8));
  CHECK_FALSE(*env->ByteLocked(*a, 7));  // its own lock is no conflict
  REQUIRE(env->Close(*a).ok());          // closing releases it
  CHECK_FALSE(*env->ByteLocked(*b, 7));
  REQUIRE(env->Close(*b).ok());
}

}  // namespace
}  // namespace drovebank
