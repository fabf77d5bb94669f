// The shared-file-system rules as an Env that wraps the plain POSIX one (posix_env.h): what
// a data directory on a file system several hosts share (GlusterFS, NFS, any FUSE one, or
// DROVEBANK_FS=shared) needs so that every host sees every other's committed writes.
//
// Below a root that Confine found shared (and only there), it
//   - opens every descriptor for writing O_DSYNC: a write is on the servers, durable and
//     seen by every client, when it returns;
//   - reads through an O_DIRECT twin of each descriptor (SharedFds), after making the
//     client drop its cached size and small-file content (SharedFds::Refresh), so a read
//     shows the servers' bytes, not a client cache's;
//   - reads whole files (ReadFile) the same way, retrying a name another host replaced
//     (ESTALE);
//   - makes StatFd report the servers' size;
//   - once another host is seen writing the store (a write or a lock wait that took half
//     a second), makes the client let go of a file's write lock soon after each write
//     to it (SharedFds::Wrote, let_go.h), so another host's write does not wait a
//     second for it;
//   - warms nothing before a rename (no local inode block to warm).
// Everywhere else each call goes to the target unchanged, and a process with no shared
// root takes no mutex on any call. IsShared answers for the roots Confine registered.
//
// Per instance: its roots and descriptors are its own. The target must be the Env whose
// descriptors these are (the POSIX one): the twins reopen them through /proc/self/fd.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "drovebank/env_wrapper.h"
#include "shared_fds.h"

namespace drovebank {

class SharedFsEnv final : public EnvWrapper {
 public:
  explicit SharedFsEnv(Env* target) : EnvWrapper(target) {}
  // For tests: `hand_over` in place of SharedFds::kHandOver.
  SharedFsEnv(Env* target, std::chrono::milliseconds hand_over)
      : EnvWrapper(target), fds_(hand_over) {}

  Result<int> Open(const std::string& path, int flags, unsigned mode) override;
  Status Close(int fd) override;
  Status Write(int fd, std::string_view data) override;
  Status PWrite(int fd, std::string_view data, std::uint64_t offset) override;
  Status Truncate(int fd, std::uint64_t size) override;
  Status Grow(int fd, std::uint64_t size) override;
  Status LockByte(int fd, std::uint64_t offset, bool wait) override;
  Status WaitLockByte(int fd, std::uint64_t offset) override;
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) override;
  Result<std::string> ReadFile(const std::string& path, size_t at_most = kAnySize) override;
  Result<FileInfo> StatFd(int fd) override;
  void WarmForReplace(const std::vector<std::string>& paths) override;
  void Confine(const std::string& root, bool read_only) override;
  bool IsShared(const std::string& path) override;
  Result<int> OpenBootFile(const std::string& path) override;

  // Whether another host was seen writing (SharedFds::contended); for tests, how many
  // let-gos were made once every one scheduled is (SharedFds::SettleLetGo).
  bool contended() const { return fds_.contended(); }
  std::uint64_t SettleLetGo() { return fds_.SettleLetGo(); }

 private:
  struct Root {
    bool shared = false;
    bool read_only = false;  // confined read-only: never makes a client drop its caches
  };
  // The root `path` lies below, if it is a shared one.
  bool SharedRoot(const std::string& path, Root* out);
  // A whole file through one O_DIRECT descriptor, its size refreshed first.
  Result<std::string> ReadShared(const std::string& path, bool read_only, size_t at_most);
  Result<std::string> ReadSharedOnce(const std::string& path, bool read_only, size_t at_most);

  std::mutex mu_;
  // Paths are compared as text: the store builds every path as root + "/" + relative.
  std::map<std::string, Root> roots_;  // guarded by mu_
  std::atomic<bool> any_shared_{false};
  SharedFds fds_;
};

// Whether the data directory `root` is on a shared file system: FileSystemMode's verdict
// without the mount table's type name (a display string that would cost start-up work).
bool IsSharedFileSystem(const std::string& root);

}  // namespace drovebank
