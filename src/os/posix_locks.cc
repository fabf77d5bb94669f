// PosixEnv's byte-range locks: open-file-description locks (F_OFD_*), one byte each.
#include <fcntl.h>

#include <cerrno>

#include "posix_env.h"

namespace drovebank {
namespace {

struct flock OneByte(short type, std::uint64_t offset) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  return fl;
}

}  // namespace

Status PosixEnvImpl::LockByte(int fd, std::uint64_t offset, bool wait) {
  struct flock fl = OneByte(F_WRLCK, offset);
  for (;;) {
    if (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return Status::Ok();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return Status::Busy("lock held by another process");
    return ErrnoStatus(errno, "fcntl lock");
  }
}

Status PosixEnvImpl::LockByteShared(int fd, std::uint64_t offset) {
  struct flock fl = OneByte(F_RDLCK, offset);
  for (;;) {
    if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return Status::Ok();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return Status::Busy("lock held by another process");
    return ErrnoStatus(errno, "fcntl shared lock");
  }
}

Status PosixEnvImpl::UnlockByte(int fd, std::uint64_t offset) {
  struct flock fl = OneByte(F_UNLCK, offset);
  if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) return ErrnoStatus(errno, "fcntl unlock");
  return Status::Ok();
}

Status PosixEnvImpl::WaitLockByte(int fd, std::uint64_t offset) {
  struct flock fl = OneByte(F_WRLCK, offset);
  if (::fcntl(fd, F_OFD_SETLKW, &fl) == 0) return Status::Ok();
  if (errno == EINTR) return Status::Cancelled("lock wait interrupted");
  return ErrnoStatus(errno, "fcntl lock wait");
}

Result<bool> PosixEnvImpl::ByteLocked(int fd, std::uint64_t offset) {
  struct flock fl = OneByte(F_WRLCK, offset);
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return ErrnoStatus(errno, "fcntl getlk");
  return fl.l_type != F_UNLCK;
}

}  // namespace drovebank
