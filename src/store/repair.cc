// Bringing files up to date with the journal: replay after a crash, repair after a dead
// lock owner, and the checkpoint that makes the files durable.
#include <fcntl.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "store_impl.h"

#include "key_index.h"
#include "drovebank/parallel.h"

namespace drovebank {

Status StoreImpl::ForEachSinceCheckpoint(const Journal::RecordFn& fn) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  DB_RETURN_IF_ERROR(journal_->AdoptUnpublished());  // a dead writer's record counts
  JournalPos end = journal_->End();
  // The write-ahead rule: a writer that died between its append and its sync left a
  // record that is in the page cache only. Files written from it could reach the disk
  // before it does, and a power loss would then keep half a transfer. Make it durable
  // first (a no-op when nothing unsynced is published).
  FaultPointSteps repair_steps(env_, "repair");
  DB_RETURN_IF_ERROR(journal_->Sync(end, &repair_steps));
  return journal_->ForEach(ckpt.pos, end, fn);
}

Result<std::vector<Record>> StoreImpl::RecordsSinceCheckpoint() {
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
Result<bool> StoreImpl::RepairAccount(AccountId id, LockFile* held) {
  std::optional<Account> newest;
  DB_RETURN_IF_ERROR(ForEachSinceCheckpoint([&](Record& r, JournalPos) {
    for (RecordAccount& ra : r.accounts) {
      if (ra.state.id == id) newest = std::move(ra.state);
    }
    return Status::Ok();
  }));
  bool wrote = false;
  if (newest) {
    DB_ASSIGN_OR_RETURN(wrote, InstallAccountIfBehind(held, *newest));
    if (wrote) env_->FaultPoint("repair", "after_install");
    // A file installed here has its entry set with it (ReplaceAccountFile). One already
    // current may still have its keys/index entry behind: a writer that died after
    // replacing the file and before setting the entry left the file current, the entry
    // one state behind and the flag set (CommitProtocol::Install sets the entry before it
    // clears the flag). Behind, the entry would let that state's file, put back, prove.
    if (!wrote) {
      DB_ASSIGN_OR_RETURN(std::uint64_t entry, key_index_->AccountHead(id));
      if (entry < newest->last_txn) {
        DB_RETURN_IF_ERROR(key_index_->SetAccountHead(id, newest->last_txn));
      }
    }
  }
  env_->FaultPoint("repair", "before_clear");
  // Only now, with the file at the journal's state, may the signal go.
  DB_RETURN_IF_ERROR(held->Repaired());
  return wrote;
}

// The slot is pointed at the newest keyed record of the journal tail that maps to it: the
// flag does not say which key was in flight, and the newest record chains to the rest.
Result<bool> StoreImpl::RepairKeySlot(LockFile* held) {
  // Records before the checkpoint are in the index already: the checkpoint synced it.
  Record newest;
  DB_RETURN_IF_ERROR(ForEachSinceCheckpoint([&](Record& r, JournalPos) {
    if (!r.key.empty() && KeySlot(r.key) == held->slot() && r.txn > newest.txn) {
      newest = std::move(r);
    }
    return Status::Ok();
  }));
  DB_ASSIGN_OR_RETURN(bool wrote, InstallKeyIfBehind(held, newest));
  if (wrote) env_->FaultPoint("repair", "after_install");
  env_->FaultPoint("repair", "before_clear");
  DB_RETURN_IF_ERROR(held->Repaired());
  return wrote;
}

Result<size_t> StoreImpl::ReplaySinceCheckpoint(size_t* records_seen) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  DB_RETURN_IF_ERROR(journal_->AdoptUnpublished());  // as in ForEachSinceCheckpoint
  JournalPos end = journal_->End();
  FaultPointSteps repair_steps(env_, "repair");
  DB_RETURN_IF_ERROR(journal_->Sync(end, &repair_steps));  // the write-ahead rule, as above
  return ApplyRange(
      ckpt.pos, end, /*wait=*/true, [&](const Record&) { ++*records_seen; }, /*warm_files=*/true);
}

Result<size_t> StoreImpl::ApplyRange(JournalPos from, JournalPos to, bool wait,
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

Result<size_t> StoreImpl::ApplyRecords(const std::vector<Record>& records, bool wait) {
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

namespace {

// Whether `text`, an account file's content, holds `state` or a newer one.
bool AtLeast(const Result<std::string>& text, const Account& state) {
  if (!text.ok()) return false;
  auto cur = DecodeAccountFile(*text, state.id);
  return cur.ok() && cur->version >= state.version;
}

}  // namespace

Result<bool> StoreImpl::InstallAccountIfBehind(LockFile* held, const Account& state) {
  auto text = ReadAccountText(env_, layout_.AccountPath(state.id));
  if (AtLeast(text, state)) return false;
  DB_RETURN_IF_ERROR(ReplaceAccountFile(held, state, text));
  return true;
}

Result<bool> StoreImpl::InstallKeyIfBehind(LockFile* held, const Record& rec) {
  DB_ASSIGN_OR_RETURN(std::uint64_t head, key_index_->Head(held->slot().offset));
  // Why the newest wins: the chain runs back from the newest record through key_prev,
  // so a slot pointing at an older record would hide every key committed after it.
  if (rec.txn <= head) return false;
  DB_RETURN_IF_ERROR(key_index_->SetHead(held->slot().offset, rec.txn));
  ReportKeySlot(rec);
  return true;
}

Result<bool> StoreImpl::HoldToApply(LockFile* lock, bool wait) {
  Status s = wait ? lock->Hold(lock_wait_) : lock->TryHold();
  if (s.code() == Code::kBusy && !wait) return false;  // a live writer holds it: its job
  DB_RETURN_IF_ERROR(s);
  return true;
}

Result<bool> StoreImpl::ApplyState(const Account& state, bool wait) {
  // Why look before locking: a replay meets mostly files already current, and a reader
  // must not queue behind their writers for nothing.
  if (AtLeast(ReadAccountText(env_, layout_.AccountPath(state.id)), state)) {
    // The file is current; its keys/index entry must reach the state too, or the mark
    // moved past this record by a checkpoint (journal_checkpoint: it applied the range)
    // would vouch for an entry behind it. Behind only after a crash or power loss between a
    // file and its entry, an older copy of keys/index put back, or an earlier build's
    // session (which set it at its first commit to an account only).
    DB_ASSIGN_OR_RETURN(std::uint64_t at, key_index_->AccountHead(state.id));
    if (at >= state.last_txn) return false;
    LockFile lock(locks_.get(), AccountSlot(state.id), layout_.AccountLock(state.id));
    DB_ASSIGN_OR_RETURN(bool held, HoldToApply(&lock, wait));
    if (!held) return false;
    DB_ASSIGN_OR_RETURN(at, key_index_->AccountHead(state.id));
    if (at < state.last_txn) DB_RETURN_IF_ERROR(key_index_->SetAccountHead(state.id, state.last_txn));
    return false;
  }
  LockFile lock(locks_.get(), AccountSlot(state.id), layout_.AccountLock(state.id));
  DB_ASSIGN_OR_RETURN(bool held, HoldToApply(&lock, wait));
  if (!held) return false;
  // A flag stays for RepairAccount (its holder's next lock, or recover): this may run
  // inside the journal's rebuild, under its append mutex, where a repair cannot read.
  // The install reads again under the lock: a writer may have moved it on meanwhile.
  return InstallAccountIfBehind(&lock, state);
}

Result<bool> StoreImpl::ApplyKey(const Record& rec, bool wait) {
  LockSlot slot = KeySlot(rec.key);
  DB_ASSIGN_OR_RETURN(std::uint64_t head, key_index_->Head(slot.offset));
  if (head >= rec.txn) return false;  // as in ApplyState: most are current
  LockFile lock(locks_.get(), slot, layout_.KeyLock(rec.key));
  DB_ASSIGN_OR_RETURN(bool held, HoldToApply(&lock, wait));
  if (!held) return false;
  return InstallKeyIfBehind(&lock, rec);
}

Result<size_t> StoreImpl::RepairFlagged(bool wait) {
  DB_ASSIGN_OR_RETURN(std::vector<LockSlot> flagged, locks_->Flagged());
  size_t settled = 0;
  // First every slot that is free now, then (when waiting) the ones live writers hold:
  // one busy slot must not keep the others from being settled.
  std::vector<LockSlot> busy;
  for (int pass = 0; pass < 2; ++pass) {
    for (const LockSlot& slot : pass == 0 ? flagged : busy) {
      bool account = slot.table == LockTableKind::kAccounts;
      LockFile lock(locks_.get(), slot, layout_.SlotLock(slot));
      Status s = pass == 0 ? lock.TryHold() : lock.Hold(lock_wait_);
      if (s.code() == Code::kBusy && pass == 0) {
        busy.push_back(slot);
        continue;
      }
      DB_RETURN_IF_ERROR(s);
      if (!lock.needs_repair()) continue;  // cleared by its writer meanwhile
      if (account) {
        DB_RETURN_IF_ERROR(RepairAccount(static_cast<AccountId>(slot.offset), &lock).status());
      } else {
        DB_RETURN_IF_ERROR(RepairKeySlot(&lock).status());
      }
      ++settled;
    }
    if (!wait) break;
  }
  return settled;
}

Status StoreImpl::SyncFiles(const std::vector<std::string>& paths) {
  // Why threads: a checkpoint may cover tens of thousands of files, and each fdatasync
  // waits for the disk; several in flight let the file system commit them together.
  constexpr size_t kThreads = 8;
  std::set<std::string> dirs;
  for (const std::string& p : paths) {
    // The file's directory and, up to the data directory, every one above it: a shard
    // directory made for a new account must itself be durable in its parent.
    for (std::string d = p.substr(0, p.rfind('/')); d.size() > layout_.root().size();
         d = d.substr(0, d.rfind('/'))) {
      if (!dirs.insert(d).second) break;
    }
  }
  std::mutex mu;
  Status first;
  auto note = [&](const Status& s) {
    if (s.ok()) return;
    std::lock_guard<std::mutex> g(mu);
    if (first.ok()) first = s;
  };
  ParallelFor(paths.size(), kThreads, [&](size_t i) {
    auto fd = env_->Open(paths[i], O_RDONLY, 0);
    if (!fd.ok()) {
      if (fd.status().code() != Code::kNotFound) note(fd.status());
      return;
    }
    note(env_->DataSync(*fd));
    (void)env_->Close(*fd);
  });
  const std::vector<std::string> dir_list(dirs.begin(), dirs.end());
  ParallelFor(dir_list.size(), kThreads, [&](size_t i) { note(env_->SyncDir(dir_list[i])); });
  return first;
}

// Why an fdatasync per file instead of one syncfs(2): FUSE file systems (GlusterFS among
// them) accept syncfs and reach no disk with it, so a checkpoint resting on it could
// claim files durable that a power loss then empties. Every supported file system honours
// a file's fdatasync; the files are synced on threads, so it costs a few waits, not one
// per file. The files are first checked to hold at least the journal's versions.
Status StoreImpl::Checkpoint(bool wait) {
  if (read_only_) return Status::Ok();  // nothing was written, so nothing to make durable
  // The snapshot's own record may rotate the journal, whose commit then checkpoints: this
  // process holds the lock already (an OFD lock is not taken twice), and this checkpoint
  // covers it.
  if (checkpointing_) return Status::Ok();
  Status locked = journal_->LockCheckpoint(wait);
  if (!locked.ok()) return locked.code() == Code::kBusy ? Status::Ok() : locked;
  checkpointing_ = true;
  struct Unlock {
    StoreImpl* s;
    ~Unlock() {
      s->checkpointing_ = false;
      s->journal_->UnlockCheckpoint();
    }
  } unlock{this};
  DB_RETURN_IF_ERROR(CheckpointFiles());
  DB_ASSIGN_OR_RETURN(bool recorded, RefreshSnapshot());
  // The snapshot's record follows the checkpoint just written: checkpointed too, so that a
  // checkpoint leaves no record of its own after it, and a second `recover` finds nothing
  // to do (the full fault matrix's rotating deposit found journal/CHECKPOINT moved by it).
  // Like the snapshot, this pass is never what the checkpoint was for: a failure leaves
  // the record for the next checkpoint, and is told only when it marked the store.
  if (!recorded) return Status::Ok();
  Status again = CheckpointFiles();
  return again.ok() || !NeedsRecovery() ? Status::Ok() : again;
}

Status StoreImpl::CheckpointFiles() {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  JournalPos end = journal_->End();
  if (end <= ckpt.pos) return Status::Ok();
  // As in RecordsSinceCheckpoint: no file is written from a record not yet durable.
  FaultPointSteps checkpoint_steps(env_, "checkpoint");
  DB_RETURN_IF_ERROR(journal_->Sync(end, &checkpoint_steps));
  env_->FaultPoint("checkpoint", "begin");
  CheckpointInfo next = ckpt;
  next.pos = end;
  DB_ASSIGN_OR_RETURN(ChainHead head, journal_->HeadAt(end));
  next.head = head;
  std::set<std::string> files;
  DB_ASSIGN_OR_RETURN(std::uint64_t vouched, key_index_->Vouched());
  DB_RETURN_IF_ERROR(ApplyRange(ckpt.pos, end, /*wait=*/true, [&](const Record& r) {
                       next.last_txn = r.txn;
                       next.account_count += AccountsOpened(r);
                       next.max_id = std::max(next.max_id, LargestIdUsed(r));
                       for (const RecordAccount& ra : r.accounts) {
                         files.insert(layout_.AccountPath(ra.state.id));
                       }
                       if (!r.key.empty()) files.insert(layout_.KeyIndexPath());
                     }).status());
  // keys/index's mark (key_vouch.cc): the range's keyed records are each in their slot now
  // (ApplyRange waited for every slot), so a mark that had reached the old checkpoint moves
  // to the new one, and a long run of commits without keys leaves the next commit with one
  // no long check. A mark below the old checkpoint stays (the records between were never
  // checked: a file put back, or one from before the mark), and so does one that moved
  // while the range was applied (a copy put back meanwhile would have a mark of its own).
  if (vouched >= ckpt.last_txn && vouched < head.txn) {
    DB_ASSIGN_OR_RETURN(std::uint64_t now, key_index_->Vouched());
    if (now == vouched) {
      DB_RETURN_IF_ERROR(key_index_->SetVouched(head.txn));
      files.insert(layout_.KeyIndexPath());
    }
  }
  env_->FaultPoint("checkpoint", "after_verify");
  DB_RETURN_IF_ERROR(SyncFiles(std::vector<std::string>(files.begin(), files.end())));
  env_->FaultPoint("checkpoint", "after_sync");
  DB_RETURN_IF_ERROR(journal_->WriteCheckpoint(next));
  env_->FaultPoint("checkpoint", "done");
  return Status::Ok();
}

}  // namespace drovebank
