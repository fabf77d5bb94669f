#include "store_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "commit.h"
#include "key_index.h"
#include "own_links.h"

namespace drovebank {

StoreImpl::StoreImpl(Env* env, Layout layout, LockWait wait)
    : env_(env),
      layout_(std::move(layout)),
      lock_wait_(std::move(wait)),
      key_index_(std::make_unique<KeyIndex>(env_, layout_.KeyIndexPath())) {}

StoreImpl::~StoreImpl() {
  // Why the mark is moved past this process's own records as it ends: a commit moves it
  // only to the record before its own, and a session's commits on its own states not at
  // all, so the next reader would otherwise check them all (a batch's last group: 5,600
  // records streamed from the segment before a report could start). Known from memory,
  // each costs no journal read here, only the entries a page at a time. A failure leaves
  // the mark where it was: a longer check next time.
  // Not on a shared file system, where a store with a hard-link copy is never written
  // (the append refuses it) and this would write keys/index, which the copy shares; in
  // local mode after the check point a commit makes, which gives the store's in-place files
  // inodes of their own when a copy shares them.
  if (!read_only_ && !paused_ && !in_place_ && !own_records_.empty() && journal_ != nullptr &&
      key_index_ != nullptr && locks_ != nullptr && !NeedsRecovery() &&
      CheckLinks(/*keep_fresh=*/false).ok()) {
    (void)VouchKeyIndex({}, {}, /*looks_up_keys=*/false);
  }
  if (attach_fd_ >= 0) (void)env_->Close(attach_fd_);
}

Result<std::optional<Record>> StoreImpl::FindKeyed(std::string_view key,
                                                   std::optional<std::uint64_t> head) {
  std::uint64_t txn = 0;
  if (head) {
    txn = *head;
  } else {
    DB_ASSIGN_OR_RETURN(txn, key_index_->Head(KeySlot(key).offset));
  }
  while (txn != 0) {
    // The look-up, not FindTxn: FindTxn keeps each segment it reads whole, and a batch
    // checking its automatic keys against a long journal would hold all of it (a batch of
    // 100k events over 200k records: 98 MB). The look-up reads a window, at most 8
    // segments open, and after 32 look-ups in one a line index of 16 bytes a record.
    auto rec = journal_->LookUpTxn(txn);
    if (!rec.ok()) {
      return Status::Corruption(fmt::format(
          "keys/index names txn {} for key '{}', which the journal cannot give ({}); run "
          "recover --full",
          txn, key, rec.status().message()));
    }
    if (rec->key == key) return std::optional<Record>(std::move(rec).value());
    if (rec->key_prev >= txn) return Status::Corruption("a key chain in the journal loops");
    txn = rec->key_prev;
  }
  // Keys committed by builds before keys/index each have a file. A store with no key
  // directory has none: a batch of fresh keys would pay three failing calls an event
  // looking for one (BENCHMARKS-HISTORY.md, "Where the batch's time goes now").
  if (!legacy_key_dirs_) legacy_key_dirs_ = HasLegacyKeyDirs();
  if (!*legacy_key_dirs_) return std::optional<Record>();
  auto text = env_->ReadFile(layout_.KeyPath(key), kSmallFileMaxBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return std::optional<Record>();
    return text.status();
  }
  std::string_view t = *text;
  if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  auto rec = DecodeRecordLine(t);
  if (!rec.ok()) return Status::Corruption(fmt::format("{} is corrupt", layout_.KeyPath(key)));
  return std::optional<Record>(std::move(rec).value());
}

bool StoreImpl::HasLegacyKeyDirs() {
  auto names = env_->ListDir(layout_.keys());
  if (!names.ok()) return names.status().code() != Code::kNotFound;  // unsure: look
  for (const std::string& n : *names) {
    if (n != "index") return true;  // keys/XX, or something unknown: look, as before
  }
  return false;
}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  bool linked_shared = false;
  Result<std::unique_ptr<StoreImpl>> impl = options.read_only
                                                ? StoreImpl::OpenReadOnly(options)
                                                : StoreImpl::OpenWritable(options, &linked_shared);
  if (!impl.ok() && linked_shared) {
    // A reader writes nothing, so the copy is safe from it: reads go on, writes are
    // refused with the writable open's reason.
    auto reader = StoreImpl::OpenReadOnly(options);
    if (!reader.ok()) return impl.status();
    (*reader)->set_read_only_why(std::string(impl.status().message()));
    impl = std::move(reader);
  }
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<Store>(std::move(impl).value());
}

Result<std::unique_ptr<StoreImpl>> StoreImpl::OpenWritable(const StoreOptions& options,
                                                           bool* linked_shared) {
  Env* env = options.env != nullptr ? options.env : DefaultEnv();
  Layout layout(options.data_dir);
  DB_RETURN_IF_ERROR(PrepareDataDir(env, layout));
  std::unique_ptr<StoreImpl> store(new StoreImpl(env, layout, options.lock_wait));
  store->warm_from_accounts_ = options.warm_from_accounts;
  store->snapshot_every_ = options.snapshot_every;
  // Decided once here and given to every part that differs by it.
  StorageMode mode = DecideStorageMode(env, layout);
  store->in_place_ = mode.shared;
  store->on_repair_ = options.on_repair;
  store->on_notice_ = options.on_notice;
  bool format1 = false;
  if (Result<FileInfo> t = env->Stat(layout.AccountLockTable()); !t.ok()) {
    if (t.status().code() != Code::kNotFound) return t.status();
    if (!options.upgrade) {
      return Status::NeedsRecovery(fmt::format(
          "the data directory {} was written by an older drovebank (format 1, lock files); "
          "run `recover -d {}` once to upgrade it; nothing changed",
          layout.root(), layout.root()));
    }
    format1 = true;
  }
  // Attached before any in-place file is opened, so each descriptor below is the inode
  // every other process uses (src/store/own_links.h).
  FileInfo held;
  DB_ASSIGN_OR_RETURN(int attached, AttachToStore(env, layout, /*writable=*/true,
                                                  options.lock_wait, &held));
  EnvFdCloser state{env, attached};
  if (Status linked = RefuseLinkedOnSharedFs(layout, store->in_place_, held); !linked.ok()) {
    if (linked_shared != nullptr) *linked_shared = true;
    return linked;
  }
  if (!store->in_place_) {
    OwnLinksReport copies;
    DB_ASSIGN_OR_RETURN(state.fd, OwnLinkedFiles(env, layout, attached, &copies, options.lock_wait));
    if (copies.other_copier) {
      state.fd = -1;  // MakeWayForCopier closes it when it lets go
      DB_ASSIGN_OR_RETURN(state.fd, MakeWayForCopier(env, layout, attached, /*writable=*/true,
                                                     options.lock_wait));
    }
    if (copies.gave_up) store->copier_wait_ = false;
  }
  auto locks = LockTable::Open(env, layout, mode, /*create=*/format1);
  store->upgraded_ = format1;
  if (!locks.ok()) return locks.status();
  store->locks_ = std::move(locks).value();
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, layout));
  if (format.version < kStoreFormat && !options.upgrade) {
    return Status::NeedsRecovery(fmt::format(
        "the data directory {} is format {}, written by an older drovebank; run `recover -d "
        "{}` once to upgrade it to format {} (a hash-chained journal); nothing changed",
        layout.root(), format.version, layout.root(), kStoreFormat));
  }
  StoreImpl* raw = store.get();
  DB_ASSIGN_OR_RETURN(store->journal_,
                      Journal::Open(
                          env, layout, mode,
                          [raw](const std::vector<Record>& records) {
                            return raw->ApplyRecords(records, /*wait=*/false).status();
                          },
                          options.segment_bytes != 0 ? options.segment_bytes : kSegmentBytes,
                          options.lock_wait, std::exchange(state.fd, -1)));
  // A record committed by a writer of this format: keys/index must be there, whole
  // (KeyIndex::set_required). recover (options.upgrade) looks at it itself and rebuilds.
  if (!options.upgrade) {
    store->key_index_->set_required(store->journal_->head_txn_seen() >= format.chained_from);
  }
  store->chained_from_ = format.chained_from;
  if (format.version < kStoreFormat) {
    // The upgrade to format 3: nothing is rewritten. The journal's rebuild above followed
    // the chain over every record (they carry no prev_hash); the marker names the first
    // txn that must, so the first record this store writes vouches for all before it.
    // A crash before the marker is durable leaves format 2, upgraded again next time.
    DB_ASSIGN_OR_RETURN(ChainHead head, store->journal_->Head());
    // keys/index whole before the marker, so every store of this format has it.
    DB_RETURN_IF_ERROR(CreateKeyIndex(env, layout.KeyIndexPath()));
    env->FaultPoint("recover", "before_format_marker");
    DB_RETURN_IF_ERROR(WriteStoreFormat(env, layout, head.txn + 1));
    store->chained_from_ = head.txn + 1;
    env->FaultPoint("recover", "after_format_marker");
    DB_RETURN_IF_ERROR(store->journal_->Reinitialize());
    store->upgraded_ = true;
  }
  return store;
}

bool StoreImpl::NeedsRecovery() { return env_->Stat(layout_.recovery_marker()).ok(); }

Status StoreImpl::MarkNeedsRecovery(std::string_view why) {
  return WriteRecoveryMarker(env_, layout_, why);
}

Result<Account> StoreImpl::ReadAccount(AccountId id, bool mark, std::uint64_t* file_size,
                                       bool prove) {
  std::string path = layout_.AccountPath(id);
  // Before the file (see KeyIndex::AccountHead): a writer sets it after the file, so a
  // value read first is never newer than the file read after it, unless the file was set
  // back.
  std::uint64_t installed = 0;
  if (prove) {
    DB_ASSIGN_OR_RETURN(installed, key_index_->AccountHead(id));
    // A finished record the entry does not reach (CheckEntriesForReading): the file must
    // be at it all the same.
    installed = std::max(installed, Floor(id));
  }
  auto text = ReadAccountText(env_, path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) {
      return Status::NotFound(fmt::format("no account {}", id));
    }
    // Not a regular file (a directory, a FIFO put in its place): damaged like any other.
    if (text.status().code() == Code::kCorruption) {
      if (mark) (void)MarkNeedsRecovery(text.status().message());
      return Status::Corruption(text.status().message() + "; the store needs `recover`");
    }
    return text.status();
  }
  auto acct = DecodeAccountFile(*text, id);
  if (file_size != nullptr) *file_size = text->size();
  if (!acct.ok()) {
    bool edited = IsChecksumMismatch(acct.status());
    std::string why = DescribeBadAccountFile(path, acct.status());
    if (mark) (void)MarkNeedsRecovery(why);
    return Status::Corruption(why + (edited ? ": run `recover`" : "; the store needs `recover`"));
  }
  if (Status proof = prove ? ProveFile(*acct, installed) : Status::Ok(); !proof.ok()) {
    if (mark && proof.code() == Code::kCorruption) (void)MarkNeedsRecovery(proof.message());
    // A damaged record says its own way out; a file that disagrees is rebuilt by recover.
    bool says_how = proof.message().find("recover --accept-loss") != std::string::npos;
    return proof.code() == Code::kCorruption && !says_how
               ? Status::Corruption(proof.message() + "; run `recover` to rebuild it from the journal")
               : proof;
  }
  return acct;
}

// Why a file is proven before anyone builds on it or shows it: its CRC only says that the
// bytes are the ones written with it, and anyone who can write the file can recompute
// that. The journal's record that the file names holds the account's full state after it,
// and the record is vouched for by the hash chain, so a file that is not exactly that
// state was made outside drovebank (or by rot that kept its CRC).
Status StoreImpl::ProveAccount(const Account& file) {
  std::string path = layout_.Relative(layout_.AccountPath(file.id));
  auto rec = journal_->LookUpTxn(file.last_txn);
  if (!rec.ok()) {
    if (rec.status().code() == Code::kCorruption) {
      return Status::Corruption(fmt::format(
          "the journal's record txn {}, which {} names, is damaged ({}): restore the journal "
          "from a backup, or cut it back to the record before with `recover --accept-loss`",
          file.last_txn, path, rec.status().message()));
    }
    if (rec.status().code() != Code::kNotFound) return rec.status();
    return Status::Corruption(fmt::format(
        "{} names txn {}, which the journal does not have (a file ahead of the journal, or "
        "made outside drovebank)",
        path, file.last_txn));
  }
  for (const RecordAccount& ra : rec->accounts) {
    if (ra.state.id != file.id) continue;
    const Account& j = ra.state;
    std::string differs;
    auto add = [&](std::string_view field, const std::string& f, const std::string& journal) {
      if (f == journal) return;
      differs += fmt::format("{}{} {} in the file, {} in the journal", differs.empty() ? "" : "; ",
                             field, f, journal);
    };
    add("balance", FormatCents(file.balance), FormatCents(j.balance));
    add("first name", file.first, j.first);
    add("last name", file.last, j.last);
    add("status", file.closed ? "closed" : "open", j.closed ? "closed" : "open");
    add("version", std::to_string(file.version), std::to_string(j.version));
    if (differs.empty()) return Status::Ok();
    return Status::Corruption(fmt::format("{} differs from the journal's record txn {} ({})",
                                          path, file.last_txn, differs));
  }
  return Status::Corruption(fmt::format(
      "{} names txn {}, which did not change account {}", path, file.last_txn, file.id));
}

Status StoreImpl::ProveFile(const Account& file, std::uint64_t installed) {
  DB_RETURN_IF_ERROR(ProveAccount(file));
  return installed > file.last_txn ? ProveNotSetBack(file, installed) : Status::Ok();
}

// Why a file that proves against its record can still be wrong: a copy of an older state
// (last week's backup of one file) proves against that older record. keys/index's entry
// for the account says which state a file was last installed from, and a file never goes
// back on its own.
Status StoreImpl::ProveNotSetBack(const Account& file, std::uint64_t installed) {
  std::string path = layout_.Relative(layout_.AccountPath(file.id));
  auto rec = journal_->LookUpTxn(installed);
  // An entry past this journal's end is no evidence: a hard-link backup shares keys/index
  // with the store it was taken from (written in place), whose later writes go to
  // segments the backup does not have.
  if (rec.status().code() == Code::kNotFound) return Status::Ok();
  if (!rec.ok()) return rec.status();
  bool carries = false;
  for (const RecordAccount& ra : rec->accounts) carries = carries || ra.state.id == file.id;
  if (!carries) {
    return Status::Corruption(fmt::format(
        "{} says account {} was last installed from txn {}, which did not change it",
        layout_.Relative(layout_.KeyIndexPath()), file.id, installed));
  }
  return Status::Corruption(fmt::format(
      "{} holds the state of txn {} (version {}), but the state of txn {} was installed after "
      "it: the file was set back (an older copy put in its place)",
      path, file.last_txn, file.version, installed));
}

Result<Account> StoreImpl::Get(AccountId id) {
  key_index_->Recheck();  // a look from outside: whether keys/index exists is looked at again
  DB_RETURN_IF_ERROR(CheckEntriesForReading());
  return GetAccount(id, /*prove=*/true);
}

Result<Account> StoreImpl::GetAccount(AccountId id, bool prove) {
  if (read_only_) return GetReadOnly(id, prove);
  // A set repair flag may mean a committed change not yet in the file. If its lock is
  // free, its writer is dead: repair before reading. A live writer's change is still in
  // flight and not acknowledged, so the file as it is is the latest acknowledged state.
  DB_ASSIGN_OR_RETURN(bool flagged, locks_->NeedsRepair(AccountSlot(id)));
  if (flagged) {
    LockFile lock(locks_.get(), AccountSlot(id), layout_.AccountLock(id));
    Status s = lock.TryHold();
    if (s.ok() && lock.needs_repair()) {
      DB_RETURN_IF_ERROR(RepairAccount(id, &lock).status());
    } else if (!s.ok() && s.code() != Code::kBusy) {
      return s;
    }
  }
  auto unlocked = ReadAccount(id, /*mark=*/false, nullptr, prove);
  if (unlocked.ok() || unlocked.status().code() != Code::kCorruption) return unlocked;
  // Why read again under the lock before calling the file corrupt: without it, the inode
  // opened above may have been exchanged out of the account's path by a writer since, and
  // be its spare now, being rewritten with another file's content. Under the lock the
  // path's inode is nobody's spare, so what it reads is what the file holds.
  LockFile lock(locks_.get(), AccountSlot(id), layout_.AccountLock(id));
  DB_RETURN_IF_ERROR(lock.Hold(lock_wait_));
  if (lock.needs_repair()) DB_RETURN_IF_ERROR(RepairAccount(id, &lock).status());
  return ReadAccount(id, /*mark=*/true, nullptr, prove);
}

Result<EventResult> StoreImpl::Commit(Event event) {
  std::vector<Event> events;
  events.push_back(std::move(event));
  DB_ASSIGN_OR_RETURN(auto results, CommitGroup(std::move(events)));
  if (!results[0].status.ok()) return results[0].status;
  return std::move(results[0]);
}

Result<std::uint64_t> StoreImpl::ReserveIds(AccountId last) {
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
  DB_ASSIGN_OR_RETURN(EventResult res, Commit(std::move(e)));
  return res.record.txn;
}

Result<std::vector<EventResult>> StoreImpl::CommitGroup(std::vector<Event> events) {
  if (read_only_) {
    return Status::IOError(
        fmt::format("store is read-only ({} opened to read only): nothing changed",
                    layout_.root()));
  }
  // The reversal keys are what makes "already reversed" safe: a user's key must never
  // take one, and a reversal must use exactly its own.
  for (const Event& e : events) {
    if (e.snapshot_at != 0 || !e.snapshot_hash.empty()) {
      return Status::InvalidArgument("only the store's checkpoint vouches for a snapshot");
    }
    bool reserved = e.key.rfind(kReversalKeyPrefix, 0) == 0;
    if (e.reverses != 0 ? e.key != ReversalKey(e.reverses) : reserved) {
      return Status::InvalidArgument(fmt::format(
          "transaction keys starting with '{}' are kept for `reverse`; choose another key",
          kReversalKeyPrefix));
    }
  }
  // A check point (store_links.cc): the one the command began with, when nothing ran since.
  DB_RETURN_IF_ERROR(CheckLinks(/*keep_fresh=*/false));
  key_index_->Recheck();
  const auto start = std::chrono::steady_clock::now();
  auto committed = CommitProtocol(this, std::move(events)).Run();
  if (in_place_) {
    NoteCommitTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return committed;
}

// Why these bounds: on GlusterFS a file that two hosts write moves between them through
// AFR's eager lock, which its last writer keeps for cluster.post-op-delay-secs (1 s by
// default) after its last write; a commit writes several such files (the flags, the
// journal segment, journal/state), and then waits about that long, commit after commit
// (docs/DESIGN.md, "Scaling out"). A brick that does not answer stalls for the ping timeout
// (42 s) instead, and one slow commit is no pattern. A lock held that long by another
// session three commits in a row would look the same: the note says what else it can be.
void StoreImpl::NoteCommitTime(double seconds) {
  bool stalled = seconds >= kStallSeconds && seconds < kHungSeconds;
  stalls_in_a_row_ = stalled ? stalls_in_a_row_ + 1 : 0;
  if (stalls_in_a_row_ != kStallsToNotice || !on_notice_) return;
  on_notice_(fmt::format(
      "note: {} commits in a row each took about {:.1f} s on this shared volume. On "
      "GlusterFS that is another host writing the same store: each file both write moves "
      "between hosts through AFR's eager lock, which the last writer keeps for "
      "cluster.post-op-delay-secs (1 s by default). This drovebank lets go of that lock "
      "after each write once it has waited for it, so the other writer keeps it: an older "
      "drovebank, or another program. `gluster volume set VOLUME "
      "cluster.post-op-delay-secs 0` removes the wait (each write then takes the lock "
      "itself, and one host alone commits about half as fast); docs/DESIGN.md, \"Scaling "
      "out\". (Or another session holds a lock these commits need for that long.)",
      kStallsToNotice, seconds));
}

Status StoreImpl::EnsureAccountDirs(AccountId id) {
  // Fast path: the leaf directory exists for all but the first account of each 100.
  auto dirs = layout_.AccountDirs(id);
  if (env_->Stat(dirs[2]).ok()) return Status::Ok();
  for (const std::string& d : dirs) DB_RETURN_IF_ERROR(env_->MakeDir(d, 0700));
  return Status::Ok();
}

}  // namespace drovebank
