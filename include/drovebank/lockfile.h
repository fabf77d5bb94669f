// Lock files, shaped like git's lockfile.h.
//
// Calling sequence:
//
//   LockFile lk(env, paths);            // nothing happens yet
//   DB_RETURN_IF_ERROR(lk.Hold(wait));  // creates the lock file (exclusive), waiting if held
//   if (lk.took_over_dead_owner()) ...  // a dead process held it: repair the target first
//   DB_RETURN_IF_ERROR(lk.WriteTemp(new_content));  // temp file beside nothing: no fsync
//   DB_RETURN_IF_ERROR(lk.Commit());    // rename(temp, target), then remove the lock file
//
// Any early return leaves the destructor to call Rollback(), which removes the temp file
// and the lock file; Rollback() is safe to call twice and after Commit(). After the commit
// point of a write (its journal record is durable) a failure must NOT roll back silently:
// call Abandon() to leave the lock file in place, so the next user sees a dead owner and
// repairs the target from the journal.
//
// The lock file holds one line naming its owner: "PID START_TIME BOOT_ID HOST SINCE_MS".
// The file is created with its owner line already in it (Env::CreateExclusive). A lock
// that LooksAbandoned is taken over in place: the waiter rewrites the owner line under an
// OFD lock on the lock file, so two waiters can never both take it over. A live owner's lock is
// never broken; a waiter gives up with Busy after the timeout.
//
// Fairness: waiters get a lock in the order they asked. Hold first tries once (when no one
// is queued: the fast path creates no other file); if the lock is held it takes a ticket,
// locks/<name>.q/<NANOS>-<PID>-<N> holding the waiter's owner line, and attempts only
// while no live ticket is older than its own. Tickets of dead processes are removed by
// the next waiter that meets them (and by `recover`); TryHold never queues.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "drovebank/env.h"
#include "drovebank/process_info.h"
#include "drovebank/status.h"

namespace drovebank {

struct LockOwner {
  ProcessIdentity process;
  std::int64_t since_ms = 0;
};

// Parses a lock file's owner line; nullopt when it is empty or malformed.
std::optional<LockOwner> ParseLockOwner(std::string_view text);
std::string FormatLockOwner(const LockOwner& owner);

// How long a lock file or ticket with no readable owner line counts as being created
// rather than abandoned. Lock files and tickets are made with Env::CreateExclusive, so
// on a file system with O_TMPFILE they never lack the line while their creator lives;
// elsewhere the creator writes it just after creating the file.
constexpr std::int64_t kUnreadableOwnerGraceNs = 2'000'000'000;

// The one verdict every reader of a lock file or ticket uses (waiters, `recover`,
// `recover --check`): abandoned when the owner line names a dead process, or when there
// is no readable owner line and the file (modified at mtime_ns, wall clock) is older
// than kUnreadableOwnerGraceNs.
bool LooksAbandoned(const std::optional<LockOwner>& owner, std::int64_t mtime_ns);

// A lock file or ticket as a reader without its OFD lock finds it.
struct LockFileReading {
  bool gone = false;               // no such file (any more); nothing else is set
  std::optional<LockOwner> owner;  // nullopt: no whole owner line
  std::int64_t mtime_ns = 0;       // set only when there is no owner line
};
// Reads the owner line of the file at `path`, and its mtime when it has none: what
// LooksAbandoned needs. A file missing at either step is `gone`; any other failure is
// returned.
Result<LockFileReading> ReadLockOwner(Env* env, const std::string& path);

struct LockWait {
  double timeout_seconds = 10.0;
  // Called once, when the lock is found held by a live process and the wait begins.
  std::function<void(std::string_view what, const LockOwner& owner)> on_wait;
  // Polled while waiting; true cancels the wait with Cancelled.
  std::function<bool()> cancelled;
};

struct LockPaths {
  std::string lock;    // the lock file
  std::string temp;    // where WriteTemp writes
  std::string target;  // what Commit replaces
  std::string what;    // for messages: "account 1001"
};

// The queue directory of the lock at `lock_path`: ".../00000007.lock" -> ".../00000007.q".
std::string LockQueueDir(std::string_view lock_path);
// True for the name of a queue directory inside locks/ (it ends in ".q"; locks end in
// ".lock").
bool IsLockQueueName(std::string_view name);
// Removes the tickets of dead processes (and unreadable ones older than a grace period)
// from `queue_dir`; returns how many. A missing directory holds none. Directories are
// never removed (Env cannot), so an empty queue directory may stay behind.
Result<size_t> ClearStaleTickets(Env* env, const std::string& queue_dir);

class LockFile {
 public:
  LockFile(Env* env, LockPaths paths) : env_(env), paths_(std::move(paths)) {}
  ~LockFile() { (void)Rollback(); }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  LockFile(LockFile&& o) noexcept;
  LockFile& operator=(LockFile&&) = delete;

  // Success: the lock is ours. Busy after the timeout (the message names the holder),
  // Cancelled when wait.cancelled() said so, IOError on a failed call. Nothing is held on
  // failure.
  Status Hold(const LockWait& wait);
  // Tries once without waiting; Busy when a live process holds it.
  Status TryHold();

  // Writes the temp file (created 0600, truncated). Requires held().
  Status WriteTemp(std::string_view content);
  // Renames the temp file over the target and removes the lock file. On failure the lock
  // stays held (the caller decides between Rollback and Abandon).
  Status Commit();
  // Removes the temp file and the lock file if held; safe twice.
  Status Rollback();
  // Forgets the lock without removing it (see the calling sequence above).
  void Abandon() { held_ = false; }

  bool held() const { return held_; }
  bool took_over_dead_owner() const { return took_over_; }
  const LockPaths& paths() const { return paths_; }

 private:
  // One attempt: Ok when held, Busy with *owner filled when a live process holds it.
  Status Attempt(std::optional<LockOwner>* owner);
  Status TakeOverIfDead(std::optional<LockOwner>* owner, bool* took);
  // The slow path of Hold: waits behind older live tickets, then attempts (lock_queue.cc).
  Status WaitInLine(const LockWait& wait, std::optional<LockOwner> owner);

  Env* env_;
  LockPaths paths_;
  bool held_ = false;
  bool temp_written_ = false;
  bool took_over_ = false;
};

}  // namespace drovebank
