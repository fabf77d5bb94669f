// Waiting for an OFD byte lock, bounded: the one wait every lock of a store goes through
// (the account and key slots of src/store/lockfile.h, and the journal's mutexes in
// journal/state), so a lock held by anyone, a reader holding a shared lock included, can
// make a caller wait no longer than LockWait::timeout_seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "drovebank/env.h"
#include "drovebank/lock_wait.h"
#include "drovebank/status.h"

namespace drovebank {

// Takes the write lock on byte `offset` of `fd`, blocking in the kernel's queue
// (F_OFD_SETLKW) while a watchdog thread watches the clock and wait.cancelled. The caller
// has already tried once without waiting. Returns Ok (held), Busy("timed out after T s
// waiting for WHAT"), Cancelled("gave up waiting for WHAT") or the lock call's error.
// wait.on_wait is the caller's business: it is not called here. `watch_every`: how often
// the watchdog looks at the clock and the cancel (tests stretch it); a wait that gets the
// lock returns at once, whatever it is.
[[nodiscard]] Status WaitForByteLock(
    Env* env, int fd, std::uint64_t offset, const LockWait& wait, std::string_view what,
    std::chrono::milliseconds watch_every = std::chrono::milliseconds(20));

// How many watchdog threads this process has started: one for all its waits (a child
// forked after one starts its own). For tests and diagnostics.
std::uint64_t WatchdogThreadsStarted();

// The lock at once when it is free (one F_OFD_SETLK), else WaitForByteLock: for callers
// with nothing to do between the try and the wait (the journal's mutexes).
[[nodiscard]] Status LockByteWithin(Env* env, int fd, std::uint64_t offset, const LockWait& wait,
                                    std::string_view what);

}  // namespace drovebank
