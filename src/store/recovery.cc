#include "drovebank/recovery.h"

#include "key_index.h"

#include <fcntl.h>

#include <algorithm>

#include <malloc.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lockfile.h"
#include "newest_index.h"
#include "process_info.h"
#include "account_tree.h"
#include "store_impl.h"
#include "recovery_parts.h"
#include "store_files.h"

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

// Moves an entry that recover cannot use and did not write (a folder in tmp/, a stranger's
// file in locks/) into quarantine/, renamed, never deleted: it is then out of the way of
// every later run instead of failing each one. Returns where it went.
Result<std::string> MoveToQuarantine(Env* env, const Layout& layout, const std::string& dir,
                                     const std::string& name) {
  DB_RETURN_IF_ERROR(env->MakeDir(layout.quarantine(), 0700));
  std::string base = fmt::format("{}/{}-{}", layout.quarantine(), name, NowMillis());
  std::string to = base;
  for (int n = 2; env->Stat(to).ok(); ++n) to = fmt::format("{}-{}", base, n);
  DB_RETURN_IF_ERROR(env->Rename(dir + "/" + name, to));
  DB_RETURN_IF_ERROR(env->SyncDir(layout.quarantine()));
  DB_RETURN_IF_ERROR(env->SyncDir(dir));
  return layout.Relative(to);
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
      DB_ASSIGN_OR_RETURN(std::string kept, MoveToQuarantine(env, layout, layout.locks(), n));
      ++r->quarantined;
      r->notes.push_back(fmt::format("moved locks/{}, which no drovebank writes, to {}",
                                     EscapeForTerminal(n), EscapeForTerminal(kept)));
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

// Moves account `id`'s file `p` to quarantine/, saying why.
Status QuarantineAccountFile(Env* env, const Layout& layout, AccountId id, const std::string& p,
                             std::string_view why, RecoverReport* r) {
  DB_RETURN_IF_ERROR(env->MakeDir(layout.quarantine(), 0700));
  std::string dest =
      fmt::format("{}/account-{:08}-{}.csv", layout.quarantine(), id, NowMillis());
  DB_RETURN_IF_ERROR(env->Rename(p, dest));
  ++r->quarantined;
  r->notes.push_back(fmt::format("moved {} ({}) to {}", p, why, dest));
  return Status::Ok();
}

// A journal that has no account at all beside account files is a lost journal, not a
// store of strays: moving every account away would make it worse. Nothing is moved.
Status RefuseLostJournal(Env* env, const Layout& layout) {
  size_t files = 0;
  DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId, const std::string&) {
    ++files;
    return Status::Ok();
  }));
  if (files == 0) return Status::Ok();
  return Status::Corruption(fmt::format(
      "the journal holds no account, but {} account file(s) exist: the journal is lost or "
      "emptied; restore {} from a backup; nothing was moved",
      files, layout.journal()));
}

// recover never makes a store: a folder without the marks of one (FORMAT, lock tables,
// journal segments) is refused before anything in it is touched. With --accept-loss, the
// journal is then cut to its whole history first.
Status RefuseIfNotAStore(const RecoverOptions& o, Env* env, const std::string& data_dir,
                           RecoverReport* r) {
  Layout at(data_dir);
  if (!env->Stat(at.root()).ok()) {
    return Status::InvalidArgument(
        fmt::format("there is no data directory at {}; nothing changed", at.root()));
  }
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, at));
  if (format.version == 0) {
    return Status::InvalidArgument(fmt::format(
        "{} is not a drovebank data directory (it has no FORMAT marker, lock tables or "
        "journal segments); nothing changed",
        at.root()));
  }
  if (o.accept_loss) DB_RETURN_IF_ERROR(CutJournalToWholeHistory(env, at, r));
  return Status::Ok();
}

// The store's own files (store_files.h), before the store is opened through them: each
// that is not a regular file goes to quarantine/ and is made anew, empty; so is each lock
// table or keys/index that is missing, or a keys/index cut short. The repair flags of
// locks/accounts and locks/keys and every entry of keys/index come back only from the
// whole journal: that is written in NEEDS_RECOVERY first (kWholeJournalMark), so a crash
// anywhere after leaves the store marked until a whole rebuild (--full) has finished.
// Returns whether this run must rebuild from the whole journal (a mark found or made).
Result<bool> RemakeStoreFiles(Env* env, const Layout& layout, RecoverReport* r) {
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, layout));
  if (format.version < kStoreFormat) return false;  // the upgrade makes them
  std::vector<std::string> unusable = UnusableStoreFiles(env, layout);
  // Each file to make anew and how it was found, told before anything is made; `lost`,
  // those only the whole journal rebuilds.
  std::vector<std::pair<std::string, const char*>> remade, lost;
  for (const std::string& name : unusable) remade.emplace_back(name, "not a regular file");
  for (const auto& [name, missing] : MissingStoreFiles(env, layout)) {
    remade.emplace_back(name, missing ? "missing" : "cut short");
  }
  for (const auto& entry : remade) {
    if (RebuiltOnlyFromWholeJournal(entry.first)) lost.push_back(entry);
  }
  auto remakes = [&](std::string_view prefix) {
    return std::any_of(remade.begin(), remade.end(),
                       [&](const auto& e) { return e.first.starts_with(prefix); });
  };
  if (!lost.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, how] : lost) names.push_back(name);
    DB_RETURN_IF_ERROR(WriteRecoveryMarker(
        env, layout,
        fmt::format("{} {}", kWholeJournalMark, fmt::join(names, ", "))));
    env->FaultPoint("recover", "after_whole_mark");
  }
  for (const std::string& name : unusable) {
    std::string dir = layout.root() + "/" + name.substr(0, name.find('/'));
    DB_ASSIGN_OR_RETURN(std::string kept,
                        MoveToQuarantine(env, layout, dir, name.substr(name.find('/') + 1)));
    ++r->quarantined;
    r->notes.push_back(fmt::format("moved {}, which is not a regular file, to {}", name,
                                   EscapeForTerminal(kept)));
  }
  if (remakes("locks/")) {
    DB_RETURN_IF_ERROR(CreateLockTables(env, layout));
    DB_RETURN_IF_ERROR(env->SyncDir(layout.locks()));
  }
  if (remakes("keys/index")) DB_RETURN_IF_ERROR(CreateKeyIndex(env, layout.KeyIndexPath()));
  env->FaultPoint("recover", "after_remade");
  for (const auto& [name, how] : lost) {
    ++r->files_repaired;
    r->notes.push_back(
        fmt::format("{} was {}: made anew and rebuilt from the whole journal", name, how));
  }
  auto mark = env->ReadFile(layout.recovery_marker(), kMarkerMaxBytes);
  // A marker too large to read may say so: the whole journal then, which is always right.
  if (!mark.ok()) return mark.status().code() == Code::kCorruption;
  return mark->find(kWholeJournalMark) != std::string::npos;
}

// tmp/: the spares stay (reused by the next writer; never read); only what drovebank writes
// there otherwise is removed: a regular `*.tmp` file (format 1's temp files). Anything else
// (a folder, a link, a file of another name) goes to quarantine/.
Status ClearTemps(Env* env, const Layout& layout, RecoverReport* r) {
  DB_ASSIGN_OR_RETURN(auto temp_names, env->ListDir(layout.tmp()));
  for (const std::string& n : temp_names) {
    if (IsSpareName(n)) continue;
    auto st = env->Stat(layout.tmp() + "/" + n);
    if (!st.ok() && st.status().code() == Code::kNotFound) continue;
    if (st.ok() && st->is_regular && !st->is_symlink && n.ends_with(".tmp")) {
      Status s = env->Unlink(layout.tmp() + "/" + n);
      if (!s.ok() && s.code() != Code::kNotFound) return s;
      ++r->temps_removed;
      r->notes.push_back(fmt::format("removed temp file tmp/{}", EscapeForTerminal(n)));
      continue;
    }
    DB_ASSIGN_OR_RETURN(std::string kept, MoveToQuarantine(env, layout, layout.tmp(), n));
    ++r->temps_removed;
    ++r->quarantined;
    r->notes.push_back(fmt::format("moved tmp/{}, which no drovebank writes, to {}",
                                   EscapeForTerminal(n), EscapeForTerminal(kept)));
  }
  return Status::Ok();
}

// recover --full: every account's newest state in the whole journal against its file;
// stale or corrupt files rebuilt, files the journal cannot account for quarantined.
Status VerifyAll(const RecoverOptions& o, Env* env, StoreImpl* store, RecoverReport* r) {
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
    // keys/index's installed entry from the journal, so a wrong one (ahead of the account's
    // history, or naming another account's record) goes. Without the lock: a writer's newer
    // entry overwritten here only makes the entry older, which the proof allows.
    DB_ASSIGN_OR_RETURN(std::uint64_t installed, store->key_index().AccountHead(state.id));
    if (installed != state.last_txn) {
      DB_RETURN_IF_ERROR(store->key_index().SetAccountHead(state.id, state.last_txn));
    }
    if (wrote) return Status::Ok();
    // ApplyState keeps a readable file at or past the journal's version; one that is
    // not the journal's state is looked at again below.
    auto text = ReadAccountText(env, layout.AccountPath(state.id));
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
    auto text = ReadAccountText(env, p);
    auto cur = text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
    if (cur.ok() && !(*cur == latest)) DB_RETURN_IF_ERROR(store->RestoreAccountFile(&lock, latest));
  }
  if (index.accounts() == 0) DB_RETURN_IF_ERROR(RefuseLostJournal(env, layout));
  DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
    ++r->accounts_verified;
    if (index.Has(id)) return Status::Ok();
    auto text = ReadAccountText(env, p);
    bool readable = text.ok() && DecodeAccountFile(*text, id).ok();
    return QuarantineAccountFile(
        env, layout, id, p,
        readable ? "an account the journal never had" : "corrupt, not in the journal", r);
  }));
  return Status::Ok();
}

// A marked store may be marked for an account file found corrupt. The journal tail
// replayed rebuilds only files changed since the checkpoint; an older one is rebuilt here
// from its account's newest record, found without a whole-journal pass. Clearing the
// marker over a file the journal cannot rebuild would hide it: that one is left to
// --full. One read per account file.
Status RepairCorruptFiles(const RecoverOptions& o, Env* env, StoreImpl* store) {
  const Layout& layout = store->layout();
  std::vector<std::string> unknown;
  DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
    // The installed entry first, then the file (KeyIndex::AccountHead): a file set back to
    // an older genuine state proves against its record, but not against this.
    std::uint64_t installed = 0;
    Result<std::string> text = Status::NotFound("");
    auto read = [&]() -> Status {
      DB_ASSIGN_OR_RETURN(installed, store->key_index().AccountHead(id));
      text = ReadAccountText(env, p);
      return Status::Ok();
    };
    auto proven = [&]() {
      auto a = text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
      return a.ok() && store->ProveFile(*a, installed).ok();
    };
    DB_RETURN_IF_ERROR(read());
    if (proven()) return Status::Ok();
    // Read again under the lock: unlocked, the inode may be a writer's spare by now.
    LockWait wait;
    wait.timeout_seconds = o.lock_timeout;
    LockFile lock(&store->locks(), AccountSlot(id), layout.AccountLock(id));
    DB_RETURN_IF_ERROR(lock.Hold(wait));
    DB_RETURN_IF_ERROR(read());
    if (proven()) return lock.Rollback();
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

// How recover opens the store: upgrading an older format, each file repair counted and
// described in the report.
StoreOptions RecoverStoreOptions(const RecoverOptions& o, Env* env, RecoverReport* r) {
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
  return so;
}

}  // namespace

Status Recover(const RecoverOptions& given, RecoverReport* r) {
  Env* env = given.env != nullptr ? given.env : DefaultEnv();
  if (given.check_only) {
    if (given.accept_loss) {
      return Status::InvalidArgument("--accept-loss changes the store; it cannot go with --check");
    }
    return CheckStore(given, env, r);
  }
  RecoverOptions o = given;
  o.full = o.full || o.accept_loss;  // every file is rebuilt from what is left

  StoreOptions so = RecoverStoreOptions(o, env, r);
  DB_RETURN_IF_ERROR(RefuseIfNotAStore(o, env, so.data_dir, r));
  DB_ASSIGN_OR_RETURN(bool whole, RemakeStoreFiles(env, Layout(so.data_dir), r));
  o.full = o.full || whole;
  DB_ASSIGN_OR_RETURN(auto store, StoreImpl::OpenWritable(so));
  const Layout& layout = store->layout();
  bool marked = store->NeedsRecovery();
  // Before any record of the tail is applied (by the rebuild below, the replay, or --full's
  // walk of every account, which follows the whole chain only after it): none was changed
  // since it was written, by the chain and the head journal/state wrote down.
  DB_ASSIGN_OR_RETURN(std::optional<Journal::WrittenDown> written,
                      store->journal().HeadWrittenDown());
  DB_RETURN_IF_ERROR(CheckTailChain(env, layout, store->journal(), written));
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

  // keys/index against the journal past its mark: a slot set back (an older copy of the
  // file put back) is pointed at its newest record again, reported as a repair.
  std::set<AccountId> accounts_set;
  DB_ASSIGN_OR_RETURN(size_t keys_set, store->RepairKeyVouch(&accounts_set));
  if (keys_set > 0) {
    r->notes.push_back(fmt::format(
        "keys/index was behind the journal in {} key slot(s) (an older copy put back?); each "
        "now names its newest record",
        keys_set));
  }
  if (!accounts_set.empty()) {
    std::string ids;
    for (AccountId id : accounts_set) {
      if (ids.size() > 60) {
        ids += ", ...";
        break;
      }
      ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    }
    r->notes.push_back(fmt::format(
        "keys/index's entries of {} account(s) were behind the journal (an older copy put "
        "back?); each account's file and entry now hold its newest state: {}",
        accounts_set.size(), ids));
  }
  env->FaultPoint("recover", "after_keys");

  DB_RETURN_IF_ERROR(ClearTemps(env, layout, r));
  DB_ASSIGN_OR_RETURN(bool snapshot_temp, store->RemoveDeadSnapshotTemp());
  if (snapshot_temp) {
    ++r->temps_removed;
    r->notes.push_back("removed journal/SNAPSHOT.tmp, left by a checkpoint that died while "
                       "writing the snapshot (the snapshot it was to replace stands)");
  }
  env->FaultPoint("recover", "after_temps");

  // Both rebuild files from records anywhere in the journal (--full every file, a marked
  // store each file that fails its proof), where CheckTailChain did not look: the whole
  // chain and each account's history by the rules first, so a record changed with its
  // checksum fixed is never written into a file (a store is marked rarely: a failed sync,
  // a file found corrupt). Its caches and heap are given back before the walks of the
  // files, so the run stays within what one walk needs.
  const bool rebuilds = o.full || marked;
  if (rebuilds) {
    DB_RETURN_IF_ERROR(FollowChain(env, layout, store->journal(), store->journal().End(), o, r));
    store->journal().DropCaches();
    malloc_trim(0);
  }
  if (o.full) {
    DB_RETURN_IF_ERROR(VerifyAll(o, env, store.get(), r));
    DB_ASSIGN_OR_RETURN(std::optional<std::uint64_t> forged, store->SnapshotDiffersFromFiles());
    if (forged) {
      DB_ASSIGN_OR_RETURN(std::string kept,
                          MoveToQuarantine(env, layout, layout.journal(), "SNAPSHOT"));
      ++r->quarantined;
      return Status::Corruption(fmt::format(
          "journal/SNAPSHOT does not hold the accounts' states after txn {}, yet a journal "
          "record vouches for it: the journal was changed and its chain rebuilt (the file is "
          "moved to {}; reports walk the account files until a checkpoint writes a new one)",
          *forged, kept));
    }
    // The walks proved every file through the journal's look-ups, whose indexes and the
    // heap they grew are of no use to the checkpoint that follows: given back, so the
    // whole run stays within what one walk needs (21.1 MB at 1M accounts without).
    store->journal().DropCaches();
    malloc_trim(0);
  } else if (marked) {
    DB_RETURN_IF_ERROR(RepairCorruptFiles(o, env, store.get()));
  }

  DB_RETURN_IF_ERROR(store->Checkpoint(/*wait=*/true));
  env->FaultPoint("recover", "after_checkpoint");
  if (!rebuilds && !o.expect_head.empty()) {
    DB_RETURN_IF_ERROR(FollowChain(env, layout, store->journal(), store->journal().End(), o, r));
  }
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
