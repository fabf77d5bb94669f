// The documented exit codes of both programs (README, --help).
#pragma once

#include "drovebank/status.h"

namespace drovebank {

inline constexpr int kExitOk = 0;
inline constexpr int kExitIoError = 1;   // I/O or internal error; message says if applied
inline constexpr int kExitInvalid = 2;   // invalid input or usage; nothing changed
inline constexpr int kExitRefused = 3;   // a bank rule refused it; nothing changed
inline constexpr int kExitBusy = 4;      // lock wait timed out or cancelled; nothing changed
inline constexpr int kExitCorrupt = 5;   // needs recovery or a file is corrupt; nothing changed

constexpr int ExitCodeFor(Code c) {
  switch (c) {
    case Code::kOk: return kExitOk;
    case Code::kInvalidArgument: return kExitInvalid;
    case Code::kNotFound:
    case Code::kClosed:
    case Code::kInsufficientFunds:
    case Code::kKeyReused:
    case Code::kLimit:
    case Code::kRuleFailed: return kExitRefused;
    case Code::kBusy:
    case Code::kCancelled: return kExitBusy;
    case Code::kCorruption:
    case Code::kNeedsRecovery: return kExitCorrupt;
    case Code::kIOError:
    case Code::kInternal: return kExitIoError;
  }
  return kExitIoError;
}

inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 done; 1 I/O or internal error (the message says whether anything may have "
    "been applied); 2 invalid input or usage; 3 refused by a bank rule (no such account, "
    "closed, insufficient funds, key reused); 4 busy: lock wait timed out, nothing changed; "
    "5 the store needs recovery or a file is corrupt, nothing changed.";

}  // namespace drovebank
