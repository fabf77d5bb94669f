// Bringing files up to date with the journal: replay after a crash, repair after a dead
// lock owner, and the checkpoint that makes the files durable.
#include <fcntl.h>

#include <optional>
#include <set>

#include <fmt/format.h>

#include "drovebank/store.h"

namespace drovebank {

Status Store::InstallFile(const LockPaths& paths, std::string_view content) {
  DB_ASSIGN_OR_RETURN(int fd, env_->Open(paths.temp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  Status s = env_->Write(fd, content);
  Status c = env_->Close(fd);
  if (s.ok()) s = c;
  if (s.ok()) s = env_->Rename(paths.temp, paths.target);
  if (!s.ok()) (void)env_->Unlink(paths.temp);
  return s;
}

Status Store::ForEachSinceCheckpoint(const Journal::RecordFn& fn) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  DB_RETURN_IF_ERROR(journal_->AdoptUnpublished());  // a dead writer's record counts
  JournalPos end = journal_->End();
  // The write-ahead rule: a writer that died between its append and its sync left a
  // record that is in the page cache only. Files written from it could reach the disk
  // before it does, and a power loss would then keep half a transfer. Make it durable
  // first (a no-op when nothing unsynced is published).
  DB_RETURN_IF_ERROR(journal_->Sync(end, "repair"));
  return journal_->ForEach(ckpt.pos, end, fn);
}

Result<std::vector<Record>> Store::RecordsSinceCheckpoint() {
  std::vector<Record> out;
  DB_RETURN_IF_ERROR(ForEachSinceCheckpoint([&](Record& r, JournalPos) {
    out.push_back(std::move(r));
    return Status::Ok();
  }));
  return out;
}

// Applies the newest state of `id` in the journal since the checkpoint, if the file is
// older (or missing, or corrupt). Older changes are durable in the file by definition of
// the checkpoint, so the journal tail is all that can be missing.
Status Store::RepairAccount(AccountId id, LockFile* held) {
  std::optional<Account> newest;
  DB_RETURN_IF_ERROR(ForEachSinceCheckpoint([&](Record& r, JournalPos) {
    for (RecordAccount& ra : r.accounts) {
      if (ra.state.id == id) newest = std::move(ra.state);
    }
    return Status::Ok();
  }));
  if (!newest) return Status::Ok();
  auto text = env_->ReadFile(layout_.AccountPath(id));
  if (text.ok()) {
    auto cur = DecodeAccountFile(*text, id);
    if (cur.ok() && cur->version >= newest->version) return Status::Ok();
  }
  DB_RETURN_IF_ERROR(EnsureAccountDirs(id));
  return InstallFile(held->paths(), EncodeAccountFile(*newest));
}

Status Store::RepairKey(const std::string& key, LockFile* held) {
  if (env_->Stat(layout_.KeyPath(key)).ok()) return Status::Ok();
  std::optional<std::string> encoded;
  DB_RETURN_IF_ERROR(ForEachSinceCheckpoint([&](Record& r, JournalPos) {
    if (!encoded && r.key == key) encoded = EncodeRecord(r);
    return Status::Ok();
  }));
  if (!encoded) return Status::Ok();
  DB_RETURN_IF_ERROR(env_->MakeDir(layout_.KeyDir(key), 0700));
  return InstallFile(held->paths(), *encoded);
}

Result<size_t> Store::ReplaySinceCheckpoint(size_t* records_seen) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  DB_RETURN_IF_ERROR(journal_->AdoptUnpublished());  // as in ForEachSinceCheckpoint
  JournalPos end = journal_->End();
  DB_RETURN_IF_ERROR(journal_->Sync(end, "repair"));  // the write-ahead rule, as above
  return ApplyRange(
      ckpt.pos, end, /*wait=*/true, [&](const Record&) { ++*records_seen; }, /*warm_files=*/true);
}

Result<size_t> Store::ApplyRange(JournalPos from, JournalPos to, bool wait,
                                 const std::function<void(const Record&)>& seen,
                                 bool warm_files) {
  // Streamed: keys are applied as their records pass, and of the accounts only each
  // one's newest state is kept, so memory is the accounts touched, not the records.
  // Applying a key before its account is safe: both come from a durable record.
  std::map<AccountId, Account> newest;
  size_t rewritten = 0;
  DB_RETURN_IF_ERROR(journal_->ForEach(from, to, [&](Record& r, JournalPos) -> Status {
    if (seen) seen(r);
    if (!r.key.empty()) {
      DB_ASSIGN_OR_RETURN(bool wrote, ApplyKey(r, wait));
      rewritten += wrote;
    }
    for (RecordAccount& ra : r.accounts) newest[ra.state.id] = std::move(ra.state);
    return Status::Ok();
  }));
  if (warm_files) {
    // Why: after a crash in a big store, each account to check is likely cold, and read
    // one by one each costs a disk read of ~1 ms (docs/BENCHMARKS.md, finding 9).
    std::vector<std::string> paths;
    paths.reserve(newest.size());
    for (const auto& entry : newest) paths.push_back(layout_.AccountPath(entry.first));
    env_->WarmForReplace(paths);
  }
  for (auto& [id, state] : newest) {
    DB_ASSIGN_OR_RETURN(bool wrote, ApplyState(state, wait));
    rewritten += wrote;
  }
  return rewritten;
}

Result<size_t> Store::ApplyRecords(const std::vector<Record>& records, bool wait) {
  std::map<AccountId, const Account*> newest;
  std::map<std::string, const Record*> keys;
  for (const Record& r : records) {
    for (const RecordAccount& ra : r.accounts) newest[ra.state.id] = &ra.state;
    if (!r.key.empty()) keys[r.key] = &r;
  }
  size_t rewritten = 0;
  for (auto& [id, state] : newest) {
    DB_ASSIGN_OR_RETURN(bool wrote, ApplyState(*state, wait));
    rewritten += wrote;
  }
  for (auto& [key, rec] : keys) {
    DB_ASSIGN_OR_RETURN(bool wrote, ApplyKey(*rec, wait));
    rewritten += wrote;
  }
  return rewritten;
}

Result<bool> Store::ApplyState(const Account& state, bool wait) {
  AccountId id = state.id;
  auto text = env_->ReadFile(layout_.AccountPath(id));
  if (text.ok()) {
    auto cur = DecodeAccountFile(*text, id);
    if (cur.ok() && cur->version >= state.version) return false;
  }
  LockFile lock(env_, layout_.AccountLock(id));
  Status s = wait ? lock.Hold(lock_wait_) : lock.TryHold();
  if (s.code() == Code::kBusy && !wait) return false;  // a live writer holds it: its job
  DB_RETURN_IF_ERROR(s);
  // Re-read under the lock: a writer may have moved it on since the check above.
  text = env_->ReadFile(layout_.AccountPath(id));
  if (text.ok()) {
    auto cur = DecodeAccountFile(*text, id);
    if (cur.ok() && cur->version >= state.version) return false;
  }
  DB_RETURN_IF_ERROR(EnsureAccountDirs(id));
  DB_RETURN_IF_ERROR(lock.WriteTemp(EncodeAccountFile(state)));
  DB_RETURN_IF_ERROR(lock.Commit());
  return true;
}

Result<bool> Store::ApplyKey(const Record& rec, bool wait) {
  if (env_->Stat(layout_.KeyPath(rec.key)).ok()) return false;
  LockFile lock(env_, layout_.KeyLock(rec.key));
  Status s = wait ? lock.Hold(lock_wait_) : lock.TryHold();
  if (s.code() == Code::kBusy && !wait) return false;
  DB_RETURN_IF_ERROR(s);
  if (env_->Stat(layout_.KeyPath(rec.key)).ok()) return false;
  DB_RETURN_IF_ERROR(env_->MakeDir(layout_.KeyDir(rec.key), 0700));
  DB_RETURN_IF_ERROR(lock.WriteTemp(EncodeRecord(rec)));
  DB_RETURN_IF_ERROR(lock.Commit());
  return true;
}

// Why syncfs instead of an fsync per file: a segment's records touch up to tens of
// thousands of files, and one syncfs costs about one fsync. The files are first checked
// to hold at least the journal's versions; then one syncfs makes them durable together.
Status Store::Checkpoint(bool wait) {
  Status locked = journal_->LockCheckpoint(wait);
  if (!locked.ok()) return locked.code() == Code::kBusy ? Status::Ok() : locked;
  struct Unlock {
    Journal* j;
    ~Unlock() { j->UnlockCheckpoint(); }
  } unlock{journal_.get()};

  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  JournalPos end = journal_->End();
  if (end <= ckpt.pos) return Status::Ok();
  // As in RecordsSinceCheckpoint: no file is written from a record not yet durable.
  DB_RETURN_IF_ERROR(journal_->Sync(end, "checkpoint"));
  env_->FaultPoint("checkpoint", "begin");
  CheckpointInfo next = ckpt;
  next.pos = end;
  DB_RETURN_IF_ERROR(ApplyRange(ckpt.pos, end, /*wait=*/true, [&](const Record& r) {
                       next.last_txn = r.txn;
                       next.account_count += AccountsOpened(r);
                       next.max_id = std::max(next.max_id, LargestIdUsed(r));
                     }).status());
  env_->FaultPoint("checkpoint", "after_verify");
  DB_RETURN_IF_ERROR(env_->SyncFs(layout_.root()));
  env_->FaultPoint("checkpoint", "after_syncfs");
  DB_RETURN_IF_ERROR(journal_->WriteCheckpoint(next));
  env_->FaultPoint("checkpoint", "done");
  return Status::Ok();
}

}  // namespace drovebank
