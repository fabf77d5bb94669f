// journal/state as the journal's own files (journal_*.cc) share it, private to them: the
// layout of its first bytes (Journal::State) and its three lock bytes, with the scoped
// hold of one that every step under the append mutex, the sync leader or the checkpointer
// takes. journal.h says what the file is for; docs/FORMAT.md describes its bytes.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "byte_wait.h"
#include "drovebank/env.h"
#include "drovebank/lock_wait.h"
#include "drovebank/status.h"
#include "journal.h"

namespace drovebank {

namespace journal_internal {

inline constexpr std::uint64_t kAppendLockByte = 100;
inline constexpr std::uint64_t kSyncLockByte = 101;
inline constexpr std::uint64_t kCheckpointLockByte = 102;

// One of journal/state's lock bytes, held for a scope. Lock() waits at most the store's
// --lock-timeout (WaitForByteLock), so a process that holds the byte (a reader's shared
// lock included: fcntl grants one on a read-only descriptor) cannot hold a writer up past
// it. A timeout is Busy: callers before the append say nothing changed; Sync, after it,
// goes on without the lock (see there).
class ByteLock {
 public:
  ByteLock(Env* env, int fd, std::uint64_t byte, const LockWait& wait)
      : env_(env), fd_(fd), byte_(byte), wait_(wait) {}
  [[nodiscard]] Status Lock() {
    Status s = LockByteWithin(env_, fd_, byte_, wait_, What(byte_));
    held_ = s.ok();
    return s;
  }
  void Unlock() {
    if (held_) (void)env_->UnlockByte(fd_, byte_);
    held_ = false;
  }
  ~ByteLock() { Unlock(); }

  // A constant, not a formatted string: every commit takes two of these locks.
  static std::string_view What(std::uint64_t byte) {
    static_assert(kAppendLockByte == 100 && kSyncLockByte == 101 && kCheckpointLockByte == 102);
    return byte == kAppendLockByte ? "the journal's append lock (byte 100 of journal/state)"
           : byte == kSyncLockByte ? "the journal's sync-leader lock (byte 101 of journal/state)"
                                   : "the journal's checkpoint lock (byte 102 of journal/state)";
  }

 private:
  Env* env_;
  int fd_;
  std::uint64_t byte_;
  const LockWait& wait_;
  bool held_ = false;
};

// A wait for a lock that ended without it: timed out or cancelled.
inline bool WaitEnded(const Status& s) { return s.code() == Code::kBusy || s.code() == Code::kCancelled; }

// Before the append, a lock not granted changes nothing: say so.
inline Status NothingChanged(Status s) {
  if (!WaitEnded(s)) return s;
  return s.code() == Code::kBusy ? Status::Busy(fmt::format("{}; nothing changed", s.message()))
                                 : Status::Cancelled(fmt::format("{}; nothing changed", s.message()));
}

}  // namespace journal_internal

// The first bytes of journal/state. Read (pread) and written (pwrite) only under the
// append mutex, so every reader sees the last whole write: no shared mapping, no memory
// another process or host may not see. The crc catches anything else (a hand edit, a
// partial write the kernel exposed); a bad or missing stamp means "rebuild from disk".
struct Journal::State {
  std::uint64_t magic;
  char boot_id[64];
  std::uint64_t next_txn;
  std::uint64_t seg;
  std::uint64_t end;
  std::uint64_t synced_seg;
  std::uint64_t synced_end;
  std::uint64_t max_id;
  std::uint64_t account_count;
  std::uint64_t sync_failed;
  // Format 3: the hash chain's head at `end` (src/store/chain.h), and the first txn that
  // must carry prev_hash (from the FORMAT marker).
  std::uint64_t head_txn;
  std::uint8_t head_hash[32];
  std::uint64_t chained_from;
  std::uint32_t crc;
  std::uint32_t pad;
};

}  // namespace drovebank
