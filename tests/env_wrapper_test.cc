// RocksDB's rule for test Envs: every Env call that ships is modelled, none slips through
// a test Env unseen. This file lists every call of Env once (kRows) and proves, call by
// call, what the fault injector and the power-loss model do with it.
//
// Why the list cannot fall behind Env: every call of Env is pure, so RecordingEnv (which
// derives from Env itself, not from EnvWrapper) fails to compile until a new call is
// recorded, which needs a new EnvCall; kRows has one row per EnvCall, in order, checked
// by a static_assert, so the new call then needs a row saying what each test Env does.
#include "drovebank/env_wrapper.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "drovebank/env.h"
#include "test_util.h"
#include "testing/fault_injection.h"
#include "testing/power_loss_env.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::TempDir;

enum class EnvCall {
  kOpen,
  kClose,
  kWrite,
  kPWrite,
  kPRead,
  kReadFile,
  kSync,
  kDataSync,
  kTruncate,
  kGrow,
  kStatFd,
  kStat,
  kAccess,
  kRename,
  kReplaceFile,
  kWarmForReplace,
  kUnlink,
  kMakeDir,
  kRemoveDir,
  kSyncDir,
  kListDir,
  kLockByte,
  kLockByteShared,
  kUnlockByte,
  kWaitLockByte,
  kByteLocked,
  kConfine,
  kIsShared,
  kOpenBootFile,
  kFaultPoint,
  kCount  // not a call
};
constexpr size_t kCallCount = static_cast<size_t>(EnvCall::kCount);

// The target under the Env being tested: notes each call, then passes it to PosixEnv.
class RecordingEnv final : public Env {
 public:
  std::vector<EnvCall> seen;

  Result<int> Open(const std::string& p, int f, unsigned m) override {
    return Saw(EnvCall::kOpen)->Open(p, f, m);
  }
  Status Close(int fd) override { return Saw(EnvCall::kClose)->Close(fd); }
  Status Write(int fd, std::string_view d) override { return Saw(EnvCall::kWrite)->Write(fd, d); }
  Status PWrite(int fd, std::string_view d, std::uint64_t o) override {
    return Saw(EnvCall::kPWrite)->PWrite(fd, d, o);
  }
  Result<size_t> PRead(int fd, char* b, size_t n, std::uint64_t o) override {
    return Saw(EnvCall::kPRead)->PRead(fd, b, n, o);
  }
  Result<std::string> ReadFile(const std::string& p, size_t at_most = kAnySize) override {
    return Saw(EnvCall::kReadFile)->ReadFile(p, at_most);
  }
  Status Sync(int fd) override { return Saw(EnvCall::kSync)->Sync(fd); }
  Status DataSync(int fd) override { return Saw(EnvCall::kDataSync)->DataSync(fd); }
  Status Truncate(int fd, std::uint64_t n) override {
    return Saw(EnvCall::kTruncate)->Truncate(fd, n);
  }
  Status Grow(int fd, std::uint64_t n) override { return Saw(EnvCall::kGrow)->Grow(fd, n); }
  Result<FileInfo> StatFd(int fd) override { return Saw(EnvCall::kStatFd)->StatFd(fd); }
  Result<FileInfo> Stat(const std::string& p) override { return Saw(EnvCall::kStat)->Stat(p); }
  Status Access(const std::string& p, int how) override {
    return Saw(EnvCall::kAccess)->Access(p, how);
  }
  Status Rename(const std::string& a, const std::string& b) override {
    return Saw(EnvCall::kRename)->Rename(a, b);
  }
  Result<bool> ReplaceFile(const std::string& a, const std::string& b) override {
    return Saw(EnvCall::kReplaceFile)->ReplaceFile(a, b);
  }
  void WarmForReplace(const std::vector<std::string>& ps) override {
    Saw(EnvCall::kWarmForReplace)->WarmForReplace(ps);
  }
  Status Unlink(const std::string& p) override { return Saw(EnvCall::kUnlink)->Unlink(p); }
  Status MakeDir(const std::string& p, unsigned m) override {
    return Saw(EnvCall::kMakeDir)->MakeDir(p, m);
  }
  Status RemoveDir(const std::string& p) override { return Saw(EnvCall::kRemoveDir)->RemoveDir(p); }
  Status SyncDir(const std::string& p) override { return Saw(EnvCall::kSyncDir)->SyncDir(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    return Saw(EnvCall::kListDir)->ListDir(p);
  }
  Status LockByte(int fd, std::uint64_t o, bool w) override {
    return Saw(EnvCall::kLockByte)->LockByte(fd, o, w);
  }
  Status LockByteShared(int fd, std::uint64_t o) override {
    return Saw(EnvCall::kLockByteShared)->LockByteShared(fd, o);
  }
  Status UnlockByte(int fd, std::uint64_t o) override {
    return Saw(EnvCall::kUnlockByte)->UnlockByte(fd, o);
  }
  Status WaitLockByte(int fd, std::uint64_t o) override {
    return Saw(EnvCall::kWaitLockByte)->WaitLockByte(fd, o);
  }
  Result<bool> ByteLocked(int fd, std::uint64_t o) override {
    return Saw(EnvCall::kByteLocked)->ByteLocked(fd, o);
  }
  void Confine(const std::string& r, bool ro) override { Saw(EnvCall::kConfine)->Confine(r, ro); }
  bool IsShared(const std::string& p) override { return Saw(EnvCall::kIsShared)->IsShared(p); }
  Result<int> OpenBootFile(const std::string& p) override {
    return Saw(EnvCall::kOpenBootFile)->OpenBootFile(p);
  }
  void FaultPoint(std::string_view p, std::string_view s) override {
    Saw(EnvCall::kFaultPoint)->FaultPoint(p, s);
  }

 private:
  Env* Saw(EnvCall call) {
    seen.push_back(call);
    return PosixEnv();
  }
};

// A small tree each call can work on: files f and f2, directory d, and f open read-write
// (opened through the Env under test, so the power-loss model knows the descriptor).
struct Tree {
  std::string dir;
  int fd = -1;
  std::string operator/(const char* name) const { return dir + "/" + name; }
};

// Closes a descriptor a call opened; the Env under test is not asked again.
Status CloseOpened(Result<int> fd) {
  if (fd.ok()) ::close(*fd);
  return fd.status();
}

// What an armed fault of the fault injector does to the call.
enum class Fault {
  kFails,     // the call fails with the injected errno and never reaches the target
  kPassesOn,  // it cannot report a failure: it reaches the target, the fault stays armed
};
// What the power-loss model does with the call before the power is lost.
enum class Power {
  kModelled,   // its own override records what the call makes durable (or answers it)
  kForwarded,  // nothing to model: the target sees exactly this call (GatedEnv)
};
// And after the power is lost.
enum class Lost {
  kFails,        // IOError "power lost", the target never sees it
  kClosesFails,  // Close: the descriptor is still closed (no leak), then "power lost"
  kDropped,      // a hint or a fault point: nothing happens
  kAnswers,      // IsShared: answered from the model's mode
  kPassesOn,     // Confine: it changes nothing on disk, and the target still resolves paths
};

struct Row {
  EnvCall call;
  const char* name;
  Fault fault;
  Power power;
  Lost lost;
  Status (*run)(Env& env, const Tree& t);
};

// One row per call of Env, in EnvCall's order.
constexpr std::array<Row, kCallCount> kRows = {{
    {EnvCall::kOpen, "Open", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return CloseOpened(e.Open(t / "g", O_RDWR | O_CREAT, 0600)); }},
    {EnvCall::kClose, "Close", Fault::kFails, Power::kModelled, Lost::kClosesFails,
     [](Env& e, const Tree& t) { return e.Close(t.fd); }},
    {EnvCall::kWrite, "Write", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Write(t.fd, "x"); }},
    {EnvCall::kPWrite, "PWrite", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.PWrite(t.fd, "y", 1); }},
    {EnvCall::kPRead, "PRead", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) {
       char c;
       return e.PRead(t.fd, &c, 1, 0).status();
     }},
    {EnvCall::kReadFile, "ReadFile", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.ReadFile(t / "f").status(); }},
    {EnvCall::kSync, "Sync", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Sync(t.fd); }},
    {EnvCall::kDataSync, "DataSync", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.DataSync(t.fd); }},
    {EnvCall::kTruncate, "Truncate", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Truncate(t.fd, 1); }},
    {EnvCall::kGrow, "Grow", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Grow(t.fd, 4096); }},
    {EnvCall::kStatFd, "StatFd", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.StatFd(t.fd).status(); }},
    {EnvCall::kStat, "Stat", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Stat(t / "f").status(); }},
    {EnvCall::kAccess, "Access", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Access(t / "f", W_OK); }},
    {EnvCall::kRename, "Rename", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Rename(t / "f2", t / "h"); }},
    {EnvCall::kReplaceFile, "ReplaceFile", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.ReplaceFile(t / "f2", t / "f").status(); }},
    {EnvCall::kWarmForReplace, "WarmForReplace", Fault::kPassesOn, Power::kForwarded,
     Lost::kDropped,
     [](Env& e, const Tree& t) {
       e.WarmForReplace({t / "f"});
       return Status::Ok();
     }},
    {EnvCall::kUnlink, "Unlink", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.Unlink(t / "f2"); }},
    {EnvCall::kMakeDir, "MakeDir", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.MakeDir(t / "m", 0700); }},
    {EnvCall::kRemoveDir, "RemoveDir", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.RemoveDir(t / "d"); }},
    {EnvCall::kSyncDir, "SyncDir", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return e.SyncDir(t.dir); }},
    {EnvCall::kListDir, "ListDir", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.ListDir(t.dir).status(); }},
    {EnvCall::kLockByte, "LockByte", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.LockByte(t.fd, 0, false); }},
    {EnvCall::kLockByteShared, "LockByteShared", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.LockByteShared(t.fd, 0); }},
    {EnvCall::kUnlockByte, "UnlockByte", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.UnlockByte(t.fd, 0); }},
    {EnvCall::kWaitLockByte, "WaitLockByte", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.WaitLockByte(t.fd, 0); }},
    {EnvCall::kByteLocked, "ByteLocked", Fault::kFails, Power::kForwarded, Lost::kFails,
     [](Env& e, const Tree& t) { return e.ByteLocked(t.fd, 0).status(); }},
    {EnvCall::kConfine, "Confine", Fault::kPassesOn, Power::kForwarded, Lost::kPassesOn,
     [](Env& e, const Tree& t) {
       e.Confine(t.dir, /*read_only=*/false);
       return Status::Ok();
     }},
    {EnvCall::kIsShared, "IsShared", Fault::kPassesOn, Power::kModelled, Lost::kAnswers,
     [](Env& e, const Tree& t) {
       (void)e.IsShared(t.dir);
       return Status::Ok();
     }},
    {EnvCall::kOpenBootFile, "OpenBootFile", Fault::kFails, Power::kModelled, Lost::kFails,
     [](Env& e, const Tree& t) { return CloseOpened(e.OpenBootFile(t / "boot")); }},
    {EnvCall::kFaultPoint, "FaultPoint", Fault::kPassesOn, Power::kModelled, Lost::kDropped,
     [](Env& e, const Tree&) {
       e.FaultPoint("other", "point");
       return Status::Ok();
     }},
}};

constexpr bool ListsEveryCallInOrder() {
  for (size_t i = 0; i < kRows.size(); ++i) {
    if (kRows[i].call != static_cast<EnvCall>(i) || kRows[i].run == nullptr) return false;
  }
  return true;
}
static_assert(ListsEveryCallInOrder(), "kRows needs one row per EnvCall, in order");

// The tree of `t`, its descriptor opened through `env`.
void MakeTree(Env& env, const TempDir& dir, Tree* t) {
  t->dir = dir.path();
  std::ofstream(dir / "f") << "abc";
  std::ofstream(dir / "f2") << "def";
  REQUIRE(::mkdir((dir / "d").c_str(), 0700) == 0);
  auto fd = env.Open(dir / "f", O_RDWR, 0600);
  REQUIRE(fd.ok());
  t->fd = *fd;
}

std::vector<EnvCall> Only(EnvCall call) { return {call}; }

TEST_CASE("env wrapper: the fault injector can fail every call that can fail", "[env]") {
  for (const Row& row : kRows) {
    DYNAMIC_SECTION(row.name) {
      TempDir dir;
      RecordingEnv target;
      FaultSpec spec{"arm", "now", FaultKind::kEio, 1};
      auto env = MakeFaultEnv(&target, spec, "");
      Tree t;
      MakeTree(*env, dir, &t);

      // Unarmed, every call reaches the target unchanged.
      target.seen.clear();
      CHECK(row.run(*env, t).ok());
      CHECK(target.seen == Only(row.call));

      env->FaultPoint("arm", "now");
      target.seen.clear();
      Status s = row.run(*env, t);
      if (row.fault == Fault::kFails) {
        CHECK_FALSE(s.ok());
        CHECK(s.message().find("injected fault at arm:now") != std::string::npos);
        CHECK(target.seen.empty());
      } else {
        CHECK(s.ok());
        CHECK(target.seen == Only(row.call));
        // The fault waits for the next call that can fail.
        CHECK_FALSE(env->Stat(dir / "f").ok());
      }
      ::close(t.fd);
    }
  }
}

TEST_CASE("env wrapper: the power-loss model models or deliberately forwards every call",
          "[env][powerloss]") {
  for (const Row& row : kRows) {
    DYNAMIC_SECTION(row.name) {
      TempDir dir;
      RecordingEnv target;
      auto env = MakePowerLossEnv(&target);
      Tree t;
      MakeTree(*env, dir, &t);

      target.seen.clear();
      CHECK(row.run(*env, t).ok());
      if (row.power == Power::kForwarded) CHECK(target.seen == Only(row.call));
      ::close(t.fd);

      // Anew, so that the call finds its tree as it was (f open, f2 and d there).
      TempDir dir2;
      RecordingEnv target2;
      auto env2 = MakePowerLossEnv(&target2);
      MakeTree(*env2, dir2, &t);
      REQUIRE(env2->SimulatePowerLoss().ok());
      target2.seen.clear();
      Status s = row.run(*env2, t);
      switch (row.lost) {
        case Lost::kFails:
          CHECK(s.message() == "power lost");
          CHECK(target2.seen.empty());
          ::close(t.fd);
          break;
        case Lost::kClosesFails:
          CHECK(s.message() == "power lost");
          CHECK(target2.seen == Only(EnvCall::kClose));
          CHECK(::fcntl(t.fd, F_GETFD) == -1);
          break;
        case Lost::kPassesOn:
          CHECK(s.ok());
          CHECK(target2.seen == Only(row.call));
          ::close(t.fd);
          break;
        case Lost::kDropped:
        case Lost::kAnswers:
          CHECK(s.ok());
          CHECK(target2.seen.empty());
          ::close(t.fd);
          break;
      }
    }
  }
}

}  // namespace
}  // namespace drovebank
