#include "shared_fs_env.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

namespace drovebank {

void SharedFsEnv::Confine(const std::string& root, bool read_only) {
  target()->Confine(root, read_only);
  if (root.empty()) return;
  bool shared = IsSharedFileSystem(root);
  std::lock_guard<std::mutex> l(mu_);
  auto [it, added] = roots_.try_emplace(root, Root{shared, read_only});
  it->second.shared = shared;
  // Sticky towards writable: a process that writes the store must always refresh, or it
  // could build on a stale balance; only a process that never opened it writable skips it.
  it->second.read_only = read_only && (added || it->second.read_only);
  if (shared) any_shared_.store(true, std::memory_order_relaxed);
}

bool SharedFsEnv::SharedRoot(const std::string& path, Root* out) {
  if (!any_shared_.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [root, r] : roots_) {
    if (path.size() > root.size() + 1 && path.compare(0, root.size(), root) == 0 &&
        path[root.size()] == '/') {
      *out = r;
      return r.shared;
    }
  }
  return false;
}

bool SharedFsEnv::IsShared(const std::string& path) {
  Root r;
  return SharedRoot(path, &r);
}

Result<int> SharedFsEnv::Open(const std::string& path, int flags, unsigned mode) {
  Root root;
  if ((flags & (O_DIRECTORY | O_PATH)) != 0 || !SharedRoot(path, &root)) {
    return target()->Open(path, flags, mode);
  }
  // Why O_DSYNC: GlusterFS's write-behind keeps a write in the client (and its close
  // returns before the flush) where no other host sees it, and an fdatasync only flushes
  // this client's own writes. Through an O_DSYNC descriptor a write is on the servers,
  // durable, when it returns (measured: seen by the other mount at once, 0 stale in 40).
  bool writable = (flags & O_ACCMODE) != O_RDONLY;
  DB_ASSIGN_OR_RETURN(int fd, target()->Open(path, flags | (writable ? O_DSYNC : 0), mode));
  fds_.Add(fd, writable, root.read_only, (flags & O_DIRECT) != 0);
  return fd;
}

Result<int> SharedFsEnv::OpenBootFile(const std::string& path) {
  return Open(path, O_RDWR | O_CREAT, 0600);
}

Status SharedFsEnv::Close(int fd) {
  fds_.Remove(fd);
  return target()->Close(fd);
}

namespace {

// Runs `call` and hands its duration to `after` (SharedFds::Wrote or Waited).
template <typename Call, typename After>
Status Timed(Call&& call, After&& after) {
  auto start = std::chrono::steady_clock::now();
  Status s = call();
  after(std::chrono::steady_clock::now() - start);
  return s;
}

}  // namespace

Status SharedFsEnv::Write(int fd, std::string_view data) {
  return Timed([&] { return target()->Write(fd, data); }, [&](auto took) { fds_.Wrote(fd, took); });
}

Status SharedFsEnv::PWrite(int fd, std::string_view data, std::uint64_t offset) {
  return Timed([&] { return target()->PWrite(fd, data, offset); },
               [&](auto took) { fds_.Wrote(fd, took); });
}

Status SharedFsEnv::Truncate(int fd, std::uint64_t size) {
  return Timed([&] { return target()->Truncate(fd, size); }, [&](auto took) { fds_.Wrote(fd, took); });
}

Status SharedFsEnv::Grow(int fd, std::uint64_t size) {
  return Timed([&] { return target()->Grow(fd, size); }, [&](auto took) { fds_.Wrote(fd, took); });
}

// A wait for a byte lock behind another host's commit that waited out its hold on a
// file's write lock takes as long: the host that holds that file never sees it otherwise.
Status SharedFsEnv::LockByte(int fd, std::uint64_t offset, bool wait) {
  return Timed([&] { return target()->LockByte(fd, offset, wait); },
               [&](auto took) { if (wait) fds_.Waited(fd, took); });
}

Status SharedFsEnv::WaitLockByte(int fd, std::uint64_t offset) {
  return Timed([&] { return target()->WaitLockByte(fd, offset); },
               [&](auto took) { fds_.Waited(fd, took); });
}

Result<size_t> SharedFsEnv::PRead(int fd, char* buf, size_t n, std::uint64_t offset) {
  if (int direct = fds_.DirectOf(fd); direct >= 0) {
    Result<size_t> got = size_t{0};
    if (offset + n <= fds_.UncachedSize(fd)) {
      // A short read below the size seen means the file changed size since: the
      // cache drop and the read again, as for any file.
      got = DirectPRead(direct, buf, n, offset);
      if (got.ok() && *got == n) return got;
    }
    if (got.ok()) {
      fds_.Refresh(fd);
      got = DirectPRead(direct, buf, n, offset);
    }
    if (got.ok() || got.status().sys_errno() != EINVAL) return got;
    fds_.RefuseDirect(fd);  // then the plain read below
  }
  return target()->PRead(fd, buf, n, offset);
}

Result<FileInfo> SharedFsEnv::StatFd(int fd) {
  bool shared = fds_.Has(fd);
  if (shared) fds_.Refresh(fd);
  DB_ASSIGN_OR_RETURN(FileInfo info, target()->StatFd(fd));
  if (shared) fds_.SawSize(fd, info.size);
  return info;
}

void SharedFsEnv::WarmForReplace(const std::vector<std::string>& paths) {
  // On a shared file system there is no local inode block to warm, only round trips.
  if (!paths.empty() && IsShared(paths.front())) return;
  target()->WarmForReplace(paths);
}

Result<std::string> SharedFsEnv::ReadFile(const std::string& path, size_t at_most) {
  Root root;
  if (!SharedRoot(path, &root)) return target()->ReadFile(path, at_most);
  return ReadShared(path, root.read_only, at_most);
}

Result<std::string> SharedFsEnv::ReadShared(const std::string& path, bool read_only,
                                            size_t at_most) {
  // Why again: a file another host replaced by rename (journal/CHECKPOINT, at every
  // shell's exit) can still be this client's cached inode, which the servers no longer
  // know: ESTALE, from the open or the read. The name, looked up again once the
  // client's entry cache lets go of it (GlusterFS: 1 s), is the new file.
  Result<std::string> got = ReadSharedOnce(path, read_only, at_most);
  for (int wait_ms : {20, 100, 300, 600, 1000}) {
    if (got.ok() || got.status().sys_errno() != ESTALE) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    got = ReadSharedOnce(path, read_only, at_most);
  }
  return got;
}

Result<std::string> SharedFsEnv::ReadSharedOnce(const std::string& path, bool read_only,
                                                size_t at_most) {
  // Read-write where allowed, so that Refresh needs no second descriptor.
  auto opened = Open(path, (read_only ? O_RDONLY : O_RDWR) | O_DIRECT, 0);
  if (!opened.ok() && opened.status().code() != Code::kNotFound && !read_only) {
    opened = Open(path, O_RDONLY | O_DIRECT, 0);
  }
  // A file system without O_DIRECT (EINVAL): plain reads, as fresh as its caches allow.
  if (!opened.ok() && opened.status().code() == Code::kIOError) opened = Open(path, O_RDONLY, 0);
  DB_ASSIGN_OR_RETURN(int fd, std::move(opened));
  EnvFdCloser closer{this, fd};
  fds_.Refresh(fd);
  // Files read whole are mostly small (an account file, FORMAT, journal/state): the
  // first read asks for 64 KiB, and each full one doubles the next, to 1 MiB. A buffer
  // of 1 MiB for a 100-byte file cost 256 page faults, ~3 ms on this project's VM, a file.
  constexpr size_t kFirstChunk = 64 << 10, kMaxChunk = 1 << 20;
  size_t want = kFirstChunk;
  std::string out;
  std::string chunk;
  int direct = fds_.DirectOf(fd);
  for (;;) {
    if (chunk.size() < want) chunk.resize(want);
    auto n = direct >= 0 ? DirectPRead(direct, chunk.data(), want, out.size())
                         : PRead(fd, chunk.data(), want, out.size());
    if (!n.ok() && direct >= 0 && n.status().sys_errno() == EINVAL) {
      fds_.RefuseDirect(fd);
      direct = -1;
      continue;
    }
    if (!n.ok()) {
      return Status::IOError(fmt::format("read {}: {}", path, n.status().message()))
          .set_sys_errno(n.status().sys_errno());
    }
    out.append(chunk.data(), *n);
    if (out.size() > at_most) {  // its whole size, for the message (one call, here only)
      auto info = StatFd(fd);
      return TooLarge(path, info.ok() ? std::max<size_t>(info->size, out.size()) : out.size(),
                      at_most);
    }
    if (*n < want) break;
    want = std::min(want * 2, kMaxChunk);
  }
  return out;
}

}  // namespace drovebank
