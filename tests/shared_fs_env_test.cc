// src/os/shared_fs_env: the shared-file-system rules as an Env over the plain POSIX one.
// What it changes is seen from below, by a recording Env between it and PosixEnvImpl.
#include "os/shared_fs_env.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "drovebank/env_wrapper.h"
#include "os/posix_env.h"
#include "temp_dir.h"

using drovebank::Env;
using drovebank::EnvWrapper;
using drovebank::PosixEnvImpl;
using drovebank::SharedFsEnv;
using drovebank::testing::TempDir;

namespace {

// Records the flags of every Open and counts the calls that reach the plain Env.
class Below final : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  drovebank::Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    opens.push_back({path, flags});
    return EnvWrapper::Open(path, flags, mode);
  }
  drovebank::Result<std::string> ReadFile(const std::string& path,
                                          size_t at_most = drovebank::kAnySize) override {
    ++read_files;
    return EnvWrapper::ReadFile(path, at_most);
  }
  void WarmForReplace(const std::vector<std::string>& paths) override {
    ++warms;
    EnvWrapper::WarmForReplace(paths);
  }
  struct Opened {
    std::string path;
    int flags;
  };
  std::vector<Opened> opens;
  int read_files = 0;
  int warms = 0;
};

// Confines `root` with DROVEBANK_FS forcing the verdict (`mode`: "shared" or "local").
void ConfineAs(Env* env, const std::string& root, const char* mode) {
  ::setenv("DROVEBANK_FS", mode, 1);
  env->Confine(root, /*read_only=*/false);
  ::unsetenv("DROVEBANK_FS");
}

}  // namespace

TEST_CASE("shared_fs_env: below a shared root it writes through and reads direct; elsewhere "
          "every call reaches the plain Env unchanged",
          "[shared_fs_env][env]") {
  TempDir shared_dir, local_dir;
  PosixEnvImpl plain;
  CHECK_FALSE(plain.IsShared(shared_dir / "f"));  // the plain Env knows no shared roots
  Below below(&plain);
  SharedFsEnv env(&below);
  ConfineAs(&env, shared_dir.path(), "shared");
  ConfineAs(&env, local_dir.path(), "local");
  CHECK(env.IsShared(shared_dir / "f"));
  CHECK_FALSE(env.IsShared(local_dir / "f"));
  CHECK_FALSE(env.IsShared(shared_dir.path()));  // the root itself is not below it

  for (const TempDir* dir : {&shared_dir, &local_dir}) {
    bool shared = dir == &shared_dir;
    INFO((shared ? "shared" : "local"));
    below.opens.clear();
    below.read_files = below.warms = 0;
    std::string path = *dir / "f";
    auto fd = env.Open(path, O_RDWR | O_CREAT, 0600);
    REQUIRE(fd.ok());
    REQUIRE(below.opens.size() == 1);
    CHECK(((below.opens[0].flags & O_DSYNC) != 0) == shared);
    REQUIRE(env.PWrite(*fd, "0123456789", 0).ok());
    char buf[4] = {};
    auto n = env.PRead(*fd, buf, sizeof buf, 3);
    REQUIRE(n.ok());
    CHECK(std::string(buf, *n) == "3456");
    auto info = env.StatFd(*fd);
    REQUIRE(info.ok());
    CHECK(info->size == 10);
    REQUIRE(env.Close(*fd).ok());
    // A whole-file read: through its own O_DIRECT descriptor when shared.
    auto whole = env.ReadFile(path);
    REQUIRE(whole.ok());
    CHECK(*whole == "0123456789");
    CHECK(below.read_files == (shared ? 0 : 1));
    if (shared) {
      REQUIRE(below.opens.size() == 2);
      CHECK((below.opens[1].flags & O_DIRECT) != 0);
    }
    env.WarmForReplace({path});
    CHECK(below.warms == (shared ? 0 : 1));
    // A directory descriptor is never made O_DSYNC.
    auto dfd = env.Open(dir->path(), O_RDONLY | O_DIRECTORY, 0);
    REQUIRE(dfd.ok());
    CHECK((below.opens.back().flags & O_DSYNC) == 0);
    REQUIRE(env.Close(*dfd).ok());
  }
}

TEST_CASE("shared_fs_env: the roots are the instance's own", "[shared_fs_env][env]") {
  TempDir dir;
  PosixEnvImpl plain;
  SharedFsEnv one(&plain), two(&plain);
  ConfineAs(&one, dir.path(), "shared");
  CHECK(one.IsShared(dir / "f"));
  CHECK_FALSE(two.IsShared(dir / "f"));
  // A later verdict for the same root replaces the first.
  ConfineAs(&one, dir.path(), "local");
  CHECK_FALSE(one.IsShared(dir / "f"));
}

// A root confined read-only is read without write access (a read-only store never makes
// a client drop its caches); once confined writable it stays so, or a writer could build on
// a stale balance. A sibling of the root, and the root itself, are not below it.
TEST_CASE("shared_fs_env: a root's read-only mark sticks towards writable", "[shared_fs_env][env]") {
  TempDir dir;
  std::string root = dir / "one";
  ::mkdir(root.c_str(), 0700);
  std::string path = root + "/f";
  PosixEnvImpl plain;
  Below below(&plain);
  SharedFsEnv env(&below);
  {
    auto fd = env.Open(path, O_RDWR | O_CREAT, 0600);  // not confined yet: made plainly
    REQUIRE(fd.ok());
    REQUIRE(env.Close(*fd).ok());
  }
  auto read_flags = [&] {
    below.opens.clear();
    REQUIRE(env.ReadFile(path).ok());
    REQUIRE_FALSE(below.opens.empty());
    return below.opens.front().flags & O_ACCMODE;
  };
  ::setenv("DROVEBANK_FS", "shared", 1);
  env.Confine(root, /*read_only=*/true);
  CHECK(read_flags() == O_RDONLY);
  CHECK_FALSE(env.IsShared(root + "x/f"));
  env.Confine(root, /*read_only=*/false);
  CHECK(read_flags() == O_RDWR);
  env.Confine(root, /*read_only=*/true);
  ::unsetenv("DROVEBANK_FS");
  CHECK(read_flags() == O_RDWR);  // once writable, always refreshed
}

namespace {

// Every PWrite takes at least `write_takes`; a slow lock holder is made by the test.
class SlowBelow final : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  drovebank::Status PWrite(int fd, std::string_view data, std::uint64_t offset) override {
    std::this_thread::sleep_for(write_takes);
    return EnvWrapper::PWrite(fd, data, offset);
  }
  std::chrono::milliseconds write_takes{0};
};

}  // namespace

// A host alone keeps GlusterFS's write lock between its writes (fast); once a write or a
// lock wait takes as long as another host's hold on that lock (SharedFds::kHandOver, here
// the test's own 100 ms), every write after it lets go of the lock soon (let_go.h). Only
// below a shared root. The threshold is the test's, so the verdict never depends on load:
// a call the test makes slow is slower than the threshold, and one it does not make slow
// is never compared with a threshold it could reach (an hour).
TEST_CASE("shared_fs_env: writes let go of the file's write lock only once a slow write or "
          "lock wait showed another host",
          "[shared_fs_env][env][let_go]") {
  using namespace std::chrono_literals;
  TempDir shared_dir, local_dir;
  PosixEnvImpl plain;
  SECTION("nothing slow: never let go") {
    SlowBelow below(&plain);
    SharedFsEnv env(&below, std::chrono::hours(1));
    ConfineAs(&env, shared_dir.path(), "shared");
    auto fd = env.Open(shared_dir / "f", O_RDWR | O_CREAT, 0600);
    REQUIRE(fd.ok());
    for (int i = 0; i < 5; ++i) REQUIRE(env.PWrite(*fd, "x", 0).ok());
    CHECK_FALSE(env.contended());
    CHECK(env.SettleLetGo() == 0);
    REQUIRE(env.Close(*fd).ok());
  }
  SECTION("a slow write: it and every write after it let go; not below a local root") {
    SlowBelow below(&plain);
    SharedFsEnv env(&below, 100ms);
    ConfineAs(&env, shared_dir.path(), "shared");
    ConfineAs(&env, local_dir.path(), "local");
    auto local = env.Open(local_dir / "f", O_RDWR | O_CREAT, 0600);
    auto fd = env.Open(shared_dir / "f", O_RDWR | O_CREAT, 0600);
    REQUIRE(local.ok());
    REQUIRE(fd.ok());
    below.write_takes = 200ms;
    REQUIRE(env.PWrite(*local, "x", 0).ok());
    CHECK_FALSE(env.contended());  // a local file is nobody else's
    REQUIRE(env.PWrite(*fd, "x", 0).ok());
    CHECK(env.contended());
    CHECK(env.SettleLetGo() == 1);
    below.write_takes = 0ms;
    REQUIRE(env.PWrite(*fd, "y", 0).ok());
    REQUIRE(env.Truncate(*fd, 1).ok());
    CHECK(env.SettleLetGo() >= 2);
    REQUIRE(env.PWrite(*local, "y", 0).ok());
    std::uint64_t made = env.SettleLetGo();
    REQUIRE(env.PWrite(*local, "z", 0).ok());
    CHECK(env.SettleLetGo() == made);  // the local file never
    REQUIRE(env.Close(*fd).ok());
    REQUIRE(env.Close(*local).ok());
  }
  SECTION("a slow lock wait: every write after it lets go") {
    SharedFsEnv env(&plain, 100ms);
    ConfineAs(&env, shared_dir.path(), "shared");
    auto fd = env.Open(shared_dir / "f", O_RDWR | O_CREAT, 0600);
    REQUIRE(fd.ok());
    auto holder = plain.Open(shared_dir / "f", O_RDWR, 0600);  // another description
    REQUIRE(holder.ok());
    REQUIRE(plain.LockByte(*holder, 3, /*wait=*/false).ok());
    std::thread release([&] {
      std::this_thread::sleep_for(200ms);
      (void)plain.UnlockByte(*holder, 3);
    });
    REQUIRE(env.LockByte(*fd, 3, /*wait=*/true).ok());
    release.join();
    CHECK(env.contended());
    REQUIRE(env.PWrite(*fd, "x", 0).ok());
    CHECK(env.SettleLetGo() == 1);
    REQUIRE(plain.Close(*holder).ok());
    REQUIRE(env.Close(*fd).ok());
  }
}
