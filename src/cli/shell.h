// The interactive shell: `drovebank` with no command, or `drovebank shell`.
//
// It speaks two languages on one prompt:
//   - the original drovebank menu: a single letter l c d w t h q e, after which the shell
//     asks for each value in turn ("q" at any question cancels; a bad value is refused
//     with the reason and asked again);
//   - named commands with arguments, exactly the one-shot subcommands (each line is parsed
//     by a fresh BuildApp), plus next/prev (paging), begin/commit/abort/show (transactions),
//     help and quit.
// A line that is one of the menu letters alone is the menu; anything else is a command.
//
// Interactive (stdin a terminal): GNU readline with history in ~/.drovebank_history and
// tab completion of command names, options and account ids; Ctrl-C clears the line, or
// cancels a lock wait. Otherwise (a script on stdin): no prompts and no colour, one
// command per line, `#` starts a comment, each failure is reported on stderr as
// "line N: ..." and the run goes on (with --bail it stops); the exit status is the exit
// code of the FIRST failing line (0 when none failed).
//
// Transactions: `begin [--txn KEY]` opens one; deposit, withdraw and transfer (named or
// through the menu) are then checked against the working balances and staged, not
// written; `show` lists them with pending balances; `commit` writes all of them as ONE
// journal record (rules re-checked against the state at commit, locks taken only then, in
// id order) or nothing; `abort`, `quit`, Ctrl-D or the end of input discard them and say
// so. A script that ends inside a transaction fails (exit 2): its changes were discarded.
//
// Group commit (script mode only; src/cli/shell_group.cc): a deposit, withdrawal or
// transfer whose next line is already there waits for it; the waiting lines
// (up to --group-size, default 128) are committed as one Store::CommitGroup (one journal
// append, one fdatasync, each line still checked in order and refused alone) when the
// input has no next line ready, the group is full, or any other line or output comes. Each
// line's report is printed only then, once it is durable, in the order of the lines; the
// effects are the same as one commit a line. Not with --bail (a refused line must stop the
// lines after it from committing), nor for a --txn key kept for `reverse`, nor inside a
// transaction.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/account.h"
#include "cli.h"
#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

// One line of input, or why there is none.
struct InputLine {
  enum Kind { kLine, kEnd, kInterrupted };  // kInterrupted: Ctrl-C while typing
  Kind kind = kEnd;
  std::string text;  // without the newline
};

// Where the shell's lines come from (readline, a pipe, or a test's script).
class LineSource {
 public:
  virtual ~LineSource() = default;
  // Reads the next line. Interactive sources show `prompt` first; others ignore it.
  virtual InputLine Read(const std::string& prompt) = 0;
  // True when a person is typing: prompts, colour, history, "asked again" wording.
  virtual bool interactive() const = 0;
  // 1-based number of the line last returned (for "line N:" in script mode).
  virtual size_t line_number() const = 0;
  // Offers a completed command line to the history (interactive sources keep it).
  virtual void Remember(const std::string& line) { (void)line; }
  // False when reading the next line may have to wait for it (a script piped in by a
  // program that has not written it yet): the shell lets go of the store first.
  virtual bool Ready() const { return true; }
};

// Reads lines from a stdio stream without prompts (a script piped to the shell).
class StreamLineSource : public LineSource {
 public:
  explicit StreamLineSource(std::FILE* in, bool interactive = false)
      : in_(in), interactive_(interactive) {}
  InputLine Read(const std::string& prompt) override;
  bool interactive() const override { return interactive_; }
  size_t line_number() const override { return line_; }
  bool Ready() const override;

 private:
  std::FILE* in_;
  bool interactive_;
  size_t line_ = 0;
};

// GNU readline on the terminal, with history kept in `history_file` (created 0600; empty
// for none) and completion from the shell's command table and the store's account ids.
// Installs its SIGINT handling for its lifetime (see ShellInterrupts).
std::unique_ptr<LineSource> MakeReadlineSource(CliContext& ctx, std::string history_file);

// "$HOME/.drovebank_history"; empty (no history file) when HOME is unset or empty.
std::string DefaultHistoryFile();

// Splits a line like a POSIX shell does, without expansions: blanks separate words;
// '...' is literal; "..." is literal except \" \\ \$ \` ; a backslash outside quotes
// escapes the next character; quoted parts join their neighbours ('O'"'"'Brien' is
// O'Brien); "" is an empty word; an unquoted # at the start of a word starts a comment.
// InvalidArgument for an unterminated quote or a trailing backslash.
Result<std::vector<std::string>> TokenizeShellLine(std::string_view line);

struct ShellOptions {
  bool bail = false;  // stop at the first failing line (script mode)
  // Script mode: the most money lines committed as one group (1: every line alone).
  size_t group_size = 128;
};

// Ctrl-C while the shell runs: a flag set by the SIGINT handler, read by the lock wait's
// cancelled() hook and by the line reader. Install() replaces the handler (no SA_RESTART)
// until Restore().
namespace shell_interrupts {
void Install();
void Restore();
bool Pending();  // a Ctrl-C arrived and was not yet taken
bool Take();     // returns Pending() and clears it
}  // namespace shell_interrupts

class PendingTransaction;  // shell_txn.h

// The engine: reads lines from `in`, runs them against `ctx` (whose out/err receive all
// output), until the input ends or `quit`.
class Shell {
 public:
  Shell(CliContext& ctx, LineSource& in, ShellOptions options = {});
  ~Shell();

  // Runs to the end. Returns 0, or the exit code of the first failed line (script mode;
  // interactive sessions return 0 unless the checkpoint at exit fails), or 130 when a
  // script is interrupted. Discards an open transaction and checkpoints the store at the
  // end.
  int Run();

  // Runs one line (either language). Returns its exit code (0 when it succeeded); sets
  // *quit when the line asked to leave. Menu letters read their answers from `in`.
  int ExecuteLine(const std::string& line, bool* quit);

  bool in_transaction() const;

 private:
  int RunCommand(std::vector<std::string> args, bool* quit);
  // The shell's own words: help, begin, commit/abort, next/prev.
  int RunHelp(const std::vector<std::string>& args);
  int RunBegin(const std::vector<std::string>& args);
  int RunCommitOrAbort(const std::vector<std::string>& args);
  int RunPaging(const std::vector<std::string>& args);
  int RunApp(std::vector<std::string> args);
  int RunMenu(char letter, bool* quit);
  int EndTransaction(std::string_view why);
  // Menu questions (shell_menu.cc).
  // One line from the input. At a terminal the store is let go of while the person types
  // (Store::Pause; GetStore takes it up again): a session left open for hours must not
  // keep other writers from giving the store files of its own after a hard-link backup.
  InputLine ReadLine(const std::string& prompt);
  bool Ask(const std::string& question, const std::function<Status(const std::string&)>& check,
           std::string* answer);
  Result<std::map<AccountId, Account>> WorkingStates(const std::vector<AccountId>& ids);
  Status CheckAccountAnswer(const std::string& text, AccountId other, AccountId* id);
  Status CheckAmountAnswer(const std::string& text, Op op);
  // Reports through ctx.Fail with the line prefix; returns the exit code.
  int Fail(const Status& s);
  // Records a failed line (script mode: the first one's code is the exit status; --bail
  // stops the run).
  void NoteFailure(int code);
  void Say(const std::string& text);
  std::string Prompt() const;
  std::string ErrorPrefix() const;
  // Group commit (shell_group.cc). DeferMoney is ctx.defer_money: takes the event of a
  // line that may wait, else commits what waits (CommitWaiting) and declines. CommitWaiting
  // commits the waiting events as one group and reports each line, in order, with its own
  // line number; ctx's exit code and program name are as they were after it.
  bool DeferMoney(Event& event, OpKind kind);
  void CommitWaiting();
  // Whether a line whose first word is `word` may join the waiting group (else the group
  // is committed before the line runs).
  bool MayJoinGroup(const std::string& word) const;

  CliContext& ctx_;
  LineSource& in_;
  ShellOptions options_;
  // The App of each command word's core command ("" for the whole table), built at its
  // first line and parsed again for each later one (OwnArgs puts the defaults back). Not
  // used inside a transaction, whose lines get Apps of their own (BindTransactionCommands).
  std::map<std::string, std::unique_ptr<CLI::App>, std::less<>> apps_;
  std::unique_ptr<PendingTransaction> txn_;
  // Script mode, as psql: the line whose failure aborted the open transaction (0: none).
  // Until `commit` (which then applies nothing and fails) or `abort`, lines are not run.
  size_t aborted_by_line_ = 0;
  // An aborted transaction's answer to a line: nullopt when the line may run.
  std::optional<int> WhileAborted(const std::vector<std::string>& words);
  int first_failure_ = 0;
  bool stop_ = false;
  // Once the lines are done: what a script's report names instead of "line N" ("end of
  // input" or "exit"); empty while lines run.
  std::string finishing_;
  // The lines waiting to be committed as one group: their events, and each one's line
  // number and kind, in input order. reporting_: the prefix of the report being printed
  // ("line 7"); empty otherwise. committing_: CommitWaiting is running.
  struct WaitingLine {
    size_t line = 0;
    OpKind kind = OpKind::kDeposit;
  };
  std::vector<Event> waiting_events_;
  std::vector<WaitingLine> waiting_lines_;
  std::string reporting_;
  bool committing_ = false;
};

// Registers the shell with `ctx`: sets ctx.no_command and adds the `shell` subcommand
// (and the --bail flag on the top level) through ctx.extensions.
void RegisterShell(CliContext& ctx);

// Runs the shell on stdin: readline when stdin is a terminal, else script mode (NO_COLOR
// is then set for the process). Wires the lock wait notice (which account, which process
// and host, since when) and Ctrl-C cancellation into ctx.extra_wait, and into the store
// if it is already open. Returns the exit status (see Shell::Run).
int RunShell(CliContext& ctx, const ShellOptions& options);

}  // namespace drovebank
