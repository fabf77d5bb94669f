// The test helper headers together: each name in drovebank::testing has one definition.
// Two different definitions of one name in two headers (each file including only one)
// compile and link without a word and are undefined behaviour: in the -O3 Release build
// the shell script tests crashed on one header's result type destroyed as another's
// (docs/RELIABILITY-HISTORY.md, finding 6). Including every helper header in one file
// makes such a duplicate a compile error. The cases below hold the helpers to what the
// tests rely on.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <type_traits>

#include "settled.h"
#include "lock_test_util.h"
#include "require_run.h"
#include "run_drovebank.h"
#include "run_program.h"
#include "shell_test_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace drovebank {
namespace {

TEST_CASE("test helpers: one RunResult, one TempDir, in every test file", "[helpers]") {
  using Piped = decltype(testing::RunWithPipe(std::declval<const testing::TempDir&>(), "", "", ""));
  using Spawned = decltype(testing::Drovebank("", {}));
  using Plain = decltype(testing::RunOnStore("", {}));
  STATIC_REQUIRE(std::is_same_v<Piped, testing::RunResult>);
  STATIC_REQUIRE(std::is_same_v<Spawned, testing::RunResult>);
  STATIC_REQUIRE(std::is_same_v<Plain, testing::RunResult>);

  // RunWithPipe fills the same fields as RunProgram.
  testing::TempDir t;
  testing::RunResult r =
      testing::RunWithPipe(t, "sh", "-c 'cat; echo err >&2; exit 3'", "in\n");
  CHECK(r.exit_code == 3);
  CHECK(r.signal == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out == "in\n");
  CHECK(r.err == "err\n");
}

TEST_CASE("test helpers: RunProgram reports a signal, a time-out and the environment",
          "[helpers]") {
  testing::RunResult killed = testing::RunProgram("/bin/sh", {"-c", "kill -TERM $$"});
  CHECK(killed.signal == SIGTERM);
  CHECK(killed.exit_code == 128 + SIGTERM);

  testing::RunOptions slow;
  slow.timeout_seconds = 0.3;
  testing::RunResult late = testing::RunProgram("/bin/sleep", {"5"}, slow);
  CHECK(late.timed_out);
  CHECK(late.signal == SIGKILL);

  ::setenv("DROVEBANK_HELPER_GONE", "here", 1);
  testing::RunOptions o;
  o.env = {"DROVEBANK_HELPER_SET=1"};
  o.unset = {"DROVEBANK_HELPER_GONE"};
  testing::RunResult env = testing::RunProgram(
      "/bin/sh", {"-c", "echo \"${DROVEBANK_HELPER_SET-}/${DROVEBANK_HELPER_GONE-unset}\""}, o);
  ::unsetenv("DROVEBANK_HELPER_GONE");
  CHECK(env.out == "1/unset\n");

  testing::RunResult missing = testing::RunProgram("/nonexistent/program", {});
  CHECK(missing.exit_code == -1);
  CHECK(missing.err.find("posix_spawn") != std::string::npos);
}

TEST_CASE("test helpers: a TempDir is private, writable, and gone at scope end", "[helpers]") {
  std::string path;
  {
    testing::TempDir t("drovebank-helper");
    path = t.path();
    CHECK(std::filesystem::is_directory(path));
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          std::filesystem::perms::owner_all);
    CHECK(t / "a" == t.Path("a"));
    REQUIRE(t.Write("sub/dir/file", "bytes"));
    CHECK(testing::Slurp(t / "sub/dir/file") == "bytes");
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

// SettledProblems runs scripts/settled.py, the drivers' check, which must find each kind of
// stray state planted in a settled store, and nothing in the store itself.
TEST_CASE("test helpers: the settled check finds every stray file, and none in a settled store",
          "[helpers]") {
  testing::TempDir t;
  std::string data = t / "data";
  testing::Must(testing::Drovebank(data, {"open", "Ada", "Lovelace", "100"}));
  testing::Must(testing::Drovebank(data, {"deposit", "1", "5"}));
  REQUIRE(testing::SettledProblems(data).empty());
  const std::vector<std::string> plants = {"tmp/stray", "locks/1.lock",
                                           "accounts/00/00/00/01.csv.tmp", "NEEDS_RECOVERY"};
  for (const std::string& rel : plants) {
    INFO(rel);
    testing::Spit(data + "/" + rel, "");
    CHECK(testing::SettledProblems(data, /*files_only=*/true) ==
          std::vector<std::string>{"left over: " + rel});
    CHECK_FALSE(testing::SettledProblems(data).empty());
    std::filesystem::remove(data + "/" + rel);
  }
  std::string flags = testing::Slurp(data + "/locks/accounts");
  REQUIRE(flags.size() > 1);
  std::string set = flags;
  set[1] = '1';
  testing::Spit(data + "/locks/accounts", set);
  CHECK(testing::SettledProblems(data, true) ==
        std::vector<std::string>{"left over: repair flag set: accounts slot 1"});
  testing::Spit(data + "/locks/accounts", flags);
  CHECK(testing::SettledProblems(data).empty());
}

}  // namespace
}  // namespace drovebank
