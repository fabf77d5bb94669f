// The journal's write path: catching up with what the segment holds (AdoptTail, CatchUp,
// AdoptUnpublished), handing out account ids, appending a group of records and publishing
// its end, rotating to a new segment, and the group-commit Sync. The locks they take are
// journal/state's bytes (journal_state.h): the append mutex and the sync leader.
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "drovebank/clock.h"
#include "journal.h"
#include "journal_state.h"
#include "own_links.h"

namespace drovebank {

using journal_internal::ByteLock;
using journal_internal::kAppendLockByte;
using journal_internal::kSyncLockByte;
using journal_internal::NothingChanged;
using journal_internal::WaitEnded;

namespace {

// Numbers `records` from `txn` on, stamps them with `now` and chains each to the one before
// it, starting from `*head` (left at the last one's): the bytes of the group, one line each.
Result<std::string> EncodeGroup(std::vector<Record>* records, std::uint64_t txn,
                                std::int64_t now, ChainHead* head) {
  std::string bytes;
  // A reference to an earlier record of this group (kPrevInGroup | index) becomes its txn.
  auto resolve = [&](std::uint64_t* ref, const Record& r) -> Status {
    if (!(*ref & kPrevInGroup)) return Status::Ok();
    std::uint64_t idx = *ref & ~kPrevInGroup;
    if (idx >= records->size() || &(*records)[idx] >= &r) {
      return Status::Internal("bad in-group reference");
    }
    *ref = (*records)[idx].txn;
    return Status::Ok();
  };
  for (Record& r : *records) {
    r.txn = txn++;
    r.time_ms = now;
    DB_RETURN_IF_ERROR(resolve(&r.key_prev, r));
    for (RecordAccount& ra : r.accounts) {
      ra.state.last_txn = r.txn;
      DB_RETURN_IF_ERROR(resolve(&ra.prev_txn, r));
    }
    // The chain: each record names the one before it (src/store/chain.h).
    r.prev_hash = HashHex(head->hash);
    std::string json = RecordJson(r);
    *head = ChainHead{r.txn, ChainStep(head->hash, json)};
    bytes += EncodeRecordJson(json);
  }
  return bytes;
}

}  // namespace

Status Journal::EnsureSegmentOpen(std::uint64_t seg) {
  if (seg_fd_ >= 0 && seg_open_ == seg) return Status::Ok();
  if (seg_fd_ >= 0) (void)env_->Close(seg_fd_);
  seg_fd_ = -1;
  DB_ASSIGN_OR_RETURN(seg_fd_, OpenSegment(seg, O_WRONLY | O_APPEND));
  seg_open_ = seg;
  return Status::Ok();
}

// Bytes past the published end were written by a process that died before publishing
// them. Whole records are adopted (they may already be durable through someone else's
// sync); anything after them is cut off, since no one can have acknowledged it.
Status Journal::AdoptTail(std::uint64_t size) {
  std::string buf(size - st_->end, '\0');
  DB_ASSIGN_OR_RETURN(int rfd, OpenSegment(st_->seg, O_RDONLY));
  auto n = env_->PRead(rfd, buf.data(), buf.size(), st_->end);
  (void)env_->Close(rfd);
  if (!n.ok()) return n.status();
  buf.resize(*n);
  ScanResult scan = ScanRecords(buf);
  // The dead appender chained its records from the head this state publishes, as Append
  // does: one that does not follow from it (or its txn from next_txn) is not adopted.
  ChainFollower chain(StateHead(), st_->chained_from);
  std::uint64_t adopted = 0;
  for (size_t i = 0; i < scan.records.size(); ++i) {
    const Record& r = scan.records[i];
    if (r.txn != st_->next_txn || !chain.Feed(r, RecordJsonAt(buf, scan, i)).ok()) break;
    st_->next_txn = r.txn + 1;
    st_->account_count += AccountsOpened(r);
    st_->max_id = std::max<std::uint64_t>(st_->max_id, LargestIdUsed(r));
    adopted = scan.ends[i];
  }
  SetHead(chain.head());
  std::uint64_t keep = st_->end + adopted;
  st_->end = keep;
  DB_RETURN_IF_ERROR(SaveState());
  if (keep < size) return env_->Truncate(seg_fd_, keep);
  return Status::Ok();
}

// Under the append mutex, with the state just loaded: the segment file, not the state,
// says where the journal ends.
Status Journal::CatchUp() {
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(st_->seg));
  DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(seg_fd_));
  if (info.size > st_->end) return AdoptTail(info.size);
  if (info.size < st_->end) {
    (void)MarkNeedsRecovery("journal segment shrank below its published end");
    return Status::Corruption("the journal is shorter than expected; run recover");
  }
  // Never append through a link: a hard-link backup (cp -al, rsync --link-dest) holds the
  // same inode, and its copy of the journal must stay as it was taken. The next record
  // goes into a new segment of this store's own; an empty one is made anew. On a shared
  // file system nothing is given a new inode (own_links.h): the append is refused there,
  // before anything is written, and so is every commit of a session that was running when
  // the copy was made (a new one opens the store read-only).
  DB_RETURN_IF_ERROR(RefuseLinkedOnSharedFs(layout_, write_through_, info, SegmentPath(st_->seg)));
  if (info.nlink > 1) {
    if (st_->end > 0) {
      FaultPointSteps steps(env_, "journal");
      DB_RETURN_IF_ERROR(Rotate(&steps));
      return EnsureSegmentOpen(st_->seg);
    }
    (void)env_->Close(seg_fd_);
    seg_fd_ = -1;
    DB_RETURN_IF_ERROR(env_->Unlink(SegmentPath(st_->seg)));
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(st_->seg), O_WRONLY | O_CREAT | O_EXCL, 0600));
    Status synced = env_->Sync(fd);
    (void)env_->Close(fd);
    DB_RETURN_IF_ERROR(synced);
    DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
    return EnsureSegmentOpen(st_->seg);
  }
  return Status::Ok();
}

Status Journal::AdoptUnpublished() {
  if (state_fd_ < 0) return Status::Ok();
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  DB_RETURN_IF_ERROR(LoadState());
  return CatchUp();
}

Result<AccountId> Journal::AllocateId() {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  DB_RETURN_IF_ERROR(LoadState());
  DB_RETURN_IF_ERROR(CatchUp());
  if (st_->max_id >= kMaxAccountId) {
    return Status::Limit(fmt::format("all account ids up to {} are used", kMaxAccountId));
  }
  AccountId id = static_cast<AccountId>(++st_->max_id);
  DB_RETURN_IF_ERROR(SaveState());
  return id;
}

Result<std::optional<JournalPos>> Journal::Append(std::vector<Record>* records,
                                                  bool only_if_unchanged,
                                                  JournalSteps* steps) {
  StopLeading();  // an Append whose Sync never came (it always does; this is a safety net)
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  // Why forgotten first: from here until this append succeeds, a failure may leave records
  // (ours, cut off or not; a dead writer's, adopted) that the caller's states do not show.
  std::uint64_t own_next = std::exchange(own_next_txn_, 0);
  unchanged_at_last_append_ = false;
  DB_RETURN_IF_ERROR(LoadState());
  if (st_->sync_failed) {
    return Status::NeedsRecovery("an earlier journal sync failed; run recover");
  }
  // After CatchUp, so a record a dead writer left unpublished counts as one that joined.
  DB_RETURN_IF_ERROR(CatchUp());
  bool unchanged = own_next != 0 && st_->next_txn == own_next;
  if (only_if_unchanged && !unchanged) return std::optional<JournalPos>();

  ChainHead head = StateHead();
  DB_ASSIGN_OR_RETURN(std::string bytes,
                      EncodeGroup(records, st_->next_txn, NowMillis(), &head));
  if (steps != nullptr) steps->Reached(JournalStep::kEncoded);
  Status ws = env_->Write(seg_fd_, bytes);
  if (!ws.ok()) {
    // Cut off whatever part was written, so the next append starts on a record boundary.
    Status ts = env_->Truncate(seg_fd_, st_->end);
    if (!ts.ok()) {
      (void)MarkNeedsRecovery("a failed journal write could not be cut off");
      return ws.Annotate("writing the journal (and cutting it back failed; run recover)");
    }
    return ws.Annotate("writing the journal; nothing changed");
  }
  if (steps != nullptr) steps->Reached(JournalStep::kWritten);
  // The records are in the segment whatever this does: unpublished, the next holder of the
  // mutex adopts them from the file (CatchUp), so they may yet commit.
  if (Status ps = Publish(*records, bytes.size(), head); !ps.ok()) {
    return ps.Annotate("publishing the journal end").set_maybe_applied();
  }
  JournalPos pos{st_->seg, st_->end};
  if (write_through_) durable_ = pos;
  own_next_txn_ = st_->next_txn;
  unchanged_at_last_append_ = unchanged;
  if (steps != nullptr) steps->Reached(JournalStep::kPublished);
  // Rotation is housekeeping: the records are written whatever it does. A failed rotation
  // is tried again by the next append; a failed sync inside it is recorded in the state
  // and the marker, so this caller's Sync reports it.
  if (st_->end >= segment_bytes_) {
    (void)Rotate(steps);
  } else if (!write_through_ && env_->LockByte(state_fd_, kSyncLockByte, /*wait=*/false).ok()) {
    // Why the leader lock now, still under the mutex: with no sync in progress the Sync
    // that follows would take the leader lock, then the mutex only to read how far the
    // journal is synced and where it ends, which is what this append has just written:
    // three system calls a commit saved. A try, never a wait: the lock order elsewhere is
    // leader then mutex. Held or not, Sync's outcome is the same (see Sync).
    leading_ = true;
    leads_to_ = pos;
  }
  return std::optional<JournalPos>(pos);
}

void Journal::StopLeading() {
  if (!leading_) return;
  (void)env_->UnlockByte(state_fd_, kSyncLockByte);
  leading_ = false;
}

Status Journal::Publish(const std::vector<Record>& records, std::uint64_t written,
                        const ChainHead& head) {
  st_->next_txn += records.size();
  st_->end += written;
  SetHead(head);
  // Write-through: every byte up to the new end was written O_DSYNC (ours just now, the
  // others' before they published), so it is durable already.
  if (write_through_) {
    st_->synced_seg = st_->seg;
    st_->synced_end = st_->end;
  }
  for (const Record& r : records) {
    st_->account_count += AccountsOpened(r);
    st_->max_id = std::max<std::uint64_t>(st_->max_id, LargestIdUsed(r));
  }
  return SaveState();
}

// Runs under the append mutex. The old segment is synced whole before the new one is
// published, so "synced" never has to span two segments.
Status Journal::Rotate(JournalSteps* steps) {
  Status s = env_->DataSync(seg_fd_);
  if (!s.ok()) {
    st_->sync_failed = 1;
    (void)SaveState();
    (void)MarkNeedsRecovery("journal sync failed during segment rotation");
    return s.Annotate("syncing the journal");
  }
  std::uint64_t next = st_->next_txn;
  DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(next), O_WRONLY | O_CREAT, 0600));
  // The file's own fsync as well as the directory's: a FUSE file system (GlusterFS)
  // ignores a directory fsync but passes a file's on, and no record may go into a segment
  // whose existence is not durable.
  Status synced = env_->Sync(fd);
  (void)env_->Close(fd);
  DB_RETURN_IF_ERROR(synced);
  if (steps != nullptr) steps->Reached(JournalStep::kSegmentCreated);
  DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
  st_->seg = next;
  st_->end = 0;
  st_->synced_seg = next;
  st_->synced_end = 0;
  DB_RETURN_IF_ERROR(SaveState());
  rotated_ = true;
  return Status::Ok();
}

Status Journal::Sync(JournalPos pos, JournalSteps* steps) {
  if (write_through_ && pos <= durable_) {
    // The step still exists (a crash here is one after a durable write), so the fault
    // matrix can run in shared mode too.
    if (steps != nullptr) steps->Reached(JournalStep::kSyncing);
    return Status::Ok();
  }
  if (leading_ && pos <= leads_to_ && pos.seg == leads_to_.seg) {
    // Taken by the Append of `pos`, with the end it published: nothing can be synced
    // beyond what that append saw, so this one fdatasync is the one Sync would make
    // after its look at the state (the state's sync_failed was checked by that append).
    Status s = SyncTo(leads_to_, steps);
    StopLeading();
    return s;
  }
  StopLeading();
  // The leader lock first, the state after: whoever held the leader lock before us has
  // published how far it synced by the time we get it, so one fdatasync serves everyone
  // who was waiting (group commit).
  //
  // Our records are in the journal already, so from here a lock not granted within the
  // timeout (a reader's shared lock on the byte, a stuck process) must not end the commit:
  // the locks only share the work. Without the leader lock or the mutex we sync our own
  // records alone (fdatasync is safe beside another's: an earlier failure on this file is
  // reported to every descriptor opened before it, ours included) and leave publishing to
  // the next writer who gets the mutex.
  ByteLock leader(env_, state_fd_, kSyncLockByte, lock_wait_);
  if (Status led = leader.Lock(); !led.ok() && !WaitEnded(led)) return led.set_maybe_applied();
  JournalPos target = pos;
  {
    ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
    Status m = mutex.Lock();
    if (m.ok()) {
      DB_RETURN_IF_ERROR(LoadState());
      if (st_->sync_failed) {
        return Status::IOError("the journal sync failed; run recover").set_maybe_applied();
      }
      if (JournalPos{st_->synced_seg, st_->synced_end} >= pos) return Status::Ok();
      // Everything published up to now goes into this one fdatasync, for all waiters.
      target = JournalPos{st_->seg, st_->end};
    } else if (!WaitEnded(m)) {
      return m.set_maybe_applied();
    }
  }
  // A rotation syncs the old segment whole before it publishes the new one, so seeing a
  // newer segment means `pos` is already durable.
  if (target.seg != pos.seg) return Status::Ok();
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(target.seg));
  return SyncTo(target, steps);
}

Status Journal::SyncTo(JournalPos target, JournalSteps* steps) {
  if (steps != nullptr) steps->Reached(JournalStep::kSyncing);
  return PublishSynced(env_->DataSync(seg_fd_), target);
}

Status Journal::PublishSynced(Status s, JournalPos target) {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  Status m = mutex.Lock();
  if (!m.ok() && !WaitEnded(m)) return m.set_maybe_applied();
  if (m.ok()) DB_RETURN_IF_ERROR(LoadState());
  if (!s.ok()) {
    // Never retried: after a failed fsync Linux may have dropped the dirty pages, so a
    // second success would prove nothing. Recovery re-reads what the disk really holds.
    if (m.ok()) {
      st_->sync_failed = 1;
      (void)SaveState();
    }
    (void)MarkNeedsRecovery(fmt::format("journal fdatasync failed: {}", s.message()));
    (void)env_->Close(seg_fd_);
    seg_fd_ = -1;
    return s.Annotate("syncing the journal").set_maybe_applied();
  }
  if (m.ok() && JournalPos{st_->synced_seg, st_->synced_end} < target) {
    st_->synced_seg = target.seg;
    st_->synced_end = target.offset;
    // Publishing is an optimisation for the other waiters: not publishing only makes them
    // sync again. This caller's records are durable either way.
    (void)SaveState();
  }
  return Status::Ok();
}

}  // namespace drovebank
