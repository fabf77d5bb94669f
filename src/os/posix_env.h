// The POSIX Env: each call of Env (include/drovebank/env.h, which holds the contracts) made
// with Linux system calls. Its methods live in files by area: posix_env.cc (descriptors:
// open, read, write, sync, stat), posix_names.cc (names and directories), posix_locks.cc
// (byte-range locks), posix_warm.cc (warming inodes before a rename), file_system_mode.cc
// (which data directories are on a shared file system). The paths below a data directory
// are resolved by its Confinement (confinement.h). It knows nothing of shared file systems:
// SharedFsEnv (shared_fs_env.h) wraps it with their rules.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "confinement.h"
#include "drovebank/env.h"

namespace drovebank {

FileInfo ToFileInfo(const struct stat& st);

// One instance serves any number of data directories (Confine), each by its own root
// descriptor and cached directories. IsShared is always false here.
class PosixEnvImpl final : public Env {
 public:
  Result<int> Open(const std::string& path, int flags, unsigned mode) override;
  Status Close(int fd) override;
  Status Write(int fd, std::string_view data) override;
  Status PWrite(int fd, std::string_view data, std::uint64_t offset) override;
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) override;
  Result<std::string> ReadFile(const std::string& path, size_t at_most = kAnySize) override;
  Status Sync(int fd) override;
  Status DataSync(int fd) override;
  Status Truncate(int fd, std::uint64_t size) override;
  Status Grow(int fd, std::uint64_t size) override;
  Result<FileInfo> StatFd(int fd) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Status Access(const std::string& path, int how) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Result<bool> ReplaceFile(const std::string& from, const std::string& to) override;
  void WarmForReplace(const std::vector<std::string>& paths) override;
  Status Unlink(const std::string& path) override;
  Status MakeDir(const std::string& path, unsigned mode) override;
  Status RemoveDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status LockByte(int fd, std::uint64_t offset, bool wait) override;
  Status UnlockByte(int fd, std::uint64_t offset) override;
  Status LockByteShared(int fd, std::uint64_t offset) override;
  Status WaitLockByte(int fd, std::uint64_t offset) override;
  Result<bool> ByteLocked(int fd, std::uint64_t offset) override;
  void Confine(const std::string& root, bool read_only) override;
  bool IsShared(const std::string& path) override;
  Result<int> OpenBootFile(const std::string& path) override;
  void FaultPoint(std::string_view, std::string_view) override {}

 private:
  // Reads the file's first block and touches its atime, which reads its inode's block:
  // what a rename over the file will need. Failures only mean a colder rename later.
  void WarmOne(const std::string& path);

  Confinement confinement_;
};

// The process's operating-system Env: SharedFsEnv over PosixEnvImpl, the base of
// DefaultEnv() and of the tests' Envs. Their tables are their own (nothing of them is a
// global), but the programs make one stack per process: DefaultEnv()
// is process-wide, since the fault injector over it counts a fault point's hits, and the
// power-loss model tracks unsynced writes, across every store the process opens; and so
// every store of the process shares one cache of open directories. Made at first use and
// never destroyed: a thread still running at exit may use its descriptors.
Env* PosixEnv();

}  // namespace drovebank
