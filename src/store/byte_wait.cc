#include "byte_wait.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

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

// One watchdog thread for the whole process, started at the first wait that needs it and
// kept: a thread of its own for every wait cost each contended commit a clone, a join and
// their bookkeeping (four sessions on one store: 1.7 thread starts and 20 system calls a
// commit for nothing). Waiters register for the length of their wait; the watchdog looks
// at their clocks and cancels every `watch_every` (the shortest asked for) while any is
// registered, and sleeps otherwise.
struct Waiter {
  pthread_t thread;
  std::chrono::steady_clock::time_point deadline;
  std::function<bool()> cancelled;  // called on the watchdog's thread
  std::chrono::milliseconds every;
  std::atomic<bool> stop{false};
};

class Watchdog {
 public:
  // The process's watchdog, or nullptr when no thread could be started.
  static Watchdog* Get() {
    Watchdog* w = instance_.load();
    if (w != nullptr) return w;
    static std::once_flag at_fork;
    // A forked child has no watchdog thread: it starts one of its own when it waits (the
    // parent's object is left as it was, its mutex possibly held at the fork).
    std::call_once(at_fork, [] { pthread_atfork(nullptr, nullptr, [] { instance_ = nullptr; }); });
    auto* made = new Watchdog;
    // Every signal blocked in the watchdog (a thread inherits its maker's mask): a signal
    // meant for the process (a shell's ^C) must land on a thread that acts on it.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool started = true;
    try {
      std::thread(&Watchdog::Loop, made).detach();
      ++started_;
    } catch (const std::system_error&) {
      started = false;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (!started) {
      delete made;
      return nullptr;
    }
    Watchdog* expected = nullptr;
    if (!instance_.compare_exchange_strong(expected, made)) {
      made->Retire();  // another thread's was first: this one's thread ends
      return expected;
    }
    return made;
  }

  void Add(Waiter* w) {
    bool wake;
    {
      std::lock_guard<std::mutex> g(mu_);
      waiters_.push_back(w);
      // Woken only when its next look would come too late: it is asleep for good, or
      // looks less often than this waiter asks. Otherwise a wake-up a wait is two futex
      // calls more for every contended commit.
      wake = asleep_ || w->every < period_;
    }
    if (wake) changed_.notify_one();
  }
  void Remove(Waiter* w) {
    std::lock_guard<std::mutex> g(mu_);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), w));
  }
  static std::uint64_t Started() { return started_.load(); }

 private:
  void Retire() {
    {
      std::lock_guard<std::mutex> g(mu_);
      retired_ = true;
    }
    changed_.notify_one();
  }

  // Never returns but when retired; the object is never freed otherwise (the thread
  // lives as long as the process).
  void Loop() {
    std::unique_lock<std::mutex> g(mu_);
    int idle_looks = 0;
    for (;;) {
      if (retired_) break;
      // Kept looking for a while after the last waiter left (waits come in bursts while
      // others write), then asleep until one comes: an idle process is never woken.
      if (waiters_.empty() && ++idle_looks > kIdleLooks) {
        asleep_ = true;
        changed_.wait(g);
        asleep_ = false;
        idle_looks = 0;
        continue;
      }
      if (!waiters_.empty()) idle_looks = 0;
      period_ = kDefaultEvery;
      for (Waiter* w : waiters_) period_ = std::min(period_, w->every);
      changed_.wait_for(g, period_);
      auto now = std::chrono::steady_clock::now();
      for (Waiter* w : waiters_) {
        if (!w->stop && ((w->cancelled && w->cancelled()) || now >= w->deadline)) w->stop = true;
        if (w->stop) pthread_kill(w->thread, WakeSignal());
      }
    }
    g.unlock();
    delete this;
  }

  static constexpr std::chrono::milliseconds kDefaultEvery{20};
  static constexpr int kIdleLooks = 50;  // a second at the default period
  static inline std::atomic<Watchdog*> instance_{nullptr};
  static inline std::atomic<std::uint64_t> started_{0};
  bool asleep_ = false;
  std::chrono::milliseconds period_{kDefaultEvery};
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Waiter*> waiters_;
  bool retired_ = false;
};

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
  // Why a watchdog rather than polling a try-lock: a poller loses its place to whoever
  // polls at the right moment, while the kernel's queue is first come, first served. The
  // watchdog keeps waking the waiter (every `watch_every`) once it should stop, so a
  // signal that arrives just before the waiter blocks is never the last one. A waiter that
  // gets the lock leaves at once: nothing of the watchdog's is waited for (a sleeping
  // watchdog joined by its waiter once made every contended commit wait out the rest of
  // its 20 ms: two writers on one store made 134 commits a second between them).
  Watchdog* dog = Watchdog::Get();
  if (dog == nullptr) {
    // No thread: poll, which is fair only as far as luck goes.
    for (;;) {
      if (cancelled()) return gave_up();
      if (Clock::now() >= deadline) return busy();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      Status s = env->LockByte(fd, offset, /*wait=*/false);
      if (s.code() != Code::kBusy) return s;
    }
  }
  Waiter me;
  me.thread = pthread_self();
  me.deadline = deadline;
  me.cancelled = cancelled;
  me.every = watch_every;
  dog->Add(&me);
  Status s = Status::Busy("");
  while (!me.stop) {
    s = env->WaitLockByte(fd, offset);
    if (s.code() != Code::kCancelled) break;  // Ok, or a real failure
    s = Status::Busy("");
  }
  dog->Remove(&me);
  if (s.ok() || s.code() != Code::kBusy) return s;
  if (cancelled()) return gave_up();
  return busy();
}

std::uint64_t WatchdogThreadsStarted() { return Watchdog::Started(); }

Status LockByteWithin(Env* env, int fd, std::uint64_t offset, const LockWait& wait,
                      std::string_view what) {
  Status s = env->LockByte(fd, offset, /*wait=*/false);
  if (s.code() != Code::kBusy) return s;
  return WaitForByteLock(env, fd, offset, wait, what);
}

}  // namespace drovebank
