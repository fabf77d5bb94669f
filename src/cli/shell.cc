// The shell's main loop, its registration with the CLI, and its lock-wait wiring.
#include "drovebank/clock.h"
#include "shell.h"

#include <fmt/format.h>

#include <cctype>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "cli_usage.h"
#include "exit_codes.h"
#include "shell_internal.h"
#include "shell_txn.h"
#include "own_args.h"

namespace drovebank {

namespace {

constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as shells report it
bool g_shell_running = false;

bool IsMenuLetter(const std::string& w) {
  return w.size() == 1 && std::strchr("lcdwthqe", w[0]) != nullptr;
}

}  // namespace

Shell::Shell(CliContext& ctx, LineSource& in, ShellOptions options)
    : ctx_(ctx), in_(in), options_(options) {
  ctx_.defer_money = [this](Event& event, OpKind kind) { return DeferMoney(event, kind); };
  ctx_.before_output = [this] { CommitWaiting(); };
}

Shell::~Shell() {
  ctx_.defer_money = nullptr;
  ctx_.before_output = nullptr;
}

bool Shell::in_transaction() const { return txn_ != nullptr; }

std::string Shell::ErrorPrefix() const {
  if (in_.interactive()) return ctx_.program;
  if (!reporting_.empty()) return reporting_;
  if (!finishing_.empty()) return finishing_;
  return fmt::format("line {}", in_.line_number());
}

std::string Shell::Prompt() const {
  if (!txn_) return "drovebank> ";
  return fmt::format("drovebank txn({} pending)> ", txn_->ops().size());
}

void Shell::Say(const std::string& text) {
  CommitWaiting();
  fmt::print(ctx_.out, "{}\n", text);
  std::fflush(ctx_.out);
}

int Shell::Fail(const Status& s) {
  std::string saved = ctx_.program;
  ctx_.program = ErrorPrefix();
  ctx_.Fail(s);
  ctx_.program = saved;
  return ctx_.exit_code;
}

void Shell::NoteFailure(int code) {
  if (code == kExitOk || in_.interactive()) return;
  if (first_failure_ == kExitOk) first_failure_ = code;
  if (options_.bail) stop_ = true;
}

int Shell::EndTransaction(std::string_view why) {
  size_t n = txn_->ops().size();
  txn_.reset();
  ctx_.Print(
      {{"transaction", why}, {"discarded", n}},
      fmt::format("Transaction {}: {} staged change(s) discarded; nothing changed.", why, n));
  return kExitOk;
}

// The transaction words as psql and sqlite3 users type them: any case, `rollback` for
// `abort`, `end` for `commit`, and an optional `transaction` or `work` after them
// (`BEGIN TRANSACTION`, `COMMIT WORK`, `ROLLBACK`).
static void NormalizeTransactionWords(std::vector<std::string>* words) {
  auto lower = [](std::string w) {
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return w;
  };
  std::string w = lower((*words)[0]);
  if (w == "rollback") w = "abort";
  if (w == "end") w = "commit";
  if (w != "begin" && w != "commit" && w != "abort") return;
  (*words)[0] = w;
  if (words->size() > 1) {
    std::string next = lower((*words)[1]);
    if (next == "transaction" || next == "work") words->erase(words->begin() + 1);
  }
}

int Shell::ExecuteLine(const std::string& line, bool* quit) {
  auto words = TokenizeShellLine(line);
  if (!words.ok()) return Fail(words.status());
  if (words->empty()) return kExitOk;
  NormalizeTransactionWords(&*words);
  if (!MayJoinGroup((*words)[0])) CommitWaiting();
  if (!txn_) aborted_by_line_ = 0;
  if (auto answer = WhileAborted(*words)) return *answer;
  const std::string& w = (*words)[0];
  if (IsMenuLetter(w)) {
    if (words->size() > 1) {
      return Fail(Status::InvalidArgument(fmt::format(
          "the menu letter {} takes no arguments (it asks for each value); for one line, "
          "use a named command such as `deposit ID AMOUNT`",
          w)));
    }
    return RunMenu(w[0], quit);
  }
  return RunCommand(std::move(words).value(), quit);
}

std::optional<int> Shell::WhileAborted(const std::vector<std::string>& words) {
  if (!txn_ || aborted_by_line_ == 0) return std::nullopt;
  const std::string& w = words[0];
  if (w == "quit" || w == "exit" || w == "abort") return std::nullopt;
  if (w == "commit") {
    size_t n = txn_->ops().size();
    txn_.reset();
    return Fail(Status::InvalidArgument(fmt::format(
        "the transaction was aborted by the failure on line {}: nothing applied ({} staged "
        "change(s) discarded)",
        aborted_by_line_, n)));
  }
  return Fail(Status::InvalidArgument(fmt::format(
      "not run: the transaction is aborted (line {} failed); `commit` or `abort` ends it",
      aborted_by_line_)));
}

InputLine Shell::ReadLine(const std::string& prompt) {
  // Why not before every line: a script's next line is nearly always there at once, and
  // letting go and taking up again would cost it four system calls a line. A script whose
  // next line is not there yet (a program feeding the shell as it goes) may keep it waiting
  // for any time, as a person at the terminal does, and holding the store open all that
  // time would keep every writer from giving a hard-link backup's files back to it alone.
  if (ctx_.store && (in_.interactive() || !in_.Ready())) ctx_.store->Pause();
  return in_.Read(prompt);
}

int Shell::Run() {
  if (in_.interactive() && !ctx_.json) {
    Say(
        fmt::format("drovebank shell on {}: menu letters l c d w t h q, or named commands (help).\n"
                    "Tab completes; Ctrl-C clears the line; Ctrl-D or q leaves.",
                    ResolveDataDir(ctx_.data_dir)));
  }
  bool interrupted = false;
  bool at_end = false;
  while (!stop_) {
    if (!in_.interactive() && shell_interrupts::Take()) {
      interrupted = true;
      break;
    }
    InputLine l = ReadLine(Prompt());
    if (l.kind == InputLine::kInterrupted) {
      if (in_.interactive()) continue;  // the line is cleared, as in psql
      interrupted = true;
      break;
    }
    if (l.kind == InputLine::kEnd) {
      if (in_.interactive()) Say("");
      at_end = true;
      break;
    }
    in_.Remember(l.text);
    bool quit = false;
    bool in_txn = txn_ != nullptr && aborted_by_line_ == 0;
    int code = ExecuteLine(l.text, &quit);
    // Why abort, as psql does: a script's later lines were written assuming this one
    // worked, so committing the rest would apply a transaction nobody wrote. A person
    // at the terminal sees the refusal and decides; there the transaction goes on.
    if (code != kExitOk && in_txn && txn_ && !in_.interactive()) {
      aborted_by_line_ = in_.line_number();
    }
    NoteFailure(code);
    // Why here: a group is committed once no next line is there to join it, so a program
    // that feeds the shell a line at a time and waits for each report gets it at once.
    if (!waiting_events_.empty() &&
        (waiting_events_.size() >= options_.group_size || !in_.Ready())) {
      CommitWaiting();
    }
    if (quit) break;
  }
  CommitWaiting();  // the lines read before the end, a quit or an interrupt
  if (interrupted) {
    Fail(Status::Cancelled("interrupted; the rest of the input was not run"));
    if (first_failure_ == kExitOk) first_failure_ = kExitInterrupted;
  }
  // What fails from here on is no line's doing: a script's report must not pin it on the
  // last line read, which may be a commit that succeeded.
  finishing_ = at_end || interrupted ? "end of input" : "exit";
  if (txn_) {
    bool unfinished_script = !in_.interactive() && (at_end || interrupted);
    EndTransaction(at_end ? "discarded at the end of input" : "discarded on exit");
    if (unfinished_script) {
      NoteFailure(Fail(Status::InvalidArgument(
          "the input ended inside a transaction (no commit); its changes were discarded")));
    }
  }
  // A checkpoint at clean exit: the next session starts without a journal tail to replay.
  // It only moves committed changes into the account files, so a failure changes no
  // committed result; the message says so.
  if (ctx_.store) {
    Status s = ctx_.store->Resume();
    if (s.ok()) s = ctx_.store->Checkpoint(/*wait=*/true);
    if (!s.ok()) {
      int code = Fail(Status(s.code(), fmt::format("the checkpoint at exit failed: {}; the "
                                                   "next checkpoint covers the commits above, "
                                                   "which are in the journal and stand",
                                                   s.message()))
                          .set_maybe_applied(s.maybe_applied()));
      if (first_failure_ == kExitOk) first_failure_ = code;
    }
  }
  return first_failure_;
}

LockWait TerminalLockWait(CliContext& ctx, bool newline_on_cancel) {
  LockWait wait;
  CliContext* c = &ctx;
  wait.on_wait = [c](std::string_view what, const std::optional<LockOwner>& owner) {
    if (owner) {
      std::int64_t ago = (NowMillis() - owner->since_ms) / 1000;
      fmt::print(c->err,
                 "{} is locked by process {} on {} since {} ({} s ago); waiting (Ctrl-C "
                 "cancels)...\n",
                 what, owner->pid, owner->host, FormatTime(owner->since_ms), ago < 0 ? 0 : ago);
    } else {
      fmt::print(c->err, "{} is locked by another session; waiting (Ctrl-C cancels)...\n", what);
    }
    std::fflush(c->err);
  };
  wait.cancelled = [c, newline_on_cancel] {
    if (!shell_interrupts::Pending()) return false;
    if (newline_on_cancel) std::fputs("\n", c->err);
    return true;
  };
  return wait;
}

int RunShell(CliContext& ctx, const ShellOptions& options) {
  if (g_shell_running) {
    ctx.Fail(Status::InvalidArgument("already in the shell"));
    return ctx.exit_code;
  }
  g_shell_running = true;
  bool interactive = ::isatty(STDIN_FILENO) == 1;
  // no-color.org: the one switch every part of the program already honours.
  if (!interactive) ::setenv("NO_COLOR", "1", 1);
  ctx.extra_wait = TerminalLockWait(ctx, interactive);
  if (ctx.store) {
    LockWait w = ctx.extra_wait;
    w.timeout_seconds = ctx.lock_timeout;
    ctx.store->set_lock_wait(w);
  }
  int code;
  if (interactive) {
    auto source = MakeReadlineSource(ctx, DefaultHistoryFile());
    Shell shell(ctx, *source, options);
    code = shell.Run();
  } else {
    shell_interrupts::Install();
    StreamLineSource source(stdin);
    ctx.stdin_is_script = true;
    Shell shell(ctx, source, options);
    code = shell.Run();
    ctx.stdin_is_script = false;
    shell_interrupts::Restore();
  }
  g_shell_running = false;
  return code;
}

void RegisterShell(CliContext& ctx) {
  auto options = std::make_shared<ShellOptions>();
  ctx.extensions.push_back([options](CLI::App& app, CliContext& c) {
    const char* bail_help = "Shell reading a script: stop at the first failing line";
    const char* group_help =
        "Shell reading a script: the most deposits, withdrawals and transfers already "
        "waiting that commit together, with one fsync (default 128; 1: each line alone)";
    auto add_group = [&options, group_help](CLI::App* to) {
      to->add_option("--group-size", options->group_size, group_help)
          ->type_name("N")
          ->check(WholeNumber("group size", 100000));
    };
    // Only the program's top level has the global options; a shell line's App has not.
    if (app.get_option_no_throw("--json") != nullptr) {
      app.add_flag("--bail", options->bail, bail_help);
      add_group(&app);
    }
    auto* sh =
        app.add_subcommand("shell",
                           "The interactive shell (also what runs with no command); reads a script "
                           "from stdin when it is not a terminal");
    OwnArgs(sh, options);
    sh->add_flag("--bail", options->bail, bail_help);
    add_group(sh);
    sh->footer("Example: printf 'deposit 1 5\\nshow 1\\n' | drovebank shell --bail");
    sh->callback([&c, options]() { c.exit_code = RunShell(c, *options); });
  });
  ctx.no_command = [options](CliContext& c) { return RunShell(c, *options); };
}

}  // namespace drovebank
