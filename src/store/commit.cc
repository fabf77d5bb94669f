#include "drovebank/rules.h"
#include "commit.h"

#include "drovebank/fault_path.h"
#include "key_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace drovebank {

namespace {

constexpr size_t kWarmAccounts = 16;  // see StartWarming
// From this many slots of one table, LockAccounts and LockKeys read the flags after all
// the locks, a few reads for all (LockTable::ReadFlags); below it, one read a lock, as
// Hold makes it: a transfer's two far-apart accounts would gain nothing from a span.
constexpr size_t kFlagsInBulk = 4;
constexpr size_t kOwnStates = 64;     // the most StoreImpl::own_states_ keeps

// The request text a key is compared by: the ops', and a reservation's when there is one
// (so a key reused for another reservation is refused like one reused for other ops).
std::string EventRequest(const Event& e) {
  std::string text = RequestText(e.ops);
  if (e.reserve_ids != 0) {
    text += fmt::format("{}reserve-ids {}", text.empty() ? "" : "; ", e.reserve_ids);
  }
  if (e.snapshot_at != 0) text += fmt::format("snapshot {}", e.snapshot_at);
  return text;
}

}  // namespace

CommitProtocol::CommitProtocol(StoreImpl* store, std::vector<Event> events)
    : store_(store),
      parts_(store->ForCommit()),
      env_(parts_.env),
      events_(std::move(events)),
      fault_path_(FaultPath()) {
  results_.resize(events_.size());
  pending_.assign(events_.size(), true);
}

Result<std::vector<EventResult>> CommitProtocol::Run() {
  Result<std::vector<EventResult>> r = RunSteps();
  if (!r.ok()) Advance(CommitState::kFailed);
  return r;
}

void CommitProtocol::Advance(CommitState to) {
  if (TransitionName(state_, to).empty()) {
    std::fprintf(stderr, "drovebank: bug: commit state %s cannot follow %s\n",
                 std::string(InfoOf(to).name).c_str(), std::string(InfoOf(state_).name).c_str());
    std::abort();
  }
  state_ = to;
  const CommitStateInfo& info = InfoOf(to);
  if (!info.fault_point.empty()) env_->FaultPoint(fault_path_, info.fault_point);
  CheckHolds(to);
}

void CommitProtocol::Reached(JournalStep step) {
  switch (step) {
    case JournalStep::kEncoded: return Advance(CommitState::kEncoded);
    case JournalStep::kWritten: return Advance(CommitState::kWritten);
    case JournalStep::kPublished: return Advance(CommitState::kAppended);
    case JournalStep::kSegmentCreated: return Advance(CommitState::kSegmentCreated);
    case JournalStep::kSyncing: return Advance(CommitState::kSyncing);
  }
}

// Why a thread: replacing an account file modifies its inode, and in a big store that
// inode's disk block is usually not cached, so the rename would stop ~1 ms to read it
// (docs/BENCHMARKS.md, finding 9). Warming it here overlaps that read with the locks,
// the append and the journal sync. Only for a few accounts, and only in a big store:
// warming dirties the inode before the sync, which cost a small store's deposits 17%
// (finding 12), and a small store's inode blocks stay cached anyway. The size is the
// one last seen, not looked up: the look was five system calls a commit, each a network
// round trip on a shared file system, for a guess. A shared store is rewritten in
// place, never renamed over, so there is nothing to warm.
std::jthread CommitProtocol::StartWarming() {
  if (ids_.empty() || ids_.size() > kWarmAccounts || parts_.in_place ||
      parts_.journal->account_count_seen() < parts_.warm_from_accounts) {
    return {};
  }
  std::vector<std::string> paths;
  for (AccountId id : ids_) paths.push_back(parts_.layout->AccountPath(id));
  try {
    return std::jthread([env = env_, paths = std::move(paths)] { env->WarmForReplace(paths); });
  } catch (const std::system_error&) {
    return {};  // no thread, no warming: only slower
  }
}

Result<std::vector<EventResult>> CommitProtocol::RunSteps() {
  // Taken, not shared: any return before the end leaves the store without them, so a
  // commit that failed anywhere (its records perhaps in the journal) is never built on.
  own_ = std::exchange(*parts_.own_states, {});
  DB_RETURN_IF_ERROR(RefuseIfMarked());
  DB_RETURN_IF_ERROR(LockKeys());
  MatchKnownKeys();
  DB_RETURN_IF_ERROR(AllocateIds());
  std::jthread warm = StartWarming();  // joined before the files are written, or on return
  DB_RETURN_IF_ERROR(LockAccounts());
  Advance(CommitState::kLocked);
  DB_RETURN_IF_ERROR(VouchAccountEntries());
  DB_RETURN_IF_ERROR(ReadAccounts());
  Evaluate();
  Advance(CommitState::kEvaluated);
  // Why a refusal is judged on the files: only a record's append checks that the own
  // states are current, and a refused event makes none.
  if (AnyRefused() && !from_own_.empty()) {
    DB_RETURN_IF_ERROR(EvaluateFromFiles());
    Advance(CommitState::kEvaluated);
  }
  if (records_.empty()) {  // every event refused or replayed
    *parts_.own_states = std::move(own_);
    return EndUnchanged();
  }

  // Everything the install needs is secured before the commit point, so that a Busy
  // (another process holding every spare slot, or a reader's lock on one) always means
  // that nothing changed. The spare slot is the only one the install takes.
  if (!parts_.in_place) DB_RETURN_IF_ERROR(parts_.locks->SparePath().status());
  DB_RETURN_IF_ERROR(SetFlags());
  Advance(CommitState::kInFlight);
  DB_RETURN_IF_ERROR(AppendAndSync());
  if (records_.empty()) {  // evaluated again on the files, every event refused
    DB_RETURN_IF_ERROR(ClearUnusedFlags());
    return EndUnchanged();
  }
  // From kSyncing, or straight from kAppended or kSegmentCreated when the journal found
  // the records synced already (another writer's fdatasync, or the rotation's).
  Advance(CommitState::kCommitted);
  // The mark's move that VouchAccountEntries checked, now that the append has let this
  // commit write (a failure only leaves the mark lower: a longer check next time).
  if (mark_move_) (void)store_->MoveMark(*mark_move_);
  store_->NoteOwnRecords(records_);
  if (warm.joinable()) warm.join();
  // Why decided before the install: a big batch group would otherwise copy every state
  // it installs, only for KeepOwnStates to drop them.
  bool keep = parts_.journal->unchanged_at_last_append() && ids_.size() <= kOwnStates;
  std::map<AccountId, StoreImpl::OwnState> installed;
  DB_RETURN_IF_ERROR(Install(keep ? &installed : nullptr));
  Advance(CommitState::kInstalled);
  ReleaseAll();
  if (keep) KeepOwnStates(installed);
  Advance(CommitState::kDone);
  if (parts_.journal->rotated()) {
    parts_.journal->clear_rotated();
    (void)store_->Checkpoint(/*wait=*/false);
  }
  return results_;
}

Result<std::vector<EventResult>> CommitProtocol::EndUnchanged() {
  for (auto& [id, lk] : locks_) (void)lk.Rollback();
  for (LockFile& lk : key_locks_) (void)lk.Rollback();
  Advance(CommitState::kUnchanged);
  return results_;
}

// What each state holds, from the locks' own view of themselves (no system call).
void CommitProtocol::CheckHolds(CommitState s) const {
  auto must = [&](bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "drovebank: bug: in commit state %s, %s\n",
                 std::string(InfoOf(s).name).c_str(), what);
    std::abort();
  };
  // The slots SetFlags flagged: what the records touch, worked out once there.
  auto touched = [&](auto&& fn) {
    for (AccountId id : flagged_accounts_) fn(locks_.at(id));
    for (const LockFile& lk : key_locks_) {
      if (flagged_keys_.count(lk.slot()) != 0) fn(lk);
    }
  };
  switch (s) {
    case CommitState::kLocked:
      must(locks_.size() == ids_.size(), "every account named is locked");
      for (const auto& [id, lk] : locks_) must(lk.held(), "every account slot is held");
      for (const LockFile& lk : key_locks_) must(lk.held(), "every key slot is held");
      break;
    case CommitState::kInFlight:
    case CommitState::kAppended:
    case CommitState::kCommitted:
      touched([&](const LockFile& lk) {
        must(lk.held() && lk.flag_on(), "every slot the records touch is held and flagged");
      });
      break;
    case CommitState::kFileInstalled: {
      const LockFile& lk = locks_.at(installing_);
      must(!lk.held() && !lk.flag_on(), "the installed account's flag is cleared, its lock let go");
      break;
    }
    case CommitState::kInstalled:
      for (const auto& [id, lk] : locks_) must(!lk.held(), "every account lock is let go");
      for (const LockFile& lk : key_locks_) must(!lk.flag_on(), "every key flag is cleared");
      break;
    case CommitState::kDone:
    case CommitState::kUnchanged:
      for (const auto& [id, lk] : locks_) {
        must(!lk.held() && !lk.flag_on(), "nothing held, no flag of this commit left");
      }
      for (const LockFile& lk : key_locks_) {
        must(!lk.held() && !lk.flag_on(), "nothing held, no flag of this commit left");
      }
      break;
    default:
      break;
  }
}

Status CommitProtocol::RefuseIfMarked() {
  if (!store_->NeedsRecovery()) return Status::Ok();
  // Say why, from the marker's last line: it names the corrupt file or the failed call.
  std::string why;
  if (auto text = env_->ReadFile(parts_.layout->recovery_marker(), kMarkerMaxBytes); text.ok()) {
    std::string_view t = *text;
    while (!t.empty() && t.back() == '\n') t.remove_suffix(1);
    auto nl = t.rfind('\n');
    why = std::string(nl == std::string_view::npos ? t : t.substr(nl + 1));
  }
  return Status::NeedsRecovery(
      fmt::format("the store needs recovery ({}); run `recover` first; nothing changed",
                  why.empty() ? "see NEEDS_RECOVERY" : why));
}

// Key slots first, ascending, then account slots ascending: one global order, so two
// writers can never wait on each other in a cycle. Two keys of one slot share its lock.
Status CommitProtocol::LockKeys() {
  std::map<LockSlot, std::vector<std::string>> by_slot;
  for (const Event& e : events_) {
    if (e.key.empty()) continue;
    DB_RETURN_IF_ERROR(ValidateKey(e.key));
    by_slot[KeySlot(e.key)].push_back(e.key);
  }
  const Layout& layout = *parts_.layout;
  // Many slots (a batch group): every lock first, in slot order, then their flags in a
  // few reads (LockTable::ReadFlags) rather than one a slot. A flag changes only under
  // its slot's lock, so read after all of them it is what it was right after each; the
  // slots a dead writer left flagged are then repaired, still before anything is read.
  const bool bulk = by_slot.size() >= kFlagsInBulk;
  const size_t first = key_locks_.size();
  key_locks_.reserve(first + by_slot.size());
  std::vector<LockFile*> unread;
  for (auto& [slot, keys] : by_slot) {
    key_locks_.emplace_back(parts_.locks, slot, layout.KeyLock(keys.front()));
    LockFile& lk = key_locks_.back();
    DB_RETURN_IF_ERROR(bulk ? lk.HoldWithoutFlag(*parts_.lock_wait) : lk.Hold(*parts_.lock_wait));
    if (bulk) unread.push_back(&lk);
  }
  DB_RETURN_IF_ERROR(AdoptFlags(parts_.locks, unread));
  size_t i = first;
  std::set<LockSlot> held;
  for (auto& [slot, keys] : by_slot) {
    LockFile& lk = key_locks_[i++];
    if (lk.needs_repair()) DB_RETURN_IF_ERROR(store_->RepairKeySlot(&lk).status());
    held.insert(slot);
  }
  // Before any key is looked up: keys/index must reach every keyed record the journal
  // has, or a key already used would read as unused (key_vouch.cc).
  if (!held.empty()) DB_RETURN_IF_ERROR(store_->VouchKeyIndex(held, {}, /*looks_up_keys=*/true));
  for (auto& [slot, keys] : by_slot) {
    DB_ASSIGN_OR_RETURN(key_heads_[slot], parts_.key_index->Head(slot.offset));
    for (const std::string& key : keys) {
      DB_ASSIGN_OR_RETURN(std::optional<Record> rec, store_->FindKeyed(key, key_heads_[slot]));
      if (rec) seen_keys_.emplace(key, std::move(*rec));
    }
  }
  return Status::Ok();
}

// Before any file is read: keys/index's account entries must reach every finished record
// past its mark, or a file put back together with an older copy of keys/index would prove
// (key_vouch.cc). Entries behind are raised, so such a file fails its proof as set back.
// Once a commit, and only when it reads a file: a commit built wholly on the session's own
// states reads none, and its append refuses them if any record joined the journal since
// (then EvaluateFromFiles reads the files, and checks first).
Status CommitProtocol::VouchAccountEntries() {
  if (entries_vouched_) return Status::Ok();
  // (EvaluateFromFiles empties own_ first: every account is read from its file then.)
  if (std::all_of(ids_.begin(), ids_.end(), [&](AccountId id) { return own_.count(id) != 0; })) {
    return Status::Ok();
  }
  std::set<LockSlot> held;
  std::set<AccountId> trusted;
  for (const auto& [id, lk] : locks_) {
    held.insert(lk.slot());
    if (flag_unread_.count(id) == 0) trusted.insert(id);
  }
  for (const LockFile& lk : key_locks_) held.insert(lk.slot());
  entries_vouched_ = true;
  StoreImpl::MarkMove move;
  DB_RETURN_IF_ERROR(store_->VouchKeyIndex(held, trusted, /*looks_up_keys=*/false, &move));
  mark_move_ = move;
  return Status::Ok();
}

void CommitProtocol::MatchKnownKeys() {
  std::set<std::string> keys_in_group;
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    if (e.key.empty()) continue;
    auto it = seen_keys_.find(e.key);
    bool dup_in_group = !keys_in_group.insert(e.key).second;
    if (it == seen_keys_.end() && !dup_in_group) continue;
    pending_[i] = false;
    if (it != seen_keys_.end() && it->second.request == EventRequest(e)) {
      results_[i].record = it->second;
      results_[i].replayed = true;
    } else {
      results_[i].status = Status::KeyReused(fmt::format(
          "transaction key '{}' was already used for a different request; nothing changed",
          e.key));
    }
  }
}

Status CommitProtocol::AllocateIds() {
  for (size_t i = 0; i < events_.size(); ++i) {
    if (!pending_[i]) continue;
    for (Op& op : events_[i].ops) {
      // An open with an id given (legacy import keeps ids) checks it is free below.
      if (op.kind == OpKind::kOpen && op.id == 0) {
        DB_ASSIGN_OR_RETURN(op.id, parts_.journal->AllocateId());
      }
      ids_.insert(op.id);
      if (op.kind == OpKind::kTransfer) ids_.insert(op.to);
    }
  }
  ids_.erase(0);
  return Status::Ok();
}

Status CommitProtocol::LockAccounts() {
  size_t to_read = 0;
  for (AccountId id : ids_) to_read += own_.count(id) == 0 ? 1 : 0;
  // As LockKeys: every lock first; many flags are then read in a few reads.
  const bool bulk = to_read >= kFlagsInBulk;
  std::vector<LockFile*> unread;
  std::vector<AccountId> checked;  // whose flags are read, by Hold or in bulk
  for (AccountId id : ids_) {
    auto [it, _] = locks_.emplace(
        id, LockFile(parts_.locks, AccountSlot(id), parts_.layout->AccountLock(id)));
    LockFile& lk = it->second;
    // Why the flag of an account with an own state is not read: a dead writer's flag
    // guards a record only if that record is in the journal, and then the append refuses
    // the own state and EvaluateFromFiles repairs the file from the journal first.
    if (own_.count(id) != 0) {
      DB_RETURN_IF_ERROR(lk.HoldWithoutFlag(*parts_.lock_wait));
      flag_unread_.insert(id);
      continue;
    }
    DB_RETURN_IF_ERROR(bulk ? lk.HoldWithoutFlag(*parts_.lock_wait) : lk.Hold(*parts_.lock_wait));
    if (bulk) unread.push_back(&lk);
    checked.push_back(id);
  }
  DB_RETURN_IF_ERROR(AdoptFlags(parts_.locks, unread));
  for (AccountId id : checked) {
    LockFile& lk = locks_.at(id);
    if (lk.needs_repair()) DB_RETURN_IF_ERROR(store_->RepairAccount(id, &lk).status());
  }
  return Status::Ok();
}

// Why an own state may stand in for the file: every change to an account is a record,
// appended by a writer holding the account's lock. The own state was current when this
// store appended last; AppendAndSync appends on it only if no record joined the journal
// since, so the file, whoever rewrote it since, holds that same state.
Status CommitProtocol::ReadAccounts() {
  // Every account's lock is held from here to the end (kLocked), and a writer sets an
  // account's keys/index entry only under its lock: the entries of these accounts cannot
  // change until we release them, so a group's are read a page (512) at a time, in id
  // order, each still before its file (a batch group of 1,000 deposits on 1,000 accounts:
  // 630 `pread`s before, two now).
  KeyIndex::ReadAhead ahead(parts_.key_index, ids_.size() > 1);
  for (AccountId id : ids_) {
    if (auto own = own_.find(id); own != own_.end()) {
      locks_.at(id).set_target_size(own->second.size);
      working_[id] = own->second.state;
      working_read_.insert(id);
      from_own_.insert(id);
      continue;
    }
    DB_RETURN_IF_ERROR(ReadAccount(id));
  }
  // Evaluate moves working_ past the events: EvaluateFromFiles, which only a commit
  // with own states may need, starts again from here.
  if (!from_own_.empty()) working_at_read_ = working_;
  return Status::Ok();
}

Status CommitProtocol::ReadAccount(AccountId id) {
  std::uint64_t size = 0;
  auto acct = store_->ReadAccount(id, /*mark=*/true, &size);
  if (acct.ok()) {
    locks_.at(id).set_target_size(size);
    working_[id] = std::move(acct).value();
    working_read_.insert(id);
  } else if (acct.status().code() != Code::kNotFound) {
    return acct.status();
  }
  return Status::Ok();
}

bool CommitProtocol::AnyRefused() const {
  for (size_t i = 0; i < events_.size(); ++i) {
    if (pending_[i] && !results_[i].status.ok()) return true;
  }
  return false;
}

// The own states were no good (or a refusal must be judged on the files): the files of
// those accounts are read, under the same locks, and every pending event is evaluated
// again from the start. Nothing has reached the journal.
Status CommitProtocol::EvaluateFromFiles() {
  own_.clear();
  std::set<AccountId> stale = std::exchange(from_own_, {});
  working_ = working_at_read_;
  for (AccountId id : stale) {
    working_.erase(id);
    working_read_.erase(id);
    // Its flag was not read (LockAccounts): a writer that died since may have left its
    // record in the journal and not in the file. The repair also clears any flag set.
    if (flag_unread_.erase(id) != 0) {
      DB_RETURN_IF_ERROR(store_->RepairAccount(id, &locks_.at(id)).status());
    }
  }
  DB_RETURN_IF_ERROR(VouchAccountEntries());
  for (AccountId id : stale) DB_RETURN_IF_ERROR(ReadAccount(id));
  working_at_read_ = working_;
  records_.clear();
  record_event_.clear();
  key_heads_ = key_heads_locked_;
  for (size_t i = 0; i < events_.size(); ++i) {
    if (pending_[i]) results_[i] = EventResult{};
  }
  Evaluate();
  return Status::Ok();
}

// A flag this commit set on a slot none of its appended records touches: the slot has
// nothing in flight, so clearing it is what a repair would end in.
Status CommitProtocol::ClearUnusedFlags() {
  for (auto& [id, lk] : locks_) DB_RETURN_IF_ERROR(lk.Repaired());
  for (LockFile& lk : key_locks_) DB_RETURN_IF_ERROR(lk.Repaired());
  return Status::Ok();
}

// Called only after an append that found the journal as this store left it (Run). Why:
// then no other writer is at work, and the next commit's own states are likely to pass
// its append; otherwise keeping them would cost every contended commit a second trip to
// the mutex.
void CommitProtocol::KeepOwnStates(const std::map<AccountId, StoreImpl::OwnState>& installed) {
  if (own_.size() + installed.size() > kOwnStates) own_.clear();
  for (const auto& [id, st] : installed) own_[id] = st;
  *parts_.own_states = std::move(own_);
}

// Each event in order on copies; each success becomes a record.
void CommitProtocol::Evaluate() {
  key_heads_locked_ = key_heads_;
  std::map<AccountId, std::uint64_t> last_ref;  // account -> kPrevInGroup|index or txn
  for (auto& [id, a] : working_) last_ref[id] = a.last_txn;
  for (size_t i = 0; i < events_.size(); ++i) {
    if (!pending_[i]) continue;
    // Only the accounts this event names: copying all of working_ for every event made
    // a group of n events on n accounts cost O(n^2) account copies.
    std::map<AccountId, Account> trial;
    for (const Op& op : events_[i].ops) {
      for (AccountId id : {op.id, op.to}) {
        if (auto w = working_.find(id); w != working_.end()) trial.insert(*w);
      }
    }
    Status s;
    std::set<AccountId> touched;
    for (Op& op : events_[i].ops) {
      if (op.kind == OpKind::kOpen && trial.count(op.id)) {
        s = Status::RuleFailed(fmt::format("account {} already exists", op.id));
        break;
      }
      s = ApplyOp(&op, &trial);
      if (!s.ok()) break;
      touched.insert(op.id);
      if (op.kind == OpKind::kTransfer) touched.insert(op.to);
    }
    if (!s.ok()) {
      results_[i].status = s;
      continue;
    }
    Record r;
    r.key = events_[i].key;
    if (!r.key.empty()) {
      // The slot's chain: its head as locked, or the group's last record in the slot.
      std::uint64_t& prev = key_heads_.at(KeySlot(r.key));
      r.key_prev = prev;
      prev = kPrevInGroup | records_.size();
    }
    r.request = EventRequest(events_[i]);
    r.ops = events_[i].ops;
    r.reserve_ids = events_[i].reserve_ids;
    r.reverses = events_[i].reverses;
    r.snapshot_at = events_[i].snapshot_at;
    r.snapshot_hash = events_[i].snapshot_hash;
    for (AccountId id : touched) {
      Account& a = trial[id];
      a.version += 1;
      auto ref = last_ref.find(id);
      r.accounts.push_back(RecordAccount{a, ref == last_ref.end() ? 0 : ref->second});
      last_ref[id] = kPrevInGroup | records_.size();
    }
    for (auto& [id, a] : trial) working_[id] = std::move(a);
    records_.push_back(std::move(r));
    record_event_.push_back(i);
  }
}

// Why before the append: a writer killed anywhere after its record reaches the journal
// must leave a sign on each slot it touched that only a completed repair removes. The
// kernel lock says nothing once its holder is dead; the flag byte does.
Status CommitProtocol::SetFlags() {
  flagged_accounts_.clear();
  flagged_keys_.clear();
  for (const Record& r : records_) {
    for (const RecordAccount& ra : r.accounts) flagged_accounts_.insert(ra.state.id);
    if (!r.key.empty()) flagged_keys_.insert(KeySlot(r.key));
  }
  for (AccountId id : flagged_accounts_) DB_RETURN_IF_ERROR(locks_.at(id).MarkInFlight());
  for (LockFile& lk : key_locks_) {
    if (flagged_keys_.count(lk.slot()) != 0) DB_RETURN_IF_ERROR(lk.MarkInFlight());
  }
  return Status::Ok();
}

Status CommitProtocol::AppendAndSync() {
  // A failed append cuts its bytes off (or marks the store); a failed sync marks it. In
  // both cases the flags stay set, so a record that did reach the disk is repaired.
  DB_ASSIGN_OR_RETURN(std::optional<JournalPos> pos,
                      parts_.journal->Append(&records_, !from_own_.empty(), this));
  if (!pos) {
    // Another writer's record joined the journal since this store's last: the own states
    // may be stale (kInFlight -> kEvaluated). The second append is unconditional, as every
    // append without them is.
    DB_RETURN_IF_ERROR(EvaluateFromFiles());
    Advance(CommitState::kEvaluated);
    if (records_.empty()) return Status::Ok();
    DB_RETURN_IF_ERROR(SetFlags());
    Advance(CommitState::kInFlight);
    DB_ASSIGN_OR_RETURN(pos, parts_.journal->Append(&records_, false, this));
  }
  return parts_.journal->Sync(*pos, this);
}

Status CommitProtocol::FailAfterCommit(const Status& s) {
  ReleaseAll();
  (void)store_->MarkNeedsRecovery(
      fmt::format("updating files after commit failed: {}", s.message()));
  // Always an I/O error (exit 1), whatever failed: the change stands, so no code that
  // means "nothing changed" (a rule's 3, a busy 4) may be reported for it.
  return Status::IOError(fmt::format("the change is committed in the journal, but updating "
                                     "the account files failed ({}); run recover",
                                     s.message()))
      .set_maybe_applied();
}

// Past the commit point: every file gets the journal's state. Each account's flag is
// cleared by its Commit, right after its file is replaced, and only then.
Status CommitProtocol::Install(std::map<AccountId, StoreImpl::OwnState>* installed) {
  // The numbered records, not the working copies, hold each account's final state with
  // its last_txn filled in by Append.
  std::map<AccountId, Account> final_state;
  for (const Record& r : records_) {
    for (const RecordAccount& ra : r.accounts) final_state[ra.state.id] = ra.state;
  }
  for (auto& [id, lk] : locks_) {
    auto it = final_state.find(id);
    if (it == final_state.end()) {
      // Locked for a refused event only. Its flag is set when the event was refused only
      // when evaluated again (AppendAndSync), and none of the records touches it.
      (void)lk.Repaired();
      (void)lk.Rollback();
      continue;
    }
    // A file read under this lock is in its directory already (they are never removed):
    // the look for it is a call, a round trip on a shared file system, spared.
    if (!working_read_.count(id)) {
      if (Status s = store_->EnsureAccountDirs(id); !s.ok()) return FailAfterCommit(s);
    }
    std::string content = EncodeAccountFile(it->second);
    if (Status s = lk.WriteTemp(content); !s.ok()) return FailAfterCommit(s);
    if (installed != nullptr) (*installed)[id] = StoreImpl::OwnState{it->second, content.size()};
    installing_ = id;
    Advance(CommitState::kTempWritten);
    // LockFile::Commit's three steps, each its own: the file replaced, then (it now
    // matches the journal) its flag cleared, then its lock let go; the account's
    // keys/index entry between the first two.
    if (Status s = lk.InstallTemp(); !s.ok()) return FailAfterCommit(s);
    // After the file, never before: the entry must not name a state the file lacks. Before
    // the flag is cleared: a crash between the two leaves the flag, and the slot's next
    // holder repairs the file and sets the entry (RepairAccount); cleared first (as before
    // 2026-12-07), a crash there left the entry one state behind with no flag, and that
    // state's file put back went unseen. Under the lock: no later writer's entry is
    // overwritten with this older one. At every commit that installs the file, a
    // session's on its own states included: what the entry guards against is a copy of
    // the file put back, and a copy taken between two of a session's commits is newer
    // than the session's first. With the entry left at that first commit (as before
    // 2026-12-07), such a copy proved, and another process built on it: money moved
    // since the copy was lost, exit 0 (the test "set back: a copy of an account file
    // taken while a session commits to it ...").
    if (Status s = parts_.key_index->SetAccountHead(id, it->second.last_txn); !s.ok()) {
      return FailAfterCommit(s);
    }
    if (Status s = lk.Repaired(); !s.ok()) return FailAfterCommit(s);
    if (Status s = lk.Release(); !s.ok()) return FailAfterCommit(s);
    Advance(CommitState::kFileInstalled);
  }
  std::map<LockSlot, std::uint64_t> newest;  // per key slot, its last record here
  for (size_t k = 0; k < records_.size(); ++k) {
    results_[record_event_[k]].record = records_[k];
    if (!records_[k].key.empty()) newest[KeySlot(records_[k].key)] = records_[k].txn;
  }
  for (const auto& [slot, txn] : newest) {
    if (Status s = parts_.key_index->SetHead(slot.offset, txn); !s.ok()) {
      return FailAfterCommit(s);
    }
    Advance(CommitState::kKeyIndexed);
  }
  // A key slot's flag covers every key of the slot in this group: cleared once all are in.
  for (LockFile& lk : key_locks_) {
    if (Status s = lk.Repaired(); !s.ok()) return FailAfterCommit(s);
  }
  return Status::Ok();
}

void CommitProtocol::ReleaseAll() {
  for (auto& [id, lk] : locks_) lk.Abandon();
  for (LockFile& lk : key_locks_) lk.Abandon();
}

}  // namespace drovebank
