#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cerrno>
#include <mutex>
#include <vector>

#include "drovebank/env.h"
#include "parallel.h"

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

// Roots registered by ConfinePaths. Paths are compared as text: the store builds every
// path as root + "/" + relative, so a prefix match is exact.
std::mutex g_roots_mu;
std::vector<std::string> g_roots;

// A path split for an *at(2) call: `dir` holds the last component `base`. dir is AT_FDCWD
// (and base the whole path) when no root confines the path.
struct Resolved {
  int dir = AT_FDCWD;
  bool owned = true;  // false: `dir` is a cached root descriptor, not ours to close
  std::string base;
  Resolved() = default;
  Resolved(const Resolved&) = delete;
  Resolved& operator=(const Resolved&) = delete;
  ~Resolved() {
    if (dir >= 0 && owned) ::close(dir);
  }
};

// One O_PATH descriptor per confined root, opened at its first use and kept: why not
// open and close the root for every call, as a first version did: that was two of the
// five system calls of every path operation, and a deposit makes about six.
std::map<std::string, int> g_root_fds;  // guarded by g_roots_mu

// Walks the components of `path` below its confining root one openat(O_NOFOLLOW) at a
// time, so no symbolic link (and no "..") inside the data directory is ever followed, not
// even as an intermediate directory. O_NOFOLLOW on the final open covers the last one.
Status Resolve(const std::string& path, Resolved* out) {
  std::string root;
  int root_fd = -1;
  {
    std::lock_guard<std::mutex> l(g_roots_mu);
    for (const std::string& r : g_roots) {
      if (path.size() > r.size() + 1 && path.compare(0, r.size(), r) == 0 &&
          path[r.size()] == '/') {
        root = r;
        break;
      }
    }
    if (!root.empty()) {
      auto it = g_root_fds.find(root);
      if (it == g_root_fds.end()) {
        int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", root));
        it = g_root_fds.emplace(root, fd).first;
      }
      root_fd = it->second;
    }
  }
  if (root.empty()) {
    out->base = path;
    return Status::Ok();
  }
  std::string_view rel = std::string_view(path).substr(root.size() + 1);
  if (rel.find('/') == std::string_view::npos && rel != ".." && !rel.empty() && rel != ".") {
    out->dir = root_fd;  // a name directly in the root
    out->owned = false;
    out->base = std::string(rel);
    return Status::Ok();
  }
  // Fast path: one openat2 reaches the parent directory without following any symbolic
  // link and without leaving the root, instead of an openat and a close per component
  // (about 40 syscalls a deposit). On any failure (an old kernel, a link, a missing
  // directory, "..") the walk below runs and reports the precise cause.
  if (size_t last = rel.rfind('/');
      last != std::string_view::npos && rel.find("..") == std::string_view::npos) {
    struct open_how how = {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    std::string parent(rel.substr(0, last));
    int dir = static_cast<int>(::syscall(SYS_openat2, root_fd, parent.c_str(), &how, sizeof how));
    if (dir >= 0 && last + 1 < rel.size()) {
      out->dir = dir;
      out->base = std::string(rel.substr(last + 1));
      return Status::Ok();
    }
    if (dir >= 0) ::close(dir);
  }
  // The slow walk closes as it goes, so it starts from a copy of the root descriptor.
  int fd = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", root));
  std::string walked = root;
  for (;;) {
    size_t slash = rel.find('/');
    std::string comp(rel.substr(0, slash));
    if (comp == "..") {
      ::close(fd);
      return Status::InvalidArgument(
          fmt::format("{}: '..' is refused inside the data directory", path));
    }
    if (slash == std::string_view::npos) {
      out->dir = fd;
      out->base = comp.empty() ? "." : comp;
      return Status::Ok();
    }
    rel.remove_prefix(slash + 1);
    if (comp.empty() || comp == ".") continue;
    walked += "/" + comp;
    int next = ::openat(fd, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    struct stat st;
    bool link = next < 0 && ::fstatat(fd, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode);
    ::close(fd);
    if (next < 0) {
      if (link) {
        return Status::IOError(
            fmt::format("{}: {} is a symbolic link; drovebank never follows links inside its data "
                        "directory",
                        path, walked));
      }
      return ErrnoStatus(err, fmt::format("open {}", walked));
    }
    fd = next;
  }
}

constexpr size_t kWarmThreads = 8;

struct flock OneByte(short type, std::uint64_t offset) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  return fl;
}

class Posix final : public Env {
 public:
  Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    Resolved r;
    DB_RETURN_IF_ERROR(Resolve(path, &r));
    int fd;
    do {
      fd = ::openat(r.dir, r.base.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
    } while (fd < 0 && errno == EINTR);
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

  Status PWrite(int fd, std::string_view data, std::uint64_t offset) override {
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
    Resolved r;
    DB_RETURN_IF_ERROR(Resolve(path, &r));
    struct stat st;
    if (::fstatat(r.dir, r.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, fmt::format("stat {}", path));
    }
    return ToInfo(st);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    Resolved a, b;
    DB_RETURN_IF_ERROR(Resolve(from, &a));
    DB_RETURN_IF_ERROR(Resolve(to, &b));
    if (::renameat(a.dir, a.base.c_str(), b.dir, b.base.c_str()) != 0) {
      return ErrnoStatus(errno, fmt::format("rename {} to {}", from, to));
    }
    return Status::Ok();
  }

  void WarmForReplace(const std::vector<std::string>& paths) override {
    // ext4 keeps inodes cached without the block they live in; the first change to an
    // inode (here an atime update, later the rename's ctime) reads that block: about 1 ms
    // for a cold account of a big store. Cold blocks are scattered over the inode table,
    // so several threads keep several reads in flight instead of paying them one by one.
    ParallelFor(paths.size(), kWarmThreads, [&](size_t i) { WarmOne(paths[i]); });
  }

  // Reads the file's first block and touches its atime, which reads its inode's block:
  // what a rename over the file will need. Failures only mean a colder rename later.
  void WarmOne(const std::string& path) {
    auto fd = Open(path, O_RDONLY | O_NONBLOCK, 0);
    if (!fd.ok()) return;
    char block[512];
    (void)!::pread(*fd, block, sizeof block, 0);
    const struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    (void)::futimens(*fd, times);
    ::close(*fd);
  }

  // Why an exchange: ext4 (auto_da_alloc) starts writeback of the new file on every rename
  // over an existing one, and dropping the replaced inode then waits for the writeback
  // still running on it: 0.1-4 ms a rename in batches, against about 10 us for an exchange
  // and an unlink of the old version, whose dirty pages are simply dropped. The account
  // files need no such flush: the journal is the commit point and recovery rewrites them.
  // Keeping the old version at `from` (instead of unlinking it) is what lets the next
  // commit truncate and reuse the same inode: no inode is allocated or freed per commit.
  Result<bool> ReplaceFile(const std::string& from, const std::string& to) override {
    Resolved a, b;
    DB_RETURN_IF_ERROR(Resolve(from, &a));
    DB_RETURN_IF_ERROR(Resolve(to, &b));
    if (::renameat2(a.dir, a.base.c_str(), b.dir, b.base.c_str(), RENAME_EXCHANGE) == 0) {
      return true;
    }
    // No file at `to` yet (ENOENT), or no exchange on this file system: a plain rename.
    if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) {
      return ErrnoStatus(errno, fmt::format("rename {} to {}", from, to));
    }
    if (::renameat(a.dir, a.base.c_str(), b.dir, b.base.c_str()) != 0) {
      return ErrnoStatus(errno, fmt::format("rename {} to {}", from, to));
    }
    return false;
  }

  Status Unlink(const std::string& path) override {
    Resolved r;
    DB_RETURN_IF_ERROR(Resolve(path, &r));
    if (::unlinkat(r.dir, r.base.c_str(), 0) != 0) {
      return ErrnoStatus(errno, fmt::format("unlink {}", path));
    }
    return Status::Ok();
  }

  Status MakeDir(const std::string& path, unsigned mode) override {
    Resolved r;
    DB_RETURN_IF_ERROR(Resolve(path, &r));
    if (::mkdirat(r.dir, r.base.c_str(), mode) == 0) return Status::Ok();
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::fstatat(r.dir, r.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode)) return Status::Ok();
      if (S_ISLNK(st.st_mode)) {
        return Status::IOError(fmt::format(
            "{} is a symbolic link; drovebank never follows links inside its data directory",
            path));
      }
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

  Status RemoveDir(const std::string& path) override {
    Resolved r;
    DB_RETURN_IF_ERROR(Resolve(path, &r));
    if (::unlinkat(r.dir, r.base.c_str(), AT_REMOVEDIR) != 0) {
      return ErrnoStatus(errno, fmt::format("rmdir {}", path));
    }
    return Status::Ok();
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
    struct flock fl = OneByte(F_WRLCK, offset);
    for (;;) {
      if (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EACCES) return Status::Busy("lock held by another process");
      return ErrnoStatus(errno, "fcntl lock");
    }
  }

  Status UnlockByte(int fd, std::uint64_t offset) override {
    struct flock fl = OneByte(F_UNLCK, offset);
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) return ErrnoStatus(errno, "fcntl unlock");
    return Status::Ok();
  }

  Status WaitLockByte(int fd, std::uint64_t offset) override {
    struct flock fl = OneByte(F_WRLCK, offset);
    if (::fcntl(fd, F_OFD_SETLKW, &fl) == 0) return Status::Ok();
    if (errno == EINTR) return Status::Cancelled("lock wait interrupted");
    return ErrnoStatus(errno, "fcntl lock wait");
  }

  Result<bool> ByteLocked(int fd, std::uint64_t offset) override {
    struct flock fl = OneByte(F_WRLCK, offset);
    if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return ErrnoStatus(errno, "fcntl getlk");
    return fl.l_type != F_UNLCK;
  }

  Result<int> OpenBootFile(const std::string& path) override {
    return Open(path, O_RDWR | O_CREAT, 0600);
  }

  void FaultPoint(std::string_view, std::string_view) override {}

};

}  // namespace

Env* PosixEnv() {
  static Posix env;
  return &env;
}

void ConfinePaths(const std::string& root) {
  if (root.empty()) return;
  std::lock_guard<std::mutex> l(g_roots_mu);
  if (std::find(g_roots.begin(), g_roots.end(), root) == g_roots.end()) g_roots.push_back(root);
}

}  // namespace drovebank
