// The commit protocol: the one type that owns a write from its first lock to its last
// release (after SQLite's pager and LevelDB's DBImpl::Write). Store::CommitGroup makes
// one and runs it. The states it passes through, in order (each step of Run), are marked
// by the fault points PATH:STEP of every write path; docs/DESIGN.md gives the crash
// reasoning of each.
//
//   kStart      nothing held.
//   kLocked     key slots, then account slots ascending, held; any flag a dead writer left
//               has been repaired and cleared (fault point `locks_held`).
//   kEvaluated  events checked on working copies; records built. A refused event changes
//               nothing. A copy may come from this store's own last commit instead of the
//               file (StoreImpl::own_states_); kAppended then happens only if no other
//               record joined the journal since, else the files are read and the events
//               evaluated again (still nothing in the journal).
//   kInFlight   every slot the records touch has its repair flag set (`flags_set`): from
//               here a crash leaves a signal that outlives this process.
//   kAppended   the records are in the journal, not yet durable (`before_journal_write`,
//               `before_journal_publish`, `after_journal_write`).
//   kCommitted  the journal is synced up to them: the commit point (`before_journal_sync`,
//               `after_journal_sync`).
//   kInstalled  every account file replaced, then its keys/index entry set to the txn it
//               was installed from, and every key slot of keys/index pointed at its newest
//               record, each flag cleared as its file was (`after_temp_write`,
//               `after_rename`, `after_key_index`).
//   kDone       all released; success is reported only now (`done`).
//
// Failure policy: before kInFlight, everything is released and nothing changed. From
// kInFlight on, a failure releases the locks and leaves the flags, so whoever takes a
// slot next repairs it from the journal; after kCommitted the store is also marked, and
// the caller is told the change is committed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "store_impl.h"

namespace drovebank {

class CommitProtocol {
 public:
  CommitProtocol(StoreImpl* store, std::vector<Event> events, std::string_view fault_path);
  Result<std::vector<EventResult>> Run();

 private:
  Status RefuseIfMarked();
  Status LockKeys();
  void MatchKnownKeys();
  Status AllocateIds();
  Status LockAccounts();
  Status ReadAccounts();
  Status ReadAccount(AccountId id);
  void Evaluate();
  bool AnyRefused() const;
  Status EvaluateFromFiles();
  Status ClearUnusedFlags();
  void KeepOwnStates(const std::map<AccountId, StoreImpl::OwnState>& installed);
  Status SetFlags();
  Status AppendAndSync();
  // `installed`, when given, gets each account's state and file size as written.
  Status Install(std::map<AccountId, StoreImpl::OwnState>* installed);
  Status FailAfterCommit(const Status& s);
  void ReleaseAll();

  StoreImpl* store_;
  Env* env_;
  std::vector<Event> events_;
  std::string fault_path_;

  std::vector<EventResult> results_;
  std::vector<bool> pending_;
  std::vector<LockFile> key_locks_;           // by slot, ascending
  std::map<std::string, Record> seen_keys_;    // key -> its committed record
  std::map<LockSlot, std::uint64_t> key_heads_;  // key slot -> chain head for the next record
  std::set<AccountId> ids_;
  std::map<AccountId, LockFile> locks_;
  std::map<AccountId, Account> working_;
  std::set<AccountId> working_read_;  // the accounts whose files ReadAccounts read
  std::map<AccountId, StoreImpl::OwnState> own_;  // the store's own states, taken at Run
  std::set<AccountId> from_own_;      // the working copies that came from own_
  std::set<AccountId> flag_unread_;   // locked by HoldWithoutFlag, not yet repaired
  std::map<AccountId, Account> working_at_read_;  // working_ before Evaluate
  std::map<LockSlot, std::uint64_t> key_heads_locked_;  // key_heads_ before Evaluate
  std::vector<Record> records_;
  std::vector<size_t> record_event_;
};

}  // namespace drovebank
