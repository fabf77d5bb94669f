// A store's side of hard-link backups (own_links.h): the attachment let go of while a
// shell waits for its next line, and the check points at which a process that holds the
// store open makes way for a writer giving its in-place files inodes of their own.
#include <fmt/format.h>

#include <utility>

#include "key_index.h"
#include "own_links.h"
#include "store_impl.h"

namespace drovebank {

int StoreImpl::AttachFd() const { return read_only_ ? attach_fd_ : journal_->state_fd(); }

void StoreImpl::ReopenInPlaceFiles(int state_fd) {
  if (read_only_) {
    attach_fd_ = state_fd;
  } else {
    journal_->ReplaceStateFd(state_fd);
  }
  auto locks = LockTable::Open(env_, layout_, locks_->mode(), /*create=*/false, read_only_);
  if (locks.ok()) {
    locks_ = std::move(locks).value();
  } else if (!read_only_) {
    (void)MarkNeedsRecovery(fmt::format("the lock tables could not be opened again after "
                                        "they were copied: {}", locks.status().message()));
  }
  key_index_->Reopen();
}

// Why let go while waiting for the next line: an attachment held for the whole of a session
// would keep every other writer from ever being alone on the store, so a hard-link backup
// taken during a day of shell work would be written through by every commit of that day.
// A session waiting for its user holds no lock and has nothing in flight; letting go costs
// one fcntl.
void StoreImpl::Pause() {
  int fd = AttachFd();
  if (paused_ || fd < 0 || locks_->HoldsAny()) return;
  paused_ = env_->UnlockByte(fd, kAttachByte).ok();
  fresh_state_.reset();
}

// Crash reasoning: none is needed, nothing is written. The descriptors kept over the pause
// are right as long as the path still names their inode; if a writer gave the files new
// inodes meanwhile, the old ones now belong to the backup alone, and locks taken on them
// would exclude no one: they are dropped (closing the old descriptor) only after the new
// journal/state is attached.
Status StoreImpl::Resume() {
  if (!paused_) return Status::Ok();
  int fd = AttachFd();
  FileInfo held;
  DB_ASSIGN_OR_RETURN(bool same, AttachAgain(env_, layout_, fd, lock_wait_, &held));
  // A hard-link copy made while the session waited, on a shared file system: the store's
  // files cannot be given inodes of their own there, so the session stays paused and
  // refuses every command until the copy is gone.
  DB_RETURN_IF_ERROR(RefuseLinkedOnSharedFs(layout_, in_place_ && !read_only_, held));
  paused_ = false;
  if (same) {
    fresh_state_ = held;  // the command's check point needs no look of its own
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(int attached, AttachToStore(env_, layout_, !read_only_, lock_wait_));
  if (attached < 0) {
    return Status::NotFound(fmt::format("{} is gone", layout_.Relative(layout_.JournalStatePath())));
  }
  ReopenInPlaceFiles(attached);
  (void)env_->Close(fd);  // releases this process's locks on the old inode
  return Status::Ok();
}

Status StoreImpl::CheckPoint() {
  if (paused_) {
    DB_RETURN_IF_ERROR(Resume());  // its look at journal/state is this check point's
  } else {
    fresh_state_.reset();  // a look from before the last command is not this one's
  }
  return CheckLinks(/*keep_fresh=*/true);
}

// Why a look at every command and commit, and not only at opens: a hard-link backup (cp
// -al) taken while this process has the store open would otherwise be written through by
// each of its commits, and would keep every other writer from giving the store files of its
// own. The look is one fstat of journal/state, and none for the first commit of a command
// (`fresh_state_`, the look the command began with). A copy taken between that look and
// the commit holds the commit partly, as a copy taken during any write does.
//
// On a shared file system nothing is copied (own_links.h), and a fresh fstat there is two
// network round trips (a cache drop and the fstat): the journal's append refuses a linked
// segment instead, with the fstat it makes anyway (Journal::CatchUp).
Status StoreImpl::CheckLinks(bool keep_fresh) {
  int fd = AttachFd();
  if (in_place_ || paused_ || fd < 0 || locks_->HoldsAny()) return Status::Ok();
  std::optional<FileInfo> state = std::exchange(fresh_state_, std::nullopt);
  if (!state) {
    auto looked = env_->StatFd(fd);
    if (!looked.ok()) return Status::Ok();  // the commit's own calls meet what failed here
    state = *looked;
  }
  if (state->nlink <= 1) {
    if (keep_fresh) fresh_state_ = state;
    return Status::Ok();
  }
  return CooperateOnLinks(fd);
}

// Crash reasoning: a writer's copies are OwnLinkedFiles's (own_links.h). Making way writes
// nothing. A copy that cannot be made (the disk full) leaves everything as it was: the
// command goes on in place, as with another process attached, and the next check point
// tries again.
Status StoreImpl::CooperateOnLinks(int fd) {
  if (!read_only_) {
    OwnLinksReport report;
    LockWait wait = lock_wait_;
    if (!copier_wait_) wait.timeout_seconds = 0;  // given up once on this store: one try
    Result<int> copied = OwnLinkedFiles(env_, layout_, fd, &report, wait);
    if (copied.ok() && !report.copied.empty()) {
      ReopenInPlaceFiles(*copied);
      return Status::Ok();
    }
    if (report.gave_up) copier_wait_ = false;
    if (!report.other_copier) return Status::Ok();
  }
  // A copier that kept byte 104 past a whole lock wait (stopped, say) is not waited for
  // again: a long read would otherwise wait that long at each of its check points.
  if (!make_way_ || !CopyWanted(env_, fd)) return Status::Ok();
  Pause();
  if (!paused_) return Status::Ok();
  make_way_ = WaitForCopier(env_, fd, lock_wait_);
  return Resume();
}

Status StoreImpl::WalkCheckPoint() {
  if (++walk_steps_ % kCheckPointEvery != 0) return Status::Ok();
  return CheckLinks(/*keep_fresh=*/false);
}

}  // namespace drovebank
