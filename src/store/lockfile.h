// Holding one slot for a write, shaped like git's lockfile.h: the slot's lock and repair
// flag (lock_table.h) and the new version's installer (file_installer.h), composed.
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
// Commit() is exactly these three calls, in this order, which a caller may also make one
// by one (each stops at its first failure with the lock still held):
//
//   DB_RETURN_IF_ERROR(lk.InstallTemp());  // the spare takes the target's place
//   DB_RETURN_IF_ERROR(lk.Repaired());     // the target matches the journal: clear the flag
//   DB_RETURN_IF_ERROR(lk.Release());      // let the lock go
//
// Any early return leaves the destructor to call Rollback(), which releases the lock and
// leaves the repair flag as it is: a flag set by MarkInFlight stays set unless Repaired
// ran, so whoever takes the lock next repairs from the journal (finding nothing to do when
// the record never reached it). Rollback() is safe twice and after Commit(). Abandon() is
// the same release, named for the path after the commit point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "drovebank/lock_wait.h"
#include "drovebank/status.h"
#include "file_installer.h"
#include "lock_table.h"

namespace drovebank {

struct LockPaths {
  std::string target;  // what Commit replaces
  std::string what;    // for messages: "account 1001"
};

class LockFile {
 public:
  LockFile(LockTable* table, LockSlot slot, LockPaths paths)
      : table_(table), slot_(slot), paths_(std::move(paths)), installer_(table, paths_.target) {}
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
  // The flag, read after HoldWithoutFlag with the lock held, for many slots at once
  // (AdoptFlags below): from here the holder is as after Hold, and needs_repair() answers
  // it. Requires held().
  void AdoptFlag(bool on) {
    flag_known_ = true;
    flag_on_ = on;
  }

  // Sets the repair flag (before the commit point). Requires held().
  Status MarkInFlight();
  // Clears the flag after a repair made the target match the journal (Commit's second
  // step). Requires held().
  Status Repaired();
  // Writes the spare file (truncated first; created only the first time). Requires held().
  // In shared mode (StorageMode) the content is kept in memory instead, and
  // InstallTemp and Install write it over the target in place (file_installer.h).
  Status WriteTemp(std::string_view content);
  // The target's size as the holder read it under this lock (FileInstaller::set_target_size).
  void set_target_size(std::uint64_t n) { installer_.set_target_size(n); }
  // Commit's first step: what WriteTemp wrote takes the target's place, keeping the lock
  // and the flag. Requires held() and a WriteTemp since the last install.
  Status InstallTemp();
  // InstallTemp, Repaired and Release, in that order (see the top of this file). On
  // failure the lock stays held (the caller decides between Rollback and Abandon).
  Status Commit();
  // Writes `content` to the spare and replaces the target with it, keeping the lock and
  // the flag (a repair, which then calls Repaired). Requires held().
  Status Install(std::string_view content) { return InstallAt(paths_.target, content); }
  // The same onto another file the slot guards (the several keys of one key slot).
  Status InstallAt(const std::string& target, std::string_view content);
  // Releases the lock if held, leaving the flag as it is (Commit's last step); safe twice.
  Status Release();
  // The same release on the way out of a write that did not commit; safe twice and after
  // Commit().
  Status Rollback() { return Release(); }
  // Releases the lock after the commit point failed: the flag stays for the repairer.
  void Abandon() { (void)Rollback(); }

  bool held() const { return held_; }
  // Right after Hold or TryHold: whether a writer that died left the flag set.
  bool needs_repair() const { return flag_known_ && flag_on_; }
  // Whether the flag is set as far as this holder knows (found set, or set by it).
  bool flag_on() const { return flag_known_ && flag_on_; }
  LockSlot slot() const { return slot_; }
  const LockPaths& paths() const { return paths_; }

 private:
  Status AfterLock();

  LockTable* table_;
  LockSlot slot_;
  LockPaths paths_;
  bool held_ = false;
  bool flag_on_ = false;  // the slot's repair flag as this holder knows it: found or set
  bool flag_known_ = true;  // false after HoldWithoutFlag until the flag is written
  FileInstaller installer_;  // of paths_.target
};

// For many slots of one table, each held by HoldWithoutFlag, in ascending slot order: reads
// their flags in a few reads (LockTable::ReadFlags) and adopts each (AdoptFlag), so that
// each holder is then as after Hold. A flag changes only under its slot's lock, so one
// read after all the locks is the read Hold would have made right after each.
Status AdoptFlags(LockTable* table, const std::vector<LockFile*>& held);

}  // namespace drovebank
