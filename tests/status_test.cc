// Status as a module (include/drovebank/status.h, src/base/status.cc): every
// code's name, errno mapped to NotFound, Busy or IOError with the errno kept, and Annotate
// prefixing context while keeping the code and the flags.
#include "drovebank/status.h"

#include <cerrno>
#include <cstring>

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace drovebank {
namespace {

TEST_CASE("status: every code has its own name, the --json error name", "[status]") {
  const Code all[] = {Code::kOk,          Code::kInvalidArgument, Code::kNotFound,
                      Code::kClosed,      Code::kInsufficientFunds, Code::kKeyReused,
                      Code::kLimit,       Code::kRuleFailed,      Code::kBusy,
                      Code::kCancelled,   Code::kCorruption,      Code::kNeedsRecovery,
                      Code::kIOError,     Code::kInternal};
  std::set<std::string> names;
  for (Code c : all) names.insert(std::string(CodeName(c)));
  CHECK(names.size() == std::size(all));
  CHECK(names.count("Unknown") == 0);
  CHECK(CodeName(Code::kInsufficientFunds) == "InsufficientFunds");
  CHECK(CodeName(Code::kNeedsRecovery) == "NeedsRecovery");
  CHECK(CodeName(Code::kOk) == "Ok");
  CHECK(CodeName(Status::Busy("x").code()) == "Busy");
}

TEST_CASE("status: errno becomes NotFound, Busy or IOError, naming the call and keeping errno",
          "[status]") {
  Status nf = ErrnoStatus(ENOENT, "open /d/x");
  CHECK(nf.code() == Code::kNotFound);
  CHECK(nf.sys_errno() == ENOENT);
  CHECK(nf.message() == std::string("open /d/x: ") + std::strerror(ENOENT));
  CHECK(ErrnoStatus(EWOULDBLOCK, "lock").code() == Code::kBusy);
  CHECK(ErrnoStatus(EAGAIN, "lock").code() == Code::kBusy);
  for (int e : {EIO, ENOSPC, EACCES, ELOOP, EEXIST}) {
    Status s = ErrnoStatus(e, "call");
    CHECK(s.code() == Code::kIOError);
    CHECK(s.sys_errno() == e);
  }
  CHECK(Status::IOError("made by hand").sys_errno() == 0);
}

TEST_CASE("status: Annotate prefixes context and keeps the code, errno and maybe-applied",
          "[status]") {
  Status s = ErrnoStatus(EIO, "fdatasync");
  s.set_maybe_applied();
  Status a = s.Annotate("journal segment 1");
  CHECK(a.code() == Code::kIOError);
  CHECK(a.message() == "journal segment 1: " + s.message());
  CHECK(a.maybe_applied());
  CHECK(a.sys_errno() == EIO);
  Status ok = Status::Ok().Annotate("nothing");
  CHECK(ok.ok());
  CHECK(ok.message().empty());
}

}  // namespace
}  // namespace drovebank
