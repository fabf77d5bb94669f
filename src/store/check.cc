// `recover --check`: reads the store the way `recover` would repair it, and changes nothing.
#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "drovebank/store.h"
#include "journal.h"
#include "journal_state.h"  // kCheckpointLockByte
#include "key_index.h"
#include "key_vouch.h"
#include "lockfile.h"
#include "newest_index.h"
#include "recovery_parts.h"
#include "store_files.h"
#include "store_impl.h"

namespace drovebank {

namespace {

// Collects, from a list of records, the newest state of each account.
std::map<AccountId, Account> NewestStates(const std::vector<Record>& records) {
  std::map<AccountId, Account> out;
  for (const Record& r : records) {
    for (const RecordAccount& ra : r.accounts) out[ra.state.id] = ra.state;
  }
  return out;
}

// Check's first step: what recover would clear besides the files, counted and noted
// without changing anything: the NEEDS_RECOVERY marker, repair flags of writers that died,
// format 1 lock files, leftover temp files. Returns the lock table, read-only (nullptr for a
// format 1 store, which has none).
Result<std::unique_ptr<LockTable>> CheckLocksAndLeftovers(Env* env, const Layout& layout,
                                                          StorageMode mode, RecoverReport* r) {
  if (env->Stat(layout.recovery_marker()).ok()) {
    r->marker_cleared = true;
    r->notes.push_back("the store is marked as needing recovery (NEEDS_RECOVERY)");
  }
  auto table = LockTable::Open(env, layout, mode, /*create=*/false, /*read_only=*/true);
  if (!table.ok() && table.status().code() == Code::kNotFound) {
    ++r->dead_locks;
    r->notes.push_back("the store is in format 1 (lock files): recover upgrades it");
  } else if (!table.ok()) {
    return table.status();
  } else {
    DB_ASSIGN_OR_RETURN(auto flagged, (*table)->Flagged());
    for (const LockSlot& slot : flagged) {
      // Why a shared hold and not a look (F_OFD_GETLK) then a second read of the flag: in
      // between, a live writer can let the slot go and take it again for its next commit,
      // setting its flag anew, which then reads as a dead writer's (seen in CI under
      // load). Held shared, the slot cannot be taken, so the flag read is settled; a
      // writer that wants it meanwhile waits for two calls.
      Status hold = (*table)->TryHoldShared(slot);
      if (hold.code() == Code::kBusy) {
        ++r->live_locks;  // a writer in flight: its own to clear
        continue;
      }
      DB_RETURN_IF_ERROR(hold);
      // Its writer may have cleared it and let go since the list was read.
      Result<bool> still = (*table)->NeedsRepair(slot);
      (*table)->ReleaseShared(slot);
      DB_RETURN_IF_ERROR(still.status());
      if (!*still) continue;
      ++r->dead_locks;
      r->notes.push_back(fmt::format("{} has a repair flag left by a writer that died",
                                     layout.SlotLock(slot).what));
    }
  }
  if (auto locks = env->ListDir(layout.locks()); locks.ok()) {
    for (const std::string& n : *locks) {
      if (IsLockTableName(n)) continue;
      ++r->dead_locks;
      r->notes.push_back(fmt::format("locks/{} is not a lock table: recover converts a format 1 "
                                     "lock file, or moves anything else to quarantine/",
                                     EscapeForTerminal(n)));
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

// One run of the check. Its steps, in order: the locks and leftovers; a snapshot of the
// journal since the checkpoint; each account's newest state against its file (all of
// them with --full); on a marked store, every file for corruption; the key index against
// the keyed records; with --full, the files the journal never had.
class StoreCheck {
 public:
  StoreCheck(const RecoverOptions& o, Env* env, RecoverReport* r)
      : o_(o), env_(env), r_(r), layout_(ResolveDataDir(o.data_dir)) {}

  Status Run() {
    if (!env_->Stat(layout_.root()).ok()) {
      return Status::NotFound(fmt::format("no data directory at {}", layout_.root()));
    }
    env_->Confine(layout_.root(), /*read_only=*/true);
    mode_ = DecideStorageMode(env_, layout_);
    DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env_, layout_));
    if (format.version == 0) {
      return Status::InvalidArgument(fmt::format(
          "{} is not a drovebank data directory (it has no FORMAT marker, lock tables or "
          "journal segments)",
          layout_.root()));
    }
    if (format.version == 2) {
      ++r_->dead_locks;
      r_->notes.push_back("the store is in format 2 (no hash chain): recover upgrades it to format 3");
    }
    chained_from_ = format.chained_from;
    if (!OwnFilesUsable(format)) return Status::Ok();
    DB_ASSIGN_OR_RETURN(table_, CheckLocksAndLeftovers(env_, layout_, mode_, r_));
    DB_RETURN_IF_ERROR(CheckSnapshotTemp());
    DB_ASSIGN_OR_RETURN(bool readable, Snapshot());
    if (!readable) return Status::Ok();
    DB_RETURN_IF_ERROR(FollowChain(env_, layout_, *journal_, snapshot_end_, o_, r_));
    // As recover does before it applies a record: the newest record against the head
    // journal/state wrote down when it was published. A forged newest record that obeys
    // the bank's rules is told only there. After the walk of the whole chain, which names
    // the record a forgery changed first (a chain rebuilt after it changes the newest too),
    // and which makes recover's own walk of the tail (CheckTailChain) needless here.
    DB_ASSIGN_OR_RETURN(std::optional<Journal::WrittenDown> written, journal_->HeadWrittenDown());
    DB_RETURN_IF_ERROR(CheckNewestWrittenDown(*journal_, written));
    DB_RETURN_IF_ERROR(CompareAccounts());
    if (r_->marker_cleared && !o_.full) DB_RETURN_IF_ERROR(FindCorruptFiles());
    DB_RETURN_IF_ERROR(CompareKeys());
    if (o_.full) DB_RETURN_IF_ERROR(FindFilesNotInJournal());
    if (o_.full) DB_RETURN_IF_ERROR(CompareSnapshot());
    return Status::Ok();
  }

 private:
  // The store's own files (store_files.h), as recover's first step sees them: each that is
  // not a regular file is reported (recover moves it to quarantine/ and makes it anew), and
  // so is a lock table or keys/index that is missing, or a keys/index cut short (recover
  // makes it anew and rebuilds it from the whole journal). False when the store cannot be
  // read through them: the look ends there.
  bool OwnFilesUsable(const StoreFormat& format) {
    bool usable = true;
    for (const std::string& name : UnusableStoreFiles(env_, layout_)) {
      ++r_->quarantined;
      r_->notes.push_back(fmt::format(
          "{} is not a regular file: recover moves it to quarantine/ and makes it anew", name));
      usable = usable && name.starts_with("journal/SNAPSHOT");
    }
    if (format.version < kStoreFormat) return usable;
    for (const auto& [name, missing] : MissingStoreFiles(env_, layout_)) {
      ++r_->files_repaired;
      r_->notes.push_back(fmt::format("{} is {}: recover makes it anew{}", name,
                                      missing ? "missing" : "cut short",
                                      RebuiltOnlyFromWholeJournal(name)
                                          ? " and rebuilds it from the whole journal"
                                          : ""));
      usable = false;
    }
    return usable;
  }

  // The journal from the checkpoint to its end now; false (noted as a repair) when it
  // cannot be read, and then nothing else is compared.
  Result<bool> Snapshot() {
    DB_ASSIGN_OR_RETURN(journal_, Journal::OpenReadOnly(env_, layout_, mode_));
    DB_ASSIGN_OR_RETURN(ckpt_, journal_->ReadCheckpoint());
    snapshot_end_ = journal_->End();
    auto records = journal_->ReadRange(ckpt_.pos, snapshot_end_);
    if (!records.ok()) {
      ++r_->files_repaired;
      r_->notes.push_back(records.status().message());
      return false;
    }
    records_ = std::move(records).value();
    r_->records_replayed = records_.size();
    // Only to wait for writers (a lock changes no file); absent on a store we cannot write.
    if (table_ != nullptr) {
      if (auto rw = LockTable::Open(env_, layout_, mode_, /*create=*/false); rw.ok()) {
        writable_locks_ = std::move(rw).value();
      }
    }
    return true;
  }

  Result<Account> ReadAccountFile(AccountId id) {
    auto text = ReadAccountText(env_, layout_.AccountPath(id));
    return text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
  }

  // A file must hold its account's newest state exactly, with --full or without: one
  // that differs (a field forged, its checksum fixed) is what `show` refuses and `recover`
  // restores. Ahead of the snapshot only while a live writer moves on: LookAgain tells.
  bool Wrong(const Account& state, const Result<Account>& cur) const {
    return !cur.ok() || !(*cur == state);
  }

  // The newest state of `state->id` in the journal from `from` to `to`, into *state.
  Status NewestSince(JournalPos from, JournalPos to, Account* state) {
    return journal_->ForEach(from, to, [&](Record& rec, JournalPos) {
      for (RecordAccount& ra : rec.accounts) {
        if (ra.state.id == state->id) *state = std::move(ra.state);
      }
      return Status::Ok();
    });
  }

  // Why look again: the reads so far take no lock, so a live writer may be between its
  // journal sync and its file, may have moved on past this snapshot of the journal, or
  // may be rewriting the very inode just read (a reused spare). Under the account's lock
  // the look is exact: every record of the account up to the journal's end is in its
  // file, unless a dead writer's flag says otherwise. A store this process cannot write
  // (its lock table read-only) holds the lock shared instead (an OFD read lock works on a
  // read-only descriptor), which keeps writers off the account as well: wait until it is
  // free, then read the journal's end, then the file. False when it could not look under
  // a lock (the account busy for a second), which leaves a file ahead of the snapshot
  // unjudged: a live writer's, or not.
  Result<bool> LookAgain(Account* state, Result<Account>* cur) {
    if (writable_locks_) {
      LockWait wait;
      wait.timeout_seconds = o_.lock_timeout;
      LockFile lock(writable_locks_.get(), AccountSlot(state->id), layout_.AccountLock(state->id));
      DB_RETURN_IF_ERROR(lock.Hold(wait));
      DB_RETURN_IF_ERROR(NewestSince(snapshot_end_, journal_->End(), state));
      *cur = ReadAccountFile(state->id);
      DB_RETURN_IF_ERROR(lock.Rollback());
      return true;
    }
    for (int look = 0; table_ != nullptr && look < 200; ++look) {
      Status hold = table_->TryHoldShared(AccountSlot(state->id));
      if (hold.code() == Code::kBusy) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      DB_RETURN_IF_ERROR(hold);
      JournalPos end = journal_->End();
      *cur = ReadAccountFile(state->id);
      // Why not look again when this read fails: End() waits out a record still being
      // copied in, so what fails here is a dead writer's torn tail, found again each look.
      (void)NewestSince(snapshot_end_, end, state);
      table_->ReleaseShared(AccountSlot(state->id));
      return true;
    }
    return false;
  }

  void ReportCorrupt(AccountId id, const Status& why) {
    ++r_->files_repaired;
    reported_corrupt_.insert(id);
    r_->notes.push_back(DescribeBadAccountFile(layout_.AccountPath(id), why));
  }

  // A file whose version is below its account's newest state is behind; one at or above
  // it but different holds a state the journal never committed.
  Status CompareAccount(Account state) {
    Result<Account> cur = ReadAccountFile(state.id);
    bool exact = true;
    if (Wrong(state, cur)) {
      DB_ASSIGN_OR_RETURN(exact, LookAgain(&state, &cur));
    }
    if (!cur.ok() && cur.status().code() == Code::kCorruption) {
      ReportCorrupt(state.id, cur.status());
    } else if (!cur.ok() || cur->version < state.version) {
      ++r_->files_repaired;
      r_->notes.push_back(fmt::format("account {} is behind the journal", state.id));
    } else if (!(*cur == state) && (exact || cur->version == state.version)) {
      ++r_->files_repaired;
      r_->notes.push_back(
          fmt::format("{} differs from the journal", layout_.AccountPath(state.id)));
    }
    return Status::Ok();
  }

  // The accounts of the snapshot, or with --full every account the journal has.
  Status CompareAccounts() {
    if (o_.full) {
      DB_ASSIGN_OR_RETURN(index_, NewestIndex::Build(*journal_, ckpt_.max_id));
      return index_->ForEachNewest(
          *journal_, [&](const Account& s, const Record&) { return CompareAccount(s); });
    }
    for (auto& [id, state] : NewestStates(records_)) DB_RETURN_IF_ERROR(CompareAccount(state));
    return Status::Ok();
  }

  // As recover does on a marked store: it may be marked for a file the tail never
  // touched, which recover then rebuilds.
  Status FindCorruptFiles() {
    return ForEachAccountFile(env_, layout_, [&](AccountId id, const std::string&) {
      Result<Account> cur = ReadAccountFile(id);
      if (!cur.ok() && !reported_corrupt_.count(id)) ReportCorrupt(id, cur.status());
      return Status::Ok();
    });
  }

  Status CompareKeys() {
    KeyIndex keys(env_, layout_.KeyIndexPath());
    // Before the checkpoint, the records past keys/index's mark too (key_vouch.h): a file
    // put back from an older copy is behind there as well, which a commit would refuse.
    DB_ASSIGN_OR_RETURN(std::uint64_t vouched, keys.Vouched());
    DB_ASSIGN_OR_RETURN(ChainHead newest, journal_->HeadAt(snapshot_end_));
    const std::uint64_t before_tail = records_.empty() ? newest.txn : records_.front().txn - 1;
    // From the mark, as a keyed commit checks (KeysCheckedAfter, key_vouch.h).
    const std::uint64_t from = KeysCheckedAfter(vouched, newest.txn, chained_from_);
    DB_RETURN_IF_ERROR(ForEachRecordAfter(*journal_, from, before_tail, [&](const Record& rec) {
      return rec.key.empty() ? Status::Ok() : CompareKey(keys, rec);
    }));
    for (const Record& rec : records_) {
      if (!rec.key.empty()) DB_RETURN_IF_ERROR(CompareKey(keys, rec));
    }
    return Status::Ok();
  }

  Status CompareKey(KeyIndex& keys, const Record& rec) {
    auto head = keys.Head(KeySlot(rec.key).offset);
    // As for the account files: a live writer sets the entry after its sync.
    if ((!head.ok() || *head < rec.txn) && writable_locks_) {
      LockWait wait;
      wait.timeout_seconds = o_.lock_timeout;
      LockFile lock(writable_locks_.get(), KeySlot(rec.key), layout_.KeyLock(rec.key));
      DB_RETURN_IF_ERROR(lock.Hold(wait));
      head = keys.Head(KeySlot(rec.key).offset);
      DB_RETURN_IF_ERROR(lock.Rollback());
    }
    if (!head.ok() || *head < rec.txn) {
      ++r_->files_repaired;
      r_->notes.push_back(fmt::format("keys/index does not reach the record of key '{}' (txn {})",
                                      rec.key, rec.txn));
    }
    return Status::Ok();
  }

  // --full: files `recover --full` would move to quarantine/.
  Status FindFilesNotInJournal() {
    return ForEachAccountFile(env_, layout_, [&](AccountId id, const std::string& p) {
      ++r_->accounts_verified;
      if (index_->Has(id)) return Status::Ok();
      auto text = ReadAccountText(env_, p);
      bool readable = text.ok() && DecodeAccountFile(*text, id).ok();
      ++r_->quarantined;
      r_->notes.push_back(
          fmt::format("{} is {} and not in the journal", p, readable ? "readable" : "corrupt"));
      return Status::Ok();
    });
  }

  // journal/SNAPSHOT.tmp exists while a checkpoint writes the snapshot, under the
  // checkpoint lock (a byte of journal/state). Held shared here (an OFD read lock, which a
  // read-only descriptor can take), no checkpoint can start or be running, so a temp file
  // seen meanwhile is a dead one's, which recover removes; one whose lock is held is live.
  Status CheckSnapshotTemp() {
    auto temp = env_->Stat(layout_.SnapshotTempPath());
    if (!temp.ok() || !temp->is_regular) return Status::Ok();  // none, or told above
    auto fd = env_->Open(layout_.JournalStatePath(), O_RDONLY);
    if (!fd.ok()) return Status::Ok();  // no journal/state: no checkpoint ever ran
    Status held = env_->LockByteShared(*fd, journal_internal::kCheckpointLockByte);
    bool dead = held.ok() && env_->Stat(layout_.SnapshotTempPath()).ok();
    if (held.ok()) (void)env_->UnlockByte(*fd, journal_internal::kCheckpointLockByte);
    (void)env_->Close(*fd);
    if (!held.ok() && held.code() != Code::kBusy) return held;
    if (dead) {
      ++r_->temps_removed;
      r_->notes.push_back("journal/SNAPSHOT.tmp is left over from a checkpoint that died");
    }
    return Status::Ok();
  }

  // --full: journal/SNAPSHOT against the proven files, as `recover --full` compares them,
  // through a store opened read-only (which writes, creates and locks nothing). A forged
  // snapshot with its record re-pointed and the chain rebuilt is the one forgery the
  // journal alone cannot show, so it is Corruption here too (exit 5), the file left where
  // it is. A store that cannot be read exactly without a replay (a dead writer's flag, a
  // file behind its record) is not compared, and the note says why.
  Status CompareSnapshot() {
    if (!env_->Stat(layout_.SnapshotPath()).ok()) return Status::Ok();
    StoreOptions so;
    so.data_dir = layout_.root();
    so.env = env_;
    so.read_only = true;
    so.lock_wait.timeout_seconds = o_.lock_timeout;
    auto store = StoreImpl::OpenReadOnly(so);
    if (!store.ok() && store.status().code() == Code::kNeedsRecovery) {
      r_->notes.push_back(fmt::format("journal/SNAPSHOT was not compared with the account files: {}",
                                      store.status().message()));
      return Status::Ok();
    }
    if (!store.ok()) return store.status();
    DB_ASSIGN_OR_RETURN(std::optional<std::uint64_t> forged, (*store)->SnapshotDiffersFromFiles());
    if (forged) {
      return Status::Corruption(fmt::format(
          "journal/SNAPSHOT does not hold the accounts' states after txn {}, yet a journal "
          "record vouches for it: the journal was changed and its chain rebuilt (`recover "
          "--full` moves the file to quarantine/; nothing changed)",
          *forged));
    }
    r_->notes.push_back("journal/SNAPSHOT holds the account files' states");
    return Status::Ok();
  }

  const RecoverOptions& o_;
  Env* env_;
  RecoverReport* r_;
  Layout layout_;
  StorageMode mode_;  // decided once the root is confined (Run)
  std::unique_ptr<LockTable> table_;           // read-only; nullptr for format 1
  std::unique_ptr<LockTable> writable_locks_;  // to wait for writers, where we may
  std::unique_ptr<Journal> journal_;
  CheckpointInfo ckpt_;
  JournalPos snapshot_end_;
  std::vector<Record> records_;       // from the checkpoint to snapshot_end_
  std::uint64_t chained_from_ = 1;    // FORMAT's chained-from
  std::optional<NewestIndex> index_;  // --full
  std::set<AccountId> reported_corrupt_;
};

}  // namespace

Status CheckStore(const RecoverOptions& o, Env* env, RecoverReport* r) {
  return StoreCheck(o, env, r).Run();
}

}  // namespace drovebank
