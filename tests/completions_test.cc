// The bash, zsh and fish completion scripts (completions/): each parses, and each offers
// every command and option that `drovebank --help`, `drovebank COMMAND --help` and
// `recover --help` list, so a new command cannot be forgotten in one of them (issue 26
// item 19). zsh and fish are in scripts/setup; without them their checks are skipped.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace drovebank {
namespace {

using testing::RunResult;
using testing::RunProgram;
using testing::WithEnv;
using testing::Which;

const std::string kDir = std::string(DROVEBANK_SOURCE_DIR) + "/completions/";

// The names a CLI11 help lists in `section` ("Subcommands:", "Options:"): the first
// column's words, split at commas ("balance, bal", "-d,--data-dir").
std::vector<std::string> Listed(const std::string& help, const std::string& section) {
  std::vector<std::string> out;
  std::istringstream in(help);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == section) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.rfind("  ", 0) != 0) break;  // the section ends at its first other line
    std::string first = line.substr(2, line.find("  ", 2) - 2);
    first = first.substr(0, first.find(' '));  // "-d,--data-dir DIR" -> "-d,--data-dir"
    std::istringstream names(first);
    for (std::string n; std::getline(names, n, ',');) {
      while (!n.empty() && n.front() == ' ') n.erase(0, 1);
      if (!n.empty()) out.push_back(n);
    }
  }
  return out;
}

// Whether `word` stands in `text` as a word of its own (not inside a longer name).
bool HasWord(const std::string& text, const std::string& word) {
  auto part = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
  for (size_t p = text.find(word); p != std::string::npos; p = text.find(word, p + 1)) {
    bool start = p == 0 || !part(text[p - 1]);
    bool end = p + word.size() == text.size() || !part(text[p + word.size()]);
    if (start && end) return true;
  }
  return false;
}

// A long option as a script may spell it: "--page" in bash and zsh, "-l page" in fish.
bool HasOption(const std::string& text, const std::string& option, bool fish) {
  if (!fish) return HasWord(text, option);
  if (option.rfind("--", 0) == 0) return HasWord(text, "-l " + option.substr(2));
  return HasWord(text, "-s " + option.substr(1));
}

RunResult Must(std::vector<std::string> argv) {
  RunResult r = RunProgram(argv[0], {argv.begin() + 1, argv.end()}, WithEnv({{"NO_COLOR", "1"}}));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

}  // namespace

TEST_CASE("completions: bash, zsh and fish offer every command and option the help lists",
          "[completions]") {
  std::string help = Must({DROVEBANK_BIN, "--help"}).out;
  std::vector<std::string> commands = Listed(help, "Subcommands:");
  REQUIRE(commands.size() >= 20);
  std::vector<std::string> globals = Listed(help, "Options:");
  REQUIRE(globals.size() >= 8);
  std::map<std::string, std::vector<std::string>> options;  // each command's own
  for (const std::string& c : commands) {
    options[c] = Listed(Must({DROVEBANK_BIN, c, "--help"}).out, "Options:");
  }
  std::vector<std::string> recover = Listed(Must({RECOVER_BIN, "--help"}).out, "Options:");
  REQUIRE(recover.size() >= 6);

  for (const char* file : {"drovebank.bash", "_drovebank", "drovebank.fish"}) {
    INFO(file);
    std::string text = testing::Slurp(kDir + file);
    REQUIRE(!text.empty());
    bool fish = std::string(file).ends_with(".fish");
    for (const std::string& c : commands) {
      INFO("command " << c);
      CHECK(HasWord(text, c));
      for (const std::string& o : options[c]) {
        INFO("option " << o);
        CHECK(HasOption(text, o, fish));
      }
    }
    for (const std::string& o : globals) {
      INFO("global option " << o);
      CHECK(HasOption(text, o, fish));
    }
    for (const std::string& o : recover) {
      INFO("recover option " << o);
      CHECK(HasOption(text, o, fish));
    }
  }
}

TEST_CASE("completions: each script parses, and offers commands after help, formats after "
          "--format, and a command's options",
          "[completions]") {
  CHECK(Must({Which("bash"), "-n", kDir + "drovebank.bash"}).err.empty());
  // bash: the completion function run on a line, as bash-completion calls it.
  auto bash = [](const std::string& line) {
    std::string script = "source \"$0\"; COMP_LINE='" + line +
                         "'; read -ra COMP_WORDS <<< \"$COMP_LINE\"; "
                         "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); "
                         "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _drovebank; "
                         "printf '%s\\n' \"${COMPREPLY[@]}\"";
    return Must({Which("bash"), "-c", script, kDir + "drovebank.bash"}).out;
  };
  CHECK(bash("drovebank help ren") == "rename\n");
  CHECK(bash("drovebank ver") == "version\n");
  CHECK(bash("drovebank in") == "init\n");
  CHECK(bash("drovebank version --v") == "--verbose\n");
  CHECK(bash("drovebank import-csv --ag") == "--again\n");
  CHECK(bash("drovebank rename 1 --t") == "--txn\n");

  if (Which("zsh").empty()) {
    WARN("zsh is not installed: its completion is not checked (scripts/setup installs it)");
  } else {
    CHECK(Must({Which("zsh"), "-n", kDir + "_drovebank"}).err.empty());
  }
  if (Which("fish").empty()) {
    WARN("fish is not installed: its completion is not checked (scripts/setup installs it)");
  } else {
    CHECK(Must({Which("fish"), "--no-execute", kDir + "drovebank.fish"}).err.empty());
    auto fish = [](const std::string& line) {
      return Must({Which("fish"), "--no-config", "-c",
                   "source $argv[1]; complete -C '" + line + "'", kDir + "drovebank.fish"})
          .out;
    };
    CHECK(fish("drovebank help ren").rfind("rename", 0) == 0);
    CHECK(fish("drovebank export --format ") ==
          "beancount\tExport format\ncsv\tExport format\nhledger\tExport format\n"
          "ledger\tExport format\n");
    CHECK(fish("drovebank import-csv --ag") == "--again\tApply an input run to its end once more\n");
    CHECK(fish("recover --expect") == "--expect-head\tFail unless the chain passes through TXN:HASH\n");
  }
}

}  // namespace drovebank
