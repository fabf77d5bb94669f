// The fault injector behind DROVEBANK_FAULT. It wraps another Env and, when the process
// reaches the configured fault point, either exits at once (no destructors, no cleanup,
// like a kill -9), makes the next Env call fail with EIO or ENOSPC, or loses power.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "drovebank/env.h"
#include "posix_env.h"
#include "fault_injection.h"
#include "gated_env.h"
#include "power_loss_env.h"

namespace drovebank {
namespace {

// Every call that can fail passes Gate() first (gated_env.h): an armed fault fails it.
// The rest reaches the target (the base Env, or the power-loss model over it) untouched.
class FaultEnv final : public GatedEnv {
 public:
  FaultEnv(Env* base, FaultSpec spec, std::string trace_path)
      : FaultEnv(spec.kind == FaultKind::kPowerLoss ? MakePowerLossEnv(base) : nullptr, base, spec,
                 std::move(trace_path)) {}

  void FaultPoint(std::string_view path, std::string_view step) override {
    if (!trace_path_.empty()) {
      // Appended with O_APPEND so concurrent processes can share one trace file.
      std::string line = fmt::format("{}:{}\n", path, step);
      int fd = ::open(trace_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd >= 0) {
        (void)!::write(fd, line.data(), line.size());
        ::close(fd);
      }
    }
    target()->FaultPoint(path, step);
    if (spec_.kind == FaultKind::kNone) return;
    if (path != spec_.path || step != spec_.step) return;
    if (++hits_ != spec_.hit) return;
    switch (spec_.kind) {
      case FaultKind::kCrash:
        ::_exit(kFaultCrashExitCode);
      case FaultKind::kEio:
        armed_errno_ = EIO;
        break;
      case FaultKind::kEnospc:
        armed_errno_ = ENOSPC;
        break;
      case FaultKind::kPowerLoss:
        LosePowerAndExit();
      case FaultKind::kNone:
        break;
    }
  }

 private:
  // With a power loss to model, every call goes through the model, made before the base
  // class is (so it is the target) and kept here.
  FaultEnv(std::unique_ptr<PowerLossEnv> power, Env* base, FaultSpec spec, std::string trace_path)
      : GatedEnv(power ? power.get() : base),
        spec_(std::move(spec)),
        trace_path_(std::move(trace_path)),
        power_(std::move(power)) {}

  // The power loss, then the reboot (the model removes this boot's files, see
  // power_loss_env.h). Locks need nothing: the kernel drops them when this process exits.
  [[noreturn]] void LosePowerAndExit() {
    Status s = power_->SimulatePowerLoss();
    if (!s.ok()) {
      fmt::print(stderr, "drovebank: the power-loss model failed: {}\n", s.message());
      ::_exit(kFaultModelFailedExitCode);
    }
    ::_exit(kFaultCrashExitCode);
  }

  // Fails this call if a fault was armed, once.
  Status Gate() override {
    // Atomic: the checkpoint syncs files on several threads, and exactly one call fails.
    int e = armed_errno_.exchange(0);
    if (e == 0) return Status::Ok();
    return ErrnoStatus(e, fmt::format("injected fault at {}:{}", spec_.path, spec_.step));
  }

  FaultSpec spec_;
  std::string trace_path_;
  int hits_ = 0;
  std::atomic<int> armed_errno_{0};
  std::unique_ptr<PowerLossEnv> power_;  // kPowerLoss only; the target then
};

}  // namespace

Result<FaultSpec> ParseFaultSpec(std::string_view text) {
  // path:step:kind
  auto c1 = text.find(':');
  auto c2 = c1 == std::string_view::npos ? c1 : text.find(':', c1 + 1);
  if (c2 == std::string_view::npos) {
    return Status::InvalidArgument(
        fmt::format("fault spec '{}' is not PATH:STEP:KIND (KIND crash, eio, enospc or "
                    "powerloss)",
                    text));
  }
  FaultSpec spec;
  spec.path = std::string(text.substr(0, c1));
  spec.step = std::string(text.substr(c1 + 1, c2 - c1 - 1));
  std::string_view kind = text.substr(c2 + 1);
  if (kind == "crash") {
    spec.kind = FaultKind::kCrash;
  } else if (kind == "eio") {
    spec.kind = FaultKind::kEio;
  } else if (kind == "enospc") {
    spec.kind = FaultKind::kEnospc;
  } else if (kind == "powerloss") {
    spec.kind = FaultKind::kPowerLoss;
  } else {
    return Status::InvalidArgument(fmt::format("unknown fault kind '{}'", kind));
  }
  return spec;
}

std::unique_ptr<Env> MakeFaultEnv(Env* base, FaultSpec spec, std::string trace_path) {
  return std::make_unique<FaultEnv>(base, std::move(spec), std::move(trace_path));
}

// With fault injection compiled in, DefaultEnv() is this one (the store links this library
// then); without it, src/os/default_env.cc's, and this library is linked only into tests.
#ifdef DROVEBANK_FAULT_INJECTION
Env* DefaultEnv() {
  static Env* env = [] {
    const char* f = std::getenv("DROVEBANK_FAULT");
    const char* t = std::getenv("DROVEBANK_FAULT_TRACE");
    if ((f == nullptr || *f == 0) && (t == nullptr || *t == 0)) return PosixEnv();
    FaultSpec spec;
    if (f != nullptr && *f != 0) {
      auto parsed = ParseFaultSpec(f);
      if (!parsed.ok()) {
        fmt::print(stderr, "drovebank: DROVEBANK_FAULT: {}\n", parsed.status().message());
        std::_Exit(2);
      }
      spec = *parsed;
      if (const char* h = std::getenv("DROVEBANK_FAULT_HIT")) spec.hit = std::atoi(h);
    }
    return MakeFaultEnv(PosixEnv(), spec, t ? t : "").release();
  }();
  return env;
}
#endif

}  // namespace drovebank
