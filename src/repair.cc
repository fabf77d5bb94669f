// Bringing files up to date with the journal: replay after a crash, repair after a dead
// lock owner, and the checkpoint that makes the files durable.
#include <fcntl.h>

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

Result<std::vector<Record>> Store::RecordsSinceCheckpoint() {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  JournalPos end = journal_->End();
  // The write-ahead rule: a writer that died between its append and its sync left a
  // record that is in the page cache only. Files written from it could reach the disk
  // before it does, and a power loss would then keep half a transfer. Make it durable
  // first (a no-op when nothing unsynced is published).
  DB_RETURN_IF_ERROR(journal_->Sync(end, "repair"));
  return journal_->ReadRange(ckpt.pos, end);
}

// Applies the newest state of `id` in the journal since the checkpoint, if the file is
// older (or missing, or corrupt). Older changes are durable in the file by definition of
// the checkpoint, so the journal tail is all that can be missing.
Status Store::RepairAccount(AccountId id, LockFile* held) {
  DB_ASSIGN_OR_RETURN(auto records, RecordsSinceCheckpoint());
  const Account* newest = nullptr;
  for (const Record& r : records) {
    for (const RecordAccount& ra : r.accounts) {
      if (ra.state.id == id) newest = &ra.state;
    }
  }
  if (newest == nullptr) return Status::Ok();
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
  DB_ASSIGN_OR_RETURN(auto records, RecordsSinceCheckpoint());
  for (const Record& r : records) {
    if (r.key != key) continue;
    DB_RETURN_IF_ERROR(env_->MakeDir(layout_.KeyDir(key), 0700));
    return InstallFile(held->paths(), EncodeRecord(r));
  }
  return Status::Ok();
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
    auto text = env_->ReadFile(layout_.AccountPath(id));
    if (text.ok()) {
      auto cur = DecodeAccountFile(*text, id);
      if (cur.ok() && cur->version >= state->version) continue;
    }
    LockFile lock(env_, layout_.AccountLock(id));
    Status s = wait ? lock.Hold(lock_wait_) : lock.TryHold();
    if (s.code() == Code::kBusy && !wait) continue;  // a live writer holds it: its job
    DB_RETURN_IF_ERROR(s);
    // Re-read under the lock: a writer may have moved it on since the check above.
    text = env_->ReadFile(layout_.AccountPath(id));
    if (text.ok()) {
      auto cur = DecodeAccountFile(*text, id);
      if (cur.ok() && cur->version >= state->version) continue;
    }
    DB_RETURN_IF_ERROR(EnsureAccountDirs(id));
    DB_RETURN_IF_ERROR(lock.WriteTemp(EncodeAccountFile(*state)));
    DB_RETURN_IF_ERROR(lock.Commit());
    ++rewritten;
  }
  for (auto& [key, rec] : keys) {
    if (env_->Stat(layout_.KeyPath(key)).ok()) continue;
    LockFile lock(env_, layout_.KeyLock(key));
    Status s = wait ? lock.Hold(lock_wait_) : lock.TryHold();
    if (s.code() == Code::kBusy && !wait) continue;
    DB_RETURN_IF_ERROR(s);
    if (env_->Stat(layout_.KeyPath(key)).ok()) continue;
    DB_RETURN_IF_ERROR(env_->MakeDir(layout_.KeyDir(key), 0700));
    DB_RETURN_IF_ERROR(lock.WriteTemp(EncodeRecord(*rec)));
    DB_RETURN_IF_ERROR(lock.Commit());
    ++rewritten;
  }
  return rewritten;
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
  DB_ASSIGN_OR_RETURN(auto records, journal_->ReadRange(ckpt.pos, end));
  env_->FaultPoint("checkpoint", "begin");
  DB_RETURN_IF_ERROR(ApplyRecords(records, /*wait=*/true).status());
  env_->FaultPoint("checkpoint", "after_verify");
  DB_RETURN_IF_ERROR(env_->SyncFs(layout_.root()));
  env_->FaultPoint("checkpoint", "after_syncfs");
  CheckpointInfo next = ckpt;
  next.pos = end;
  for (const Record& r : records) {
    next.last_txn = r.txn;
    next.account_count += AccountsOpened(r);
    next.max_id = std::max(next.max_id, LargestIdUsed(r));
  }
  DB_RETURN_IF_ERROR(journal_->WriteCheckpoint(next));
  env_->FaultPoint("checkpoint", "done");
  return Status::Ok();
}

}  // namespace drovebank
