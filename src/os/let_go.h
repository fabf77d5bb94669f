// Letting go of GlusterFS's write lock on a file soon after each write to it, so that
// another host's write to the same file waits milliseconds for it, not a second.
//
// Why: GlusterFS's replication (AFR) takes a lock on a file for a write (its *eager
// lock*) and keeps it after the write for cluster.post-op-delay-secs (1 s by default), so
// that this client's next write needs no lock of its own. Another host's write to the file
// waits for it. Two hosts taking turns on the files every commit writes (the journal
// segment, journal/state, the lock tables) each waited a second a turn: 1 commit a second
// for both together, where one host alone made 40. A flush (the FLUSH a close sends) ends
// the delay, and an fsync does not. But a flush sent at once after the write is often too
// early: AFR has not yet set its delayed post-op up, and the delay runs its second anyway.
// Measured on scripts/cluster's volume (two mounts taking turns writing one O_DSYNC file,
// 200 writes each way): nothing after a write, or an fsync, 1,006 ms a write; a flush at
// once, 7 of 200 writes still waited the second; a flush 1 ms or 3 ms later, none did.
//
// So each write schedules a flush of its file kDelay later (not pushed back by later
// writes: a file written without pause is still let go every kDelay), made by one thread
// a process: it closes a duplicate of the descriptor, which sends FLUSH and leaves the
// open file description, and every OFD lock it holds, as it was (on the same volume a
// lock held across such a flush still refused the other mount and a new descriptor).
//
// Contract: After(fd) and Forget(fd) are safe from any thread. Forget(fd) must come before
// fd is closed; after it returns, no flush of fd is pending or running that could touch a
// descriptor reusing its number (a flush already begun holds its own duplicate, which
// keeps the description, and its OFD locks, until that close returns: a millisecond). The
// thread starts at the first After and is joined by the destructor. fork() is safe: the
// child (batch --parallel's customers) gets a timer with nothing pending and no thread,
// which starts one of its own at its first After.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace drovebank {

class LetGoTimer {
 public:
  static constexpr std::chrono::milliseconds kDelay{2};

  LetGoTimer() : LetGoTimer(kDelay) {}
  // For tests: another delay (0: at once; an hour: never, in a test's time).
  explicit LetGoTimer(std::chrono::milliseconds delay);
  ~LetGoTimer();
  LetGoTimer(const LetGoTimer&) = delete;
  LetGoTimer& operator=(const LetGoTimer&) = delete;

  // `fd` was just written: flush it kDelay from now, unless a flush is already due.
  void After(int fd);
  // `fd` is about to be closed: its pending flush, if any, is dropped.
  void Forget(int fd);
  // For tests: waits until no flush is pending, and returns how many were made so far.
  std::uint64_t Settle();
  // For tests: how many flushes are pending now.
  size_t pending();

 private:
  void Run();

  friend struct LetGoFork;
  using Clock = std::chrono::steady_clock;
  const std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Clock::time_point> due_;  // guarded by mu_
  bool stop_ = false;                     // guarded by mu_
  std::uint64_t made_ = 0;                // guarded by mu_
  // Started by the first After, under mu_. A pointer, so that a forked child can drop
  // its copy of a thread it does not have without joining it.
  std::unique_ptr<std::thread> thread_;
};

}  // namespace drovebank
