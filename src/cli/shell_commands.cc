// The shell's named commands: the one-shot subcommands (BuildApp's Apps, so the shell and
// the command line can never disagree; one per command for the session, each line parsed
// into fresh defaults, see OwnArgs) plus the shell's own words.
#include <fmt/format.h>

#include <algorithm>

#include "cli_usage.h"
#include "exit_codes.h"
#include "shell.h"
#include "shell_internal.h"
#include "shell_txn.h"

namespace drovebank {

const std::vector<std::string>& ShellOnlyWords() {
  static const std::vector<std::string> words = {"abort", "begin", "commit", "exit",
                                                 "help",  "next",  "prev",   "quit"};
  return words;
}

std::string MenuText() {
  return "The menu (type the letter alone; at any question, q cancels and nothing changes):\n"
         "  l  list accounts\n"
         "  c  create an account (asks First Name, Last Name, Starting Balance)\n"
         "  d  deposit (asks Account ID, Amount)\n"
         "  w  withdraw (asks Account ID, Amount)\n"
         "  t  transfer (asks From Account ID, To Account ID, Amount)\n"
         "  h  this help\n"
         "  q  quit (e also)";
}

std::string ShellHelpText(const std::vector<std::string>& commands) {
  static const std::vector<std::string> described = {
      "open",    "show", "close", "deposit", "withdraw", "transfer", "txn",  "list", "search",
      "history", "next", "prev",  "begin",   "commit",   "abort",    "help", "quit", "exit",
      "balance", "statement", "export", "reverse", "rename"};
  std::string more;
  for (const std::string& c : commands) {
    if (std::find(described.begin(), described.end(), c) != described.end()) continue;
    more += (more.empty() ? "" : ", ") + c;
  }
  if (!more.empty()) more = "\nAlso: " + more + " (help COMMAND)";
  return MenuText() +
         "\n\nNamed commands (as on the command line; `help COMMAND` or `COMMAND --help` for "
         "details):\n"
         "  open FIRST LAST [AMOUNT]      show ID         close ID\n"
         "  deposit ID AMOUNT             withdraw ID AMOUNT\n"
         "  transfer FROM TO AMOUNT       txn N\n"
         "  rename ID FIRST LAST          new names for an account (history shows both)\n"
         "  (deposit, withdraw and transfer take --memo TEXT, a note kept with the change)\n"
         "  reverse TXN [--memo TEXT]     undo a committed deposit, withdrawal or transfer\n"
         "  list [--page N]               search TEXT     history ID [--since D] [--until D]\n"
         "  balance [--all] [--at DATE]   statement ID --month YYYY-MM\n"
         "  export --format hledger|ledger|beancount|csv [--since D] [--until D] [-o FILE]\n"
         "  -O text|csv|tsv|json          after list, search, history, balance, statement; "
         "--all: no paging\n"
         "  next, prev                    the next or previous page of the last list, search "
         "or history\n"
         "  begin [--txn KEY]             start a transaction: deposits, withdrawals and "
         "transfers are staged\n"
         "  show                          (in a transaction) what is staged, with pending "
         "balances\n"
         "  commit                        apply everything staged as one change, or nothing\n"
         "  abort                         discard everything staged\n"
         "  help [COMMAND], quit\n"
         "Quote names with spaces or apostrophes as in sh: open \"Mary Ann\" 'O'\"'\"'Brien'" +
         more;
}

namespace {

bool IsSubcommand(CLI::App& app, const std::string& name) {
  try {
    return app.get_subcommand(name) != nullptr;
  } catch (const CLI::Error&) {
    return false;
  }
}

// `begin [--txn KEY | --txn=KEY]`
Result<std::string> ParseBeginKey(const std::vector<std::string>& args) {
  std::string key;
  bool given = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--txn" && i + 1 < args.size()) {
      key = args[++i];
      given = true;
    } else if (args[i].rfind("--txn=", 0) == 0) {
      key = args[i].substr(6);
      given = true;
    } else {
      return Status::InvalidArgument(
          fmt::format("begin takes only --txn KEY; '{}' is not expected", args[i]));
    }
  }
  // `begin --txn "$KEY"` with KEY unset must not quietly commit without a key.
  if (given && key.empty()) {
    return Status::InvalidArgument("the transaction key (--txn) must not be empty");
  }
  if (!key.empty()) DB_RETURN_IF_ERROR(ValidateKey(key));
  return key;
}

}  // namespace

int Shell::RunApp(std::vector<std::string> args) {
  ctx_.exit_code = kExitOk;
  // Why only the named command's options: building the whole table was 73% of a shell
  // deposit's instructions (callgrind: 1.33M a line, the store's work 0.18M). A built-in
  // command parses the same alone (its App is the same), as one-shot commands do; other
  // words get the whole table, so unknown commands and extensions are found as before.
  std::unique_ptr<CLI::App> own;  // inside a transaction: this line's alone
  CLI::App* app = nullptr;
  std::string_view core = CoreCommand(args[0]);
  if (txn_) {
    own = BuildApp(ctx_, /*with_globals=*/false, core);
    app = own.get();
    BindTransactionCommands(*app, ctx_, *txn_);
  } else {
    auto it = apps_.find(core);
    if (it == apps_.end()) {
      it = apps_.emplace(std::string(core), BuildApp(ctx_, /*with_globals=*/false, core)).first;
    }
    app = it->second.get();
    app->clear();  // CLI11 clears only an App whose last parse got far enough; this one always
  }
  if (!IsSubcommand(*app, args[0])) {
    return Fail(UnknownCommand(args[0], CommandNames(ctx_), "; type help for the list"));
  }
  std::string saved = ctx_.program;
  ctx_.program = ErrorPrefix();  // App names were copied above; errors get "line N"
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them so
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    Say(app->get_subcommand(args[0])->help());
  } catch (const CLI::CallForAllHelp&) {
    Say(app->get_subcommand(args[0])->help());
  } catch (const CLI::ParseError& e) {
    ctx_.Fail(UsageError(e, *app, ""));
  }
  ctx_.program = saved;
  return ctx_.exit_code;
}

int Shell::RunCommand(std::vector<std::string> args, bool* quit) {
  const std::string& w = args[0];
  ctx_.exit_code = kExitOk;
  if (w == "quit" || w == "exit") {
    if (args.size() > 1) return Fail(Status::InvalidArgument(w + " takes no arguments"));
    *quit = true;
    return kExitOk;
  }
  if (w == "help") return RunHelp(args);
  if (w == "begin") return RunBegin(args);
  if (w == "commit" || w == "abort") return RunCommitOrAbort(args);
  if (w == "show" && args.size() == 1 && txn_) {
    PrintPendingSummary(ctx_, *txn_);
    return kExitOk;
  }
  if (w == "next" || w == "prev") return RunPaging(args);
  return RunApp(std::move(args));
}

int Shell::RunHelp(const std::vector<std::string>& args) {
  if (args.size() > 2) return Fail(Status::InvalidArgument("help takes one command name"));
  if (args.size() == 1) {
    Say(ShellHelpText(CommandNames(ctx_)));
    return kExitOk;
  }
  if (args.size() == 2 && (args[1] == "quit" || args[1] == "exit" ||
                           std::find(ShellOnlyWords().begin(), ShellOnlyWords().end(), args[1]) !=
                               ShellOnlyWords().end())) {
    Say(ShellHelpText(CommandNames(ctx_)));
    return kExitOk;
  }
  return RunApp({args.size() == 2 ? args[1] : "help", "--help"});
}

int Shell::RunBegin(const std::vector<std::string>& args) {
  auto key = ParseBeginKey(args);
  if (!key.ok()) return Fail(key.status());
  if (txn_) {
    return Fail(
        Status::InvalidArgument("a transaction is already open; commit or abort it first"));
  }
  txn_ = std::make_unique<PendingTransaction>(*key);
  nlohmann::json j = {{"transaction", "begun"}};
  if (!key->empty()) j["key"] = *key;
  ctx_.Print(j, "Transaction begun: changes are staged until `commit` (`abort` discards them).");
  return kExitOk;
}

int Shell::RunCommitOrAbort(const std::vector<std::string>& args) {
  const std::string& w = args[0];
  if (args.size() > 1) return Fail(Status::InvalidArgument(w + " takes no arguments"));
  if (!txn_) {
    return Fail(Status::InvalidArgument(
        fmt::format("there is no transaction to {}; `begin` starts one", w)));
  }
  if (w == "abort") return EndTransaction("aborted");
  // Why only at a terminal: the person who staged the changes over many lines sees the
  // whole of the one change before it is made; a script's output stays one report a line.
  if (in_.interactive() && !ctx_.json && !txn_->ops().empty()) Say(ApplyingText(*txn_));
  std::string saved = ctx_.program;
  ctx_.program = ErrorPrefix();
  if (CommitAndReport(ctx_, *txn_)) txn_.reset();
  ctx_.program = saved;
  return ctx_.exit_code;
}

int Shell::RunPaging(const std::vector<std::string>& args) {
  const std::string& w = args[0];
  if (args.size() > 1) return Fail(Status::InvalidArgument(w + " takes no arguments"));
  if (ctx_.last_paged.empty()) {
    return Fail(Status::InvalidArgument(
        fmt::format("`{}` pages through the last list, search or history; run one first", w)));
  }
  if (w == "prev" && ctx_.last_page <= 1) {
    return Fail(Status::InvalidArgument("already on the first page"));
  }
  // Past the end there is only an empty page; say so, as prev does at the start. (Rows
  // added since the listing are seen by running it again.)
  if (w == "next" && ctx_.last_page >= ctx_.last_pages) {
    return Fail(Status::InvalidArgument(fmt::format(
        "already on the last page ({} of {}); run the {} again to see anything added since",
        ctx_.last_page, ctx_.last_pages, ctx_.last_paged[0])));
  }
  std::vector<std::string> again = ctx_.last_paged;
  again.push_back("--page");
  again.push_back(std::to_string(w == "next" ? ctx_.last_page + 1 : ctx_.last_page - 1));
  return RunApp(std::move(again));
}

}  // namespace drovebank
