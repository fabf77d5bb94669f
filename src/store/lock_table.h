// The slot locks: one lockable byte per account and per key slot of the lock tables
// (locks/accounts, locks/keys), the holders' notes (locks/owners), and each slot's repair
// flag. LockFile (lockfile.h) holds one slot for a write; this is the table underneath.
//
// The lock is an OFD byte-range lock (F_OFD_SETLK) on one byte of a persistent table
// file, so the kernel releases it when its holder dies, on any host that shares the file
// system's locks: no pid, start time, boot id or host name ever decides whether a lock is
// held, and no file is created or removed to take or release one. The same byte's content
// is the repair flag: '1' from MarkInFlight until the target matches the journal, so it
// outlives a writer killed in between. See docs/DESIGN.md and docs/FORMAT.md.
//
// Fairness: a waiter blocks in F_OFD_SETLKW, where the kernel queues conflicting requests
// behind one another and grants them in the order they came. A watchdog thread interrupts
// the wait when the timeout passes or LockWait::cancelled says so (byte_wait.h).
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/lock_wait.h"
#include "drovebank/status.h"
#include "storage_mode.h"

namespace drovebank {

class Layout;

// Parses / formats the owner note of `slot` (one line, padded to a fixed width).
std::optional<LockOwner> ParseLockOwner(std::string_view text, std::uint64_t slot);
std::string FormatLockOwner(const LockOwner& owner, std::uint64_t slot);

// A slot: one lockable byte of one table file.
enum class LockTableKind : std::uint8_t { kAccounts, kKeys };
struct LockSlot {
  LockTableKind table = LockTableKind::kAccounts;
  std::uint64_t offset = 0;
  auto operator<=>(const LockSlot&) const = default;
};

// Key slots: a key's CRC-32 modulo this. Two keys may share a slot: they then serialise,
// and a repair of the slot repairs every key in the journal tail that maps to it.
inline constexpr std::uint64_t kKeySlots = 1 << 20;
// Spare-file slots (after the key slots in the keys table): each process holds one while
// it uses tmp/spare-N, so no two processes ever write one spare.
inline constexpr std::uint64_t kSpareSlots = 4096;
// Owner notes: slots map onto this many fixed-size lines of locks/owners.
inline constexpr std::uint64_t kOwnerLines = 8192;
inline constexpr std::uint64_t kOwnerLineBytes = 128;

LockSlot AccountSlot(std::uint32_t id);
LockSlot KeySlot(std::string_view key);

// The lock tables of one data directory: locks/accounts, locks/keys and locks/owners,
// opened once per Store. Each LockTable is its own open file description, so two of them
// (two stores in one process, as tests make) exclude each other like two processes.
class LockTable {
 public:
  // Opens the tables, creating them when `create` (a new store or `recover`'s upgrade);
  // NotFound when missing otherwise. `read_only` opens them without write access: Lock
  // and the flag setters must not be called then.
  static Result<std::unique_ptr<LockTable>> Open(Env* env, const Layout& layout, StorageMode mode,
                                                 bool create, bool read_only = false);
  ~LockTable();
  LockTable(const LockTable&) = delete;
  LockTable& operator=(const LockTable&) = delete;

  // Takes the lock, waiting per `wait`: Busy after the timeout (the message names the
  // holder when its note is readable), Cancelled, IOError. `what` names it in messages.
  Status Lock(LockSlot slot, std::string_view what, const LockWait& wait);
  // One attempt: Busy when held elsewhere.
  Status TryLock(LockSlot slot);
  void Unlock(LockSlot slot);
  // Whether this table holds any account or key slot now (the spare slot not counted).
  bool HoldsAny() const { return held_ != 0; }
  // Whether another description holds it (F_OFD_GETLK; takes nothing).
  Result<bool> HeldElsewhere(LockSlot slot);
  // A shared hold of the slot, never waiting (works on a read-only table): Busy while a
  // writer holds it. While held, no writer can take the slot, so its flag cannot change:
  // what `recover --check` reads under it is settled. ReleaseShared lets it go.
  Status TryHoldShared(LockSlot slot);
  void ReleaseShared(LockSlot slot);

  // The repair flag of a slot.
  Result<bool> NeedsRepair(LockSlot slot);
  // The flags of many slots of one table, `offsets` ascending: one `pread` for each run of
  // them that spans at most kFlagSpan bytes, instead of one a slot. Read only what the
  // caller holds the locks of: a flag changes only under its slot's lock.
  Result<std::vector<bool>> ReadFlags(LockTableKind table,
                                      const std::vector<std::uint64_t>& offsets);
  static constexpr std::uint64_t kFlagSpan = 64 << 10;
  Status SetNeedsRepair(LockSlot slot, bool on);
  // Every account and key slot whose flag is set, ascending (spare slots excluded).
  Result<std::vector<LockSlot>> Flagged();

  // The owner note of a slot, when it names that slot.
  std::optional<LockOwner> OwnerOf(LockSlot slot);

  // This process's spare file (tmp/spare-N), claiming a spare slot on first use: the path
  // FileInstaller writes (file_installer.h).
  Result<std::string> SparePath();

  StorageMode mode() const { return mode_; }
  Env* env() const { return env_; }

 private:
  LockTable(Env* env, std::string tmp_dir, StorageMode mode)
      : env_(env), tmp_dir_(std::move(tmp_dir)), mode_(mode) {}
  int FdOf(LockTableKind t) const { return t == LockTableKind::kAccounts ? accounts_fd_ : keys_fd_; }
  // The number an owner note names (unique across both tables) and where its line is.
  static std::uint64_t NoteKey(LockSlot slot);
  static std::uint64_t OwnerOffset(LockSlot slot);
  void WriteOwnerNote(LockSlot slot);

  Env* env_;
  std::string tmp_dir_;
  StorageMode mode_;  // the store's, decided when it was opened
  int accounts_fd_ = -1;
  int keys_fd_ = -1;
  int owners_fd_ = -1;
  std::optional<std::uint64_t> spare_;
  std::uint64_t held_ = 0;
};

}  // namespace drovebank
