// The installed programs as a user meets them: exit codes, --help, --version, colour.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/layout.h"
#include "store/lockfile.h"
#include "store/process_info.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace {

using namespace drovebank::testing;  // the test support: test_util.h
using nlohmann::json;

const std::vector<std::string> kFaultVars = {"DROVEBANK_FAULT", "DROVEBANK_FAULT_HIT",
                                             "DROVEBANK_FAULT_TRACE", "DROVEBANK_DATA"};

// Runs drovebank on `data` with a clean environment: no fault, no colour unless asked.
RunResult Db(const std::string& data, std::vector<std::string> args, RunOptions o = {}) {
  args.insert(args.begin(), {"-d", data});
  for (const std::string& v : kFaultVars) {
    bool set_here = false;
    for (const std::string& e : o.env) set_here = set_here || e.rfind(v + "=", 0) == 0;
    if (!set_here) o.unset.push_back(v);
  }
  return RunProgram(DROVEBANK_BIN, args, o);
}

RunOptions Plain() {
  RunOptions o;
  o.env = {"NO_COLOR=1"};
  return o;
}

// For recover and --version: no fault injection, no data directory from outside.
RunOptions Clean() {
  RunOptions o;
  o.unset = kFaultVars;
  return o;
}

RunOptions Term(bool stdout_tty, bool stderr_tty) {
  RunOptions o;
  o.env = {"TERM=xterm-256color"};
  o.stdout_tty = stdout_tty;
  o.stderr_tty = stderr_tty;
  return o;
}

// One subcommand name a line after "SUBCOMMANDS:" in CLI11's help.
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> out;
  size_t at = help.find("Subcommands:");
  if (at == std::string::npos) at = help.find("SUBCOMMANDS:");
  if (at == std::string::npos) return out;
  std::istringstream in(help.substr(at));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.size() < 3 || line.rfind("  ", 0) != 0 || line[2] == ' ') break;
    // "balance, bal": the name before its aliases.
    out.push_back(line.substr(2, line.find_first_of(", ", 2) - 2));
  }
  return out;
}

bool HasEscape(const RunResult& r) {
  return r.out.find('\033') != std::string::npos || r.err.find('\033') != std::string::npos;
}

}  // namespace

TEST_CASE("cli: every documented exit code comes from the real program", "[cli][e2e]") {
  TempDir dir("drovebank-cli");
  std::string data = dir.Path("data");
  REQUIRE(Db(data, {"open", "Ada", "Lovelace", "100"}, Plain()).exit_code == 0);
  REQUIRE(Db(data, {"open", "Bob", "Kay", "0"}, Plain()).exit_code == 0);
  drovebank::Layout layout(data);

  struct Case {
    const char* what;
    std::vector<std::string> args;
    std::vector<std::string> env;
    int exit_code;
  };
  std::vector<Case> cases = {
      {"success", {"deposit", "1", "5"}, {}, 0},
      {"bad amount", {"deposit", "1", "abc"}, {}, 2},
      {"negative amount", {"withdraw", "1", "-5"}, {}, 2},
      {"bad id", {"show", "../1"}, {}, 2},
      {"unknown option", {"show", "1", "--bogus"}, {}, 2},
      {"unknown command", {"frobnicate"}, {}, 2},
      {"missing argument", {"transfer", "1", "2"}, {}, 2},
      {"no such account", {"show", "42"}, {}, 3},
      {"insufficient funds", {"withdraw", "2", "1"}, {}, 3},
      {"close with money", {"close", "1"}, {}, 3},
#ifdef DROVEBANK_FAULT_INJECTION
      {"EIO before the journal write",
       {"deposit", "1", "5"},
       {"DROVEBANK_FAULT=deposit:before_journal_write:eio"},
       1},
      {"EIO on the journal sync",
       {"deposit", "1", "5"},
       {"DROVEBANK_FAULT=deposit:before_journal_sync:eio"},
       1},
      {"injected crash", {"withdraw", "1", "1"}, {"DROVEBANK_FAULT=withdraw:locks_held:crash"}, 86},
#endif
  };
  // In shared mode (DROVEBANK_FS=shared, CTest's "shared fs:" run) the journal is written
  // through with O_DSYNC and no fdatasync follows: that write's EIO is the case above.
  const char* fs_mode = std::getenv("DROVEBANK_FS");
  bool write_through = fs_mode != nullptr && std::string_view(fs_mode) == "shared";
  for (const Case& c : cases) {
    if (write_through && std::string_view(c.what) == "EIO on the journal sync") continue;
    for (bool as_json : {false, true}) {
      DYNAMIC_SECTION(c.what << (as_json ? " (--json)" : "")) {
        std::vector<std::string> args = c.args;
        if (as_json) args.insert(args.begin(), "--json");
        RunOptions o = Plain();
        o.env.insert(o.env.end(), c.env.begin(), c.env.end());
        RunResult r = Db(data, args, o);
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.exit_code == c.exit_code);
        if (c.exit_code == 1 || c.exit_code == 3) {
          CHECK(r.err.rfind("drovebank: ", 0) == 0);
          if (as_json) CHECK(json::parse(r.out)["error"]["exit"] == c.exit_code);
        }
        // Exit 1 always says whether the change may have been applied.
        if (c.exit_code == 1) {
          CHECK((r.err.find("nothing was changed") != std::string::npos ||
                 r.err.find("may have been applied") != std::string::npos));
        }
      }
    }
  }

  SECTION("4: an account locked by a live process, past --lock-timeout") {
    // This test process holds the lock, as a session mid-commit would.
    auto table =
        drovebank::LockTable::Open(drovebank::PosixEnv(), layout, drovebank::StorageMode{}, false);
    REQUIRE(table.ok());
    drovebank::LockFile held(table->get(), drovebank::AccountSlot(1), layout.AccountLock(1));
    REQUIRE(held.TryHold().ok());
    for (const char* cmd : {"deposit", "withdraw"}) {
      RunResult r = Db(data, {"--json", "--lock-timeout", "0.2", cmd, "1", "1"}, Plain());
      INFO(r.err);
      CHECK(r.exit_code == 4);
      CHECK(json::parse(r.out)["error"]["code"] == "Busy");
    }
    REQUIRE(held.Rollback().ok());
    CHECK(Db(data, {"deposit", "1", "1"}, Plain()).exit_code == 0);
  }

  SECTION("5: a store marked as needing recovery, and a corrupt account file") {
    REQUIRE(dir.Write("data/NEEDS_RECOVERY", "test\n"));
    CHECK(Db(data, {"deposit", "1", "1"}, Plain()).exit_code == 5);
    RunResult fixed = RunProgram(RECOVER_BIN, {"-d", data}, Clean());
    INFO(fixed.err);
    REQUIRE(fixed.exit_code == 0);
    CHECK(Db(data, {"deposit", "1", "1"}, Plain()).exit_code == 0);

    std::string path = layout.AccountPath(2);
    REQUIRE(dir.Write(path.substr(dir.path().size() + 1), "id,first\nnot,a,valid,file\n"));
    RunResult r = Db(data, {"--json", "show", "2"}, Plain());
    CHECK(r.exit_code == 5);
    CHECK(json::parse(r.out)["error"]["exit"] == 5);
  }
}

TEST_CASE("cli: --help of every command has examples and --version is the package version",
          "[cli][e2e]") {
  TempDir dir("drovebank-cli");
  RunResult top = Db(dir.Path("data"), {"--help"}, Plain());
  REQUIRE(top.exit_code == 0);
  CHECK(top.out.find("Examples:") != std::string::npos);
  CHECK(top.out.find("Exit codes:") != std::string::npos);
  std::vector<std::string> commands = Subcommands(top.out);
  for (const char* known : {"open", "show", "deposit", "withdraw", "transfer", "close", "list",
                            "search", "history", "txn", "import-legacy", "reverse", "import-csv"}) {
    CHECK(std::find(commands.begin(), commands.end(), known) != commands.end());
  }
  for (const std::string& cmd : commands) {
    INFO("drovebank " << cmd << " --help");
    RunResult r = Db(dir.Path("data"), {cmd, "--help"}, Plain());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Example") != std::string::npos);
  }
  RunResult rec = RunProgram(RECOVER_BIN, {"--help"}, Clean());
  CHECK(rec.exit_code == 0);
  CHECK(rec.out.find("Examples:") != std::string::npos);
  // The version is the package's: a build that honours DROVEBANK_FAULT says so.
#ifdef DROVEBANK_FAULT_INJECTION
  const std::string version = std::string(DROVEBANK_VERSION) + "+faultinjection";
#else
  const std::string version = DROVEBANK_VERSION;
#endif
  RunResult v = RunProgram(DROVEBANK_BIN, {"--version"}, Clean());
  CHECK(v.exit_code == 0);
  CHECK(v.out == "drovebank " + version + "\n");
  v = RunProgram(RECOVER_BIN, {"--version"}, Clean());
  CHECK(v.exit_code == 0);
  CHECK(v.out == "recover (drovebank) " + version + "\n");
}

TEST_CASE("cli: colour only on a terminal and never with NO_COLOR", "[cli][e2e][color]") {
  TempDir dir("drovebank-cli");
  std::string data = dir.Path("data");
  REQUIRE(Db(data, {"open", "Ada", "Lovelace", "100"}, Plain()).exit_code == 0);
  REQUIRE(dir.Write("legacy/7.txt", "Eve,Ray,1.0\n"));
  REQUIRE(dir.Write("legacy/8.txt", "Bad,Line\n"));
  const std::vector<std::vector<std::string>> commands = {
      {"show", "42"},           {"withdraw", "1", "1000"},
      {"history", "1"},         {"list"},
      {"deposit", "1", "x"},    {"import-legacy", dir.Path("legacy")},
      {"--json", "show", "42"}, {"--json", "history", "1"}};

  SECTION("pipes: no escape bytes, whatever NO_COLOR says") {
    for (const auto& cmd : commands) {
      for (bool no_color : {false, true}) {
        RunOptions o = Term(false, false);
        if (no_color) o.env.push_back("NO_COLOR=1");
        if (!no_color) o.unset.push_back("NO_COLOR");
        RunResult r = Db(data, cmd, o);
        INFO(cmd[0] << " " << (cmd.size() > 1 ? cmd[1] : "") << ": " << r.out << r.err);
        CHECK(r.exit_code != -1);
        CHECK_FALSE(HasEscape(r));
      }
    }
  }
  SECTION("a terminal: the error prefix and table headers are coloured unless NO_COLOR") {
    for (const char* no_color : {"", "NO_COLOR=1", "NO_COLOR="}) {
      RunOptions err_tty = Term(false, true);
      RunOptions out_tty = Term(true, false);
      bool colour = *no_color == '\0';
      for (RunOptions* o : {&err_tty, &out_tty}) {
        if (colour) {
          o->unset.push_back("NO_COLOR");
        } else {
          o->env.push_back(no_color);
        }
      }
      INFO("environment: " << no_color);
      RunResult e = Db(data, {"show", "42"}, err_tty);
      CHECK(e.exit_code == 3);
      CHECK(e.err.find("drovebank:") != std::string::npos);
      CHECK((e.err.find("\033[1;31mdrovebank:\033[0m") != std::string::npos) == colour);
      CHECK(HasEscape(e) == colour);
      RunResult h = Db(data, {"history", "1"}, out_tty);
      CHECK(h.exit_code == 0);
      CHECK(HasEscape(h) == colour);
      // --json is for programs: never coloured.
      RunResult j = Db(data, {"--json", "history", "1"}, out_tty);
      CHECK_FALSE(HasEscape(j));
    }
  }
}

#ifdef DROVEBANK_FAULT_INJECTION
TEST_CASE("list and search: an open that crashed after its journal sync shows at once",
          "[cli][e2e][crash]") {
  // The open is acknowledged by its journal record; a crash before the file is renamed
  // into place leaves only a dead lock. list and search must show the account anyway.
  for (const char* point : {"after_journal_sync", "after_temp_write"}) {
    for (const char* reader : {"list", "search"}) {
      DYNAMIC_SECTION(reader << " after a crash at open:" << point) {
        TempDir dir("drovebank-open-crash");
        std::string data = dir.Path("data");
        REQUIRE(Db(data, {"open", "Ada", "Lovelace", "100"}, Plain()).exit_code == 0);
        RunOptions crash = Plain();
        crash.env.push_back(std::string("DROVEBANK_FAULT=open:") + point + ":crash");
        REQUIRE(Db(data, {"open", "Grace", "Hopper", "250"}, crash).exit_code == 86);
        drovebank::Layout layout(data);
        REQUIRE(::access(layout.AccountPath(2).c_str(), F_OK) != 0);  // no file yet

        std::vector<std::string> args = {"--json", reader};
        if (std::string(reader) == "search") args.push_back("hopper");
        RunResult r = Db(data, args, Plain());
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        json page = json::parse(r.out);
        std::vector<std::string> lasts;
        for (const json& a : page["accounts"]) lasts.push_back(a["last"]);
        CHECK(std::count(lasts.begin(), lasts.end(), "Hopper") == 1);
        CHECK(page["total"] == lasts.size());
        CHECK(::access(layout.AccountPath(2).c_str(), F_OK) == 0);  // repaired on the way
        CHECK(Db(data, {"show", "2"}, Plain()).out.find("250.00") != std::string::npos);
      }
    }
  }
}
#endif
