#include "drovebank/status.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace drovebank {

std::string_view CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "Ok";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kClosed: return "Closed";
    case Code::kInsufficientFunds: return "InsufficientFunds";
    case Code::kKeyReused: return "KeyReused";
    case Code::kLimit: return "Limit";
    case Code::kRuleFailed: return "RuleFailed";
    case Code::kBusy: return "Busy";
    case Code::kCancelled: return "Cancelled";
    case Code::kCorruption: return "Corruption";
    case Code::kNeedsRecovery: return "NeedsRecovery";
    case Code::kIOError: return "IOError";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  Status s(code_, fmt::format("{}: {}", context, message_));
  s.maybe_applied_ = maybe_applied_;
  s.errno_ = errno_;
  return s;
}

Status ErrnoStatus(int err, std::string_view what) {
  std::string msg = fmt::format("{}: {}", what, std::strerror(err));
  Status s;
  switch (err) {
    case ENOENT: s = Status::NotFound(std::move(msg)); break;
    case EWOULDBLOCK: s = Status::Busy(std::move(msg)); break;
    default: s = Status::IOError(std::move(msg)); break;
  }
  s.set_sys_errno(err);
  return s;
}

}  // namespace drovebank
