// How a caller waits for a lock another session holds: how long, what it is told, and how it
// cancels. Every lock a Store takes waits this way (StoreOptions::lock_wait).
//
// A wait ends when the lock is granted (in the order the waiters asked), when
// timeout_seconds pass (Busy, naming the holder when its note could be read), or when
// cancelled() says so (Cancelled). Either failure changes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace drovebank {

// Who took a lock, as its holder wrote it down for waiters' messages. Informational only.
struct LockOwner {
  int pid = 0;
  std::string host;
  std::int64_t since_ms = 0;
};

struct LockWait {
  double timeout_seconds = 10.0;
  // Called once, when the lock is found held and the wait begins; `owner` is nullopt when
  // the holder's note could not be read.
  std::function<void(std::string_view what, const std::optional<LockOwner>& owner)> on_wait;
  // Polled while waiting (from a watchdog thread: it must only read an atomic flag); true
  // cancels the wait with Cancelled.
  std::function<bool()> cancelled;
};

}  // namespace drovebank
