#include "drovebank/recovery.h"

#include "key_index.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "drovebank/internal/lockfile.h"
#include "newest_index.h"
#include "process_info.h"
#include "drovebank/store.h"

namespace drovebank {

namespace {

// A format 1 lock file's name: the account id or key it guarded ("00001001.lock",
// "key-K.lock"), nullopt for anything else.
std::optional<LockSlot> Format1LockSlot(std::string_view name) {
  constexpr std::string_view kSuffix = ".lock";
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  std::string_view stem = name.substr(0, name.size() - kSuffix.size());
  if (stem.starts_with("key-")) {
    std::string key(stem.substr(4));
    if (!ValidateKey(key).ok()) return std::nullopt;
    return KeySlot(key);
  }
  if (stem.size() != 8 || stem.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  auto id = static_cast<AccountId>(std::stoul(std::string(stem)));
  if (id == 0) return std::nullopt;
  return AccountSlot(id);
}

// The files of locks/ that belong to the lock tables.
bool IsLockTableName(std::string_view n) {
  return n == "accounts" || n == "keys" || n == "owners";
}

// A reusable spare of tmp/ ("spare-N"): never read, only reused.
bool IsSpareName(std::string_view n) {
  return n.starts_with("spare-") && n.size() > 6 &&
         n.substr(6).find_first_not_of("0123456789") == std::string_view::npos;
}

// Carries a format 1 store's lock files over: each becomes the repair flag of its slot
// (set before the file goes, so a crash in between only converts it again), and its
// wait queue directory is emptied and removed. Format 1 writers must have stopped: their
// liveness was judged by pid, which format 2 never does.
Status MigrateFormat1Locks(Env* env, const Layout& layout, LockTable* table, RecoverReport* r) {
  DB_ASSIGN_OR_RETURN(auto names, env->ListDir(layout.locks()));
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (IsLockTableName(n)) continue;
    std::string path = layout.locks() + "/" + n;
    if (n.ends_with(".q")) {
      auto tickets = env->ListDir(path);
      if (tickets.ok()) {
        for (const std::string& t : *tickets) DB_RETURN_IF_ERROR(env->Unlink(path + "/" + t));
      }
      DB_RETURN_IF_ERROR(env->RemoveDir(path));
      r->notes.push_back(
          fmt::format("removed the format 1 wait queue locks/{}", EscapeForTerminal(n)));
      continue;
    }
    auto slot = Format1LockSlot(n);
    if (!slot) {
      r->notes.push_back(fmt::format("left alone: unknown file locks/{}", EscapeForTerminal(n)));
      continue;
    }
    DB_RETURN_IF_ERROR(table->SetNeedsRepair(*slot, true));
    DB_RETURN_IF_ERROR(env->Unlink(path));
    ++r->dead_locks;
    r->notes.push_back(fmt::format("converted the format 1 lock file locks/{} into a repair flag",
                                   EscapeForTerminal(n)));
  }
  // The shared mapping earlier builds kept (journal/state replaces it); nothing reads it.
  Status gone = env->Unlink(layout.journal() + "/shm");
  if (gone.ok()) r->notes.push_back("removed journal/shm, which this version no longer uses");
  if (!gone.ok() && gone.code() != Code::kNotFound) return gone;
  return Status::Ok();
}

// Collects, from a list of records, the newest state of each account.
std::map<AccountId, Account> NewestStates(const std::vector<Record>& records) {
  std::map<AccountId, Account> out;
  for (const Record& r : records) {
    for (const RecordAccount& ra : r.accounts) out[ra.state.id] = ra.state;
  }
  return out;
}

// Walks every DD.csv under accounts/ in id order.
Status ForEachAccountFile(Env* env, const Layout& layout,
                          const std::function<Status(AccountId, const std::string&)>& f) {
  DB_ASSIGN_OR_RETURN(auto l1, env->ListDir(layout.accounts()));
  std::sort(l1.begin(), l1.end());
  for (const auto& a : l1) {
    std::string da = layout.accounts() + "/" + a;
    auto l2 = env->ListDir(da);
    if (!l2.ok()) continue;
    std::sort(l2->begin(), l2->end());
    for (const auto& b : *l2) {
      std::string db = da + "/" + b;
      auto l3 = env->ListDir(db);
      if (!l3.ok()) continue;
      std::sort(l3->begin(), l3->end());
      for (const auto& c : *l3) {
        std::string dc = db + "/" + c;
        auto l4 = env->ListDir(dc);
        if (!l4.ok()) continue;
        std::sort(l4->begin(), l4->end());
        for (const auto& d : *l4) {
          if (d.size() != 6 || d.substr(2) != ".csv") continue;
          auto id = ParseAccountId(std::string(a + b + c + d.substr(0, 2)).substr(
              std::string(a + b + c + d.substr(0, 2)).find_first_not_of('0') ==
                      std::string::npos
                  ? 0
                  : std::string(a + b + c + d.substr(0, 2)).find_first_not_of('0')));
          if (!id.ok()) continue;
          DB_RETURN_IF_ERROR(f(*id, dc + "/" + d));
        }
      }
    }
  }
  return Status::Ok();
}

// Check's first step: what recover would clear besides the files, counted and noted
// without changing anything: the NEEDS_RECOVERY marker, repair flags of writers that died,
// format 1 lock files, leftover temp files. Returns the lock table, read-only (nullptr for a
// format 1 store, which has none).
Result<std::unique_ptr<LockTable>> CheckLocksAndLeftovers(Env* env, const Layout& layout,
                                                          RecoverReport* r) {
  if (env->Stat(layout.recovery_marker()).ok()) {
    r->marker_cleared = true;
    r->notes.push_back("the store is marked as needing recovery (NEEDS_RECOVERY)");
  }
  auto table = LockTable::Open(env, layout, /*create=*/false, /*read_only=*/true);
  if (!table.ok() && table.status().code() == Code::kNotFound) {
    ++r->dead_locks;
    r->notes.push_back("the store is in format 1 (lock files): recover upgrades it");
  } else if (!table.ok()) {
    return table.status();
  } else {
    DB_ASSIGN_OR_RETURN(auto flagged, (*table)->Flagged());
    for (const LockSlot& slot : flagged) {
      DB_ASSIGN_OR_RETURN(bool held, (*table)->HeldElsewhere(slot));
      if (held) {
        ++r->live_locks;  // a writer in flight: its own to clear
        continue;
      }
      // Its writer may have cleared it and let go since the list was read.
      DB_ASSIGN_OR_RETURN(bool still, (*table)->NeedsRepair(slot));
      if (!still) continue;
      {
        ++r->dead_locks;
        r->notes.push_back(fmt::format("{} has a repair flag left by a writer that died",
                                       layout.SlotLock(slot).what));
      }
    }
  }
  if (auto locks = env->ListDir(layout.locks()); locks.ok()) {
    for (const std::string& n : *locks) {
      if (IsLockTableName(n)) continue;
      ++r->dead_locks;
      r->notes.push_back(fmt::format("locks/{} is left from format 1", EscapeForTerminal(n)));
    }
  }
  if (auto temps = env->ListDir(layout.tmp()); temps.ok()) {
    for (const std::string& n : *temps) {
      if (IsSpareName(n)) continue;
      ++r->temps_removed;
      r->notes.push_back(fmt::format("temp file {} is left over", EscapeForTerminal(n)));
    }
  }
  if (!table.ok()) return std::unique_ptr<LockTable>();
  return std::move(table).value();
}

Status Check(const RecoverOptions& o, Env* env, RecoverReport* r) {
  Layout layout(ResolveDataDir(o.data_dir));
  if (!env->Stat(layout.root()).ok()) {
    return Status::NotFound(fmt::format("no data directory at {}", layout.root()));
  }
  ConfinePaths(layout.root(), /*read_only=*/true);
  DB_ASSIGN_OR_RETURN(std::unique_ptr<LockTable> table, CheckLocksAndLeftovers(env, layout, r));
  DB_ASSIGN_OR_RETURN(auto journal, Journal::OpenReadOnly(env, layout));
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal->ReadCheckpoint());
  JournalPos snapshot_end = journal->End();
  auto records = journal->ReadRange(ckpt.pos, snapshot_end);
  if (!records.ok()) {
    ++r->files_repaired;
    r->notes.push_back(records.status().message());
    return Status::Ok();
  }
  r->records_replayed = records->size();
  LockTable* locks = table.get();
  // Only to wait for writers (a lock changes no file); absent on a store we cannot write.
  std::unique_ptr<LockTable> writable_locks;
  if (locks != nullptr) {
    if (auto rw = LockTable::Open(env, layout, /*create=*/false); rw.ok()) {
      writable_locks = std::move(rw).value();
    }
  }
  auto read_file = [&](AccountId id) {
    auto text = env->ReadFile(layout.AccountPath(id));
    return text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
  };
  auto wrong = [&](const Account& state, const Result<Account>& cur) {
    return !cur.ok() || cur->version < state.version || (o.full && !(*cur == state));
  };
  // The newest state of `state.id` in the journal from `from` to `to`, into *state.
  auto newest_since = [&](JournalPos from, JournalPos to, Account* state) {
    return journal->ForEach(from, to, [&](Record& rec, JournalPos) {
      for (RecordAccount& ra : rec.accounts) {
        if (ra.state.id == state->id) *state = std::move(ra.state);
      }
      return Status::Ok();
    });
  };
  // Why look again: the reads above take no lock, so a live writer may be between its
  // journal sync and its file, may have moved on past this snapshot of the journal, or
  // may be rewriting the very inode just read (a reused spare). Under the account's lock
  // the look is exact: every record of the account up to the journal's end is in its
  // file, unless a dead writer's flag says otherwise. A store this process cannot write
  // (its lock table read-only) gets a weaker second look: wait until the lock is free,
  // then read the journal's end, then the file.
  auto look_again = [&](Account* state, Result<Account>* cur) -> Status {
    if (writable_locks) {
      LockWait wait;
      wait.timeout_seconds = o.lock_timeout;
      LockFile lock(writable_locks.get(), AccountSlot(state->id), layout.AccountLock(state->id));
      DB_RETURN_IF_ERROR(lock.Hold(wait));
      DB_RETURN_IF_ERROR(newest_since(snapshot_end, journal->End(), state));
      *cur = read_file(state->id);
      return lock.Rollback();
    }
    for (int look = 0; locks != nullptr && look < 200; ++look) {
      JournalPos end = journal->End();
      DB_ASSIGN_OR_RETURN(bool held, locks->HeldElsewhere(AccountSlot(state->id)));
      if (held) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      *cur = read_file(state->id);
      if (newest_since(snapshot_end, end, state).ok()) break;
    }
    return Status::Ok();
  };
  std::set<AccountId> reported_corrupt;
  auto report_corrupt = [&](AccountId id, const Status& why) {
    ++r->files_repaired;
    reported_corrupt.insert(id);
    r->notes.push_back(DescribeBadAccountFile(layout.AccountPath(id), why));
  };
  // A file whose version is below its account's newest state is behind; one at or above
  // it but different holds a state the journal never committed.
  auto compare = [&](Account state) -> Status {
    Result<Account> cur = read_file(state.id);
    if (wrong(state, cur)) DB_RETURN_IF_ERROR(look_again(&state, &cur));
    if (!cur.ok() && cur.status().code() == Code::kCorruption) {
      report_corrupt(state.id, cur.status());
    } else if (!cur.ok() || cur->version < state.version) {
      ++r->files_repaired;
      r->notes.push_back(fmt::format("account {} is behind the journal", state.id));
    } else if (o.full && !(*cur == state)) {
      ++r->files_repaired;
      r->notes.push_back(fmt::format("{} differs from the journal", layout.AccountPath(state.id)));
    }
    return Status::Ok();
  };
  std::optional<NewestIndex> index;
  if (o.full) {
    DB_ASSIGN_OR_RETURN(index, NewestIndex::Build(*journal, ckpt.max_id));
    DB_RETURN_IF_ERROR(
        index->ForEachNewest(*journal, [&](const Account& s, const Record&) { return compare(s); }));
  } else {
    for (auto& [id, state] : NewestStates(*records)) DB_RETURN_IF_ERROR(compare(state));
  }
  if (r->marker_cleared && !o.full) {
    // As recover does on a marked store: it may be marked for a file the tail never
    // touched, which recover then rebuilds.
    DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string&) {
      Result<Account> cur = read_file(id);
      if (!cur.ok() && !reported_corrupt.count(id)) report_corrupt(id, cur.status());
      return Status::Ok();
    }));
  }
  KeyIndex keys(env, layout.KeyIndexPath());
  for (const Record& rec : *records) {
    if (rec.key.empty()) continue;
    auto head = keys.Head(KeySlot(rec.key).offset);
    // As for the account files: a live writer sets the entry after its sync.
    if ((!head.ok() || *head < rec.txn) && writable_locks) {
      LockWait wait;
      wait.timeout_seconds = o.lock_timeout;
      LockFile lock(writable_locks.get(), KeySlot(rec.key), layout.KeyLock(rec.key));
      DB_RETURN_IF_ERROR(lock.Hold(wait));
      head = keys.Head(KeySlot(rec.key).offset);
      DB_RETURN_IF_ERROR(lock.Rollback());
    }
    if (!head.ok() || *head < rec.txn) {
      ++r->files_repaired;
      r->notes.push_back(fmt::format("keys/index does not reach the record of key '{}' (txn {})",
                                     rec.key, rec.txn));
    }
  }
  if (o.full) {
    DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
      ++r->accounts_verified;
      if (index->Has(id)) return Status::Ok();
      auto text = env->ReadFile(p);
      bool readable = text.ok() && DecodeAccountFile(*text, id).ok();
      ++r->quarantined;
      r->notes.push_back(
          fmt::format("{} is {} and not in the journal", p, readable ? "readable" : "corrupt"));
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

// recover --full: every account's newest state in the whole journal against its file;
// stale or corrupt files rebuilt, files the journal cannot account for quarantined.
Status VerifyAll(const RecoverOptions& o, Env* env, Store* store, RecoverReport* r) {
  const Layout& layout = store->layout();
  // Two streaming passes over the journal (where each account's newest state is; then
  // each of those states against its file), so memory is 8 bytes an account rather
  // than the whole history.
  const Journal& journal = store->journal();
  size_t total = journal.account_count();
  DB_ASSIGN_OR_RETURN(auto index, NewestIndex::Build(journal, journal.max_id()));
  std::vector<AccountId> differing;
  size_t checked = 0;
  DB_RETURN_IF_ERROR(index.ForEachNewest(journal, [&](const Account& state, const Record&) {
    if (o.progress) o.progress(++checked, total);
    DB_ASSIGN_OR_RETURN(bool wrote, store->ApplyState(state, /*wait=*/true));
    if (wrote) return Status::Ok();
    // ApplyState keeps a readable file at or past the journal's version; one that is
    // not the journal's state is looked at again below.
    auto text = env->ReadFile(layout.AccountPath(state.id));
    auto cur = text.ok() ? DecodeAccountFile(*text, state.id) : Result<Account>(text.status());
    if (cur.ok() && !(*cur == state)) differing.push_back(state.id);
    return Status::Ok();
  }));
  // keys/index from every keyed record: a slot must name its newest one, which may be in
  // any record, not only in some account's newest.
  DB_RETURN_IF_ERROR(journal.ForEach(JournalPos{}, journal.End(), [&](Record& rec, JournalPos) {
    if (rec.key.empty()) return Status::Ok();
    return store->ApplyKey(rec, /*wait=*/true).status();
  }));
  auto quarantine = [&](AccountId id, const std::string& p, std::string_view why) -> Status {
    DB_RETURN_IF_ERROR(env->MakeDir(layout.quarantine(), 0700));
    std::string dest = fmt::format("{}/account-{:08}-{}.csv", layout.quarantine(), id,
                                   NowMillis());
    DB_RETURN_IF_ERROR(env->Rename(p, dest));
    ++r->quarantined;
    r->notes.push_back(fmt::format("moved {} ({}) to {}", p, why, dest));
    return Status::Ok();
  };
  for (AccountId id : differing) {
    // A writer may have committed since the index was built, so look again under the
    // account's lock with the journal's newest records. A writer commits to the journal
    // before it replaces the file, so an honest file always equals the journal's latest
    // state of its account.
    std::string p = layout.AccountPath(id);
    LockWait wait;
    wait.timeout_seconds = o.lock_timeout;
    LockFile lock(&store->locks(), AccountSlot(id), layout.AccountLock(id));
    DB_RETURN_IF_ERROR(lock.Hold(wait));
    DB_ASSIGN_OR_RETURN(Account latest, index.Latest(journal, id));
    auto text = env->ReadFile(p);
    auto cur = text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
    if (cur.ok() && !(*cur == latest)) DB_RETURN_IF_ERROR(store->RestoreAccountFile(&lock, latest));
  }
  DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
    ++r->accounts_verified;
    if (index.Has(id)) return Status::Ok();
    auto text = env->ReadFile(p);
    bool readable = text.ok() && DecodeAccountFile(*text, id).ok();
    return quarantine(id, p,
                      readable ? "an account the journal never had" : "corrupt, not in the journal");
  }));
  return Status::Ok();
}

// A marked store may be marked for an account file found corrupt. The journal tail
// replayed rebuilds only files changed since the checkpoint; an older one is rebuilt here
// from its account's newest record, found without a whole-journal pass. Clearing the
// marker over a file the journal cannot rebuild would hide it: that one is left to
// --full. One read per account file.
Status RepairCorruptFiles(const RecoverOptions& o, Env* env, Store* store) {
  const Layout& layout = store->layout();
  std::vector<std::string> unknown;
  DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
    auto text = env->ReadFile(p);
    if (text.ok() && DecodeAccountFile(*text, id).ok()) return Status::Ok();
    // Read again under the lock: unlocked, the inode may be a writer's spare by now.
    LockWait wait;
    wait.timeout_seconds = o.lock_timeout;
    LockFile lock(&store->locks(), AccountSlot(id), layout.AccountLock(id));
    DB_RETURN_IF_ERROR(lock.Hold(wait));
    text = env->ReadFile(p);
    if (text.ok() && DecodeAccountFile(*text, id).ok()) return lock.Rollback();
    auto newest = NewestStateOf(store->journal(), id);
    if (!newest.ok() && newest.status().code() == Code::kNotFound) {
      unknown.push_back(p);
      return lock.Rollback();
    }
    if (!newest.ok()) return newest.status();
    DB_RETURN_IF_ERROR(store->RestoreAccountFile(&lock, *newest));
    return lock.Rollback();
  }));
  if (!unknown.empty()) {
    return Status::Corruption(fmt::format(
        "{} account file(s) are corrupt and not in the journal (first: {}); run `recover "
        "--full` to move them to quarantine/",
        unknown.size(), unknown.front()));
  }
  return Status::Ok();
}

}  // namespace

Status Recover(const RecoverOptions& o, RecoverReport* r) {
  Env* env = o.env != nullptr ? o.env : DefaultEnv();
  if (o.check_only) return Check(o, env, r);

  StoreOptions so;
  so.data_dir = ResolveDataDir(o.data_dir);
  so.env = env;
  so.lock_wait.timeout_seconds = o.lock_timeout;
  so.upgrade = true;
  so.on_repair = [r](const FileRepair& repair) {
    ++r->files_repaired;
    if (!repair.kept_as.empty()) ++r->quarantined;
    r->notes.push_back(DescribeFileRepair(repair));
    r->repairs.push_back(repair);
  };
  DB_ASSIGN_OR_RETURN(auto store, Store::Open(so));
  const Layout& layout = store->layout();
  bool marked = store->NeedsRecovery();
  // After a failed sync or a torn write the shared state describes what this boot
  // wrote, not what the disk holds; rebuild it from the disk.
  if (marked) DB_RETURN_IF_ERROR(store->journal().Reinitialize());
  env->FaultPoint("recover", "after_open");

  DB_RETURN_IF_ERROR(MigrateFormat1Locks(env, layout, &store->locks(), r));
  env->FaultPoint("recover", "after_upgrade");

  // Every record after the checkpoint, applied under each account's lock. Flags stay:
  // the next step clears each only after its own repair.
  DB_RETURN_IF_ERROR(store->ReplaySinceCheckpoint(&r->records_replayed).status());
  env->FaultPoint("recover", "after_replay");

  // Flags the replay did not meet (a record before the checkpoint, or none at all): each
  // is repaired under its lock and only then cleared. A live writer's is waited for.
  DB_ASSIGN_OR_RETURN(size_t settled, store->RepairFlagged(/*wait=*/true));
  r->dead_locks += settled;
  if (settled > 0) {
    r->notes.push_back(fmt::format("settled {} repair flag(s) left by writers that died", settled));
  }
  env->FaultPoint("recover", "after_flags");

  DB_ASSIGN_OR_RETURN(auto temp_names, env->ListDir(layout.tmp()));
  for (const std::string& n : temp_names) {
    if (IsSpareName(n)) continue;  // reused by the next writer; never read
    Status s = env->Unlink(layout.tmp() + "/" + n);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    ++r->temps_removed;
    r->notes.push_back(fmt::format("removed temp file tmp/{}", EscapeForTerminal(n)));
  }
  env->FaultPoint("recover", "after_temps");

  if (o.full) {
    DB_RETURN_IF_ERROR(VerifyAll(o, env, store.get(), r));
  } else if (marked) {
    DB_RETURN_IF_ERROR(RepairCorruptFiles(o, env, store.get()));
  }

  DB_RETURN_IF_ERROR(store->Checkpoint(/*wait=*/true));
  env->FaultPoint("recover", "after_checkpoint");
  if (marked) {
    DB_RETURN_IF_ERROR(env->Unlink(layout.recovery_marker()));
    DB_RETURN_IF_ERROR(env->SyncDir(layout.root()));
    r->marker_cleared = true;
    r->notes.push_back("cleared the NEEDS_RECOVERY marker");
  }
  env->FaultPoint("recover", "done");
  return Status::Ok();
}

}  // namespace drovebank
