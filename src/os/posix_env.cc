// PosixEnv's calls on descriptors: open, close, read, write, sync, stat.
#include "posix_env.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "shared_fs_env.h"

namespace drovebank {

FileInfo ToFileInfo(const struct stat& st) {
  FileInfo i;
  i.is_dir = S_ISDIR(st.st_mode);
  i.is_regular = S_ISREG(st.st_mode);
  i.is_symlink = S_ISLNK(st.st_mode);
  i.size = static_cast<std::uint64_t>(st.st_size);
  i.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  i.mode = st.st_mode;
  i.uid = st.st_uid;
  i.dev = st.st_dev;
  i.ino = st.st_ino;
  i.nlink = static_cast<std::uint64_t>(st.st_nlink);
  return i;
}

Result<int> PosixEnvImpl::Open(const std::string& path, int flags, unsigned mode) {
  Resolved r;
  Status walk;
  int fd = -1;
  // Why O_NONBLOCK: a FIFO put where a file should be (by hand, or by anyone who can write
  // the directory) would block an open for reading until some writer came, and every read
  // after it: `show`, a report and `recover` itself hung for good on one. Non-blocking,
  // the open returns at once and a read gets end-of-file or EAGAIN, which the reader
  // reports; on a regular file or a directory the flag changes nothing.
  int always = O_CLOEXEC | O_NOFOLLOW | ((flags & O_PATH) != 0 ? 0 : O_NONBLOCK);
  int failed = confinement_.CallAt(path, &r, &walk, [&](const Resolved& at) {
    do {
      fd = ::openat(at.dir, at.base.c_str(), flags | always, mode);
    } while (fd < 0 && errno == EINTR);
    return fd >= 0;
  });
  DB_RETURN_IF_ERROR(walk);
  errno = failed;
  if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
    int err = errno;
    struct stat st;
    if (::fstatat(r.dir, r.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      return ErrnoStatus(err, fmt::format("open {} (a symbolic link, never followed)", path));
    }
    errno = err;
  }
  if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", path));
  return fd;
}

Status PosixEnvImpl::Close(int fd) {
  // close(2) is not retried on EINTR: on Linux the descriptor is gone either way.
  if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus(errno, "close");
  return Status::Ok();
}

Status PosixEnvImpl::Write(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status PosixEnvImpl::PWrite(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "pwrite");
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Status::Ok();
}

Result<size_t> PosixEnvImpl::PRead(int fd, char* buf, size_t n, std::uint64_t offset) {
  ssize_t r;
  do {
    r = ::pread(fd, buf, n, static_cast<off_t>(offset));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrnoStatus(errno, "pread");
  return static_cast<size_t>(r);
}

Result<std::string> PosixEnvImpl::ReadFile(const std::string& path, size_t at_most) {
  DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY, 0));
  std::string out;
  // Sized up front: growing by doubling would briefly hold a journal segment three
  // times over (old buffer, new buffer twice its size), which is most of a whole-journal
  // pass's memory.
  struct stat st;
  bool known = ::fstat(fd, &st) == 0;
  if (known && !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Corruption(fmt::format("{} is not a regular file", path));
  }
  size_t size = known && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  if (size > at_most) {
    ::close(fd);
    return TooLarge(path, size, at_most);
  }
  // The first read asks for one byte more than fstat saw: getting exactly the size back is
  // the end of the file, so an account file is read in one call, not two (every commit
  // and every report reads them). Anything else (a file that grew, a short read from a
  // FUSE file system) goes on reading to the end, as before.
  out.resize(size + 1);
  size_t have = 0;
  bool first = true;
  for (;;) {
    if (have == out.size()) out.resize(out.size() + 16384);
    ssize_t n = ::read(fd, out.data() + have, out.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus(errno, fmt::format("read {}", path));
      ::close(fd);
      return s;
    }
    have += static_cast<size_t>(n);
    if (have > at_most) {  // grown since the fstat: its size now, for the message
      size_t now = known && ::fstat(fd, &st) == 0 ? static_cast<size_t>(st.st_size) : have;
      ::close(fd);
      return TooLarge(path, std::max(now, have), at_most);
    }
    if (n == 0 || (first && size > 0 && have == size)) break;
    first = false;
  }
  out.resize(have);
  ::close(fd);
  return out;
}

Status PosixEnvImpl::Sync(int fd) {
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "fsync");
  return Status::Ok();
}

Status PosixEnvImpl::DataSync(int fd) {
  if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync");
  return Status::Ok();
}

Status PosixEnvImpl::Truncate(int fd, std::uint64_t size) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return ErrnoStatus(errno, "ftruncate");
  return Status::Ok();
}

Result<FileInfo> PosixEnvImpl::StatFd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat");
  return ToFileInfo(st);
}

Status PosixEnvImpl::Grow(int fd, std::uint64_t size) {
  if (size == 0) return Status::Ok();
  int r;
  do {
    r = ::fallocate(fd, 0, static_cast<off_t>(size - 1), 1);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return ErrnoStatus(errno, "fallocate");
  return Status::Ok();
}

Result<int> PosixEnvImpl::OpenBootFile(const std::string& path) {
  return Open(path, O_RDWR | O_CREAT, 0600);
}

// The shared-file-system rules are SharedFsEnv's (shared_fs_env.h), which wraps this one.
bool PosixEnvImpl::IsShared(const std::string&) { return false; }

Env* PosixEnv() {
  static Env* env = new SharedFsEnv(new PosixEnvImpl);
  return env;
}

}  // namespace drovebank
