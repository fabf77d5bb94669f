#include "byte_wait.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/format.h>

namespace drovebank {

namespace {

// Why a signal of our own: F_OFD_SETLKW can only be left early by a signal, and only one
// with a handler interrupts it (an ignored one does not). The handler does nothing; the
// waiter sees EINTR and checks why.
int WakeSignal() { return SIGRTMIN + 4; }
void OnWake(int) {}
void InstallWakeHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    sa.sa_handler = OnWake;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the wait must return EINTR
    sigaction(WakeSignal(), &sa, nullptr);
  });
}

}  // namespace

Status WaitForByteLock(Env* env, int fd, std::uint64_t offset, const LockWait& wait,
                       std::string_view what, std::chrono::milliseconds watch_every) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(wait.timeout_seconds));
  auto busy = [&] {
    return Status::Busy(fmt::format("timed out after {:g} s waiting for {}", wait.timeout_seconds, what));
  };
  std::atomic<bool> was_cancelled{false};
  auto cancelled = [&] {
    if (!was_cancelled && wait.cancelled && wait.cancelled()) was_cancelled = true;
    return was_cancelled.load();
  };
  auto gave_up = [&] { return Status::Cancelled(fmt::format("gave up waiting for {}", what)); };

  InstallWakeHandler();
  std::mutex mu;
  std::condition_variable finished;
  bool done = false;
  std::atomic<bool> stop{false};
  pthread_t waiter = pthread_self();
  std::thread watchdog;
  try {
    // Why a watchdog rather than polling a try-lock: a poller loses its place to whoever
    // polls at the right moment, while the kernel's queue is first come, first served.
    // The watchdog keeps waking the waiter (every `watch_every`) once it should stop, so a
    // signal that arrives just before the waiter blocks is never the last one. Why it
    // waits on a condition and not in a sleep: the waiter joins it as soon as it has the
    // lock, and a sleeping watchdog made every contended commit wait out the rest of its
    // 20 ms (two writers on one store: 134 commits a second between them; 1,700-2,400 since).
    watchdog = std::thread([&] {
      std::unique_lock<std::mutex> g(mu);
      for (;;) {
        if (finished.wait_for(g, watch_every, [&] { return done; })) return;
        if (!stop && (cancelled() || Clock::now() >= deadline)) stop = true;
        if (stop) pthread_kill(waiter, WakeSignal());
      }
    });
  } catch (const std::system_error&) {
    // No thread: poll, which is fair only as far as luck goes.
    for (;;) {
      if (cancelled()) return gave_up();
      if (Clock::now() >= deadline) return busy();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      Status s = env->LockByte(fd, offset, /*wait=*/false);
      if (s.code() != Code::kBusy) return s;
    }
  }
  Status s = Status::Busy("");
  while (!stop) {
    s = env->WaitLockByte(fd, offset);
    if (s.code() != Code::kCancelled) break;  // Ok, or a real failure
    s = Status::Busy("");
  }
  {
    std::lock_guard<std::mutex> g(mu);
    done = true;
  }
  finished.notify_one();
  watchdog.join();
  if (s.ok() || s.code() != Code::kBusy) return s;
  if (cancelled()) return gave_up();
  return busy();
}

Status LockByteWithin(Env* env, int fd, std::uint64_t offset, const LockWait& wait,
                      std::string_view what) {
  Status s = env->LockByte(fd, offset, /*wait=*/false);
  if (s.code() != Code::kBusy) return s;
  return WaitForByteLock(env, fd, offset, wait, what);
}

}  // namespace drovebank
