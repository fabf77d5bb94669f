// The test helper headers together: each name in drovebank::testing has one definition.
// Two different definitions of one name in two headers (each file including only one)
// compile and link without a word and are undefined behaviour: in the -O3 Release build
// the shell script tests crashed on test_util.h's ProgramResult destroyed as
// shell_test_util.h's (docs/RELIABILITY.md, finding 6). Including every helper header in
// one file makes such a duplicate a compile error.
#include <catch2/catch.hpp>
#include <type_traits>

#include "run_program.h"
#include "shell_test_util.h"
#include "test_util.h"

namespace drovebank {
namespace {

TEST_CASE("test helpers: one ProgramResult, one TempDir, in every test file", "[helpers]") {
  using Piped = decltype(testing::RunWithPipe(std::declval<const testing::TempDir&>(), "", "", ""));
  using Spawned = decltype(testing::Drovebank("", {}));
  STATIC_REQUIRE(std::is_same_v<Piped, testing::ProgramResult>);
  STATIC_REQUIRE(std::is_same_v<Spawned, testing::ProgramResult>);

  // RunWithPipe fills the same fields as RunProgram.
  testing::TempDir t;
  testing::ProgramResult r =
      testing::RunWithPipe(t, "sh", "-c 'cat; echo err >&2; exit 3'", "in\n");
  CHECK(r.exit_code == 3);
  CHECK(r.signal == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out == "in\n");
  CHECK(r.err == "err\n");
}

}  // namespace
}  // namespace drovebank
