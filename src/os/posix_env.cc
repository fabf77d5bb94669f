// PosixEnv's calls on descriptors: open, close, read, write, sync, stat.
#include "posix_env.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

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
  bool shared = false;
  bool writable = (flags & O_ACCMODE) != O_RDONLY;
  int fd = -1;
  int failed = confinement_.CallAt(path, &r, &walk, [&](const Resolved& at) {
    // Why O_DSYNC on a shared file system: GlusterFS's write-behind keeps a write in the
    // client (and its close returns before the flush) where no other host sees it, and
    // an fdatasync only flushes this client's own writes. Through an O_DSYNC descriptor
    // a write is on the servers, durable, when it returns (measured: seen by the other
    // mount at once, 0 stale in 40).
    shared = at.shared && (flags & (O_DIRECTORY | O_PATH)) == 0;
    int how = flags | (shared && writable ? O_DSYNC : 0);
    do {
      fd = ::openat(at.dir, at.base.c_str(), how | O_CLOEXEC | O_NOFOLLOW, mode);
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
  if (shared) shared_fds_.Add(fd, writable, r.read_only, (flags & O_DIRECT) != 0);
  return fd;
}

Status PosixEnvImpl::Close(int fd) {
  shared_fds_.Remove(fd);
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
  if (int direct = shared_fds_.DirectOf(fd); direct >= 0) {
    Result<size_t> got = size_t{0};
    if (offset + n <= shared_fds_.UncachedSize(fd)) {
      // A short read below the size seen means the file changed size since: the
      // cache drop and the read again, as for any file.
      got = DirectPRead(direct, buf, n, offset);
      if (got.ok() && *got == n) return got;
    }
    if (got.ok()) {
      shared_fds_.Refresh(fd);
      got = DirectPRead(direct, buf, n, offset);
    }
    if (got.ok() || got.status().sys_errno() != EINVAL) return got;
    shared_fds_.RefuseDirect(fd);  // then the plain read below
  }
  ssize_t r;
  do {
    r = ::pread(fd, buf, n, static_cast<off_t>(offset));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrnoStatus(errno, "pread");
  return static_cast<size_t>(r);
}

Result<std::string> PosixEnvImpl::ReadFile(const std::string& path) {
  if (IsShared(path)) return ReadShared(path);
  DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY, 0));
  std::string out;
  // Sized up front: growing by doubling would briefly hold a journal segment three
  // times over (old buffer, new buffer twice its size), which is most of a whole-journal
  // pass's memory.
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size) + 1);
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus(errno, fmt::format("read {}", path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::string> PosixEnvImpl::ReadShared(const std::string& path) {
  // Why again: a file another host replaced by rename (journal/CHECKPOINT, at every
  // shell's exit) can still be this client's cached inode, which the servers no longer
  // know: ESTALE, from the open or the read. The name, looked up again once the
  // client's entry cache lets go of it (GlusterFS: 1 s), is the new file.
  Result<std::string> got = ReadSharedOnce(path);
  for (int wait_ms : {20, 100, 300, 600, 1000}) {
    if (got.ok() || got.status().sys_errno() != ESTALE) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    got = ReadSharedOnce(path);
  }
  return got;
}

Result<std::string> PosixEnvImpl::ReadSharedOnce(const std::string& path) {
  // Read-write where allowed, so that Refresh needs no second descriptor.
  bool read_only = confinement_.ReadOnly(path);
  auto opened = Open(path, (read_only ? O_RDONLY : O_RDWR) | O_DIRECT, 0);
  if (!opened.ok() && opened.status().code() != Code::kNotFound && !read_only) {
    opened = Open(path, O_RDONLY | O_DIRECT, 0);
  }
  // A file system without O_DIRECT (EINVAL): plain reads, as fresh as its caches allow.
  if (!opened.ok() && opened.status().code() == Code::kIOError) opened = Open(path, O_RDONLY, 0);
  DB_ASSIGN_OR_RETURN(int fd, std::move(opened));
  EnvFdCloser closer{this, fd};
  shared_fds_.Refresh(fd);
  constexpr size_t kChunk = 1 << 20;
  std::string out;
  std::string chunk(kChunk, '\0');
  int direct = shared_fds_.DirectOf(fd);
  for (;;) {
    auto n = direct >= 0 ? DirectPRead(direct, chunk.data(), kChunk, out.size())
                         : PRead(fd, chunk.data(), kChunk, out.size());
    if (!n.ok() && direct >= 0 && n.status().sys_errno() == EINVAL) {
      shared_fds_.RefuseDirect(fd);
      direct = -1;
      continue;
    }
    if (!n.ok()) {
      return Status::IOError(fmt::format("read {}: {}", path, n.status().message()))
          .set_sys_errno(n.status().sys_errno());
    }
    out.append(chunk.data(), *n);
    if (*n < kChunk) break;
  }
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
  bool shared = shared_fds_.Has(fd);
  if (shared) shared_fds_.Refresh(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat");
  if (shared) shared_fds_.SawSize(fd, static_cast<std::uint64_t>(st.st_size));
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

bool PosixEnvImpl::IsShared(const std::string& path) { return confinement_.Shared(path); }

Env* PosixEnv() {
  static PosixEnvImpl* env = new PosixEnvImpl;
  return env;
}

}  // namespace drovebank
