// The commit protocol: the one type that owns a write from its first lock to its last
// release (after SQLite's pager and LevelDB's DBImpl::Write). Store::CommitGroup makes
// one and runs it. Its states, their order, their fault points and their steps of
// docs/DESIGN.md are in commit_state.h; Advance is the one way from one to the next. What
// each state holds (checked by Advance, TigerBeetle-style, on every transition):
//
//   kStart      nothing held.
//   kLocked     key slots, then account slots ascending, held; any flag a dead writer left
//               has been repaired and cleared.
//   kEvaluated  events checked on working copies; records built. A refused event changes
//               nothing. A copy may come from this store's own last commit instead of the
//               file (StoreImpl::own_states_); the append then happens only if no other
//               record joined the journal since, else the files are read and the events
//               evaluated again (kInFlight -> kEvaluated, still nothing in the journal).
//   kInFlight   every slot the records touch has its repair flag set: from here a crash
//               leaves a signal that outlives this process.
//   kEncoded, kWritten, kAppended (and kSegmentCreated when the append filled a
//               segment): the journal's steps (JournalStep), reported to this protocol,
//               which is the journal's JournalSteps: the records go into the journal, not
//               yet durable. Every flag stays set.
//   kSyncing, kCommitted: the journal is synced up to them: the commit point.
//   kTempWritten, kFileInstalled (per account), kKeyIndexed (per key slot), kInstalled:
//               every account file replaced, its keys/index entry set to the txn it was
//               installed from, then its flag cleared and its lock released; every key slot
//               of keys/index pointed at its newest record, then the key flags cleared.
//   kDone       all released; success is reported only now.
//   kUnchanged  nothing written (every event refused or replayed); nothing held, no flag.
//
// Failure policy (kFailed): before kInFlight, everything is released and nothing changed.
// From kInFlight on, a failure releases the locks and leaves the flags, so whoever takes a
// slot next repairs it from the journal; after kCommitted the store is also marked, and
// the caller is told the change is committed.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "commit_state.h"
#include "journal_steps.h"
#include "store_impl.h"

namespace drovebank {

class CommitProtocol final : private JournalSteps {
 public:
  // The fault points are on the write path the caller named (DB_FAULT_PATH, fault_path.h).
  CommitProtocol(StoreImpl* store, std::vector<Event> events);
  // Runs the commit to kDone, kUnchanged or kFailed. Call once.
  Result<std::vector<EventResult>> Run();
  CommitState state() const { return state_; }

 private:
  Result<std::vector<EventResult>> RunSteps();
  // The one way between states: checks that `to` may follow the current state
  // (commit_state.cc's table), emits `to`'s fault point, and checks what `to` holds.
  // A transition or an invariant that fails is a bug in this file: the process aborts
  // there, which is a crash in the state it was in, and recovery from a crash in any state
  // is what the protocol is built for.
  void Advance(CommitState to);
  void CheckHolds(CommitState s) const;
  // The journal's steps within Append and Sync, as this protocol's states.
  void Reached(JournalStep step) override;
  Status RefuseIfMarked();
  Status LockKeys();
  void MatchKnownKeys();
  Status AllocateIds();
  // A thread that warms the accounts' inodes for the install, when worth it; else none.
  std::jthread StartWarming();
  Status LockAccounts();
  Status VouchAccountEntries();
  Status ReadAccounts();
  Status ReadAccount(AccountId id);
  void Evaluate();
  bool AnyRefused() const;
  Status EvaluateFromFiles();
  Status ClearUnusedFlags();
  void KeepOwnStates(const std::map<AccountId, StoreImpl::OwnState>& installed);
  Status SetFlags();
  Status AppendAndSync();
  // Releases every lock (their flags as they are) and ends in kUnchanged.
  Result<std::vector<EventResult>> EndUnchanged();
  // `installed`, when given, gets each account's state and file size as written.
  Status Install(std::map<AccountId, StoreImpl::OwnState>* installed);
  Status FailAfterCommit(const Status& s);
  void ReleaseAll();

  StoreImpl* store_;  // its repair and read routines
  StoreImpl::CommitParts parts_;
  Env* env_;
  CommitState state_ = CommitState::kStart;
  AccountId installing_ = 0;  // the account of kTempWritten and kFileInstalled
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
  bool entries_vouched_ = false;      // VouchAccountEntries ran
  std::optional<StoreImpl::MarkMove> mark_move_;  // its move of the mark, made once committed
  std::map<AccountId, Account> working_at_read_;  // working_ before Evaluate
  std::map<LockSlot, std::uint64_t> key_heads_locked_;  // key_heads_ before Evaluate
  std::vector<Record> records_;
  // What SetFlags flagged (every account and key slot the records touch), which
  // CheckHolds checks from kInFlight to kCommitted.
  std::set<AccountId> flagged_accounts_;
  std::set<LockSlot> flagged_keys_;
  std::vector<size_t> record_event_;
};

}  // namespace drovebank
