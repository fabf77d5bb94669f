// Fault injection at named fault points (after RocksDB's kill points).
//
// A fault point is PATH:STEP, e.g. "deposit:after_journal_sync". With fault injection
// compiled in (CMake option DROVEBANK_FAULT_INJECTION), the programs honour:
//   DROVEBANK_FAULT=PATH:STEP:KIND   KIND is crash (exit at once with code 86, no cleanup),
//                                    eio or enospc (the next Env call fails with that errno)
//   DROVEBANK_FAULT_HIT=N            fire at the N-th time the point is reached (default 1)
//   DROVEBANK_FAULT_TRACE=FILE       append every fault point reached to FILE
// The catalogue of points is in fault_points.h and docs/RELIABILITY.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "drovebank/env.h"

namespace drovebank {

enum class FaultKind { kNone, kCrash, kEio, kEnospc };

// The exit code of an injected crash, so scripts can tell it from any other exit.
inline constexpr int kFaultCrashExitCode = 86;

struct FaultSpec {
  std::string path;
  std::string step;
  FaultKind kind = FaultKind::kNone;
  int hit = 1;
};

// Parses PATH:STEP:KIND. InvalidArgument when malformed.
Result<FaultSpec> ParseFaultSpec(std::string_view text);

// Wraps `base` (not owned) with the injector; `trace_path` may be empty.
std::unique_ptr<Env> MakeFaultEnv(Env* base, FaultSpec spec, std::string trace_path);

}  // namespace drovebank
