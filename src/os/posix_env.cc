#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/parallel.h"

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
  i.nlink = static_cast<std::uint64_t>(st.st_nlink);
  return i;
}

// Roots registered by ConfinePaths. Paths are compared as text: the store builds every
// path as root + "/" + relative, so a prefix match is exact.
std::mutex g_roots_mu;
std::vector<std::string> g_roots;
std::map<std::string, bool> g_shared_roots;     // guarded by g_roots_mu
std::map<std::string, bool> g_read_only_roots;  // guarded by g_roots_mu

// The confining root of `path`, or "" (caller holds g_roots_mu).
const std::string* RootOf(const std::string& path) {
  for (const std::string& r : g_roots) {
    if (path.size() > r.size() + 1 && path.compare(0, r.size(), r) == 0 && path[r.size()] == '/') {
      return &r;
    }
  }
  return nullptr;
}

bool ReadOnlyLocked(const std::string& path) {
  const std::string* r = RootOf(path);
  if (r == nullptr) return false;
  auto it = g_read_only_roots.find(*r);
  return it != g_read_only_roots.end() && it->second;
}

bool SharedLocked(const std::string& path) {
  const std::string* r = RootOf(path);
  if (r == nullptr) return false;
  auto it = g_shared_roots.find(*r);
  return it != g_shared_roots.end() && it->second;
}

// A path split for an *at(2) call: `dir` holds the last component `base`. dir is AT_FDCWD
// (and base the whole path) when no root confines the path.
struct Resolved {
  int dir = AT_FDCWD;
  bool owned = true;  // false: `dir` is a cached root or directory descriptor, not ours to close
  std::string cache_key;  // set when `dir` came from the directory cache (DirKey)
  bool shared = false;  // below a root on a shared file system (FileSystemMode)
  bool read_only = false;  // ... confined read-only: no Refresh
  std::string base;
  Resolved() = default;
  Resolved(const Resolved&) = delete;
  Resolved& operator=(const Resolved&) = delete;
  ~Resolved() { Reset(); }
  void Reset() {
    if (dir >= 0 && owned) ::close(dir);
    dir = AT_FDCWD;
    owned = true;
    cache_key.clear();
    base.clear();
  }
};

// One O_PATH descriptor per confined root, opened at its first use and kept: why not
// open and close the root for every call, as a first version did: that was two of the
// five system calls of every path operation, and a deposit makes about six.
std::map<std::string, int> g_root_fds;  // guarded by g_roots_mu

// The parent directories of the paths used, kept open the same way: a path operation was
// openat2, the call and a close, and a deposit makes four (two in a rename), so about a
// third of its calls were these walks. Directories inside a data directory are never
// renamed and only the format 1 wait queues are ever removed, but a user may remove one
// by hand: a call on a cached directory that fails with ENOENT, when `fstat` shows the
// directory removed, forgets it and walks again.
// A forgotten descriptor is kept open, not closed: another thread may be using it.
std::unordered_map<std::string, int> g_dir_fds;  // guarded by g_roots_mu
std::vector<int> g_forgotten_dir_fds;            // guarded by g_roots_mu
constexpr size_t kMaxDirFds = 128;

std::string DirKey(const std::string& root, std::string_view parent) {
  std::string key = root;
  key += '\0';
  key += parent;
  return key;
}

void ForgetDir(const std::string& key) {
  std::lock_guard<std::mutex> l(g_roots_mu);
  auto it = g_dir_fds.find(key);
  if (it == g_dir_fds.end()) return;
  g_forgotten_dir_fds.push_back(it->second);
  g_dir_fds.erase(it);
}

// After a directory was renamed or removed: every cached directory at or below it.
void ForgetDirsBelow(const std::string& path) {
  std::lock_guard<std::mutex> l(g_roots_mu);
  const std::string* root = RootOf(path);
  if (root == nullptr || path.size() <= root->size()) {
    for (auto& [key, fd] : g_dir_fds) g_forgotten_dir_fds.push_back(fd);
    g_dir_fds.clear();
    return;
  }
  std::string key = DirKey(*root, std::string_view(path).substr(root->size() + 1));
  for (auto it = g_dir_fds.begin(); it != g_dir_fds.end();) {
    if (it->first == key || it->first.starts_with(key + "/")) {
      g_forgotten_dir_fds.push_back(it->second);
      it = g_dir_fds.erase(it);
    } else {
      ++it;
    }
  }
}

// The confining root of `path` ("" for none) and a descriptor of it, opened once and kept;
// also whether the path is on a shared or read-only store.
Status FindRoot(const std::string& path, std::string* root, int* root_fd, Resolved* out) {
  std::lock_guard<std::mutex> l(g_roots_mu);
  if (const std::string* r = RootOf(path)) *root = *r;
  out->shared = SharedLocked(path);
  out->read_only = ReadOnlyLocked(path);
  if (root->empty()) return Status::Ok();
  auto it = g_root_fds.find(*root);
  if (it == g_root_fds.end()) {
    int fd = ::open(root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", *root));
    it = g_root_fds.emplace(*root, fd).first;
  }
  *root_fd = it->second;
  return Status::Ok();
}

// The fast path: one openat2 reaches the parent directory without following any symbolic
// link and without leaving the root, instead of an openat and a close per component
// (about 40 syscalls a deposit), and the descriptor is cached. False on any failure (an
// old kernel, a link, a missing directory, ".."): the walk then runs and reports the
// precise cause.
bool ResolveParentAtOnce(const std::string& root, int root_fd, std::string_view rel,
                         bool use_cache, Resolved* out) {
  size_t last = rel.rfind('/');
  if (last == std::string_view::npos || rel.find("..") != std::string_view::npos) return false;
  struct open_how how = {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string parent(rel.substr(0, last));
  std::string key = DirKey(root, parent);
  if (use_cache && last + 1 < rel.size()) {
    std::lock_guard<std::mutex> l(g_roots_mu);
    if (auto it = g_dir_fds.find(key); it != g_dir_fds.end()) {
      out->dir = it->second;
      out->owned = false;
      out->cache_key = std::move(key);
      out->base = std::string(rel.substr(last + 1));
      return true;
    }
  }
  int dir = static_cast<int>(::syscall(SYS_openat2, root_fd, parent.c_str(), &how, sizeof how));
  if (dir >= 0 && last + 1 < rel.size()) {
    out->dir = dir;
    out->base = std::string(rel.substr(last + 1));
    std::lock_guard<std::mutex> l(g_roots_mu);
    if (g_dir_fds.size() < kMaxDirFds && g_dir_fds.emplace(key, dir).second) {
      out->owned = false;
      out->cache_key = std::move(key);
    }
    return true;
  }
  if (dir >= 0) ::close(dir);
  return false;
}

// The slow walk: one openat(O_NOFOLLOW) per component, closing as it goes, so it starts
// from a copy of the root descriptor.
Status WalkBeneath(const std::string& path, const std::string& root, int root_fd,
                   std::string_view rel, Resolved* out) {
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

// `path` as a directory descriptor and a name in it. Below a confining root no symbolic
// link (and no "..") inside the data directory is ever followed, not even as an
// intermediate directory: by one openat2 where it can, else one openat(O_NOFOLLOW) per
// component. O_NOFOLLOW on the final open covers the last one.
Status Resolve(const std::string& path, Resolved* out, bool use_cache = true) {
  std::string root;
  int root_fd = -1;
  DB_RETURN_IF_ERROR(FindRoot(path, &root, &root_fd, out));
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
  if (ResolveParentAtOnce(root, root_fd, rel, use_cache, out)) return Status::Ok();
  return WalkBeneath(path, root, root_fd, rel, out);
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

// Descriptors opened below a shared root. Why a side table and not flags on the
// descriptor: a GlusterFS client serves reads from its caches (the kernel's page cache,
// quick-read, md-cache) for about a second after another client's write, even one that
// was fdatasync'd (measured: 45 of 49 reads stale), and the only reads that reach the
// servers are O_DIRECT ones, which need aligned buffers. So each such descriptor gets an
// O_DIRECT twin for reading, opened when first needed.
struct SharedFd {
  bool writable = false;
  bool no_refresh = false;  // read-only root, or no writable twin could be had
  int direct = -1;         // O_RDONLY|O_DIRECT reopening of the same file, or -1
  bool no_direct = false;  // the file system refused O_DIRECT: plain reads
  int refresh = -1;        // a writable reopening of a read-only descriptor, for Refresh
  // The size StatFd last saw, once it was at least Env::kUncachedBytes: reads below it
  // need no Refresh (quick-read never holds such a file, and O_DIRECT passes the page
  // cache). Only the files drovebank keeps at a fixed size grow that big (lock tables,
  // journal/state) or are read this way (old journal segments).
  std::uint64_t uncached_size = 0;
};
std::mutex g_shared_mu;
std::unordered_map<int, SharedFd> g_shared_fds;  // guarded by g_shared_mu
// Whether any descriptor was ever registered: a store on a local disk then pays no mutex
// on its hot calls (PRead, StatFd, Close).
std::atomic<bool> g_any_shared_fd{false};

constexpr size_t kDirectAlign = 4096;

struct AlignedFree {
  void operator()(char* p) const { std::free(p); }
};
using AlignedBuf = std::unique_ptr<char, AlignedFree>;

AlignedBuf AllocAligned(size_t n) {
  return AlignedBuf(static_cast<char*>(std::aligned_alloc(kDirectAlign, n)));
}

int Reopen(int fd, int flags) {
  std::string self = fmt::format("/proc/self/fd/{}", fd);
  int r;
  do {
    r = ::open(self.c_str(), flags | O_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  return r;
}

// Makes the client forget what it cached of the file: its size and, for a small file, its
// content. A GlusterFS client serves reads of a file under 64 KiB from the content its
// quick-read cache took at the last lookup, O_DIRECT ones too, for a second (measured: a
// counter incremented under a lock by six processes on two mounts lost 1 to 3 of 180);
// and it trusts its cached size for as long, clamping every read to it (an account file
// another host lengthened read cut short 40 times in 40). A setattr refreshes the size but
// not quick-read; an fallocate that allocates nothing (KEEP_SIZE, the first byte) goes to
// the servers, drops quick-read's copy and brings back the servers' attributes (0 lost in
// 3 x 180). It needs a writable descriptor: a read-only one gets a writable twin; where
// none can be had (a read-only store), reads may lag another host by that second.
void Refresh(int fd) {
  int target = -1;
  {
    std::lock_guard<std::mutex> l(g_shared_mu);
    auto it = g_shared_fds.find(fd);
    if (it == g_shared_fds.end()) return;
    SharedFd& sf = it->second;
    if (sf.no_refresh) return;
    if (sf.writable) {
      target = fd;
    } else {
      if (sf.refresh < 0 && !sf.no_refresh) {
        sf.refresh = Reopen(fd, O_WRONLY);
        sf.no_refresh = sf.refresh < 0;
      }
      target = sf.refresh;
    }
  }
  if (target >= 0) (void)::fallocate(target, FALLOC_FL_KEEP_SIZE, 0, 1);
}

// The direct twin of `fd`, or -1 when `fd` is not shared or the file system has no O_DIRECT.
int DirectOf(int fd) {
  if (!g_any_shared_fd.load(std::memory_order_relaxed)) return -1;
  std::lock_guard<std::mutex> l(g_shared_mu);
  auto it = g_shared_fds.find(fd);
  if (it == g_shared_fds.end()) return -1;
  SharedFd& sf = it->second;
  if (sf.direct < 0 && !sf.no_direct) {
    sf.direct = Reopen(fd, O_RDONLY | O_DIRECT);
    sf.no_direct = sf.direct < 0;
  }
  return sf.direct;
}

// A file system that opens O_DIRECT but refuses its reads (EINVAL: LazyFS and other FUSE
// file systems without direct I/O): `fd` is read plainly from now on, as a file system
// that refuses the open already is. One kernel serves every reader of such a file system
// on this host, so a plain read is as fresh as the direct one was meant to be.
void RefuseDirect(int fd) {
  std::lock_guard<std::mutex> l(g_shared_mu);
  auto it = g_shared_fds.find(fd);
  if (it == g_shared_fds.end()) return;
  if (it->second.direct >= 0 && it->second.direct != fd) ::close(it->second.direct);
  // A descriptor opened O_DIRECT itself reads plainly once the flag is off (F_SETFL may
  // change O_DIRECT).
  if (int fl = ::fcntl(fd, F_GETFL); fl >= 0 && (fl & O_DIRECT)) (void)::fcntl(fd, F_SETFL, fl & ~O_DIRECT);
  it->second.direct = -1;
  it->second.no_direct = true;
}

std::uint64_t UncachedSize(int fd) {
  if (!g_any_shared_fd.load(std::memory_order_relaxed)) return 0;
  std::lock_guard<std::mutex> l(g_shared_mu);
  auto it = g_shared_fds.find(fd);
  return it == g_shared_fds.end() ? 0 : it->second.uncached_size;
}

bool IsSharedFd(int fd) {
  if (!g_any_shared_fd.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> l(g_shared_mu);
  return g_shared_fds.count(fd) != 0;
}

// pread through an O_DIRECT descriptor into `buf`: the aligned blocks around the range are
// read into a bounce buffer. Returns the bytes of [offset, offset+n) the file holds.
Result<size_t> DirectPRead(int direct, char* buf, size_t n, std::uint64_t offset) {
  std::uint64_t start = offset & ~static_cast<std::uint64_t>(kDirectAlign - 1);
  size_t lead = static_cast<size_t>(offset - start);
  size_t len = (lead + n + kDirectAlign - 1) & ~(kDirectAlign - 1);
  AlignedBuf a = AllocAligned(len);
  if (!a) return Status::IOError("out of memory for a direct read");
  ssize_t r;
  do {
    r = ::pread(direct, a.get(), len, static_cast<off_t>(start));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrnoStatus(errno, "pread (O_DIRECT)");
  size_t got = static_cast<size_t>(r) > lead ? std::min(n, static_cast<size_t>(r) - lead) : 0;
  std::memcpy(buf, a.get() + lead, got);
  return got;
}

// Whether a directory descriptor names a directory that has been removed.
bool DirRemoved(int dir) {
  struct stat st;
  return ::fstat(dir, &st) != 0 || st.st_nlink == 0;
}

// Whether a call that failed with `err` failed on a stale directory from the cache (ENOENT,
// and a parent of `used` came from it and has been removed): those are then forgotten, so
// that the next walk opens them afresh. Why look at the directory rather than forget on any
// ENOENT: ENOENT is also the plain answer for a name that is not there (a spare not made
// yet, a new account's file), and a forgotten descriptor stays open, so forgetting a live
// directory kept one more descriptor per such call (a batch opening 10,000 accounts in one
// group ran out of them).
bool ForgetStale(int err, std::initializer_list<const Resolved*> used) {
  if (err != ENOENT) return false;
  bool stale = false;
  for (const Resolved* r : used) {
    if (r->cache_key.empty() || !DirRemoved(r->dir)) continue;
    ForgetDir(r->cache_key);
    stale = true;
  }
  return stale;
}

// Runs `call` (a system call on r->dir and r->base: true on success, errno set on failure)
// on `path`. When it failed with ENOENT on a directory from the cache, that directory may
// have been removed since: it is forgotten and the call made once more on a fresh walk.
// Returns 0 or the call's errno; a failed walk is returned in *walk.
template <class Call>
int CallAt(const std::string& path, Resolved* r, Status* walk, Call call) {
  for (bool use_cache : {true, false}) {
    r->Reset();
    *walk = Resolve(path, r, use_cache);
    if (!walk->ok()) return -1;
    if (call(*r)) return 0;
    int err = errno;
    if (!ForgetStale(err, {r})) return err;
  }
  return ENOENT;
}

// CallAt for a call on two paths (a rename).
template <class Call>
int CallAt2(const std::string& from, const std::string& to, Status* walk, Call call) {
  Resolved a, b;
  for (bool use_cache : {true, false}) {
    a.Reset();
    b.Reset();
    *walk = Resolve(from, &a, use_cache);
    if (walk->ok()) *walk = Resolve(to, &b, use_cache);
    if (!walk->ok()) return -1;
    if (call(a, b)) return 0;
    int err = errno;
    if (!ForgetStale(err, {&a, &b})) return err;
  }
  return ENOENT;
}

class Posix final : public Env {
 public:
  Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    Resolved r;
    Status walk;
    bool shared = false;
    bool writable = (flags & O_ACCMODE) != O_RDONLY;
    int fd = -1;
    int failed = CallAt(path, &r, &walk, [&](const Resolved& at) {
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
    if (shared) {
      std::lock_guard<std::mutex> l(g_shared_mu);
      g_any_shared_fd.store(true, std::memory_order_relaxed);
      g_shared_fds[fd] = SharedFd{.writable = writable,
                                  .no_refresh = r.read_only,
                                  .direct = (flags & O_DIRECT) ? fd : -1};
    }
    return fd;
  }

  Status Close(int fd) override {
    if (g_any_shared_fd.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> l(g_shared_mu);
      if (auto it = g_shared_fds.find(fd); it != g_shared_fds.end()) {
        if (it->second.direct >= 0 && it->second.direct != fd) ::close(it->second.direct);
        if (it->second.refresh >= 0) ::close(it->second.refresh);
        g_shared_fds.erase(it);
      }
    }
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
    if (int direct = DirectOf(fd); direct >= 0) {
      Result<size_t> got = size_t{0};
      if (offset + n <= UncachedSize(fd)) {
        // A short read below the size seen means the file changed size since: the
        // cache drop and the read again, as for any file.
        got = DirectPRead(direct, buf, n, offset);
        if (got.ok() && *got == n) return got;
      }
      if (got.ok()) {
        Refresh(fd);
        got = DirectPRead(direct, buf, n, offset);
      }
      if (got.ok() || got.status().sys_errno() != EINVAL) return got;
      RefuseDirect(fd);  // then the plain read below
    }
    ssize_t r;
    do {
      r = ::pread(fd, buf, n, static_cast<off_t>(offset));
    } while (r < 0 && errno == EINTR);
    if (r < 0) return ErrnoStatus(errno, "pread");
    return static_cast<size_t>(r);
  }

  Result<std::string> ReadFile(const std::string& path) override {
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

  // A whole file through one O_DIRECT descriptor, its size refreshed first: the servers'
  // content, not a client cache's.
  Result<std::string> ReadShared(const std::string& path) {
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

  Result<std::string> ReadSharedOnce(const std::string& path) {
    // Read-write where allowed, so that Refresh needs no second descriptor.
    bool read_only;
    {
      std::lock_guard<std::mutex> l(g_roots_mu);
      read_only = ReadOnlyLocked(path);
    }
    auto opened = Open(path, (read_only ? O_RDONLY : O_RDWR) | O_DIRECT, 0);
    if (!opened.ok() && opened.status().code() != Code::kNotFound && !read_only) {
      opened = Open(path, O_RDONLY | O_DIRECT, 0);
    }
    // A file system without O_DIRECT (EINVAL): plain reads, as fresh as its caches allow.
    if (!opened.ok() && opened.status().code() == Code::kIOError) opened = Open(path, O_RDONLY, 0);
    DB_ASSIGN_OR_RETURN(int fd, std::move(opened));
    struct Closer {
      Posix* env;
      int fd;
      ~Closer() { (void)env->Close(fd); }
    } closer{this, fd};
    Refresh(fd);
    constexpr size_t kChunk = 1 << 20;
    std::string out;
    std::string chunk(kChunk, '\0');
    int direct = DirectOf(fd);
    for (;;) {
      auto n = direct >= 0 ? DirectPRead(direct, chunk.data(), kChunk, out.size())
                           : PRead(fd, chunk.data(), kChunk, out.size());
      if (!n.ok() && direct >= 0 && n.status().sys_errno() == EINVAL) {
        RefuseDirect(fd);
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
    bool shared = IsSharedFd(fd);
    if (shared) Refresh(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat");
    if (shared) {
      std::lock_guard<std::mutex> l(g_shared_mu);
      if (auto it = g_shared_fds.find(fd); it != g_shared_fds.end()) {
        auto size = static_cast<std::uint64_t>(st.st_size);
        it->second.uncached_size = size >= kUncachedBytes ? size : 0;
      }
    }
    return ToInfo(st);
  }

  Status Grow(int fd, std::uint64_t size) override {
    if (size == 0) return Status::Ok();
    int r;
    do {
      r = ::fallocate(fd, 0, static_cast<off_t>(size - 1), 1);
    } while (r != 0 && errno == EINTR);
    if (r != 0) return ErrnoStatus(errno, "fallocate");
    return Status::Ok();
  }

  Result<FileInfo> Stat(const std::string& path) override {
    Resolved r;
    Status walk;
    struct stat st;
    int err = CallAt(path, &r, &walk, [&](const Resolved& at) {
      return ::fstatat(at.dir, at.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    });
    DB_RETURN_IF_ERROR(walk);
    if (err != 0) return ErrnoStatus(err, fmt::format("stat {}", path));
    return ToInfo(st);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    Status walk;
    int err = CallAt2(from, to, &walk, [](const Resolved& a, const Resolved& b) {
      return ::renameat(a.dir, a.base.c_str(), b.dir, b.base.c_str()) == 0;
    });
    DB_RETURN_IF_ERROR(walk);
    if (err != 0) return ErrnoStatus(err, fmt::format("rename {} to {}", from, to));
    ForgetDirsBelow(from);  // a directory renamed: what was cached below it moved
    ForgetDirsBelow(to);
    return Status::Ok();
  }

  void WarmForReplace(const std::vector<std::string>& paths) override {
    // ext4 keeps inodes cached without the block they live in; the first change to an
    // inode (here an atime update, later the rename's ctime) reads that block: about 1 ms
    // for a cold account of a big store. Cold blocks are scattered over the inode table,
    // so several threads keep several reads in flight instead of paying them one by one.
    // On a shared file system there is no local inode block to warm, only round trips.
    if (!paths.empty() && IsShared(paths.front())) return;
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
    Status walk;
    bool exchanged = false;
    int err = CallAt2(from, to, &walk, [&](const Resolved& a, const Resolved& b) {
      if (::renameat2(a.dir, a.base.c_str(), b.dir, b.base.c_str(), RENAME_EXCHANGE) == 0) {
        exchanged = true;
        return true;
      }
      // No file at `to` yet (ENOENT), or no exchange on this file system: a plain rename.
      if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) return false;
      return ::renameat(a.dir, a.base.c_str(), b.dir, b.base.c_str()) == 0;
    });
    DB_RETURN_IF_ERROR(walk);
    if (err != 0) return ErrnoStatus(err, fmt::format("rename {} to {}", from, to));
    return exchanged;
  }

  Status Unlink(const std::string& path) override {
    Resolved r;
    Status walk;
    int err = CallAt(path, &r, &walk, [&](const Resolved& at) {
      return ::unlinkat(at.dir, at.base.c_str(), 0) == 0;
    });
    DB_RETURN_IF_ERROR(walk);
    if (err != 0) return ErrnoStatus(err, fmt::format("unlink {}", path));
    return Status::Ok();
  }

  Status MakeDir(const std::string& path, unsigned mode) override {
    Resolved r;
    Status walk;
    int err = CallAt(path, &r, &walk, [&](const Resolved& at) {
      return ::mkdirat(at.dir, at.base.c_str(), mode) == 0;
    });
    DB_RETURN_IF_ERROR(walk);
    if (err == 0) return Status::Ok();
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
    ForgetDirsBelow(path);
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

  Status LockByteShared(int fd, std::uint64_t offset) override {
    struct flock fl = OneByte(F_RDLCK, offset);
    for (;;) {
      if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EACCES) return Status::Busy("lock held by another process");
      return ErrnoStatus(errno, "fcntl shared lock");
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

  bool IsShared(const std::string& path) override {
    std::lock_guard<std::mutex> l(g_roots_mu);
    return SharedLocked(path);
  }

  void FaultPoint(std::string_view, std::string_view) override {}

};

}  // namespace

Env* PosixEnv() {
  static Posix env;
  return &env;
}

namespace {

// The mount table's entry for the file system holding `dir`: the longest mount point that
// is a prefix of its real path (/proc/self/mountinfo, fields 5 and after the " - ").
std::string MountType(const std::string& dir) {
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) return "unknown";
  std::string path = real;
  std::free(real);
  std::ifstream in("/proc/self/mountinfo");
  std::string line, best_type = "unknown";
  size_t best = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (!(f >> id >> parent >> devno >> root >> mount_point)) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    bool prefix = mount_point == "/" ||
                  (path.compare(0, mount_point.size(), mount_point) == 0 &&
                   (path.size() == mount_point.size() || path[mount_point.size()] == '/'));
    if (prefix && mount_point.size() >= best) {
      best = mount_point.size();
      best_type = type;
    }
  }
  return best_type;
}

}  // namespace

namespace {

// The mode without the mount table's type name: what ConfinePaths needs at every store
// open, where reading /proc/self/mountinfo would be start-up work for a display string.
SharedFsMode Classify(const std::string& root, std::string* statfs_dir) {
  SharedFsMode m;
  std::string dir = root.empty() ? "." : root;
  struct statfs sf;
  // The store may not exist yet: its nearest existing ancestor is on the same file system.
  while (::statfs(dir.c_str(), &sf) != 0) {
    if (dir == "." || dir == "/") {
      m.type = "unknown";
      m.reason = "statfs failed";
      return m;
    }
    size_t slash = dir.find_last_of('/');
    dir = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  }
  *statfs_dir = dir;
  const char* force = std::getenv("DROVEBANK_FS");
  if (force != nullptr && std::string_view(force) == "shared") {
    m.shared = true;
    m.reason = "DROVEBANK_FS=shared";
  } else if (force != nullptr && std::string_view(force) == "local") {
    m.reason = "DROVEBANK_FS=local";
  } else if (sf.f_type == FUSE_SUPER_MAGIC) {
    m.shared = true;
    m.reason = "a FUSE file system: other clients' caches are not coherent with ours";
  } else if (sf.f_type == NFS_SUPER_MAGIC) {
    m.shared = true;
    m.reason = "an NFS file system: other clients' caches are not coherent with ours";
  } else {
    m.reason = "a local file system";
  }
  return m;
}

}  // namespace

SharedFsMode FileSystemMode(const std::string& root) {
  std::string dir;
  SharedFsMode m = Classify(root, &dir);
  if (m.type.empty()) m.type = MountType(dir);
  if (m.shared) {
    // Tried, not assumed from the type: some FUSE file systems open O_DIRECT and then
    // refuse its reads (EINVAL), and the store then reads plainly (RefuseDirect).
    int fd = ::open((root + "/FORMAT").c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EINVAL) {
      m.reads = "plain reads: the file system refuses O_DIRECT";
    } else if (fd >= 0) {
      AlignedBuf a = AllocAligned(kDirectAlign);
      ssize_t r = a ? ::pread(fd, a.get(), kDirectAlign, 0) : -1;
      m.reads = r >= 0 ? "direct reads"
                       : "plain reads: the file system refuses O_DIRECT reads";
      ::close(fd);
    }
  }
  return m;
}

std::string FileSystemModeLine(const SharedFsMode& m) {
  return fmt::format("file system: {}, {} mode ({}{}{})", m.type, m.shared ? "shared" : "local",
                     m.reason,
                     m.shared ? "; writes go through to the servers, reads bypass client "
                                "caches, account files are rewritten in place"
                              : "",
                     m.reads.empty() ? "" : "; " + m.reads);
}

void ConfinePaths(const std::string& root, bool read_only) {
  if (root.empty()) return;
  std::string dir;
  bool shared = Classify(root, &dir).shared;
  std::lock_guard<std::mutex> l(g_roots_mu);
  if (std::find(g_roots.begin(), g_roots.end(), root) == g_roots.end()) g_roots.push_back(root);
  g_shared_roots[root] = shared;
  // Sticky towards writable: a process that writes the store must always refresh, or it
  // could build on a stale balance; only a process that never opened it writable skips it.
  auto it = g_read_only_roots.find(root);
  g_read_only_roots[root] = read_only && (it == g_read_only_roots.end() || it->second);
}

}  // namespace drovebank
