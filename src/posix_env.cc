#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "drovebank/env.h"

namespace drovebank {
namespace {

FileInfo ToInfo(const struct stat& st) {
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
  return i;
}

class Posix final : public Env {
 public:
  Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    int fd;
    do {
      fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", path));
    return fd;
  }

  Status Close(int fd) override {
    // close(2) is not retried on EINTR: on Linux the descriptor is gone either way.
    if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus(errno, "close");
    return Status::Ok();
  }

  Status Write(int fd, std::string_view data) override {
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

  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) override {
    ssize_t r;
    do {
      r = ::pread(fd, buf, n, static_cast<off_t>(offset));
    } while (r < 0 && errno == EINTR);
    if (r < 0) return ErrnoStatus(errno, "pread");
    return static_cast<size_t>(r);
  }

  Result<std::string> ReadFile(const std::string& path) override {
    DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY, 0));
    std::string out;
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

  Status Sync(int fd) override {
    if (::fsync(fd) != 0) return ErrnoStatus(errno, "fsync");
    return Status::Ok();
  }

  Status DataSync(int fd) override {
    if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync");
    return Status::Ok();
  }

  Status Truncate(int fd, std::uint64_t size) override {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return ErrnoStatus(errno, "ftruncate");
    return Status::Ok();
  }

  Result<FileInfo> StatFd(int fd) override {
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat");
    return ToInfo(st);
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, fmt::format("stat {}", path));
    return ToInfo(st);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus(errno, fmt::format("rename {} to {}", from, to));
    }
    return Status::Ok();
  }

  Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, fmt::format("unlink {}", path));
    return Status::Ok();
  }

  Status MakeDir(const std::string& path, unsigned mode) override {
    if (::mkdir(path.c_str(), mode) == 0) return Status::Ok();
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return ErrnoStatus(err, fmt::format("mkdir {}", path));
  }

  Status SyncDir(const std::string& path) override {
    DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY | O_DIRECTORY, 0));
    Status s;
    if (::fsync(fd) != 0) s = ErrnoStatus(errno, fmt::format("fsync directory {}", path));
    ::close(fd);
    return s;
  }

  Status SyncFs(const std::string& path) override {
    DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY | O_DIRECTORY, 0));
    Status s;
    if (::syncfs(fd) != 0) s = ErrnoStatus(errno, fmt::format("syncfs {}", path));
    ::close(fd);
    return s;
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY | O_DIRECTORY, 0));
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      Status s = ErrnoStatus(errno, fmt::format("opendir {}", path));
      ::close(fd);
      return s;
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus(err, fmt::format("readdir {}", path));
    return names;
  }

  Status LockByte(int fd, std::uint64_t offset, bool wait) override {
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(offset);
    fl.l_len = 1;
    for (;;) {
      if (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EACCES) return Status::Busy("lock held by another process");
      return ErrnoStatus(errno, "fcntl lock");
    }
  }

  Status UnlockByte(int fd, std::uint64_t offset) override {
    struct flock fl = {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(offset);
    fl.l_len = 1;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) return ErrnoStatus(errno, "fcntl unlock");
    return Status::Ok();
  }

  Result<void*> MapShared(int fd, size_t len) override {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return ErrnoStatus(errno, "mmap");
    return p;
  }

  void Unmap(void* addr, size_t len) override { ::munmap(addr, len); }
};

}  // namespace

Env* PosixEnv() {
  static Posix env;
  return &env;
}

Status WriteFileDurably(Env* env, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  DB_ASSIGN_OR_RETURN(int fd, env->Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  Status s = env->Write(fd, data);
  if (s.ok()) s = env->Sync(fd);
  Status c = env->Close(fd);
  if (s.ok()) s = c;
  if (s.ok()) s = env->Rename(tmp, path);
  if (!s.ok()) {
    (void)env->Unlink(tmp);
    return s;
  }
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos
                                       ? 0
                                       : path.find_last_of('/'));
  return env->SyncDir(dir.empty() ? "." : dir);
}

}  // namespace drovebank
