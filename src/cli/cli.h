// The drovebank command table, shared by the one-shot CLI and the shell: each line of the
// shell is parsed by a fresh App built here, so both speak exactly the same commands.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "drovebank/store.h"

namespace drovebank {

// What a command does with the store, which decides how GetStore opens it.
enum class StoreAccess {
  kRead,    // only reads: never creates a store; opens read-only when it cannot be written
  kWrite,   // changes it: creates a missing store; refused on a read-only one (open, batch,
            // the imports and the shell: each can open the first account)
  kChange,  // changes accounts that must exist (deposit, withdraw, transfer, close,
            // reverse): never creates a store, which could not make it succeed
  kCreate,  // `init`: creates it, and only that
};

// State that outlives one command: the open store, output mode, streams.
struct CliContext {
  std::string data_dir;  // resolved lazily (flag, $DROVEBANK_DATA, ./data)
  bool json = false;
  std::string output;  // -O: text, csv, tsv or json ("" for text)
  bool read_only = false;  // --read-only: open the store only to read
  double lock_timeout = 10.0;
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  LockWait extra_wait;  // on_wait / cancelled hooks (the shell sets them)
  std::unique_ptr<Store> store;
  int exit_code = 0;
  std::string program = "drovebank";
  // Set by list/search/history so the shell's next/prev can re-run them a page over.
  std::vector<std::string> last_paged;
  size_t last_page = 0;
  size_t last_pages = 0;  // how many pages it had then
  // Extra commands registered by other parts (shell, batch, import-legacy).
  std::vector<std::function<void(CLI::App&, CliContext&)>> extensions;
  // The shell is reading its commands from stdin, not a terminal: an input read from
  // stdin (`batch -`) would swallow the script's following lines, so it is refused.
  bool stdin_is_script = false;
  // What runs when no command is given (the shell); prints help when unset.
  std::function<int(CliContext&)> no_command;
  // Set by a shell reading a script (src/cli/shell_group.cc). A deposit, withdrawal or
  // transfer offers its event here once its input is checked; true: the shell took it, to
  // commit with the lines already waiting as one group, and prints its report then (the
  // command prints nothing now). False: the command commits it alone, now; the shell has
  // committed and reported every line before it first.
  std::function<bool(Event& event, OpKind kind)> defer_money;
  // Set with defer_money: Fail and Print call it before they print, so the lines that
  // wait are committed and reported before any later line's output.
  std::function<void()> before_output;

  // What this process committed, so a failure to write its output can say what stands:
  // how many changes, and the txns of the first and the last (0: not known, as for a
  // batch, whose summary on stderr counts them). Set through Committed().
  std::uint64_t committed_txn = 0;  // the last
  std::uint64_t first_committed_txn = 0;
  size_t committed = 0;
  // What stands whatever became of the output, said after a write error instead of the
  // count of commits when set ("the repair was done").
  std::string stands;
  // The errno of the first failed write to `out` (0: none), found by Print and at exit.
  int out_errno = 0;

  // Notes `count` committed changes, the last of them (when known) txn `txn`.
  void Committed(std::uint64_t txn, size_t count = 1);

  // Opens the store on first use. Failures are reported by the caller through Fail().
  // kRead on a missing store is InvalidArgument (naming how to create one); kWrite on a
  // store opened read-only (--read-only, or files it cannot write) is IOError, nothing
  // changed. A store first opened read-only stays so for the context's life.
  Result<Store*> GetStore(StoreAccess access = StoreAccess::kWrite);
  // Prints the error (stderr sentence; JSON error object on stdout with --json) and sets
  // exit_code from its Code.
  void Fail(const Status& s);
  // Prints a result: `value` with --json, else `text` (a trailing newline is added).
  void Print(const nlohmann::json& value, const std::string& text);
  // "store is read-only (why): nothing changed", for a write to a read-only store.
  Status ReadOnlyRefusal(const std::string& dir) const;
};

// Builds an App with the global options (when `with_globals`) and every subcommand bound
// to `ctx`; with `only` naming a built-in subcommand, just that one (the other built-in
// ones and the extensions' are then unknown to it). The returned App owns the storage its
// options write to.
std::unique_ptr<CLI::App> BuildApp(CliContext& ctx, bool with_globals,
                                   std::string_view only = {});

// Adds the report commands (balance, statement, export; src/cli/report_commands.cc) to
// `app`, or only the one `only` names (nothing when it names another command).
void AddReportCommands(CLI::App& app, CliContext& ctx, std::string_view only);

// The built-in subcommand `word` names (its alias `bal` included), or empty when it is not
// one (a shell word, an extension's command, a typo).
std::string_view CoreCommand(std::string_view word);

// The money operation the built-in command `word` names (deposit, withdraw, transfer),
// or nullopt for any other word.
std::optional<OpKind> MoneyCommand(std::string_view word);

// The built-in subcommand argv names (skipping the global options and their values), or
// empty when it names none, asks only for help or version, or is unclear.
std::string_view CoreCommandNamed(int argc, char** argv);

// The report of a committed deposit, withdrawal or transfer (`res` from Store::Commit or
// one event of Store::CommitGroup): one line of text, or its JSON with --json.
void ReportMoneyOp(CliContext& ctx, OpKind kind, const EventResult& res);

// JSON of an account in the documented field names (money as decimal strings).
nlohmann::json AccountJson(const Account& a);
nlohmann::json RecordJsonView(const Record& r);

// Runs the one-shot program: parse, execute, map the result to an exit code. Usage
// errors are drovebank's own sentences (cli_usage.h); a failed write of stdout is exit 1.
int RunCli(int argc, char** argv, CliContext& ctx);

// At the end of a one-shot program (drovebank's commands and shell, recover): the one
// place output is checked. Flushes `ctx.out`; when writing it failed (a full disk, a
// closed pipe), says so on stderr with its true cause ("write error: No space left on
// device", and what was committed and stands when anything was) and returns 1 instead of
// a success `code`; else `code`.
int FinishOutput(CliContext& ctx, int code);

// Makes `stdout` (once per process) a stream over file descriptor 1 that keeps the errno
// of its first failed write, and returns it. Why: stdio forgets why a write failed (a
// full disk found by a flush inside some printf leaves only the error flag, and the next
// flush "succeeds" on an emptied buffer), so a late check could only guess EIO.
std::FILE* KeepStdoutErrors();
// The errno of the first failed write of KeepStdoutErrors()'s stream; 0 when none (or
// when it is not installed).
int StdoutWriteErrno();

// Runs `body`, turning an exception from a failed write (fmt::print throws
// std::system_error) into ctx.out_errno, so the program reports it and exits 1 instead
// of aborting. Returns body's code, or ctx.exit_code after such a failure.
int GuardOutput(CliContext& ctx, const std::function<int()>& body);

// The program-level commands of the top level: `help [COMMAND]`, `version`, `init [DIR]`.
void AddProgramCommands(CLI::App& app, CliContext& ctx);

// The lock-wait hooks of a session at a terminal: a notice on `ctx.err` when a wait
// begins (who holds the lock, since when) and cancellation by Ctrl-C (the flag of
// shell_interrupts, which the caller installs). `newline_on_cancel`: the terminal echoed
// ^C without a newline, so one is written before the message that follows.
LockWait TerminalLockWait(CliContext& ctx, bool newline_on_cancel);

}  // namespace drovebank
