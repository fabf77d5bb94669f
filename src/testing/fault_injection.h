// Fault injection at named fault points (after RocksDB's kill points).
//
// A fault point is PATH:STEP, e.g. "deposit:after_journal_sync". With fault injection
// compiled in (CMake option DROVEBANK_FAULT_INJECTION), the programs honour:
//   DROVEBANK_FAULT=PATH:STEP:KIND   KIND is one of
//       crash      exit at once with code 86, no cleanup (like kill -9: the page cache,
//                  and so every write made, survives)
//       eio        the next Env call fails with EIO
//       enospc     the next Env call fails with ENOSPC
//       powerloss  the machine loses power and reboots: everything the process wrote but
//                  did not make durable is reverted (PowerLossEnv, tracking from process
//                  start: what existed before counts as durable), this boot's files
//                  (journal/state, see Env::OpenBootFile) are removed the way a reboot
//                  invalidates them, then it exits at once with code 86
//   DROVEBANK_FAULT_HIT=N            fire at the N-th time the point is reached (default 1)
//   DROVEBANK_FAULT_TRACE=FILE       append every fault point reached to FILE, one
//                                    "PATH:STEP" a line (scripts/fault-injection reads it to
//                                    enumerate the points of a write path)
// The catalogue of points and the reasoning behind the reboot model: docs/RELIABILITY.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "drovebank/env.h"

namespace drovebank {

enum class FaultKind { kNone, kCrash, kEio, kEnospc, kPowerLoss };

// The exit code of an injected crash or power loss, so scripts can tell it from any other
// exit.
inline constexpr int kFaultCrashExitCode = 86;
// The exit code when the power-loss model itself failed to put the tree back (a bug in the
// test machinery, not in the store): the tree is then in no defined state.
inline constexpr int kFaultModelFailedExitCode = 87;

struct FaultSpec {
  std::string path;
  std::string step;
  FaultKind kind = FaultKind::kNone;
  int hit = 1;
};

// Parses PATH:STEP:KIND. InvalidArgument when malformed or of an unknown kind.
Result<FaultSpec> ParseFaultSpec(std::string_view text);

// Wraps `base` (not owned; must outlive the result) with the injector; `trace_path` may be
// empty. For kPowerLoss every call goes through a PowerLossEnv made here over `base`, so
// durability is tracked from this moment.
std::unique_ptr<Env> MakeFaultEnv(Env* base, FaultSpec spec, std::string trace_path);

}  // namespace drovebank
