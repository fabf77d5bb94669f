#include "drovebank/lockfile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace drovebank {

std::optional<LockOwner> ParseLockOwner(std::string_view text) {
  std::istringstream is{std::string(text)};
  LockOwner o;
  if (!(is >> o.process.pid >> o.process.start_time >> o.process.boot_id >> o.process.host >>
        o.since_ms)) {
    return std::nullopt;
  }
  return o;
}

bool LooksAbandoned(const std::optional<LockOwner>& owner, std::int64_t mtime_ns) {
  if (owner) return CheckLiveness(owner->process) == Liveness::kDead;
  return NowNanos() - mtime_ns > kUnreadableOwnerGraceNs;
}

Result<LockFileReading> ReadLockOwner(Env* env, const std::string& path) {
  LockFileReading r;
  auto text = env->ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() != Code::kNotFound) return text.status();
    r.gone = true;
    return r;
  }
  r.owner = ParseLockOwner(*text);
  if (r.owner) return r;
  // Why the mtime only now: it matters only for a file without an owner line, and a
  // reader with an owner line (nearly every one) is spared the call.
  auto st = env->Stat(path);
  if (!st.ok()) {
    if (st.status().code() != Code::kNotFound) return st.status();
    r.gone = true;
    return r;
  }
  r.mtime_ns = st->mtime_ns;
  return r;
}

std::string FormatLockOwner(const LockOwner& o) {
  return fmt::format("{} {} {} {} {}\n", o.process.pid, o.process.start_time, o.process.boot_id,
                     o.process.host, o.since_ms);
}

LockFile::LockFile(LockFile&& o) noexcept
    : env_(o.env_),
      paths_(std::move(o.paths_)),
      held_(o.held_),
      temp_written_(o.temp_written_),
      took_over_(o.took_over_) {
  o.held_ = false;
  o.temp_written_ = false;
}

Status LockFile::Attempt(std::optional<LockOwner>* owner) {
  Status created =
      env_->CreateExclusive(paths_.lock, FormatLockOwner(LockOwner{Self(), NowMillis()}));
  if (created.ok()) {
    held_ = true;
    return Status::Ok();
  }
  if (created.sys_errno() != EEXIST) return created;
  bool took = false;
  DB_RETURN_IF_ERROR(TakeOverIfDead(owner, &took));
  if (took) {
    held_ = true;
    took_over_ = true;
    return Status::Ok();
  }
  return Status::Busy(fmt::format("{} is locked", paths_.what));
}

// Why an OFD lock on the lock file itself: two waiters may both find the owner dead; the
// OFD lock serialises them. Why the inode check comes after the liveness verdict: an
// owner that finishes normally unlinks its lock and then exits, so a waiter that read the
// owner line just before may see a dead pid for a lock that no longer exists. Once the
// owner is dead it can unlink nothing more, so a path still naming our inode after the
// verdict proves the lock was abandoned, not released.
Status LockFile::TakeOverIfDead(std::optional<LockOwner>* owner, bool* took) {
  *took = false;
  auto fd = env_->Open(paths_.lock, O_RDWR);
  if (!fd.ok()) {
    return fd.status().code() == Code::kNotFound ? Status::Ok() : fd.status();
  }
  struct FdCloser {
    Env* env;
    int fd;
    ~FdCloser() { (void)env->Close(fd); }
  } closer{env_, *fd};
  Status ls = env_->LockByte(*fd, 0, /*wait=*/false);
  if (!ls.ok()) return ls.code() == Code::kBusy ? Status::Ok() : ls;
  DB_ASSIGN_OR_RETURN(FileInfo mine, env_->StatFd(*fd));
  char buf[512];
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(*fd, buf, sizeof buf, 0));
  *owner = ParseLockOwner(std::string_view(buf, n));
  bool dead = LooksAbandoned(*owner, mine.mtime_ns);
  if (!dead) return Status::Ok();
  auto at_path = env_->Stat(paths_.lock);
  if (!at_path.ok() || at_path->ino != mine.ino || at_path->dev != mine.dev) {
    return Status::Ok();  // released or replaced meanwhile: retry from the start
  }
  std::string line = FormatLockOwner(LockOwner{Self(), NowMillis()});
  // Why write before truncating: a reader between the two calls (`recover --check`, which
  // takes no OFD lock) finds our line followed by the tail of the old one, which parses as
  // ours; truncating first would show it an empty file, an owner it cannot judge. The
  // descriptor's offset is 0 (opened, never read through it), so Write starts there.
  DB_RETURN_IF_ERROR(env_->Write(*fd, line));
  DB_RETURN_IF_ERROR(env_->Truncate(*fd, line.size()));
  *took = true;
  return Status::Ok();
}

Status LockFile::TryHold() {
  if (held_) return Status::Ok();
  std::optional<LockOwner> owner;
  return Attempt(&owner);
}

Status LockFile::Hold(const LockWait& wait) {
  if (held_) return Status::Ok();
  // Fast path: nobody queued, so one attempt decides. A queue, even of dead tickets, is
  // joined rather than jumped: that is what keeps waiters from starving under load.
  std::optional<LockOwner> first_owner;
  auto queued = env_->ListDir(LockQueueDir(paths_.lock));
  if (!queued.ok() && queued.status().code() != Code::kNotFound) return queued.status();
  if (!queued.ok() || queued->empty()) {
    Status s = Attempt(&first_owner);
    if (s.ok() || s.code() != Code::kBusy) return s;
  }
  return WaitInLine(wait, first_owner);
}

Status LockFile::WriteTemp(std::string_view content) {
  if (!held_) return Status::Internal("WriteTemp without holding the lock");
  DB_ASSIGN_OR_RETURN(int fd, env_->Open(paths_.temp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  temp_written_ = true;
  Status s = env_->Write(fd, content);
  Status c = env_->Close(fd);
  return s.ok() ? c : s;
}

Status LockFile::Commit() {
  if (!held_ || !temp_written_) return Status::Internal("Commit without a written temp file");
  DB_RETURN_IF_ERROR(env_->ReplaceFile(paths_.temp, paths_.target));
  temp_written_ = false;
  Status s = env_->Unlink(paths_.lock);
  held_ = false;
  return s;
}

Status LockFile::Rollback() {
  Status result;
  if (temp_written_) {
    Status s = env_->Unlink(paths_.temp);
    if (!s.ok() && s.code() != Code::kNotFound) result = s;
    temp_written_ = false;
  }
  if (held_) {
    Status s = env_->Unlink(paths_.lock);
    if (!s.ok() && s.code() != Code::kNotFound && result.ok()) result = s;
    held_ = false;
  }
  return result;
}

}  // namespace drovebank
