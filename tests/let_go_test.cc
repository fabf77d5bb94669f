// src/os/let_go.h: each write schedules one flush of its file a little later (a close of a
// duplicate descriptor), pending flushes of a descriptor are dropped before it is closed,
// and a forked child gets a working timer of its own. The delay is the test's: an hour
// (nothing fires while the test looks) or none (Settle waits for the flush).
#include "os/let_go.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "temp_dir.h"

using drovebank::LetGoTimer;
using drovebank::testing::TempDir;
using namespace std::chrono_literals;

TEST_CASE("let go: a write schedules one flush of its file, however many follow it before it "
          "is made; a descriptor forgotten has none",
          "[let_go][shared_fs]") {
  TempDir dir;
  int a = ::open((dir / "a").c_str(), O_RDWR | O_CREAT, 0600);
  int b = ::open((dir / "b").c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  {
    LetGoTimer later(1h);
    for (int i = 0; i < 5; ++i) later.After(a);
    later.After(b);
    CHECK(later.pending() == 2);
    later.Forget(a);
    CHECK(later.pending() == 1);
    later.Forget(b);
    CHECK(later.pending() == 0);
    CHECK(later.Settle() == 0);  // none was made
  }
  LetGoTimer now(0ms);
  now.After(a);
  CHECK(now.Settle() == 1);
  now.After(a);
  now.After(b);
  CHECK(now.Settle() == 3);
  // The flush left the descriptor as it was.
  CHECK(::write(a, "x", 1) == 1);
  ::close(a);
  ::close(b);
}

TEST_CASE("let go: a child forked while the timer has a thread and a flush pending gets a "
          "timer of its own that works",
          "[let_go][shared_fs]") {
  TempDir dir;
  int a = ::open((dir / "a").c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(a >= 0);
  LetGoTimer later(1h);
  later.After(a);  // starts the thread; the flush stays pending
  LetGoTimer now(0ms);
  now.After(a);
  REQUIRE(now.Settle() == 1);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Nothing of the parent's pending work, and a thread of its own at the first After.
    bool ok = later.pending() == 0;
    now.After(a);
    ok = ok && now.Settle() == 2;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(later.pending() == 1);  // the parent's is still there
  later.Forget(a);
  ::close(a);
}
