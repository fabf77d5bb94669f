// An Env that forwards every call to another one (PosixEnv by default), for test wrappers
// that watch or change a few calls: a wrapper derives from it and overrides those. Every
// call of Env is listed here, so a new one fails to compile until it is forwarded.
#pragma once

#include <string>
#include <vector>

#include "drovebank/env.h"

namespace drovebank::testing {

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(Env* base = PosixEnv()) : b_(base) {}

  Result<int> Open(const std::string& p, int f, unsigned m) override { return b_->Open(p, f, m); }
  Status Close(int fd) override { return b_->Close(fd); }
  Status Write(int fd, std::string_view d) override { return b_->Write(fd, d); }
  Status PWrite(int fd, std::string_view d, std::uint64_t o) override { return b_->PWrite(fd, d, o); }
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t o) override {
    return b_->PRead(fd, buf, n, o);
  }
  Result<std::string> ReadFile(const std::string& p) override { return b_->ReadFile(p); }
  Status Sync(int fd) override { return b_->Sync(fd); }
  Status DataSync(int fd) override { return b_->DataSync(fd); }
  Status Truncate(int fd, std::uint64_t n) override { return b_->Truncate(fd, n); }
  Status Grow(int fd, std::uint64_t n) override { return b_->Grow(fd, n); }
  Result<FileInfo> StatFd(int fd) override { return b_->StatFd(fd); }
  Result<FileInfo> Stat(const std::string& p) override { return b_->Stat(p); }
  Status Rename(const std::string& a, const std::string& b) override { return b_->Rename(a, b); }
  Result<bool> ReplaceFile(const std::string& a, const std::string& b) override {
    return b_->ReplaceFile(a, b);
  }
  void WarmForReplace(const std::vector<std::string>& paths) override { b_->WarmForReplace(paths); }
  Status Unlink(const std::string& p) override { return b_->Unlink(p); }
  Status MakeDir(const std::string& p, unsigned m) override { return b_->MakeDir(p, m); }
  Status RemoveDir(const std::string& p) override { return b_->RemoveDir(p); }
  Status SyncDir(const std::string& p) override { return b_->SyncDir(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override { return b_->ListDir(p); }
  Status LockByte(int fd, std::uint64_t o, bool w) override { return b_->LockByte(fd, o, w); }
  Status LockByteShared(int fd, std::uint64_t o) override { return b_->LockByteShared(fd, o); }
  Status UnlockByte(int fd, std::uint64_t o) override { return b_->UnlockByte(fd, o); }
  Status WaitLockByte(int fd, std::uint64_t o) override { return b_->WaitLockByte(fd, o); }
  Result<bool> ByteLocked(int fd, std::uint64_t o) override { return b_->ByteLocked(fd, o); }
  Result<int> OpenBootFile(const std::string& p) override { return b_->OpenBootFile(p); }
  bool IsShared(const std::string& p) override { return b_->IsShared(p); }
  void FaultPoint(std::string_view path, std::string_view step) override {
    b_->FaultPoint(path, step);
  }

 protected:
  Env* b_;
};

}  // namespace drovebank::testing
