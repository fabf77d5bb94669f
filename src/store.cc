#include "drovebank/store.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <system_error>
#include <thread>

namespace drovebank {

namespace {

constexpr size_t kWarmAccounts = 16;  // see the warming thread in CommitGroup

// The request text a key is compared by: the ops', and a reservation's when there is one
// (so a key reused for another reservation is refused like one reused for other ops).
std::string EventRequest(const Event& e) {
  std::string text = RequestText(e.ops);
  if (e.reserve_ids != 0) {
    text += fmt::format("{}reserve-ids {}", text.empty() ? "" : "; ", e.reserve_ids);
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  Env* env = options.env != nullptr ? options.env : DefaultEnv();
  Layout layout(options.data_dir);
  DB_RETURN_IF_ERROR(PrepareDataDir(env, layout));
  std::unique_ptr<Store> store(new Store(env, layout, options.lock_wait));
  store->warm_from_accounts_ = options.warm_from_accounts;
  Store* raw = store.get();
  DB_ASSIGN_OR_RETURN(store->journal_,
                      Journal::Open(
                          env, layout,
                          [raw](const std::vector<Record>& records) {
                            return raw->ApplyRecords(records, /*wait=*/false).status();
                          },
                          options.segment_bytes));
  return store;
}

bool Store::NeedsRecovery() { return env_->Stat(layout_.recovery_marker()).ok(); }

Status Store::MarkNeedsRecovery(std::string_view why) {
  return WriteRecoveryMarker(env_, layout_, why);
}

Result<Account> Store::ReadAccount(AccountId id) {
  std::string path = layout_.AccountPath(id);
  auto text = env_->ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) {
      return Status::NotFound(fmt::format("no account {}", id));
    }
    return text.status();
  }
  auto acct = DecodeAccountFile(*text, id);
  if (!acct.ok()) {
    std::string why = fmt::format("{} is corrupt: {}", path, acct.status().message());
    (void)MarkNeedsRecovery(why);
    return Status::Corruption(why + "; the store needs `recover`");
  }
  return acct;
}

Result<Account> Store::Get(AccountId id) {
  // A lock file whose owner died may mean a committed change not yet in the file: take the
  // lock over and repair before reading. A live owner's change is still in flight and not
  // acknowledged, so the file as it is is the latest acknowledged state.
  LockFile lock(env_, layout_.AccountLock(id));
  if (env_->Stat(lock.paths().lock).ok()) {
    Status s = lock.TryHold();
    if (s.ok() && lock.took_over_dead_owner()) {
      DB_RETURN_IF_ERROR(RepairAccount(id, &lock));
    } else if (!s.ok() && s.code() != Code::kBusy) {
      return s;
    }
  }
  return ReadAccount(id);
}

Result<EventResult> Store::Commit(Event event, std::string_view fault_path) {
  std::vector<Event> events;
  events.push_back(std::move(event));
  DB_ASSIGN_OR_RETURN(auto results, CommitGroup(std::move(events), fault_path));
  if (!results[0].status.ok()) return results[0].status;
  return std::move(results[0]);
}

Result<std::uint64_t> Store::ReserveIds(AccountId last, std::string_view fault_path) {
  if (last == 0 || last > kMaxAccountId) {
    return Status::InvalidArgument(
        fmt::format("cannot reserve ids up to {}: ids are 1 to {}", last, kMaxAccountId));
  }
  // What the committed records use up, not the shared state's max_id: that also counts
  // ids handed to opens that never committed, which a reboot forgets. Reading the
  // checkpoint before the records can only under-count (a checkpoint in between hides
  // records from this sum), and the worst an under-count does is one more reservation.
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(std::vector<Record> tail, RecordsSinceCheckpoint());
  AccountId used = ckpt.max_id;
  for (const Record& r : tail) used = std::max(used, LargestIdUsed(r));
  if (used >= last) return std::uint64_t{0};
  Event e;
  e.reserve_ids = last;
  DB_ASSIGN_OR_RETURN(EventResult res, Commit(std::move(e), fault_path));
  return res.record.txn;
}

Result<std::vector<EventResult>> Store::CommitGroup(std::vector<Event> events,
                                                    std::string_view fault_path) {
  if (NeedsRecovery()) {
    // Say why, from the marker's last line: it names the corrupt file or the failed call.
    std::string why;
    if (auto text = env_->ReadFile(layout_.recovery_marker()); text.ok()) {
      std::string_view t = *text;
      while (!t.empty() && t.back() == '\n') t.remove_suffix(1);
      auto nl = t.rfind('\n');
      why = std::string(nl == std::string_view::npos ? t : t.substr(nl + 1));
    }
    return Status::NeedsRecovery(fmt::format(
        "the store needs recovery ({}); run `recover` first; nothing changed",
        why.empty() ? "see NEEDS_RECOVERY" : why));
  }
  std::vector<EventResult> results(events.size());

  // Key locks first (sorted), then account locks in ascending id order: one global order,
  // so two writers can never wait on each other in a cycle.
  std::set<std::string> keys;
  for (const Event& e : events) {
    if (!e.key.empty()) keys.insert(e.key);
  }
  std::vector<LockFile> key_locks;
  key_locks.reserve(keys.size());
  std::map<std::string, Record> seen_keys;
  for (const std::string& key : keys) {
    DB_RETURN_IF_ERROR(ValidateKey(key));
    key_locks.emplace_back(env_, layout_.KeyLock(key));
    DB_RETURN_IF_ERROR(key_locks.back().Hold(lock_wait_));
    if (key_locks.back().took_over_dead_owner()) {
      DB_RETURN_IF_ERROR(RepairKey(key, &key_locks.back()));
    }
    auto text = env_->ReadFile(layout_.KeyPath(key));
    if (text.ok()) {
      std::string_view t = *text;
      if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
      auto rec = DecodeRecordLine(t);
      if (!rec.ok()) {
        return Status::Corruption(fmt::format("{} is corrupt", layout_.KeyPath(key)));
      }
      seen_keys.emplace(key, std::move(rec).value());
    } else if (text.status().code() != Code::kNotFound) {
      return text.status();
    }
  }

  std::vector<bool> pending(events.size(), true);
  std::set<std::string> keys_in_group;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.key.empty()) continue;
    auto it = seen_keys.find(e.key);
    bool dup_in_group = !keys_in_group.insert(e.key).second;
    if (it != seen_keys.end() || dup_in_group) {
      pending[i] = false;
      if (it != seen_keys.end() && it->second.request == EventRequest(e)) {
        results[i].record = it->second;
        results[i].replayed = true;
      } else {
        results[i].status = Status::KeyReused(fmt::format(
            "transaction key '{}' was already used for a different request; nothing changed",
            e.key));
      }
    }
  }

  std::set<AccountId> ids;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!pending[i]) continue;
    for (Op& op : events[i].ops) {
      // An open with an id given (legacy import keeps ids) checks it is free below.
      if (op.kind == OpKind::kOpen && op.id == 0) {
        DB_ASSIGN_OR_RETURN(op.id, journal_->AllocateId());
      }
      ids.insert(op.id);
      if (op.kind == OpKind::kTransfer) ids.insert(op.to);
    }
  }
  ids.erase(0);
  // Why a thread: replacing an account file modifies its inode, and in a big store that
  // inode's disk block is usually not cached, so the rename would stop ~1 ms to read it
  // (docs/BENCHMARKS.md, finding 9). Warming it here overlaps that read with the locks,
  // the append and the journal sync. Only for a few accounts: a big group's files are
  // written long after its one sync anyway. Only in a big store: warming dirties the
  // inode before the sync, so the rename after it waits for the journal to finish
  // writing that block, which cost 17% of a small store's deposits and 34% of its
  // transfers (finding 12); a small store's inode blocks stay cached anyway.
  std::jthread warm;  // joined before the files are written, or on any early return
  if (!ids.empty() && ids.size() <= kWarmAccounts &&
      journal_->account_count() >= warm_from_accounts_) {
    std::vector<std::string> paths;
    for (AccountId id : ids) paths.push_back(layout_.AccountPath(id));
    try {
      warm = std::jthread([env = env_, paths = std::move(paths)] { env->WarmForReplace(paths); });
    } catch (const std::system_error&) {
      // No thread, no warming: only slower.
    }
  }
  std::map<AccountId, LockFile> locks;
  std::map<AccountId, Account> working;
  for (AccountId id : ids) {
    auto [it, _] = locks.emplace(id, LockFile(env_, layout_.AccountLock(id)));
    DB_RETURN_IF_ERROR(it->second.Hold(lock_wait_));
    if (it->second.took_over_dead_owner()) DB_RETURN_IF_ERROR(RepairAccount(id, &it->second));
  }
  env_->FaultPoint(fault_path, "locks_held");
  for (AccountId id : ids) {
    auto acct = ReadAccount(id);
    if (acct.ok()) {
      working.emplace(id, std::move(acct).value());
    } else if (acct.status().code() != Code::kNotFound) {
      return acct.status();
    }
  }

  // Evaluate in order on copies; each success becomes a record.
  std::vector<Record> records;
  std::vector<size_t> record_event;
  std::map<AccountId, std::uint64_t> last_ref;  // account -> kPrevInGroup|index or txn
  for (auto& [id, a] : working) last_ref[id] = a.last_txn;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!pending[i]) continue;
    // Only the accounts this event names: copying all of `working` for every event made
    // a group of n events on n accounts cost O(n^2) account copies.
    std::map<AccountId, Account> trial;
    for (const Op& op : events[i].ops) {
      for (AccountId id : {op.id, op.to}) {
        if (auto w = working.find(id); w != working.end()) trial.insert(*w);
      }
    }
    Status s;
    std::set<AccountId> touched;
    for (Op& op : events[i].ops) {
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
      results[i].status = s;
      continue;
    }
    Record r;
    r.key = events[i].key;
    r.request = EventRequest(events[i]);
    r.ops = events[i].ops;
    r.reserve_ids = events[i].reserve_ids;
    for (AccountId id : touched) {
      Account& a = trial[id];
      a.version += 1;
      auto ref = last_ref.find(id);
      r.accounts.push_back(RecordAccount{a, ref == last_ref.end() ? 0 : ref->second});
      last_ref[id] = kPrevInGroup | records.size();
    }
    for (auto& [id, a] : trial) working[id] = std::move(a);
    records.push_back(std::move(r));
    record_event.push_back(i);
  }
  if (records.empty()) return results;

  DB_ASSIGN_OR_RETURN(JournalPos pos, journal_->Append(&records, fault_path));
  Status synced = journal_->Sync(pos, fault_path);
  if (!synced.ok()) {
    // The records may be durable: leave every lock for repair from the journal.
    for (auto& [id, lk] : locks) lk.Abandon();
    for (LockFile& lk : key_locks) lk.Abandon();
    return synced;
  }
  env_->FaultPoint(fault_path, "after_journal_sync");
  if (warm.joinable()) warm.join();
  // The numbered records, not the working copies, hold each account's final state with
  // its last_txn filled in by Append.
  for (const Record& r : records) {
    for (const RecordAccount& ra : r.accounts) working[ra.state.id] = ra.state;
  }

  // Past the commit point: publish the new states. Any failure here leaves the locks in
  // place and marks the store, so the journal's version is what everyone gets next.
  auto fail_after_commit = [&](const Status& s) -> Status {
    for (auto& [id, lk] : locks) lk.Abandon();
    for (LockFile& lk : key_locks) lk.Abandon();
    (void)MarkNeedsRecovery(fmt::format("updating files after commit failed: {}", s.message()));
    return Status(s.code(), fmt::format("the change is committed in the journal, but updating "
                                        "the account files failed ({}); run recover",
                                        s.message()))
        .set_maybe_applied();
  };
  for (auto& [id, lk] : locks) {
    auto it = working.find(id);
    if (it == working.end()) {
      Status s = lk.Rollback();
      if (!s.ok()) return fail_after_commit(s);
      continue;
    }
    if (Status s = EnsureAccountDirs(id); !s.ok()) return fail_after_commit(s);
    if (Status s = lk.WriteTemp(EncodeAccountFile(it->second)); !s.ok()) {
      return fail_after_commit(s);
    }
    env_->FaultPoint(fault_path, "after_temp_write");
    if (Status s = lk.Commit(); !s.ok()) return fail_after_commit(s);
    env_->FaultPoint(fault_path, "after_rename");
  }
  // By key file path: scanning every key lock for every record was O(n^2) in a group.
  std::map<std::string, LockFile*> key_lock_of;
  for (LockFile& lk : key_locks) key_lock_of.emplace(lk.paths().target, &lk);
  for (size_t k = 0; k < records.size(); ++k) {
    EventResult& res = results[record_event[k]];
    res.record = records[k];
    if (records[k].key.empty()) continue;
    if (auto found = key_lock_of.find(layout_.KeyPath(records[k].key));
        found != key_lock_of.end()) {
      LockFile& lk = *found->second;
      if (Status s = env_->MakeDir(layout_.KeyDir(records[k].key), 0700); !s.ok()) {
        return fail_after_commit(s);
      }
      if (Status s = lk.WriteTemp(EncodeRecord(records[k])); !s.ok()) {
        return fail_after_commit(s);
      }
      if (Status s = lk.Commit(); !s.ok()) return fail_after_commit(s);
    }
  }
  for (LockFile& lk : key_locks) (void)lk.Rollback();
  env_->FaultPoint(fault_path, "done");
  if (journal_->rotated()) {
    journal_->clear_rotated();
    (void)Checkpoint(/*wait=*/false);
  }
  return results;
}

Status Store::EnsureAccountDirs(AccountId id) {
  // Fast path: the leaf directory exists for all but the first account of each 100.
  auto dirs = layout_.AccountDirs(id);
  if (env_->Stat(dirs[2]).ok()) return Status::Ok();
  for (const std::string& d : dirs) DB_RETURN_IF_ERROR(env_->MakeDir(d, 0700));
  return Status::Ok();
}

}  // namespace drovebank
