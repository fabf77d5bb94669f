// The subcommand table (BuildApp) and the commands that change the store, with `show`.
// Each command parses its arguments into core types, calls the store, and prints through
// CliContext; nothing here touches files directly. The look-up commands are
// lookup_commands.cc; running the one-shot program around the table is run_cli.cc.
#include <optional>
#include <string>

#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "cli.h"
#include "cli_usage.h"
#include "command_table.h"
#include "exit_codes.h"
#include "version.h"
#include "report_util.h"
#include "own_args.h"

namespace drovebank {

namespace commands {
namespace {

std::string Name(const Account& a) { return fmt::format("{} {}", a.first, a.last); }

Result<Store*> StoreOf(CliContext& ctx) { return ctx.GetStore(StoreAccess::kChange); }
// `open`: the one command of this table that may create the store.
Result<Store*> CreatingStoreOf(CliContext& ctx) { return ctx.GetStore(StoreAccess::kWrite); }

Status DoMoneyOp(CliContext& ctx, OpKind kind, const Args& a, std::string_view path) {
  Op op;
  op.kind = kind;
  DB_ASSIGN_OR_RETURN(op.id, ParseAccountId(a.id));
  if (kind == OpKind::kTransfer) {
    DB_ASSIGN_OR_RETURN(op.to, ParseAccountId(a.to));
  }
  DB_ASSIGN_OR_RETURN(op.amount, ParseAmount(a.amount));
  if (op.amount == 0) return Status::InvalidArgument("the amount must be above 0.00");
  if (!a.key.empty()) DB_RETURN_IF_ERROR(ValidateKey(a.key));
  DB_RETURN_IF_ERROR(ValidateMemo(a.memo));
  op.memo = a.memo;
  DB_ASSIGN_OR_RETURN(Store * store, StoreOf(ctx));
  Event event{{op}, a.key};
  if (ctx.defer_money && ctx.defer_money(event, kind)) return Status::Ok();
  DB_FAULT_PATH(path);
  DB_ASSIGN_OR_RETURN(EventResult res, store->Commit(std::move(event)));
  ReportMoneyOp(ctx, kind, res);
  return Status::Ok();
}

// `--txn KEY`, the idempotency key of a command that commits one change.
void AddTxnKeyOption(CLI::App* c, Args& a) {
  c->add_option("--txn", a.key,
                "Idempotency key: repeating the same request with it applies nothing")
      ->type_name("KEY")
      ->check(NotEmpty("the transaction key (--txn)"));
}

// The options every command accepts, before or after it (one-shot programs only).
void AddGlobalOptions(CLI::App& app, CliContext& ctx) {
  // Why fallthrough: what a subcommand does not know goes up to the top level, so every
  // global option is accepted after the command too (`drovebank show 1 --json`), as git
  // and hledger accept them, and one added later (-O) is without more code.
  app.fallthrough();
  app.add_option("-d,--data-dir", ctx.data_dir,
                 "Data directory (default: $DROVEBANK_DATA, else ./data)")
      ->type_name("DIR")
      ->check(NotEmpty("the data directory (-d)"))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_flag("--json", ctx.json, "Print one JSON value on stdout (short for -O json)");
  app.add_option("-O,--output", ctx.output,
                 "Output format: text (default) or json (as --json) for every command; csv "
                 "or tsv for the tables of list, search, history, balance, statement")
      ->type_name("FORMAT")
      ->check(OneOf("output format", {"text", "csv", "tsv", "json"}))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--lock-timeout", ctx.lock_timeout,
                 "Seconds to wait for a locked account (default 10)")
      ->type_name("SECONDS")
      ->check(Seconds("--lock-timeout", 86400))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_flag("--read-only", ctx.read_only,
               "Open the store only to read: a write is refused, nothing is created");
  app.set_version_flag("-V,--version", VersionLine("drovebank"));
}

// `open FIRST LAST [AMOUNT]`.
void AddOpenCommand(const Subcommand& subcommand, CliContext& ctx, const std::shared_ptr<Args>& a) {
  if (auto* open = subcommand("open", "Open an account; prints its new id")) {
    open->add_option("FIRST", a->first, "First name")->required();
    open->add_option("LAST", a->last, "Last name")->required();
    open->add_option("AMOUNT", a->amount, "Opening balance, e.g. 100.00 (default 0)");
    AddTxnKeyOption(open, *a);
    open->footer(
        "A name is up to 64 characters as you see them, in any script (stored in Unicode NFC);\n"
        "invisible and text-direction characters are refused (see `man drovebank`).\n"
        "Examples:\n  drovebank open \"Mary Ann\" \"O'Brien, Jr.\" 250.00\n"
        "  drovebank open Ada Lovelace 100 --txn open-ada   # re-issued: opens nothing more");
    open->callback(Body(ctx, [&ctx, a]() -> Status {
      Op op;
      op.kind = OpKind::kOpen;
      op.first = TrimName(a->first);
      op.last = TrimName(a->last);
      DB_RETURN_IF_ERROR(ValidateNewName(op.first, "first name"));
      DB_RETURN_IF_ERROR(ValidateNewName(op.last, "last name"));
      DB_ASSIGN_OR_RETURN(op.amount, ParseAmount(a->amount));
      if (!a->key.empty()) DB_RETURN_IF_ERROR(ValidateKey(a->key));
      DB_ASSIGN_OR_RETURN(Store * store, CreatingStoreOf(ctx));
      DB_FAULT_PATH("open");
      DB_ASSIGN_OR_RETURN(EventResult res, store->Commit(Event{{op}, a->key}));
      ctx.Committed(res.record.txn);
      const RecordAccount& ra = res.record.accounts.at(0);
      nlohmann::json j = AccountJson(ra.state);
      j["txn"] = res.record.txn;
      if (!a->key.empty()) j["replayed"] = res.replayed;
      ctx.Print(j, fmt::format("Opened account {} for {}, balance {}{}", ra.state.id,
                               Name(ra.state), FormatCents(ra.state.balance),
                               res.replayed ? " (already applied earlier with this key)" : ""));
      return Status::Ok();
    }));
  }
}

// `show ID`.
void AddShowCommand(const Subcommand& subcommand, CliContext& ctx, const std::shared_ptr<Args>& a) {
  if (auto* show = subcommand("show", "Show one account")) {
    show->add_option("ID", a->id, "Account id")->required();
    show->footer("Example: drovebank show 1001");
    show->callback(Body(ctx, [&ctx, a]() -> Status {
      DB_ASSIGN_OR_RETURN(AccountId id, ParseAccountId(a->id));
      DB_ASSIGN_OR_RETURN(Store * store, ReadStoreOf(ctx));
      DB_ASSIGN_OR_RETURN(Account acct, store->Get(id));
      ctx.Print(AccountJson(acct),
                fmt::format("Account {}: {}\nBalance: {}\nStatus:  {}\nChanges: {} (last txn {})",
                            acct.id, Name(acct), FormatCents(acct.balance),
                            acct.closed ? "closed" : "open", acct.version, acct.last_txn));
      return Status::Ok();
    }));
  }
}

// The money commands, one op each: the table AddMoneyCommands builds them from and
// MoneyCommand names them by.
struct MoneyCmd {
  const char* name;
  OpKind kind;
  const char* help;
  const char* example;
};
constexpr MoneyCmd kMoneyCmds[] = {
    {"deposit", OpKind::kDeposit, "Deposit AMOUNT into account ID",
     "drovebank deposit 1001 25.00 --txn salary-2026-11"},
    {"withdraw", OpKind::kWithdraw, "Withdraw AMOUNT from account ID",
     "drovebank withdraw 1001 10.50"},
    {"transfer", OpKind::kTransfer, "Move AMOUNT from account FROM to account TO",
     "drovebank transfer 1001 1002 99.99 --txn rent-nov"}};

// `deposit`, `withdraw` and `transfer`: one money op each, with --txn and --memo.
void AddMoneyCommands(const Subcommand& subcommand, CliContext& ctx,
                      const std::shared_ptr<Args>& a) {
  for (const MoneyCmd& m : kMoneyCmds) {
    auto* c = subcommand(m.name, m.help);
    if (c == nullptr) continue;
    if (m.kind == OpKind::kTransfer) {
      c->add_option("FROM", a->id, "Account to take from")->required();
      c->add_option("TO", a->to, "Account to pay into")->required();
    } else {
      c->add_option("ID", a->id, "Account id")->required();
    }
    c->add_option("AMOUNT", a->amount, "Amount, e.g. 12.34")->required();
    AddTxnKeyOption(c, *a);
    c->add_option("--memo", a->memo,
                  "A note kept with the change (up to 200 characters), shown by history and txn")
        ->type_name("MEMO");
    c->footer(std::string("Example: ") + m.example);
    OpKind kind = m.kind;
    std::string path = m.name;
    c->callback(Body(ctx, [&ctx, a, kind, path]() { return DoMoneyOp(ctx, kind, *a, path); }));
  }
}

// `close ID`.
void AddCloseCommand(const Subcommand& subcommand, CliContext& ctx,
                     const std::shared_ptr<Args>& a) {
  if (auto* close = subcommand("close", "Close an account (its balance must be 0.00)")) {
    close->add_option("ID", a->id, "Account id")->required();
    AddTxnKeyOption(close, *a);
    close->footer("Example: drovebank close 1001 --txn close-1001");
    close->callback(Body(ctx, [&ctx, a]() -> Status {
      Op op;
      op.kind = OpKind::kClose;
      DB_ASSIGN_OR_RETURN(op.id, ParseAccountId(a->id));
      if (!a->key.empty()) DB_RETURN_IF_ERROR(ValidateKey(a->key));
      DB_ASSIGN_OR_RETURN(Store * store, StoreOf(ctx));
      DB_FAULT_PATH("close");
      DB_ASSIGN_OR_RETURN(EventResult res, store->Commit(Event{{op}, a->key}));
      ctx.Committed(res.record.txn);
      nlohmann::json j = AccountJson(res.record.accounts.at(0).state);
      j["txn"] = res.record.txn;
      if (!a->key.empty()) j["replayed"] = res.replayed;
      ctx.Print(j, fmt::format("Closed account {} (txn {}){}", op.id, res.record.txn,
                               res.replayed ? " (already applied earlier with this key)" : ""));
      return Status::Ok();
    }));
  }
}

// `rename ID FIRST LAST`: new names, journaled like every change.
void AddRenameCommand(const Subcommand& subcommand, CliContext& ctx,
                      const std::shared_ptr<Args>& a) {
  if (auto* rename = subcommand("rename", "Give an account new first and last names")) {
    rename->add_option("ID", a->id, "Account id")->required();
    rename->add_option("FIRST", a->first, "New first name")->required();
    rename->add_option("LAST", a->last, "New last name")->required();
    AddTxnKeyOption(rename, *a);
    rename->footer(
        "The change is one journal record: history and txn show the names before and after,\n"
        "exports carry it as a note. A closed account cannot be renamed.\n"
        "Example: drovebank rename 1001 Ada King --txn rename-1001");
    rename->callback(Body(ctx, [&ctx, a]() -> Status {
      Op op;
      op.kind = OpKind::kRename;
      DB_ASSIGN_OR_RETURN(op.id, ParseAccountId(a->id));
      op.first = TrimName(a->first);
      op.last = TrimName(a->last);
      DB_RETURN_IF_ERROR(ValidateNewName(op.first, "first name"));
      DB_RETURN_IF_ERROR(ValidateNewName(op.last, "last name"));
      if (!a->key.empty()) DB_RETURN_IF_ERROR(ValidateKey(a->key));
      DB_ASSIGN_OR_RETURN(Store * store, StoreOf(ctx));
      DB_FAULT_PATH("rename");
      DB_ASSIGN_OR_RETURN(EventResult res, store->Commit(Event{{op}, a->key}));
      ctx.Committed(res.record.txn);
      const Op& done = res.record.ops.at(0);
      nlohmann::json j = AccountJson(res.record.accounts.at(0).state);
      j["txn"] = res.record.txn;
      j["was_first"] = done.was_first;
      j["was_last"] = done.was_last;
      if (!a->key.empty()) j["replayed"] = res.replayed;
      Account was;
      was.first = done.was_first;
      was.last = done.was_last;
      ctx.Print(j, fmt::format("Renamed account {} from {} to {} (txn {}){}", op.id, Name(was),
                               Name(res.record.accounts.at(0).state), res.record.txn,
                               res.replayed ? " (already applied earlier with this key)" : ""));
      return Status::Ok();
    }));
  }
}

}  // namespace
}  // namespace commands

std::optional<OpKind> MoneyCommand(std::string_view word) {
  for (const commands::MoneyCmd& m : commands::kMoneyCmds) {
    if (word == m.name) return m.kind;
  }
  return std::nullopt;
}

std::unique_ptr<CLI::App> BuildApp(CliContext& ctx, bool with_globals, std::string_view only) {
  auto app = std::make_unique<CLI::App>(
      "drovebank: a crash-safe bank ledger kept in plain files.\n"
      "Run without a command for the interactive shell.",
      ctx.program);
  auto a = std::make_shared<commands::Args>();
  // The subcommand `name`, or nullptr when `only` leaves it out.
  commands::Subcommand subcommand = [&app, only](const char* name, const char* help) -> CLI::App* {
    return only.empty() || only == name ? app->add_subcommand(name, help) : nullptr;
  };
  OwnArgs(app.get(), a);
  app->footer(std::string("\n") + kExitCodeHelp +
              "\n\nExamples:\n  drovebank open Ada Lovelace 100.00\n  drovebank deposit 1 "
              "25.50 --txn pay-2026-001\n  drovebank transfer 1 2 10\n  drovebank --json show "
              "1\n  drovebank list --page 2");
  app->require_subcommand(0, 1);
  if (with_globals) commands::AddGlobalOptions(*app, ctx);
  commands::AddOpenCommand(subcommand, ctx, a);
  commands::AddShowCommand(subcommand, ctx, a);
  commands::AddMoneyCommands(subcommand, ctx, a);
  commands::AddCloseCommand(subcommand, ctx, a);
  commands::AddRenameCommand(subcommand, ctx, a);
  commands::AddListCommand(subcommand, ctx, a);
  commands::AddSearchCommand(subcommand, ctx, a);
  commands::AddHistoryCommand(subcommand, ctx, a);
  commands::AddTxnCommand(subcommand, ctx, a);
  AddReportCommands(*app, ctx, only);
  if (with_globals && only.empty()) AddProgramCommands(*app, ctx);
  if (only.empty()) {
    for (auto& ext : ctx.extensions) ext(*app, ctx);
  }
  PlainPositionals(*app);
  return app;
}

// Notes the commit (CliContext::Committed) and prints its report.
void ReportMoneyOp(CliContext& ctx, OpKind kind, const EventResult& res) {
  ctx.Committed(res.record.txn);
  const Op& done = res.record.ops.at(0);
  std::string again = res.replayed ? " (already applied earlier with this key)" : "";
  // Why the JSON only with --json: building it costs more CPU than the rest of a shell
  // line's parse and output together (callgrind: 21k instructions a deposit).
  nlohmann::json j;
  std::string text;
  if (ctx.json) {
    j = RecordJsonView(res.record);
    j["replayed"] = res.replayed;
    if (kind == OpKind::kTransfer) {
      j["from"] = {{"id", done.id}, {"balance", FormatCents(done.after)}};
      j["to"] = {{"id", done.to}, {"balance", FormatCents(done.to_after)}};
    } else {
      j["account"] = {{"id", done.id}, {"balance", FormatCents(done.after)}};
    }
  } else if (kind == OpKind::kDeposit) {
    text = fmt::format("Deposited {} to account {}; balance {} (txn {}){}",
                       FormatCents(done.amount), done.id, FormatCents(done.after),
                       res.record.txn, again);
  } else if (kind == OpKind::kWithdraw) {
    text = fmt::format("Withdrew {} from account {}; balance {} (txn {}){}",
                       FormatCents(done.amount), done.id, FormatCents(done.after),
                       res.record.txn, again);
  } else {
    text = fmt::format(
        "Transferred {} from account {} (balance {}) to account {} (balance {}) (txn {}){}",
        FormatCents(done.amount), done.id, FormatCents(done.after), done.to,
        FormatCents(done.to_after), res.record.txn, again);
  }
  ctx.Print(j, text);
}

}  // namespace drovebank
