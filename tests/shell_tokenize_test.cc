// The shell's tokenizer as a module (TokenizeShellLine, src/cli/shell_tokenize.cc): a line
// split into words with quotes and backslashes as sh takes them, comments dropped, and
// unclosed quotes or a trailing backslash refused. The shell itself is shell_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cli/shell.h"

namespace drovebank {
namespace {

TEST_CASE("shell tokenizer: quoting like sh", "[shell][tokenize]") {
  struct Case {
    const char* line;
    std::vector<std::string> words;
  };
  std::vector<Case> cases = {
      {"", {}},
      {"   \t ", {}},
      {"deposit 7 10.00", {"deposit", "7", "10.00"}},
      {"  list   --page  2 ", {"list", "--page", "2"}},
      {"open \"Mary Ann\" Smith", {"open", "Mary Ann", "Smith"}},
      {"open Sean 'O'\"'\"'Brien'", {"open", "Sean", "O'Brien"}},
      {"open Sean O\\'Brien", {"open", "Sean", "O'Brien"}},
      {"open \"a \\\"b\\\" c\" x", {"open", "a \"b\" c", "x"}},
      {"open \"back\\\\slash\" \"keep\\n\"", {"open", "back\\slash", "keep\\n"}},
      {"x '' \"\" y", {"x", "", "", "y"}},
      {"a'b'\"c\"d", {"abcd"}},
      {"# only a comment", {}},
      {"show 1 # the first", {"show", "1"}},
      {"search a#b", {"search", "a#b"}},
      {"search '#x'", {"search", "#x"}},
      {"open 'tab\there' x", {"open", "tab\there", "x"}},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    auto w = TokenizeShellLine(c.line);
    REQUIRE(w.ok());
    CHECK(*w == c.words);
  }
  for (const char* bad : {"open 'Ada", "open \"Ada", "open Ada\\", "x \"a\\\""}) {
    INFO(bad);
    auto w = TokenizeShellLine(bad);
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace drovebank
