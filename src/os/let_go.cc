#include "let_go.h"

#include <pthread.h>
#include <unistd.h>

#include <new>
#include <set>

namespace drovebank {

// fork() while the timer's thread holds its mutex would leave the child's copy locked for
// good: every timer's mutex is taken across the fork, and the child's timers are emptied.
struct LetGoFork {
  static std::mutex& Mu() {
    static std::mutex mu;
    return mu;
  }
  static std::set<LetGoTimer*>& Timers() {
    static std::set<LetGoTimer*> timers;
    return timers;
  }
  static void Prepare() {
    Mu().lock();
    for (LetGoTimer* t : Timers()) t->mu_.lock();
  }
  static void Parent() {
    for (LetGoTimer* t : Timers()) t->mu_.unlock();
    Mu().unlock();
  }
  static void Child() {
    for (LetGoTimer* t : Timers()) {
      (void)t->thread_.release();  // not this process's thread: never joined, never freed
      // The condition variable still counts the parent's waiting thread, which the child
      // does not have (a broadcast would wait for it): a fresh one in its place.
      new (&t->cv_) std::condition_variable();
      t->due_.clear();
      t->mu_.unlock();
    }
    Mu().unlock();
  }
  static void Register(LetGoTimer* t) {
    static std::once_flag once;
    std::call_once(once, [] { ::pthread_atfork(Prepare, Parent, Child); });
    std::lock_guard<std::mutex> l(Mu());
    Timers().insert(t);
  }
  static void Unregister(LetGoTimer* t) {
    std::lock_guard<std::mutex> l(Mu());
    Timers().erase(t);
  }
};

LetGoTimer::LetGoTimer(std::chrono::milliseconds delay) : delay_(delay) {
  LetGoFork::Register(this);
}

LetGoTimer::~LetGoTimer() {
  LetGoFork::Unregister(this);
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_ && thread_->joinable()) thread_->join();
}

void LetGoTimer::After(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  if (!thread_) thread_ = std::make_unique<std::thread>([this] { Run(); });
  if (due_.emplace(fd, Clock::now() + delay_).second) cv_.notify_all();
}

void LetGoTimer::Forget(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  due_.erase(fd);
}

size_t LetGoTimer::pending() {
  std::lock_guard<std::mutex> l(mu_);
  return due_.size();
}

std::uint64_t LetGoTimer::Settle() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return due_.empty(); });
  return made_;
}

void LetGoTimer::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (due_.empty()) {
      cv_.wait(l);
      continue;
    }
    auto next = due_.begin();
    for (auto it = due_.begin(); it != due_.end(); ++it) {
      if (it->second < next->second) next = it;
    }
    if (Clock::now() < next->second) {
      cv_.wait_until(l, next->second);
      continue;
    }
    // The duplicate is made under the mutex, so `fd` is still the descriptor that was
    // written (Forget comes before its close); the close, a round trip, is made without.
    int dup = ::dup(next->first);
    due_.erase(next);
    ++made_;
    cv_.notify_all();  // Settle
    l.unlock();
    if (dup >= 0) ::close(dup);
    l.lock();
  }
}

}  // namespace drovebank
