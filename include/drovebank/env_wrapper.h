// An Env that passes every call to another one, its target (LevelDB's EnvWrapper, RocksDB's
// FileSystemWrapper). An Env that watches or changes a few calls derives from it and
// overrides just those; every other call reaches the target unchanged.
//
// Contract: each method here calls the same method of target() with the same arguments
// and returns what it returns; nothing else. The target is not owned and must outlive the
// wrapper. Every call of Env is listed, so a call added to Env fails to compile here until
// it is forwarded (and tests/env_wrapper_test.cc then asks each test Env what it does with
// it: see there).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/env.h"

namespace drovebank {

class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}

  Env* target() const { return target_; }

  Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    return target_->Open(path, flags, mode);
  }
  Status Close(int fd) override { return target_->Close(fd); }
  Status Write(int fd, std::string_view data) override { return target_->Write(fd, data); }
  Status PWrite(int fd, std::string_view data, std::uint64_t offset) override {
    return target_->PWrite(fd, data, offset);
  }
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) override {
    return target_->PRead(fd, buf, n, offset);
  }
  Result<std::string> ReadFile(const std::string& path, size_t at_most = kAnySize) override {
    return target_->ReadFile(path, at_most);
  }
  Status Sync(int fd) override { return target_->Sync(fd); }
  Status DataSync(int fd) override { return target_->DataSync(fd); }
  Status Truncate(int fd, std::uint64_t size) override { return target_->Truncate(fd, size); }
  Status Grow(int fd, std::uint64_t size) override { return target_->Grow(fd, size); }
  Result<FileInfo> StatFd(int fd) override { return target_->StatFd(fd); }
  Result<FileInfo> Stat(const std::string& path) override { return target_->Stat(path); }
  Status Access(const std::string& path, int how) override { return target_->Access(path, how); }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  Result<bool> ReplaceFile(const std::string& from, const std::string& to) override {
    return target_->ReplaceFile(from, to);
  }
  void WarmForReplace(const std::vector<std::string>& paths) override {
    target_->WarmForReplace(paths);
  }
  Status Unlink(const std::string& path) override { return target_->Unlink(path); }
  Status MakeDir(const std::string& path, unsigned mode) override {
    return target_->MakeDir(path, mode);
  }
  Status RemoveDir(const std::string& path) override { return target_->RemoveDir(path); }
  Status SyncDir(const std::string& path) override { return target_->SyncDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_->ListDir(path);
  }
  Status LockByte(int fd, std::uint64_t offset, bool wait) override {
    return target_->LockByte(fd, offset, wait);
  }
  Status LockByteShared(int fd, std::uint64_t offset) override {
    return target_->LockByteShared(fd, offset);
  }
  Status UnlockByte(int fd, std::uint64_t offset) override {
    return target_->UnlockByte(fd, offset);
  }
  Status WaitLockByte(int fd, std::uint64_t offset) override {
    return target_->WaitLockByte(fd, offset);
  }
  Result<bool> ByteLocked(int fd, std::uint64_t offset) override {
    return target_->ByteLocked(fd, offset);
  }
  void Confine(const std::string& root, bool read_only) override {
    target_->Confine(root, read_only);
  }
  bool IsShared(const std::string& path) override { return target_->IsShared(path); }
  Result<int> OpenBootFile(const std::string& path) override { return target_->OpenBootFile(path); }
  void FaultPoint(std::string_view path, std::string_view step) override {
    target_->FaultPoint(path, step);
  }

 private:
  Env* target_;
};

}  // namespace drovebank
