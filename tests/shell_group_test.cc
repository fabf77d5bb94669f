// The shell's group commit (src/cli/shell_group.cc): a script's money lines that are
// already waiting commit together, and nothing a user can see changes but the time.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "os/posix_env.h"
#include "shell_test_util.h"
#include "store/layout.h"
#include "store/lock_table.h"
#include "store/lockfile.h"

namespace drovebank {
namespace {

using testing::Contains;
using testing::RunWithPipe;
using testing::ShellQuote;
using testing::TempDir;

// Every kind of line a group meets: refusals by each rule, bad input, keyed lines (a key
// repeated, reused for another request, and one kept for `reverse`), a read in the middle,
// a close that a later line runs into, a memo, an unknown command, and runs of plain money
// lines between them.
const char* kMixedScript =
    "open Ada Lovelace 100\n"
    "open Bob Ray 10\n"
    "deposit 1 5\n"
    "withdraw 2 100\n"
    "transfer 2 1 3\n"
    "deposit 1 abc\n"
    "deposit 9 1\n"
    "transfer 1 1 1\n"
    "deposit 1 1 --txn k1\n"
    "deposit 1 1 --txn k1\n"
    "deposit 1 2 --txn k1\n"
    "transfer 1 2 1 --txn reverse:4\n"
    "withdraw 1 1 --txn k2\n"
    "withdraw 1 1 --memo \"rent, May\"\n"
    "show 1\n"
    "transfer 1 2 50\n"
    "withdraw 2 57\n"
    "withdraw 2 0.01\n"
    "close 2\n"
    "deposit 2 1\n"
    "# a comment between money lines\n"
    "deposit 1 0.01\n"
    "\n"
    "bogus\n"
    "deposit 1 2\n"
    "transfer 1 3 1\n"
    "withdraw 1 2\n";

// Runs `script` on a new store with `flags`, stdout and stderr merged in the order written,
// and the store's accounts and history afterwards.
struct Outcome {
  int exit_code = 0;
  std::string merged;
  std::string after;
};

// The commit times, which two runs cannot share, as "TIME".
std::string WithoutTimes(const std::string& text) {
  static const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z)");
  return std::regex_replace(text, time, "TIME");
}

Outcome RunScript(const std::string& flags, const std::string& script) {
  TempDir t;
  std::string d = "-d " + ShellQuote(t / "data");
  auto r = RunWithPipe(t, DROVEBANK_BIN, d + " " + flags + " 2>&1", script);
  Outcome o;
  o.exit_code = r.exit_code;
  o.merged = WithoutTimes(r.out);
  for (const char* read : {"list", "history 1", "history 2", "txn 9"}) {
    o.after += WithoutTimes(RunWithPipe(t, DROVEBANK_BIN, d + " " + read + " 2>&1", "").out);
  }
  return o;
}

}  // namespace

TEST_CASE("shell group commit: a script's output, order, exit code and store are those of one "
          "commit a line",
          "[shell][script][group]") {
  for (const char* json : {"", "--json"}) {
    INFO("output: " << (*json ? json : "text"));
    Outcome alone = RunScript(std::string(json) + " shell --group-size 1", kMixedScript);
    for (const char* group : {"", "shell --group-size 2", "shell --group-size 3"}) {
      INFO("grouped: " << group);
      Outcome grouped = RunScript(std::string(json) + " " + group, kMixedScript);
      CHECK(grouped.exit_code == 3);  // line 4, the first failure: refused by a bank rule
      CHECK(grouped.exit_code == alone.exit_code);
      CHECK(grouped.merged == alone.merged);
      CHECK(grouped.after == alone.after);
    }
    if (!*json) {
      CHECK(Contains(alone.merged, "line 4: account 2 has 10.00, not enough to withdraw 100.00"));
      CHECK(Contains(alone.merged, "line 20: account 2 is closed"));
      CHECK(Contains(alone.merged, "line 11: transaction key 'k1' was already used"));
      CHECK(Contains(alone.merged, "line 12: transaction keys starting with 'reverse:'"));
      CHECK(Contains(alone.merged, "(already applied earlier with this key)"));
    }
  }
}

TEST_CASE("shell group commit: a line whose next line is not there yet is committed and "
          "reported before the shell waits for it",
          "[shell][script][group]") {
  TempDir t;
  for (bool ready : {false, true}) {
    DYNAMIC_SECTION((ready ? "every line there at once" : "each line written after the last "
                                                          "report")) {
      testing::TestSession session(t / (ready ? "a" : "b"));
      testing::ScriptSource src({"open Ada Lovelace 10", "deposit 1 5", "withdraw 1 2",
                                 "deposit 1 1"},
                                /*interactive=*/false);
      src.ready = ready;
      std::string seen_before_last;
      src.before[3] = [&] { seen_before_last = session.out.text(); };
      CHECK(session.Run(src) == 0);
      // A program feeding the shell a line at a time, waiting for each report, gets it;
      // a script's waiting lines are reported once their group is committed.
      CHECK(Contains(seen_before_last, "Withdrew 2.00") == !ready);
      CHECK(Contains(seen_before_last, "Deposited 5.00") == !ready);
      CHECK(Contains(session.out.text(), "Deposited 1.00 to account 1; balance 14.00"));
    }
  }
}

// A group locks every account of its lines before it appends, so one busy account makes
// the whole group time out, nothing changed; line by line only that account's lines fail.
TEST_CASE("shell group commit: a busy account fails only its own lines, as line by line",
          "[shell][script][group][lock]") {
  for (const char* group : {"shell --group-size 1", ""}) {
    INFO("shell options: " << group);
    TempDir t;
    std::string d = "-d " + ShellQuote(t / "data");
    REQUIRE(RunWithPipe(t, DROVEBANK_BIN, d, "open Ada Lovelace 10\nopen Bob Ray 20\n")
                .exit_code == 0);
    // This test process holds account 1's lock, as another session mid-commit would.
    Layout layout(t / "data");
    auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
    REQUIRE(table.ok());
    LockFile held(table->get(), AccountSlot(1), layout.AccountLock(1));
    REQUIRE(held.TryHold().ok());
    auto r = RunWithPipe(t, DROVEBANK_BIN, "--lock-timeout 0.2 " + d + " " + group,
                         "deposit 2 5\ndeposit 1 5\ntransfer 2 1 1\ndeposit 2 2\nshow 2\n");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 4);  // the first failure: line 2, busy
    CHECK(Contains(r.err, "line 2: timed out"));
    CHECK(Contains(r.err, "line 3: timed out"));
    CHECK_FALSE(Contains(r.err, "line 1:"));
    CHECK_FALSE(Contains(r.err, "line 4:"));
    CHECK(Contains(r.out, "Deposited 5.00 to account 2; balance 25.00 (txn 3)"));
    CHECK(Contains(r.out, "Deposited 2.00 to account 2; balance 27.00 (txn 4)"));
    CHECK(Contains(r.out, "Balance: 27.00"));
    REQUIRE(held.Rollback().ok());
    CHECK(Contains(RunWithPipe(t, DROVEBANK_BIN, d + " show 1", "").out, "Balance: 10.00"));
  }
}

// The one way a group's answer differs from line by line, documented (docs/SHELL.md): a
// file changed outside drovebank is found while the group reads its accounts, which marks
// the store, as any commit does; the lines before the damaged account's line, which line by
// line would have committed first, are then refused too. Nothing is applied, and every line
// says so and why.
TEST_CASE("shell group commit: a file changed by hand refuses every line of its group, nothing "
          "changed, the cause named",
          "[shell][script][group][integrity]") {
  TempDir t;
  std::string d = "-d " + ShellQuote(t / "data");
  REQUIRE(RunWithPipe(t, DROVEBANK_BIN, d, "open Ada Lovelace 10\nopen Bob Ray 10\n").exit_code ==
          0);
  std::string file = Layout(t / "data").AccountPath(2);
  std::stringstream text;
  text << std::ifstream(file).rdbuf();
  std::string forged = std::regex_replace(text.str(), std::regex("10\\.00"), "90.00");
  REQUIRE(forged != text.str());
  std::ofstream(file, std::ios::trunc) << forged;
  auto r = RunWithPipe(t, DROVEBANK_BIN, d, "deposit 1 5\ndeposit 2 5\ndeposit 1 1\n");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 5);
  CHECK(r.out.empty());
  for (const char* line : {"line 1: ", "line 2: ", "line 3: "}) {
    CHECK(Contains(r.err, std::string(line) + "the store needs recovery"));
  }
  CHECK(Contains(r.err, "02.csv was changed outside drovebank"));
  CHECK(RunWithPipe(t, RECOVER_BIN, d, "").exit_code == 0);
  CHECK(Contains(RunWithPipe(t, DROVEBANK_BIN, d + " show 1", "").out, "Balance: 10.00"));
  CHECK(Contains(RunWithPipe(t, DROVEBANK_BIN, d + " show 2", "").out, "Balance: 10.00"));
}

TEST_CASE("shell group commit: --group-size takes a whole number from 1, nothing runs otherwise",
          "[shell][script][group]") {
  TempDir t;
  std::string d = "-d " + ShellQuote(t / "data");
  for (const char* bad : {"0", "-1", "x", "100001"}) {
    INFO(bad);
    auto r = RunWithPipe(t, DROVEBANK_BIN, d + " shell --group-size " + bad, "open A B 1\n");
    CHECK(r.exit_code == 2);
    CHECK(Contains(r.err, "group size"));
    CHECK(r.out.empty());
  }
}

}  // namespace drovebank
