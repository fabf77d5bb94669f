// The shell reading a script from a pipe: the real program, stdin never a terminal.
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "store/process_info.h"
#include "store/layout.h"
#include "store/lockfile.h"
#include "shell_test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::Contains;
using testing::RunWithPipe;
using testing::ShellQuote;
using testing::TempDir;

std::string Dir(const TempDir& t) { return "-d " + ShellQuote(t / "data"); }

const char* kScript =
    "# set up\n"
    "open Ada Lovelace 100   # trailing comment\n"
    "withdraw 1 500\n"
    "\n"
    "deposit 9 1\n"
    "bogus\n"
    "show 1\n";

}  // namespace

TEST_CASE("shell script: comments, line numbers, the run goes on, exit is the first failure",
          "[shell][script]") {
  for (const char* how : {"", "shell"}) {
    INFO("invocation: drovebank " << how);
    TempDir t;
    auto r = RunWithPipe(t, DROVEBANK_BIN, Dir(t) + " " + how, kScript);
    CHECK(r.exit_code == 3);  // line 3: refused by a bank rule
    CHECK(Contains(r.err, "line 3: account 1 has 100.00, not enough to withdraw 500.00"));
    CHECK(Contains(r.err, "line 5: no account 9"));
    CHECK(Contains(r.err, "line 6: unknown command 'bogus'"));
    CHECK(Contains(r.out, "Opened account 1"));
    CHECK(Contains(r.out, "Balance: 100.00"));     // line 7 ran after the failures
    CHECK_FALSE(Contains(r.out, "drovebank>"));    // no prompts
    CHECK_FALSE(Contains(r.out + r.err, "\x1b"));  // no colour
  }
}

TEST_CASE("shell script: batch - and import-csv - are refused, since they would read the "
          "script's own following lines; a batch FILE runs",
          "[shell][script][batch]") {
  TempDir t;
  { std::ofstream(t / "ops.jsonl") << "{\"op\":\"deposit\",\"id\":1,\"amount\":\"2.00\"}\n"; }
  std::string script =
      "open Ada Lovelace 100\n"
      "batch -\n"
      "deposit 1 1\n"
      "import-csv /dev/stdin\n"
      "deposit 1 1\n"
      "batch " + ShellQuote(t / "ops.jsonl") + "\n"
      "show 1\n";
  auto r = RunWithPipe(t, DROVEBANK_BIN, Dir(t), script);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "line 2: batch - would read this script's following lines as its "
                        "input: in a script, give it a file (batch FILE), or run `drovebank "
                        "batch -` outside the shell; nothing changed"));
  CHECK(Contains(r.err, "line 4: import-csv - would read this script's following lines"));
  CHECK(Contains(r.out, "Balance: 104.00"));  // lines 3, 5 and 6 ran: nothing was swallowed
}

TEST_CASE("shell script: --bail stops at the first failing line", "[shell][script]") {
  for (const char* args : {"--bail", "shell --bail"}) {
    INFO(args);
    TempDir t;
    auto r = RunWithPipe(t, DROVEBANK_BIN, Dir(t) + " " + args, kScript);
    CHECK(r.exit_code == 3);
    CHECK(Contains(r.err, "line 3:"));
    CHECK_FALSE(Contains(r.err, "line 5:"));
    CHECK_FALSE(Contains(r.out, "Balance:"));
  }
}

TEST_CASE("shell script: a clean script exits 0, the menu reads its answers from the lines",
          "[shell][script]") {
  TempDir t;
  auto r = RunWithPipe(t, DROVEBANK_BIN, Dir(t), "c\nAda\nLovelace\n100\nd\n1\n5\nt\n1\nq\nl\n");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(Contains(r.out, "Opened account 1 for Ada Lovelace, balance 100.00"));
  CHECK(Contains(r.out, "Deposited 5.00 to account 1; balance 105.00"));
  CHECK(Contains(r.out, "Cancelled; nothing changed."));
  CHECK(Contains(r.out, "(1 in all)"));
}

TEST_CASE("shell script: a bad menu answer is reported with its line and asked again",
          "[shell][script]") {
  TempDir t;
  auto r = RunWithPipe(t, DROVEBANK_BIN, Dir(t), "c\nAda\nLovelace\n1.999\n1.99\nshow 1\n");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "line 4: "));
  CHECK(Contains(r.out, "Balance: 1.99"));
}

TEST_CASE("shell script: --json prints one value a command, errors included",
          "[shell][script][json]") {
  TempDir t;
  auto r = RunWithPipe(t, DROVEBANK_BIN, "--json " + Dir(t),
                       "open Ada Lovelace 1\nbegin\ndeposit 1 1\ncommit\nwithdraw 1 9\n");
  CHECK(r.exit_code == 3);
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK_NOTHROW(nlohmann::json::parse(line));
    ++n;
  }
  CHECK(n == 5);
}

TEST_CASE("shell script: a locked account is named while waiting, the wait times out",
          "[shell][script][lock]") {
  TempDir t;
  auto setup = RunWithPipe(t, DROVEBANK_BIN, Dir(t), "open Ada Lovelace 100\n");
  REQUIRE(setup.exit_code == 0);
  // This test process holds account 1's lock, as another session mid-commit would.
  Layout layout(t / "data");
  auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(table.ok());
  LockFile held(table->get(), AccountSlot(1), layout.AccountLock(1));
  REQUIRE(held.TryHold().ok());
  auto r = RunWithPipe(t, DROVEBANK_BIN, "--lock-timeout 0.3 " + Dir(t), "deposit 1 5\nshow 1\n");
  CHECK(r.exit_code == 4);
  CHECK(Contains(r.err, "account 1 is locked by process " + std::to_string(::getpid()) + " on " +
                            Self().host + " since "));
  CHECK(Contains(r.err, "line 1: timed out"));
  CHECK(Contains(r.out, "Balance: 100.00"));
}

TEST_CASE("shell script: Ctrl-C cancels a lock wait cleanly and stops the script",
          "[shell][script][lock]") {
  TempDir t;
  REQUIRE(RunWithPipe(t, DROVEBANK_BIN, Dir(t), "open Ada Lovelace 100\n").exit_code == 0);
  Layout layout(t / "data");
  auto table = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(table.ok());
  LockFile held(table->get(), AccountSlot(1), layout.AccountLock(1));
  REQUIRE(held.TryHold().ok());

  int in[2];
  REQUIRE(::pipe(in) == 0);
  std::string err_path = t / "cancel.err";
  std::string data = t / "data";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::close(in[0]);
    ::close(in[1]);
    std::FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    std::FILE* o = std::freopen("/dev/null", "w", stdout);
    (void)e;
    (void)o;
    ::execl(DROVEBANK_BIN, DROVEBANK_BIN, "--lock-timeout", "60", "-d", data.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  std::string script = "deposit 1 5\nshow 1\n";
  REQUIRE(::write(in[1], script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  ::close(in[1]);
  bool waiting = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!waiting && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    waiting = Contains(testing::Slurp(err_path), "waiting (Ctrl-C cancels)");
  }
  ::kill(pid, waiting ? SIGINT : SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  REQUIRE(waiting);
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 4);
  std::string err = testing::Slurp(err_path);
  CHECK(Contains(err, "line 1: gave up waiting for account 1"));
  CHECK(Contains(err, "interrupted"));
  REQUIRE(held.Rollback().ok());
  auto r = RunWithPipe(t, DROVEBANK_BIN, Dir(t), "show 1\n");
  CHECK(Contains(r.out, "Balance: 100.00"));
}

#ifdef DROVEBANK_FAULT_INJECTION
TEST_CASE(
    "shell script: a failed checkpoint at exit is reported as the exit, not the commit's line",
    "[shell][script][fault]") {
  for (const char* last : {"", "quit\n"}) {
    INFO("script ends with: " << (*last ? last : "end of input"));
    TempDir t;
    REQUIRE(RunWithPipe(t, DROVEBANK_BIN, Dir(t), "open Ada Lovelace 100\n").exit_code == 0);
    // The checkpoint's first file sync, the Env call after this fault point, fails with EIO.
    std::string faulty = "env -u DROVEBANK_FAULT_HIT DROVEBANK_FAULT=checkpoint:after_verify:eio " +
                         ShellQuote(DROVEBANK_BIN) + " " + Dir(t);
    auto r = RunWithPipe(t, "sh", "-c " + ShellQuote(faulty),
                         std::string("begin\ndeposit 1 5\ncommit\n") + last);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 1);  // an I/O error, and the run did fail
    CHECK(Contains(r.out, "Committed 1 change(s)"));
    std::string where = *last ? "exit: " : "end of input: ";
    CHECK(Contains(r.err, where + "the checkpoint at exit failed: "));
    CHECK_FALSE(Contains(r.err, "line 3:"));
    CHECK_FALSE(Contains(r.err, "line 4:"));
    // The commit stands.
    auto show = RunWithPipe(t, DROVEBANK_BIN, Dir(t), "show 1\n");
    CHECK(show.exit_code == 0);
    CHECK(Contains(show.out, "Balance: 105.00"));
  }
}
#endif

namespace {

// The shell lets go of the store before a read that may wait (Shell::ReadLine): a line
// already in stdio's buffer, or bytes or the end in the pipe, say the read will not wait.
TEST_CASE("shell: a script's next line is ready when it is buffered or in the pipe, not before",
          "[shell]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::FILE* in = ::fdopen(fds[0], "r");
  REQUIRE(in != nullptr);
  StreamLineSource src(in);
  CHECK(!src.Ready());  // nothing written yet
  REQUIRE(::write(fds[1], "show 1\nshow 2\n", 14) == 14);
  CHECK(src.Ready());
  CHECK(src.Read("").text == "show 1");  // both lines now in stdio's buffer
  CHECK(src.Ready());                    // the pipe is empty: the buffer says so
  CHECK(src.Read("").text == "show 2");
  CHECK(!src.Ready());
  REQUIRE(::close(fds[1]) == 0);
  CHECK(src.Ready());  // the end of the input: reading it does not wait
  CHECK(src.Read("").kind == InputLine::kEnd);
  std::fclose(in);
}

}  // namespace

}  // namespace drovebank
