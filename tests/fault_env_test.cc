// The fault injector as a module (src/testing/fault_injection.h, fault_env.cc): the spec
// DROVEBANK_FAULT gives, and an injector armed at a point failing exactly the next call
// after that point's N-th reach, with every point reached traced. Faults through the real
// programs are fault_matrix_test.cc.
#include "testing/fault_injection.h"

#include <fcntl.h>

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace drovebank {
namespace {

using testing::Slurp;
using testing::TempDir;

TEST_CASE("faults: DROVEBANK_FAULT names a point and one of the four kinds", "[faults]") {
  auto [text, kind] =
      GENERATE(std::pair<std::string, FaultKind>{"crash", FaultKind::kCrash},
               std::pair<std::string, FaultKind>{"eio", FaultKind::kEio},
               std::pair<std::string, FaultKind>{"enospc", FaultKind::kEnospc},
               std::pair<std::string, FaultKind>{"powerloss", FaultKind::kPowerLoss});
  auto spec = ParseFaultSpec("transfer:after_rename:" + text);
  REQUIRE(spec.ok());
  CHECK(spec->path == "transfer");
  CHECK(spec->step == "after_rename");
  CHECK(spec->kind == kind);
  CHECK(spec->hit == 1);
  for (const std::string& bad : std::vector<std::string>{"transfer:after_rename:" + text + "x",
                                                         "transfer:" + text, text, ""}) {
    CAPTURE(bad);
    CHECK(ParseFaultSpec(bad).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("fault env: an eio or enospc fault fails exactly the next call after the N-th reach",
          "[fault_env]") {
  TempDir dir;
  for (auto [kind, err] : {std::pair{FaultKind::kEio, EIO}, std::pair{FaultKind::kEnospc, ENOSPC}}) {
    FaultSpec spec;
    spec.path = "deposit";
    spec.step = "after_journal_sync";
    spec.kind = kind;
    spec.hit = 2;
    auto env = MakeFaultEnv(DefaultEnv(), spec, dir / "trace");
    std::string f = dir / "f";
    auto write = [&] {
      auto fd = env->Open(f, O_WRONLY | O_CREAT, 0600);
      if (!fd.ok()) return fd.status();
      Status s = env->Write(*fd, "x");
      (void)env->Close(*fd);
      return s;
    };
    REQUIRE(write().ok());
    env->FaultPoint("deposit", "before_journal_sync");  // another point: nothing armed
    env->FaultPoint("transfer", "after_journal_sync");
    REQUIRE(write().ok());
    env->FaultPoint("deposit", "after_journal_sync");  // the first reach: not yet
    REQUIRE(write().ok());
    env->FaultPoint("deposit", "after_journal_sync");  // the second: the next call fails
    Status failed = env->Access(f, F_OK);
    CHECK(failed.code() == Code::kIOError);
    CHECK(failed.sys_errno() == err);
    CHECK(failed.message().find("injected fault at deposit:after_journal_sync") !=
          std::string::npos);
    CHECK(env->Access(f, F_OK).ok());  // once only
    env->FaultPoint("deposit", "after_journal_sync");  // a third reach arms nothing
    CHECK(write().ok());
  }
  // Every point reached, in order, one a line (both envs appended to the one trace).
  std::string trace = Slurp(dir / "trace");
  const std::string one =
      "deposit:before_journal_sync\ntransfer:after_journal_sync\ndeposit:after_journal_sync\n"
      "deposit:after_journal_sync\ndeposit:after_journal_sync\n";
  CHECK(trace == one + one);
}

TEST_CASE("fault env: without a fault armed every call reaches the base env", "[fault_env]") {
  TempDir dir;
  auto env = MakeFaultEnv(DefaultEnv(), FaultSpec{}, "");
  for (int i = 0; i < 3; ++i) env->FaultPoint("deposit", "after_journal_sync");
  auto fd = env->Open(dir / "f", O_RDWR | O_CREAT, 0600);
  REQUIRE(fd.ok());
  REQUIRE(env->PWrite(*fd, "hello", 0).ok());
  REQUIRE(env->Close(*fd).ok());
  CHECK(*env->ReadFile(dir / "f") == "hello");
  CHECK_FALSE(testing::PathExists(dir / "trace"));
}

}  // namespace
}  // namespace drovebank
