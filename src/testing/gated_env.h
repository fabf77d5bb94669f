// An EnvWrapper that asks Gate() before every call that can fail: the fault injector's
// armed fault (fault_env.cc) and the power-loss model's "power lost" (power_loss_env.cc)
// are each one Gate, not a check written into every call.
//
// Contract: each call that returns a Status or a Result first calls Gate(); when that
// fails, the call returns its Status and never reaches the target. The four calls that
// cannot report a failure pass straight through: WarmForReplace (a hint whose failures
// are ignored), Confine, IsShared and FaultPoint. A subclass that models a call overrides it and
// asks Gate() itself. tests/env_wrapper_test.cc proves every call is gated or listed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "drovebank/env_wrapper.h"

namespace drovebank {

class GatedEnv : public EnvWrapper {
 public:
  explicit GatedEnv(Env* target) : EnvWrapper(target) {}

  Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    return Gated([&] { return EnvWrapper::Open(path, flags, mode); });
  }
  Status Close(int fd) override {
    return Gated([&] { return EnvWrapper::Close(fd); });
  }
  Status Write(int fd, std::string_view data) override {
    return Gated([&] { return EnvWrapper::Write(fd, data); });
  }
  Status PWrite(int fd, std::string_view data, std::uint64_t offset) override {
    return Gated([&] { return EnvWrapper::PWrite(fd, data, offset); });
  }
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) override {
    return Gated([&] { return EnvWrapper::PRead(fd, buf, n, offset); });
  }
  Result<std::string> ReadFile(const std::string& path, size_t at_most = kAnySize) override {
    return Gated([&] { return EnvWrapper::ReadFile(path, at_most); });
  }
  Status Sync(int fd) override {
    return Gated([&] { return EnvWrapper::Sync(fd); });
  }
  Status DataSync(int fd) override {
    return Gated([&] { return EnvWrapper::DataSync(fd); });
  }
  Status Truncate(int fd, std::uint64_t size) override {
    return Gated([&] { return EnvWrapper::Truncate(fd, size); });
  }
  Status Grow(int fd, std::uint64_t size) override {
    return Gated([&] { return EnvWrapper::Grow(fd, size); });
  }
  Result<FileInfo> StatFd(int fd) override {
    return Gated([&] { return EnvWrapper::StatFd(fd); });
  }
  Result<FileInfo> Stat(const std::string& path) override {
    return Gated([&] { return EnvWrapper::Stat(path); });
  }
  Status Access(const std::string& path, int how) override {
    return Gated([&] { return EnvWrapper::Access(path, how); });
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return Gated([&] { return EnvWrapper::Rename(from, to); });
  }
  Result<bool> ReplaceFile(const std::string& from, const std::string& to) override {
    return Gated([&] { return EnvWrapper::ReplaceFile(from, to); });
  }
  Status Unlink(const std::string& path) override {
    return Gated([&] { return EnvWrapper::Unlink(path); });
  }
  Status MakeDir(const std::string& path, unsigned mode) override {
    return Gated([&] { return EnvWrapper::MakeDir(path, mode); });
  }
  Status RemoveDir(const std::string& path) override {
    return Gated([&] { return EnvWrapper::RemoveDir(path); });
  }
  Status SyncDir(const std::string& path) override {
    return Gated([&] { return EnvWrapper::SyncDir(path); });
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return Gated([&] { return EnvWrapper::ListDir(path); });
  }
  Status LockByte(int fd, std::uint64_t offset, bool wait) override {
    return Gated([&] { return EnvWrapper::LockByte(fd, offset, wait); });
  }
  Status LockByteShared(int fd, std::uint64_t offset) override {
    return Gated([&] { return EnvWrapper::LockByteShared(fd, offset); });
  }
  Status UnlockByte(int fd, std::uint64_t offset) override {
    return Gated([&] { return EnvWrapper::UnlockByte(fd, offset); });
  }
  Status WaitLockByte(int fd, std::uint64_t offset) override {
    return Gated([&] { return EnvWrapper::WaitLockByte(fd, offset); });
  }
  Result<bool> ByteLocked(int fd, std::uint64_t offset) override {
    return Gated([&] { return EnvWrapper::ByteLocked(fd, offset); });
  }
  Result<int> OpenBootFile(const std::string& path) override {
    return Gated([&] { return EnvWrapper::OpenBootFile(path); });
  }

 protected:
  // Ok to let the call through; otherwise the Status the call returns instead.
  [[nodiscard]] virtual Status Gate() = 0;

 private:
  // The call's own Status or Result, or the gate's Status in its place.
  template <typename F>
  std::invoke_result_t<F&> Gated(F&& call) {
    if (Status s = Gate(); !s.ok()) return s;
    return call();
  }
};

}  // namespace drovebank
