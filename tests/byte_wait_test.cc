// The bounded wait for an OFD byte lock as a module (src/store/byte_wait.h): a free byte
// at once, a held one until it is released, and a wait that ends is Busy or Cancelled
// naming what it waited for. Lock fairness between processes is lock_fairness_test.cc.
#include "store/byte_wait.h"

#include <fcntl.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "test_util.h"

namespace drovebank {
namespace {

using testing::TempDir;

// Two open file descriptions of one file in a scratch directory: their OFD locks exclude
// each other like two processes'. `wait` ends after `timeout_seconds`.
struct TwoFds {
  explicit TwoFds(double timeout_seconds) {
    env = DefaultEnv();
    a = *env->Open(dir / "locks", O_RDWR | O_CREAT, 0600);
    b = *env->Open(dir / "locks", O_RDWR, 0600);
    wait.timeout_seconds = timeout_seconds;
  }
  ~TwoFds() {
    (void)env->Close(a);
    (void)env->Close(b);
  }
  TempDir dir;
  Env* env;
  int a = -1;
  int b = -1;
  LockWait wait;
};

TEST_CASE("byte wait: a free byte is taken at once, one held elsewhere is Busy after the "
          "timeout, naming it",
          "[byte_wait]") {
  TwoFds f(0.05);
  REQUIRE(LockByteWithin(f.env, f.a, 5, f.wait, "byte five").ok());
  CHECK(LockByteWithin(f.env, f.b, 6, f.wait, "byte six").ok());  // its neighbour is free

  Status s = LockByteWithin(f.env, f.b, 5, f.wait, "byte five");
  CHECK(s.code() == Code::kBusy);
  CHECK(s.message() == "timed out after 0.05 s waiting for byte five");
  CHECK(WaitForByteLock(f.env, f.b, 5, f.wait, "byte five").code() == Code::kBusy);
}

TEST_CASE("byte wait: a cancelled wait is Cancelled and takes nothing", "[byte_wait]") {
  TwoFds f(600);  // only the cancel can end it
  REQUIRE(f.env->LockByte(f.a, 0, /*wait=*/false).ok());
  int polls = 0;
  f.wait.cancelled = [&] { return ++polls >= 2; };
  Status s = LockByteWithin(f.env, f.b, 0, f.wait, "the thing");
  CHECK(s.code() == Code::kCancelled);
  CHECK(s.message() == "gave up waiting for the thing");
  CHECK(polls >= 2);
  CHECK(*f.env->ByteLocked(f.a, 0) == false);  // b holds nothing
}

TEST_CASE("byte wait: a waiter gets the byte once its holder lets it go", "[byte_wait]") {
  TwoFds f(600);  // only the release can end it
  REQUIRE(f.env->LockByte(f.a, 9, /*wait=*/false).ok());
  Status got = Status::Internal("not run");
  std::thread waiter([&] { got = LockByteWithin(f.env, f.b, 9, f.wait, "byte nine"); });
  // Whether the release comes before the waiter blocks or after, it must get the byte.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(f.env->UnlockByte(f.a, 9).ok());
  waiter.join();
  CHECK(got.ok());
  CHECK(*f.env->ByteLocked(f.a, 9));  // held now, through b
}

// The watchdog looks at the clock only every `watch_every`; a waiter that gets the byte
// must not wait for its next look. Stretched to an hour here, so a wait that ends with the
// watchdog's turn instead of at once is an hour long, and the check below (a minute) fails
// whatever the machine's load. Before: every contended commit waited out the rest of the
// watchdog's 20 ms, and two writers on one store made 134 commits a second between them.
TEST_CASE("byte wait: a waiter that gets the byte returns at once, not at the watchdog's next look",
          "[byte_wait]") {
  struct Shared {
    TwoFds f{600};
    Status got = Status::Internal("not run");
    std::promise<void> returned;
  };
  auto sh = std::make_shared<Shared>();
  REQUIRE(sh->f.env->LockByte(sh->f.a, 3, /*wait=*/false).ok());
  std::future<void> returned = sh->returned.get_future();
  // Detached, and owning what it uses: should it hang, the test fails without waiting.
  std::thread([sh] {
    sh->got = WaitForByteLock(sh->f.env, sh->f.b, 3, sh->f.wait, "byte three",
                              std::chrono::hours(1));
    sh->returned.set_value();
  }).detach();
  // Before the waiter blocks or after: either way its watchdog is already in its hour.
  REQUIRE(sh->f.env->UnlockByte(sh->f.a, 3).ok());
  REQUIRE(returned.wait_for(std::chrono::minutes(1)) == std::future_status::ready);
  CHECK(sh->got.ok());
}

// Why it matters: a watchdog thread started for each wait cost every contended commit a
// clone, a join and about 18 system calls of bookkeeping (four sessions on one store, 500
// commits each: 854 thread starts a session). Each wait here is a real one (the byte held
// through the other descriptor until a helper lets it go), so a thread a wait shows as 5.
TEST_CASE("byte wait: every wait of a process shares one watchdog thread", "[byte_wait]") {
  TwoFds f(600);
  // Started by an earlier wait of this process, or now by the first of these.
  std::uint64_t before = WatchdogThreadsStarted();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.env->LockByte(f.a, 11, /*wait=*/false).ok());
    std::thread release([&] { (void)f.env->UnlockByte(f.a, 11); });
    CHECK(WaitForByteLock(f.env, f.b, 11, f.wait, "byte eleven").ok());
    release.join();
    REQUIRE(f.env->UnlockByte(f.b, 11).ok());
  }
  CHECK(WatchdogThreadsStarted() - before <= 1);
  CHECK(WatchdogThreadsStarted() >= 1);
}

}  // namespace
}  // namespace drovebank
