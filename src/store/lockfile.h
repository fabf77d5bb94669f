// Locks and repair flags, shaped like git's lockfile.h.
//
// Calling sequence of a writer (Store's commit protocol, src/store/commit.cc):
//
//   LockFile lk(&table, slot, paths);   // nothing happens yet
//   DB_RETURN_IF_ERROR(lk.Hold(wait));  // the kernel lock is ours, waiting if held
//   if (lk.needs_repair()) {            // a writer died with this slot in flight:
//     ... repair the target from the journal ...
//     DB_RETURN_IF_ERROR(lk.Repaired()); // only now is the flag cleared
//   }
//   DB_RETURN_IF_ERROR(lk.MarkInFlight());        // before the commit point
//   ... journal append and sync (the commit point) ...
//   DB_RETURN_IF_ERROR(lk.WriteTemp(new_content)); // into this process's spare file
//   DB_RETURN_IF_ERROR(lk.Commit());    // spare -> target, clear the flag, release
//
// Any early return leaves the destructor to call Rollback(), which releases the lock and
// leaves the repair flag as it is: a flag set by MarkInFlight stays set unless Commit ran,
// so whoever takes the lock next repairs from the journal (finding nothing to do when the
// record never reached it). Rollback() is safe twice and after Commit(). Abandon() is the
// same release, named for the path after the commit point.
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
// the wait when the timeout passes or LockWait::cancelled says so.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
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
  Status SetNeedsRepair(LockSlot slot, bool on);
  // Every account and key slot whose flag is set, ascending (spare slots excluded).
  Result<std::vector<LockSlot>> Flagged();

  // The owner note of a slot, when it names that slot.
  std::optional<LockOwner> OwnerOf(LockSlot slot);

  // This process's spare file (tmp/spare-N), claiming a spare slot on first use.
  Result<std::string> SparePath();

  Env* env() const { return env_; }
  StorageMode mode() const { return mode_; }

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

struct LockPaths {
  std::string target;  // what Commit replaces
  std::string what;    // for messages: "account 1001"
};

class LockFile {
 public:
  LockFile(LockTable* table, LockSlot slot, LockPaths paths)
      : table_(table), slot_(slot), paths_(std::move(paths)) {}
  ~LockFile() { (void)Rollback(); }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  LockFile(LockFile&& o) noexcept;
  LockFile& operator=(LockFile&&) = delete;

  // Success: the lock is ours, and needs_repair() says whether a dead writer left the
  // flag. Busy after the timeout, Cancelled, IOError; nothing is held on failure.
  Status Hold(const LockWait& wait);
  // One attempt; Busy when held elsewhere.
  Status TryHold();
  // Hold without reading the flag, which is then unknown: needs_repair() is false,
  // MarkInFlight and Repaired write it whatever it was. Only for a holder that trusts
  // nothing of the target unless the journal shows that no record joined it since the
  // holder's own last commit (a dead writer's flag then guards nothing), and that repairs
  // the target from the journal otherwise (CommitProtocol's own states).
  Status HoldWithoutFlag(const LockWait& wait);

  // Sets the repair flag (before the commit point). Requires held().
  Status MarkInFlight();
  // Clears the flag after a repair made the target match the journal. Requires held().
  Status Repaired();
  // Writes the spare file (truncated first; created only the first time). Requires held().
  // In shared mode (StorageMode) the content is kept in memory instead, and
  // Commit and Install write it over the target in place: see ReplaceWithSpare.
  Status WriteTemp(std::string_view content);
  // The target's size as the holder read it under this lock. On a shared file system an
  // in-place rewrite at least as long then needs no cut and no sync after it: its O_DSYNC
  // write made every byte of the file durable, and no old byte is left past its end.
  void set_target_size(std::uint64_t n) { target_size_ = n; }
  // Replaces the target with the spare, clears the flag and releases the lock. On failure
  // the lock stays held (the caller decides between Rollback and Abandon).
  Status Commit();
  // Writes `content` to the spare and replaces the target with it, keeping the lock and
  // the flag (a repair, which then calls Repaired). Requires held().
  Status Install(std::string_view content) { return InstallAt(paths_.target, content); }
  // The same onto another file the slot guards (the several keys of one key slot).
  Status InstallAt(const std::string& target, std::string_view content);
  // Releases the lock if held, leaving the flag as it is; safe twice.
  Status Rollback();
  // Releases the lock after the commit point failed: the flag stays for the repairer.
  void Abandon() { (void)Rollback(); }

  bool held() const { return held_; }
  // Right after Hold or TryHold: whether a writer that died left the flag set.
  bool needs_repair() const { return flag_known_ && flag_on_; }
  LockSlot slot() const { return slot_; }
  const LockPaths& paths() const { return paths_; }

 private:
  Status AfterLock();
  // The spare becomes `target` (an exchange where the Env can); on a shared file system
  // the content is written into `target` itself.
  Status ReplaceWithSpare(const std::string& target);
  Status WriteInPlace(const std::string& target);

  LockTable* table_;
  LockSlot slot_;
  LockPaths paths_;
  bool held_ = false;
  bool flag_on_ = false;  // the slot's repair flag as this holder knows it: found or set
  bool flag_known_ = true;  // false after HoldWithoutFlag until the flag is written
  bool temp_written_ = false;
  std::string in_place_;  // on a shared file system, what WriteTemp was given
  std::optional<std::uint64_t> target_size_;  // see set_target_size
};

}  // namespace drovebank
