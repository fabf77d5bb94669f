// Who this process is, as a module (src/store/process_info.h): its pid, this boot's id and
// the host name, read once; and the clock helpers it defines (NowMillis, FormatTime).
#include "store/process_info.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "test_util.h"

namespace drovebank {
namespace {

TEST_CASE("process info: Self is this process, this boot and this host, the same each call",
          "[process_info]") {
  const ProcessIdentity& me = Self();
  CHECK(me.pid == static_cast<int>(::getpid()));
  std::string boot = testing::Slurp("/proc/sys/kernel/random/boot_id");
  if (!boot.empty()) {
    REQUIRE(boot.back() == '\n');
    boot.pop_back();
    CHECK(me.boot_id == boot);  // without its newline
  } else {
    CHECK(me.boot_id.rfind("unreadable-", 0) == 0);
  }
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  CHECK(me.host == (host[0] != 0 ? std::string(host) : "localhost"));
  CHECK(&Self() == &me);
}

// A lock holder's note names CurrentPid(): asked of the kernel once, and asked again in a
// forked child (batch --parallel forks; tests fork), which must never name its parent.
TEST_CASE("process info: CurrentPid is this process's pid, in a forked child too",
          "[process_info]") {
  CHECK(CurrentPid() == static_cast<int>(::getpid()));
  CHECK(CurrentPid() == static_cast<int>(::getpid()));  // the cached answer
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(CurrentPid() == static_cast<int>(::getpid()) ? 0 : 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(CurrentPid() == static_cast<int>(::getpid()));
}

TEST_CASE("process info: FormatTime is UTC with milliseconds", "[process_info]") {
  CHECK(FormatTime(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatTime(1795317641962) == "2026-11-22T03:20:41.962Z");
  CHECK(FormatTime(951782400000 + 999) == "2000-02-29T00:00:00.999Z");
}

}  // namespace
}  // namespace drovebank
