// Running the one-shot program around the subcommand table (commands.cc): which core
// command argv names, -O against --json before anything runs, the parse and its errors,
// and output whose writes failed (GuardOutput, FinishOutput).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "cli.h"
#include "cli_usage.h"
#include "color.h"
#include "exit_codes.h"
#include "shell.h"

namespace drovebank {

// Why: a one-shot command is a whole process, and building every subcommand's CLI11
// options was half of a deposit's instructions. Knowing the command from argv, only its
// options are built; anything unclear (help, a typo, an extension) builds them all, so
// parsing and its messages are never different.
std::string_view CoreCommand(std::string_view word) {
  static constexpr std::string_view kCore[] = {
      "open", "show",    "deposit", "withdraw",  "transfer", "close",  "rename", "list",
      "search", "history", "txn",   "balance", "statement", "export"};
  if (word == "bal") return "balance";
  for (std::string_view name : kCore) {
    if (word == name) return name;
  }
  return {};
}

std::string_view CoreCommandNamed(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return {};
    if (arg == "-d" || arg == "--data-dir" || arg == "--lock-timeout") {
      ++i;  // its value
      continue;
    }
    if (arg == "-O" || arg == "--output") {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    return CoreCommand(arg);
  }
  return {};
}

namespace {

// The value of -O/--output as typed anywhere before `--`, the last one ("" when none).
std::string OutputAsked(const std::vector<std::string>& args) {
  std::string v;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if ((a == "-O" || a == "--output") && i + 1 < args.size()) {
      v = args[++i];
    } else if (a.rfind("--output=", 0) == 0) {
      v = a.substr(9);
    } else if (a.rfind("-O", 0) == 0 && a.size() > 2) {
      v = a.substr(2);
    }
  }
  return v;
}

// -O against --json and the command, before anything runs: `-O json` is `--json` for every
// command (its result and its errors), and a table format is refused where the command
// prints no table. OK, or the usage error.
Status CheckOutputFormat(CliContext& ctx, const std::vector<std::string>& args,
                         const std::optional<std::string>& command) {
  std::string asked = OutputAsked(args);
  if (asked.empty()) return Status::Ok();
  if (asked == "json") {
    ctx.json = true;
    return Status::Ok();
  }
  bool known = asked == "text" || asked == "csv" || asked == "tsv";
  if (!known) return Status::Ok();  // the option's own check names the choices
  if (ctx.json) {
    return Status::InvalidArgument(
        fmt::format("--json and -O {} ask for different formats; give one", asked));
  }
  static constexpr std::string_view kTables[] = {"list",    "search", "history",
                                                 "balance", "bal",    "statement"};
  if (asked != "text" && command &&
      std::find(std::begin(kTables), std::end(kTables), *command) == std::end(kTables)) {
    return Status::InvalidArgument(fmt::format(
        "-O {} is for the tables of list, search, history, balance and statement; {} prints "
        "text, or JSON with --json",
        asked, *command));
  }
  return Status::Ok();
}

// Parses argv with `app` and runs what it names (GuardOutput around it); `catch_interrupts`
// for the core commands (below). Returns the exit code, before FinishOutput.
int ParseAndRun(CLI::App& app, int argc, char** argv, CliContext& ctx, bool catch_interrupts) {
  // A one-shot command waits for a lock as the shell does: announced on a terminal, and
  // Ctrl-C gives up the wait with nothing changed. Only the core commands: batch and
  // import-legacy run long, and there Ctrl-C stops the program as it always did.
  // Output goes through the one stream whose failures are known by their cause.
  if (ctx.out == stdout) ctx.out = KeepStdoutErrors();
  if (catch_interrupts) {
    LockWait wait = TerminalLockWait(ctx, ::isatty(STDERR_FILENO) == 1);
    if (::isatty(STDERR_FILENO) != 1) wait.on_wait = nullptr;
    ctx.extra_wait = std::move(wait);
    shell_interrupts::Install();
  }
  return GuardOutput(ctx, [&]() -> int {
    bool parsed = false;
    int c = kExitOk;
    try {
      app.parse(argc, argv);
      parsed = true;
    } catch (const CLI::Success& e) {
      // Help and version go through ctx.out like everything else (CLI11 would write them
      // to std::cout, whose failures nothing would see).
      std::ostringstream help_out, help_err;
      c = app.exit(e, help_out, help_err);
      fmt::print(ctx.out, "{}", help_out.str());
    } catch (const CLI::ParseError& e) {
      ctx.Fail(UsageError(e, app, ctx.program + " "));
      c = ctx.exit_code;
    }
    if (catch_interrupts) shell_interrupts::Restore();
    if (parsed) {
      if (app.get_subcommands().empty()) {
        if (ctx.no_command) return ctx.no_command(ctx);
        fmt::print(ctx.out, "{}", app.help());
      }
      c = ctx.exit_code;
    }
    return c;
  });
}

}  // namespace

int RunCli(int argc, char** argv, CliContext& ctx) {
  std::string_view core = CoreCommandNamed(argc, argv);
  auto app = BuildApp(ctx, /*with_globals=*/true, core);
  std::vector<std::string> args(argv + 1, argv + argc);
  // A usage error is found before the parser sets --json: so that it too is one JSON
  // value on stdout, the flag is looked for first.
  bool version_flag = false, verbose = false;
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "--json") ctx.json = true;
    version_flag = version_flag || a == "--version" || a == "-V";
    verbose = verbose || a == "--verbose";
  }
  if (OutputAsked(args) == "json") ctx.json = true;  // -O json is --json, from the start
  // `--version --verbose` is `version --verbose`: the parser's version flag prints one
  // fixed line and stops, before any other option is read.
  std::vector<std::string> rewritten;
  std::vector<char*> rewritten_argv;
  // `--json --version` is `--json version` (one JSON value), for the same reason.
  if (version_flag && (verbose || ctx.json)) {
    rewritten.push_back(argv[0]);
    for (const std::string& a : args) {
      if (a != "--version" && a != "-V" && a != "--verbose") rewritten.push_back(a);
    }
    rewritten.push_back("version");
    if (verbose) rewritten.push_back("--verbose");
    for (std::string& a : rewritten) rewritten_argv.push_back(a.data());
    argc = static_cast<int>(rewritten_argv.size());
    argv = rewritten_argv.data();
    args.assign(rewritten.begin() + 1, rewritten.end());
  }
  // `drovebank -- list`: what follows `--` is never a command (it would run the shell).
  if (auto dash = std::find(args.begin(), args.end(), "--"); dash != args.end()) {
    if (FirstCommandWord(*app, args) == std::nullopt && dash + 1 != args.end()) {
      ctx.Fail(Status::InvalidArgument(fmt::format(
          "'--' ends the options of a command; the command comes before it (drovebank {} ...)",
          *(dash + 1))));
      return FinishOutput(ctx, ctx.exit_code);
    }
  }
  auto word = FirstCommandWord(*app, args);
  if (word) {
    std::vector<std::string> names = SubcommandNames(*app);
    if (std::find(names.begin(), names.end(), *word) == names.end()) {
      ctx.Fail(UnknownCommand(*word, names, "; run `drovebank help` for the list"));
      return ctx.exit_code;
    }
  }
  if (Status s = CheckOutputFormat(ctx, args, word); !s.ok()) {
    ctx.Fail(s);
    return FinishOutput(ctx, ctx.exit_code);
  }
  return FinishOutput(ctx, ParseAndRun(*app, argc, argv, ctx, /*catch_interrupts=*/!core.empty()));
}

int GuardOutput(CliContext& ctx, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::system_error& e) {
    // fmt::print's "cannot write to file": output that could not be written. The command
    // stops there; what it committed before stands, and FinishOutput says so.
    if (std::string_view(e.what()).find("cannot write") == std::string_view::npos) {
      ctx.Fail(Status::Internal(e.what()));
      return ctx.exit_code;
    }
    if (ctx.out_errno == 0) {
      int kept = ctx.out == stdout ? StdoutWriteErrno() : 0;
      ctx.out_errno = kept != 0 ? kept : e.code().value() != 0 ? e.code().value() : EIO;
    }
    return ctx.exit_code;
  }
}

int FinishOutput(CliContext& ctx, int code) {
  int flushed = std::fflush(ctx.out) != 0 ? (errno != 0 ? errno : EIO) : 0;
  int kept = ctx.out == stdout ? StdoutWriteErrno() : 0;
  // The first failure's own errno beats what a later look could only guess.
  if (kept != 0) {
    ctx.out_errno = kept;
  } else if (ctx.out_errno == 0 && flushed != 0) {
    ctx.out_errno = flushed;
  }
  if (std::ferror(ctx.out) != 0 && ctx.out_errno == 0) ctx.out_errno = EIO;
  if (ctx.out_errno == 0) return code;
  std::string committed;
  if (!ctx.stands.empty()) {
    committed = "; " + ctx.stands;
  } else if (ctx.committed == 1 && ctx.committed_txn != 0) {
    committed = fmt::format("; the change was committed (txn {}) and stands", ctx.committed_txn);
  } else if (ctx.committed > 1 && ctx.first_committed_txn != 0) {
    committed = fmt::format("; {} changes were committed (txns {} to {}) and stand",
                            ctx.committed, ctx.first_committed_txn, ctx.committed_txn);
  } else if (ctx.committed > 0) {
    committed = fmt::format("; {} change{} committed and stand{}", ctx.committed,
                            ctx.committed == 1 ? " was" : "s were", ctx.committed == 1 ? "s" : "");
  }
  try {
    fmt::print(ctx.err, "{} write error: {}{}\n",
               Paint(ctx.err, Style::kError, ctx.program + ":"), std::strerror(ctx.out_errno),
               committed);
    std::fflush(ctx.err);
  } catch (const std::system_error&) {
    // Nowhere left to say it; the exit code still does.
  }
  return code == kExitOk ? kExitIoError : code;
}

}  // namespace drovebank
