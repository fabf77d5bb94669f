// FileInstaller (file_installer.h): the spare file written without following links, and
// installed by exchange, or on a shared file system the content written in place.
#include "file_installer.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>
#include <utility>

namespace drovebank {

FileInstaller::FileInstaller(FileInstaller&& o) noexcept
    : table_(o.table_),
      target_(std::move(o.target_)),
      written_(o.written_),
      in_place_(std::move(o.in_place_)),
      target_size_(o.target_size_) {
  o.written_ = false;
}

Status FileInstaller::WriteTemp(std::string_view content) {
  Env* env = table_->env();
  if (table_->mode().shared) {
    in_place_ = std::string(content);
    written_ = true;
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(std::string spare, table_->SparePath());
  // The spare usually exists (it holds the version the last exchange replaced): reusing
  // it allocates no inode. Only the first write of a process's spare creates it. Why an
  // overwrite and a cut instead of O_TRUNC: the old version is about as long as the new,
  // so its data block is reused; truncating to 0 first would free the block and allocate
  // another at every commit, metadata that each journal fdatasync then has to commit.
  // The cut is made only when the spare is longer than the new version: a write over a
  // file no longer than itself leaves exactly its own bytes (one call fewer a commit,
  // most commits; ftruncate to the same length changes nothing but the file's times).
  std::uint64_t spare_size = 0;
  auto fd = env->Open(spare, O_WRONLY | O_NOFOLLOW, 0600);
  if (fd.ok()) {
    // Never through a link: the spare's inode may be a file a hard-link backup (cp -al,
    // rsync --link-dest) also holds, the account file it replaced last, or a link planted
    // at the spare's name. Such an inode is left alone; the spare gets a new one.
    auto info = env->StatFd(*fd);
    if (!info.ok() || info->nlink != 1 || !info->is_regular) {
      (void)env->Close(*fd);
      if (!info.ok()) return info.status();
      DB_RETURN_IF_ERROR(env->Unlink(spare));
      fd = Status::NotFound("spare replaced");
    } else {
      spare_size = info->size;
    }
  } else if (fd.status().sys_errno() == ELOOP) {
    // A symbolic link at the spare's name: removed, never followed.
    DB_RETURN_IF_ERROR(env->Unlink(spare));
    fd = Status::NotFound("spare replaced");
  } else if (fd.status().sys_errno() == EISDIR || fd.status().sys_errno() == ENXIO) {
    // A directory or a FIFO at the spare's name (put there by hand: drovebank makes only
    // files there). Renamed out of the way, to a name no drovebank uses, which `recover`
    // moves to quarantine/; the spare gets a new inode. Failing instead would fail every
    // commit of this process after its journal record, and recover's own rewrites too.
    DB_ASSIGN_OR_RETURN(FileInfo info, env->Stat(spare));
    DB_RETURN_IF_ERROR(env->Rename(spare, fmt::format("{}.not-a-file.{}", spare, info.ino)));
    fd = Status::NotFound("spare replaced");
  }
  if (!fd.ok() && fd.status().code() == Code::kNotFound) {
    fd = env->Open(spare, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  }
  if (!fd.ok()) return fd.status();
  written_ = true;
  Status s = env->PWrite(*fd, content, 0);
  if (s.ok() && spare_size > content.size()) s = env->Truncate(*fd, content.size());
  Status c = env->Close(*fd);
  return s.ok() ? c : s;
}

// Why in place on a shared file system: a GlusterFS client resolves a path through its
// cached entry for about a second, so after another host renamed a new version over an
// account file, a holder of the account's lock would open the old inode and read the old
// balance (measured: 38 of 40 opens right after a rename on the other mount read the old
// content, O_DIRECT or not): a lost update. A file that keeps its inode is read fresh by
// O_DIRECT. The write is not atomic, but the slot's repair flag is set from before the
// journal append until after this write, so a crash in the middle leaves a flagged file
// that the next holder rewrites from the journal, and a reader without the lock that finds
// a torn file reads it again under the lock, as for any file that does not decode.
Status FileInstaller::WriteInPlace(const std::string& target) {
  Env* env = table_->env();
  auto fd = env->Open(target, O_WRONLY, 0600);
  if (!fd.ok() && fd.status().code() == Code::kNotFound) {
    fd = env->Open(target, O_WRONLY | O_CREAT, 0600);
  }
  if (!fd.ok()) return fd.status();
  Status s = env->PWrite(*fd, in_place_, 0);
  // Not shorter than the file it overwrites (most deposits): nothing to cut, nothing the
  // O_DSYNC write left undurable. Two round trips fewer on a GlusterFS mount.
  bool own = target == target_;
  bool covers = own && target_size_ && in_place_.size() >= *target_size_;
  if (s.ok() && !covers) s = env->Truncate(*fd, in_place_.size());
  // Why a sync after the cut: O_DSYNC makes the bytes written durable, not a truncate, and
  // the repair flag is cleared right after. Without it a power loss could leave the new
  // version followed by the old one's tail, under a clear flag: a file that no longer
  // decodes and that no holder would repair (found by the power-loss model's shared-mount
  // sweep at transfer:after_rename).
  if (s.ok() && !covers) s = env->DataSync(*fd);
  // After a failed write the file's length is unknown: the next rewrite cuts and syncs.
  if (own) target_size_ = s.ok() ? std::optional<std::uint64_t>(in_place_.size()) : std::nullopt;
  Status c = env->Close(*fd);
  return s.ok() ? c : s;
}

Status FileInstaller::InstallOver(const std::string& target) {
  if (table_->mode().shared) {
    DB_RETURN_IF_ERROR(WriteInPlace(target));
    written_ = false;
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(std::string spare, table_->SparePath());
  DB_RETURN_IF_ERROR(table_->env()->ReplaceFile(spare, target).status());
  written_ = false;
  return Status::Ok();
}

}  // namespace drovebank
