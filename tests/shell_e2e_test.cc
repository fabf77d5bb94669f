// The shell in a real terminal: tmux runs it in a pane, keys are sent with send-keys and
// the screen read back with capture-pane. Skipped (with a warning) when tmux is missing.
// Every wait is bounded: a screen that never shows the expected text fails the test after
// kWaitSeconds, and the tmux server is killed on the way out.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "store/process_info.h"
#include "store/layout.h"
#include "store/lockfile.h"
#include "shell_test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::Contains;
using testing::ShellQuote;
using testing::TempDir;

// Only a bound for a test gone wrong: every wait ends as soon as its text shows, so the
// bound costs a passing run nothing. 15 s was once too short for a one-shot command to
// reach its lock wait while the whole suite ran at -j2 beside other fsync-heavy work (it
// passed alone, and 12 of 12 under three busy loops and a looping `dd conv=fsync`).
constexpr int kWaitSeconds = 90;

bool HaveTmux() { return std::system("command -v tmux >/dev/null 2>&1") == 0; }

std::string Run(const std::string& cmd) {
  std::string out;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// One tmux server (its own socket in the test's temp dir) running the shell in a pane.
class Terminal {
 public:
  Terminal(const TempDir& t, const std::string& args)
      : sock_(t / ("tmux" + std::to_string(count_++) + ".sock")) {
    std::string home = t / "home";
    std::error_code ec;
    std::filesystem::create_directories(home, ec);
    // The exit status is echoed by sh: tmux's own "Pane is dead (status N)" line depends
    // on when its server reaps the child, which under load can be late.
    std::string shell = "env HOME=" + ShellQuote(home) + " " + ShellQuote(DROVEBANK_BIN) + " " +
                        args + "; echo \"[exit status $?]\"";
    Tmux("-f /dev/null new-session -d -s t -x 160 -y 50 " + ShellQuote(shell) +
         " \\; set-option -t t remain-on-exit on");
  }
  ~Terminal() { Tmux("kill-server"); }

  void Type(const std::string& text) { Tmux("send-keys -t t -l " + ShellQuote(text)); }
  void Key(const std::string& key) { Tmux("send-keys -t t " + key); }
  void Line(const std::string& text) {
    Type(text);
    Key("Enter");
  }
  std::string Screen() { return Tmux("capture-pane -p -t t -S -500"); }

  // Waits until the screen contains `text` (at least `times` times); false after the
  // time limit.
  bool WaitFor(const std::string& text, int times = 1) {
    return WaitUntil([&](const std::string& s) {
      int n = 0;
      for (size_t p = s.find(text); p != std::string::npos; p = s.find(text, p + 1)) ++n;
      return n >= times;
    });
  }

  // Waits until the screen's last line is the shell's prompt with nothing typed after it:
  // the shell has finished with what came before (a Ctrl-C clearing the line) and reads
  // anew. Keys sent before that moment may reach readline while it is still handling the
  // interrupt; under load (the suite at -j2 beside a build) one such run lost a key.
  bool WaitForEmptyPrompt() {
    return WaitUntil([](std::string s) {
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
      size_t nl = s.rfind('\n');
      return s.substr(nl == std::string::npos ? 0 : nl + 1) == "drovebank>";
    });
  }

 private:
  // Polls the screen until `done` says so; false (the screen logged) after the time limit.
  template <typename Done>
  bool WaitUntil(Done&& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(Screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    UNSCOPED_INFO("screen:\n" << Screen());
    return false;
  }

  std::string Tmux(const std::string& args) {
    return Run("tmux -S " + ShellQuote(sock_) + " " + args + " 2>/dev/null");
  }
  static inline int count_ = 0;  // a fresh server each time: a killed one may linger
  std::string sock_;
};

std::string Data(const TempDir& t) { return "-d " + ShellQuote(t / "data"); }

}  // namespace

TEST_CASE("shell e2e: the menu in a terminal asks, re-asks and cancels", "[shell][e2e]") {
  if (!HaveTmux()) {
    WARN("tmux is not installed: skipped");
    return;
  }
  TempDir t;
  Terminal term(t, Data(t));
  REQUIRE(term.WaitFor("drovebank>"));
  term.Line("c");
  REQUIRE(term.WaitFor("First Name:"));
  term.Line("Ada");
  REQUIRE(term.WaitFor("Last Name:"));
  term.Line("Lovelace");
  REQUIRE(term.WaitFor("Starting Balance:"));
  term.Line("ten");
  REQUIRE(term.WaitFor("try again (q cancels)"));
  term.Line("100");
  REQUIRE(term.WaitFor("Opened account 1 for Ada Lovelace, balance 100.00"));
  term.Line("w");
  REQUIRE(term.WaitFor("Account ID:"));
  term.Line("1");
  REQUIRE(term.WaitFor("Amount:"));
  term.Line("q");
  REQUIRE(term.WaitFor("Cancelled; nothing changed."));
  term.Line("l");
  REQUIRE(term.WaitFor("page 1 of 1 (1 in all)"));
  term.Line("q");
  REQUIRE(term.WaitFor("[exit status 0]"));
}

TEST_CASE("shell e2e: named commands, tab completion, Ctrl-C clears, history is kept",
          "[shell][e2e]") {
  if (!HaveTmux()) {
    WARN("tmux is not installed: skipped");
    return;
  }
  TempDir t;
  {
    Terminal term(t, Data(t));
    REQUIRE(term.WaitFor("drovebank>"));
    term.Line("open \"Mary Ann\" 'O'\"'\"'Brien' 20");
    REQUIRE(term.WaitFor("Opened account 1 for Mary Ann O'Brien, balance 20.00"));
    term.Line("open Bob Smith 5");
    REQUIRE(term.WaitFor("Opened account 2"));
    // Command name, then an account id: "dep<Tab>" -> "deposit ", "<Tab><Tab>" lists ids.
    term.Type("dep");
    term.Key("Tab");
    REQUIRE(term.WaitFor("drovebank> deposit"));
    term.Key("Tab");
    term.Key("Tab");
    REQUIRE(term.WaitFor("1  2"));
    term.Type("2 1.50");
    term.Key("Enter");
    REQUIRE(term.WaitFor("Deposited 1.50 to account 2; balance 6.50"));
    // Ctrl-C throws away a half-typed line.
    term.Type("withdraw 1 20");
    term.Key("C-c");
    REQUIRE(term.WaitFor("^C"));
    REQUIRE(term.WaitForEmptyPrompt());
    term.Line("show 1");
    REQUIRE(term.WaitFor("Balance: 20.00"));
    term.Line("list --page-size 1");
    REQUIRE(term.WaitFor("page 1 of 2"));
    term.Line("next");
    REQUIRE(term.WaitFor("page 2 of 2"));
    term.Line("quit");
    REQUIRE(term.WaitFor("[exit status 0]"));
  }
  std::string history = testing::Slurp(t / "home/.drovebank_history");
  CHECK(Contains(history, "deposit 2 1.50"));
  CHECK_FALSE(Contains(history, "withdraw 1 20"));  // cancelled lines are not kept
  // A new session recalls it with the Up arrow.
  Terminal again(t, Data(t));
  REQUIRE(again.WaitFor("drovebank>"));
  again.Key("Up");
  again.Key("Up");
  REQUIRE(again.WaitFor("drovebank> next"));
}

TEST_CASE("shell e2e: Tab lists every option of a prefix, the values of -O and --format, "
          "and file names after -o",
          "[shell][e2e][complete]") {
  if (!HaveTmux()) {
    WARN("tmux is not installed: skipped");
    return;
  }
  TempDir t;
  testing::Spit(t / "export-me.csv", "");
  Terminal term(t, Data(t));
  REQUIRE(term.WaitFor("drovebank>"));
  term.Type("list --p");
  term.Key("Tab");
  REQUIRE(term.WaitFor("--page-size"));  // at once, beside --page
  term.Key("C-c");
  REQUIRE(term.WaitForEmptyPrompt());
  term.Type("history 1 -O ");
  term.Key("Tab");
  REQUIRE(term.WaitFor("csv   json  text  tsv"));
  term.Key("C-c");
  REQUIRE(term.WaitForEmptyPrompt());
  term.Type("export --format ");
  term.Key("Tab");
  REQUIRE(term.WaitFor("beancount  csv        hledger    ledger"));
  term.Key("C-c");
  REQUIRE(term.WaitForEmptyPrompt());
  term.Type("export --format csv -o " + (t / "export-m"));
  term.Key("Tab");
  REQUIRE(term.WaitFor("export-me.csv"));
  term.Key("C-c");
  REQUIRE(term.WaitForEmptyPrompt());
  term.Line("quit");
  REQUIRE(term.WaitFor("[exit status 0]"));
}

TEST_CASE("shell e2e: a transaction is staged, shown as pending, listed at commit and "
          "committed at once",
          "[shell][e2e][txn]") {
  if (!HaveTmux()) {
    WARN("tmux is not installed: skipped");
    return;
  }
  TempDir t;
  Terminal term(t, Data(t));
  REQUIRE(term.WaitFor("drovebank>"));
  term.Line("open Ada Lovelace 100");
  term.Line("open Bob Smith 0");
  REQUIRE(term.WaitFor("Opened account 2"));
  term.Line("begin");
  REQUIRE(term.WaitFor("Transaction begun"));
  term.Line("transfer 1 2 30");
  REQUIRE(term.WaitFor("drovebank txn(1 pending)>"));
  term.Line("d");
  REQUIRE(term.WaitFor("Account ID:"));
  term.Line("2");
  REQUIRE(term.WaitFor("Amount:"));
  term.Line("5");
  REQUIRE(term.WaitFor("drovebank txn(2 pending)>"));
  term.Line("show");
  REQUIRE(term.WaitFor("35.00  (pending; committed 0.00)"));
  term.Line("withdraw 2 99999");  // refused at the terminal; the transaction goes on
  REQUIRE(term.WaitFor("drovebank txn(2 pending)>", 3));
  term.Line("commit");
  REQUIRE(term.WaitFor("Committed 2 change(s) as transaction 3"));
  {
    // What commit is about to apply, one line per staged change, before it applies it.
    std::string screen = term.Screen();
    INFO(screen);
    size_t list = screen.find(
        "Applying 2 staged change(s):\n"
        "  transfer 30.00 from account 1 to account 2\n"
        "  deposit 5.00 to account 2\n");
    REQUIRE(list != std::string::npos);
    CHECK(list < screen.find("Committed 2 change(s) as transaction 3"));
  }
  term.Line("show 2");
  REQUIRE(term.WaitFor("Balance: 35.00"));
  term.Line("begin");
  term.Line("withdraw 2 35");
  // The second "(1 pending)" prompt: the first is the earlier transaction's, and a Ctrl-D
  // sent before this readline has the terminal is read in cooked mode and lost.
  REQUIRE(term.WaitFor("drovebank txn(1 pending)>", 2));
  term.Key("C-d");
  REQUIRE(
      term.WaitFor("Transaction discarded at the end of input: 1 staged change(s) "
                   "discarded; nothing changed."));
  REQUIRE(term.WaitFor("[exit status 0]"));
}

TEST_CASE("shell e2e: waiting for a locked account is announced and Ctrl-C cancels it",
          "[shell][e2e][lock]") {
  if (!HaveTmux()) {
    WARN("tmux is not installed: skipped");
    return;
  }
  TempDir t;
  Terminal term(t, "--lock-timeout 60 " + Data(t));
  REQUIRE(term.WaitFor("drovebank>"));
  term.Line("open Ada Lovelace 100");
  REQUIRE(term.WaitFor("Opened account 1"));
  // This test process holds account 1's lock, as another session mid-commit would.
  Layout layout(t / "data");
  auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(table.ok());
  LockFile held(table->get(), AccountSlot(1), layout.AccountLock(1));
  REQUIRE(held.TryHold().ok());
  term.Line("deposit 1 5");
  REQUIRE(term.WaitFor("account 1 is locked by process " + std::to_string(::getpid()) + " on " +
                       Self().host + " since "));
  REQUIRE(term.WaitFor("waiting (Ctrl-C cancels)..."));
  term.Key("C-c");
  REQUIRE(term.WaitFor("gave up waiting for account 1"));
  REQUIRE(term.WaitFor("drovebank>", 3));
  // Once the other session is done, the same command goes through.
  REQUIRE(held.Rollback().ok());
  term.Line("deposit 1 5");
  REQUIRE(term.WaitFor("Deposited 5.00 to account 1; balance 105.00"));
  term.Line("q");
  REQUIRE(term.WaitFor("[exit status 0]"));
}

}  // namespace drovebank

namespace drovebank {

TEST_CASE("cli e2e: a one-shot command's lock wait is announced on a terminal and Ctrl-C "
          "ends it with exit 4, nothing changed",
          "[cli][e2e][lock]") {
  if (!HaveTmux()) {
    WARN("tmux is not installed: skipped");
    return;
  }
  TempDir t;
  std::string db = ShellQuote(DROVEBANK_BIN) + " " + Data(t);
  REQUIRE(std::system(("env -u DROVEBANK_FAULT " + db + " open Ada Lovelace 100 >/dev/null")
                          .c_str()) == 0);
  Layout layout(t / "data");
  auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(table.ok());
  LockFile held(table->get(), AccountSlot(1), layout.AccountLock(1));
  REQUIRE(held.TryHold().ok());
  std::vector<std::string> before;
  for (const auto& e : std::filesystem::recursive_directory_iterator(t / "data")) {
    before.push_back(e.path().string());
  }
  for (const char* cmd : {"deposit 1 5", "withdraw 1 5"}) {
    INFO(cmd);
    Terminal term(t, "--lock-timeout 60 " + Data(t) + " " + cmd);
    REQUIRE(term.WaitFor("account 1 is locked by process " + std::to_string(::getpid()) +
                         " on " + Self().host + " since "));
    REQUIRE(term.WaitFor("waiting (Ctrl-C cancels)..."));
    term.Key("C-c");
    REQUIRE(term.WaitFor("drovebank: gave up waiting for account 1; nothing changed"));
    REQUIRE(term.WaitFor("[exit status 4]"));
  }
  REQUIRE(held.Rollback().ok());
  std::vector<std::string> after;
  for (const auto& e : std::filesystem::recursive_directory_iterator(t / "data")) {
    after.push_back(e.path().string());
  }
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  CHECK(after == before);
  CHECK(Run(db + " show 1").find("Balance: 100.00") != std::string::npos);
}

}  // namespace drovebank
