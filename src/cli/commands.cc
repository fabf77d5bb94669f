// The subcommand table. Each command parses its arguments into core types, calls the
// store, and prints through CliContext; nothing here touches files directly.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "drovebank/search.h"
#include "cli.h"
#include "cli_usage.h"
#include "color.h"
#include "exit_codes.h"
#include "shell.h"
#include "version.h"
#include "drovebank/dates.h"
#include "report_util.h"
#include "own_args.h"

namespace drovebank {

namespace {

// Storage for one App's option values; owned by the App through a shared_ptr in a
// callback capture, so each parse starts from fresh defaults.
// No store has more accounts than ids, so no listing has more pages.
constexpr std::uint64_t kMaxPage = kMaxAccountId;

struct Args {
  std::string first, last, amount = "0", key, text, memo;
  std::string id, to, txn;
  size_t page = 1, page_size = 20;
  std::string output, since, until;
  bool all = false;
};

std::string Name(const Account& a) { return fmt::format("{} {}", a.first, a.last); }

// Wraps a command body: parse failures and store failures become exit codes.
template <typename F>
std::function<void()> Body(CliContext& ctx, F f) {
  return [&ctx, f]() {
    Status s = f();
    if (!s.ok()) ctx.Fail(s);
  };
}

Result<Store*> StoreOf(CliContext& ctx) { return ctx.GetStore(StoreAccess::kChange); }
// `open`: the one command of this table that may create the store.
Result<Store*> CreatingStoreOf(CliContext& ctx) { return ctx.GetStore(StoreAccess::kWrite); }

// A read-only command's store: never created by it.
Result<Store*> ReadStoreOf(CliContext& ctx) { return ctx.GetStore(StoreAccess::kRead); }

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
  DB_FAULT_PATH(path);
  DB_ASSIGN_OR_RETURN(EventResult res, store->Commit(Event{{op}, a.key}));
  ctx.Committed(res.record.txn);
  const Op& done = res.record.ops.at(0);
  nlohmann::json j = RecordJsonView(res.record);
  j["replayed"] = res.replayed;
  std::string text;
  std::string again = res.replayed ? " (already applied earlier with this key)" : "";
  switch (kind) {
    case OpKind::kDeposit:
      j["account"] = {{"id", done.id}, {"balance", FormatCents(done.after)}};
      text =
          fmt::format("Deposited {} to account {}; balance {} (txn {}){}", FormatCents(done.amount),
                      done.id, FormatCents(done.after), res.record.txn, again);
      break;
    case OpKind::kWithdraw:
      j["account"] = {{"id", done.id}, {"balance", FormatCents(done.after)}};
      text = fmt::format("Withdrew {} from account {}; balance {} (txn {}){}",
                         FormatCents(done.amount), done.id, FormatCents(done.after), res.record.txn,
                         again);
      break;
    default:
      j["from"] = {{"id", done.id}, {"balance", FormatCents(done.after)}};
      j["to"] = {{"id", done.to}, {"balance", FormatCents(done.to_after)}};
      text = fmt::format(
          "Transferred {} from account {} (balance {}) to account {} (balance {}) (txn {}){}",
          FormatCents(done.amount), done.id, FormatCents(done.after), done.to,
          FormatCents(done.to_after), res.record.txn, again);
  }
  ctx.Print(j, text);
  return Status::Ok();
}

// "There is no page 3: ..." for a page past the end (exit 0: an empty page is an answer).
std::string PastTheEnd(size_t page, size_t pages, size_t total, std::string_view what) {
  return fmt::format("There is no page {}: {} page{} ({} {} in all).", page, pages,
                     pages == 1 ? "" : "s", total, what);
}

// Prints a page of accounts (or, with `all`, every account `each` visits) as a table.
// `each` hands accounts to its callback in id order. In text, nothing found is the one
// line `empty` and a page past the end says so, without a header row.
Status PrintAccounts(CliContext& ctx, OutputFormat f, const Args& a, std::string_view empty,
                     const std::function<Result<Page<Account>>()>& page_fn,
                     const std::function<Status(const std::function<Status(const Account&)>&)>& each) {
  TableWriter t(ctx.out, f, AccountColumns(), "accounts");
  if (a.all) {
    size_t total = 0;
    t.Begin({}, /*text_header_if_empty=*/false);
    DB_RETURN_IF_ERROR(each([&](const Account& acct) {
      t.Row(AccountCells(acct), AccountJson(acct));
      ++total;
      return Status::Ok();
    }));
    t.End({{"total", total}}, total == 0 ? std::string(empty) : fmt::format("({} in all)", total));
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(Page<Account> p, page_fn());
  t.Begin({}, /*text_header_if_empty=*/false);
  for (const Account& acct : p.items) t.Row(AccountCells(acct), AccountJson(acct));
  std::string footer =
      p.total == 0        ? std::string(empty)  // a page count of nothing tells nothing more
      : p.items.empty()   ? PastTheEnd(p.page, p.pages, p.total, "account(s)")
                          : fmt::format("page {} of {} ({} in all)", p.page, p.pages, p.total);
  t.End({{"page", p.page}, {"pages", p.pages}, {"total", p.total}}, footer);
  return Status::Ok();
}

void AddPaging(CLI::App* c, Args& a) {
  c->add_option("--page", a.page, "Page number, from 1")
      ->type_name("N")
      ->check(WholeNumber("page", kMaxPage));
  c->add_option("--page-size", a.page_size, "Entries a page (default 20, at most 1000)")
      ->type_name("N")
      ->check(WholeNumber("page size", 1000));
  // --all with --page would be a page asked for and everything given: refused (exit 2).
  c->add_flag("--all", a.all, "Everything at once, no paging (not with --page)")
      ->excludes(c->get_option("--page"));
  AddOutputOption(c, &a.output);
}

// `--txn KEY`, the idempotency key of a command that commits one change.
void AddTxnKeyOption(CLI::App* c, Args& a) {
  c->add_option("--txn", a.key,
                "Idempotency key: repeating the same request with it applies nothing")
      ->type_name("KEY")
      ->check(NotEmpty("the transaction key (--txn)"));
}

void RememberPaged(CliContext& ctx, std::vector<std::string> cmd, size_t page, size_t pages) {
  ctx.last_paged = std::move(cmd);
  ctx.last_page = page;
  ctx.last_pages = pages;
}

}  // namespace

// Why: a one-shot command is a whole process, and building every subcommand's CLI11
// options was half of a deposit's instructions. Knowing the command from argv, only its
// options are built; anything unclear (help, a typo, an extension) builds them all, so
// parsing and its messages are never different.
std::string_view CoreCommandNamed(int argc, char** argv) {
  static constexpr std::string_view kCore[] = {
      "open", "show",    "deposit", "withdraw",  "transfer", "close",  "rename", "list",
      "search", "history", "txn",   "balance", "statement", "export"};
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
    if (arg == "bal") return "balance";
    for (std::string_view name : kCore) {
      if (arg == name) return name;
    }
    return {};
  }
  return {};
}

namespace {

// Adds the subcommand `name` to the App being built, or returns nullptr when the build is
// for one other core command (see CoreCommandNamed).
using Subcommand = std::function<CLI::App*(const char* name, const char* help)>;

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

// `deposit`, `withdraw` and `transfer`: one money op each, with --txn and --memo.
void AddMoneyCommands(const Subcommand& subcommand, CliContext& ctx,
                      const std::shared_ptr<Args>& a) {
  struct MoneyCmd {
    const char* name;
    OpKind kind;
    const char* help;
    const char* example;
  };
  for (const MoneyCmd& m :
       {MoneyCmd{"deposit", OpKind::kDeposit, "Deposit AMOUNT into account ID",
                 "drovebank deposit 1001 25.00 --txn salary-2026-11"},
        MoneyCmd{"withdraw", OpKind::kWithdraw, "Withdraw AMOUNT from account ID",
                 "drovebank withdraw 1001 10.50"},
        MoneyCmd{"transfer", OpKind::kTransfer, "Move AMOUNT from account FROM to account TO",
                 "drovebank transfer 1001 1002 99.99 --txn rent-nov"}}) {
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

// `list`: accounts by id, paged.
void AddListCommand(const Subcommand& subcommand, CliContext& ctx, const std::shared_ptr<Args>& a) {
  if (auto* list = subcommand("list", "List accounts by id, a page at a time")) {
    AddPaging(list, *a);
    list->footer(
        "Examples:\n  drovebank list --page 2 --page-size 50\n"
        "  drovebank -O csv list --all > accounts.csv");
    list->callback(Body(ctx, [&ctx, a]() -> Status {
      return WithOutput(ctx, a->output, [&](OutputFormat f) -> Status {
        DB_ASSIGN_OR_RETURN(Store * store, ReadStoreOf(ctx));
        size_t pages = 1;
        DB_RETURN_IF_ERROR(PrintAccounts(
            ctx, f, *a, "No accounts yet.",
            [&]() -> Result<Page<Account>> {
              DB_ASSIGN_OR_RETURN(auto page, store->List(a->page, a->page_size));
              pages = page.pages;
              return page;
            },
            [&](const std::function<Status(const Account&)>& fn) {
              return store->ForEachAccount([&](const Account& acct) -> Result<bool> {
                DB_RETURN_IF_ERROR(fn(acct));
                return true;
              });
            }));
        if (a->all) {
          ctx.last_paged.clear();  // nothing to page through
        } else {
          RememberPaged(ctx, {"list", "--page-size", std::to_string(a->page_size)}, a->page, pages);
        }
        return Status::Ok();
      });
    }));
  }
}

// `search TEXT`: accounts by name, paged.
void AddSearchCommand(const Subcommand& subcommand, CliContext& ctx,
                      const std::shared_ptr<Args>& a) {
  if (auto* search = subcommand("search", "Find accounts whose name contains TEXT, or by id")) {
    search->add_option("TEXT", a->text, "Text to look for in names (any case); digits: an id too")
        ->required();
    AddPaging(search, *a);
    search->footer(
        "Case is folded by Unicode rules (ÅNGSTRÖM finds Ångström; accents still count).\n"
        "Examples:\n  drovebank search lovelace\n  drovebank search 'ada lovelace'\n"
        "  drovebank search 7\n  drovebank search -O csv --all ann");
    search->callback(Body(ctx, [&ctx, a]() -> Status {
      return WithOutput(ctx, a->output, [&](OutputFormat f) -> Status {
        DB_ASSIGN_OR_RETURN(AccountQuery query, AccountQuery::Parse(a->text));
        DB_ASSIGN_OR_RETURN(Store * store, ReadStoreOf(ctx));
        size_t pages = 1;
        DB_RETURN_IF_ERROR(PrintAccounts(
            ctx, f, *a, "No matching accounts.",
            [&]() -> Result<Page<Account>> {
              DB_ASSIGN_OR_RETURN(auto page, store->Search(a->text, a->page, a->page_size));
              pages = page.pages;
              return page;
            },
            [&](const std::function<Status(const Account&)>& fn) {
              return store->ForEachAccount([&](const Account& acct) -> Result<bool> {
                if (query.Matches(acct)) DB_RETURN_IF_ERROR(fn(acct));
                return true;
              });
            }));
        if (a->all) {
          ctx.last_paged.clear();
        } else {
          RememberPaged(ctx, {"search", a->text, "--page-size", std::to_string(a->page_size)},
                        a->page, pages);
        }
        return Status::Ok();
      });
    }));
  }
}

// `history`: one page of an account's changes (or all of them with --all), newest first,
// within --since/--until.
Status PrintHistory(CliContext& ctx, const Args& a, OutputFormat f) {
  DB_ASSIGN_OR_RETURN(AccountId id, ParseAccountId(a.id));
  std::int64_t since = INT64_MIN, until = INT64_MAX;
  if (!a.since.empty()) {
    DB_ASSIGN_OR_RETURN(since, DayStartMs(a.since, "--since"));
  }
  if (!a.until.empty()) {
    DB_ASSIGN_OR_RETURN(until, DayAfterStartMs(a.until, "--until"));
  }
  if (since >= until) return Status::InvalidArgument("--since must not be after --until");
  DB_ASSIGN_OR_RETURN(Store * store, ReadStoreOf(ctx));
  TableWriter t(ctx.out, f, HistoryColumns(), "entries");
  nlohmann::json tail = {{"id", id}};
  if (!a.since.empty()) tail["since"] = a.since;
  if (!a.until.empty()) tail["until"] = a.until;
  size_t total = 0;
  size_t skip = a.all ? 0 : (a.page - 1) * a.page_size;
  std::vector<HistoryEntry> page;  // the page's entries; with --all each is printed
  // The chain runs newest first, so the first change before --since ends the walk.
  auto visit = [&](const HistoryEntry& e) -> Result<bool> {
    if (e.time_ms < since) return false;
    if (e.time_ms >= until) return true;
    if (a.all) {
      HistoryEntry shown = e;
      DB_RETURN_IF_ERROR(FillReversedBy(*store, &shown));
      t.Row(HistoryCells(shown), HistoryItem(shown));
    } else if (total >= skip && page.size() < a.page_size) {
      page.push_back(e);
    }
    ++total;
    return true;
  };
  if (a.all) {
    // Nothing is printed before the account is known to exist.
    DB_RETURN_IF_ERROR(store->Get(id).status());
    t.Begin();
    DB_RETURN_IF_ERROR(store->ForEachChange(id, visit));
    tail["total"] = total;
    t.End(tail, fmt::format("({} in all)", total));
    ctx.last_paged.clear();
    return Status::Ok();
  }
  DB_RETURN_IF_ERROR(store->ForEachChange(id, visit));
  for (HistoryEntry& e : page) DB_RETURN_IF_ERROR(FillReversedBy(*store, &e));
  size_t pages = std::max<size_t>(1, (total + a.page_size - 1) / a.page_size);
  bool past_the_end = page.empty() && total > 0;
  t.Begin({}, /*text_header_if_empty=*/!past_the_end);
  for (const HistoryEntry& e : page) t.Row(HistoryCells(e), HistoryItem(e));
  tail["page"] = a.page;
  tail["pages"] = pages;
  tail["total"] = total;
  t.End(tail, past_the_end ? PastTheEnd(a.page, pages, total, "change(s)")
                           : fmt::format("page {} of {} ({} in all)", a.page, pages, total));
  std::vector<std::string> again = {"history", a.id, "--page-size", std::to_string(a.page_size)};
  if (!a.since.empty()) again.insert(again.end(), {"--since", a.since});
  if (!a.until.empty()) again.insert(again.end(), {"--until", a.until});
  RememberPaged(ctx, std::move(again), a.page, pages);
  return Status::Ok();
}

// `history ID`: an account's changes, paged, within dates.
void AddHistoryCommand(const Subcommand& subcommand, CliContext& ctx,
                       const std::shared_ptr<Args>& a) {
  if (auto* history = subcommand("history", "An account's committed changes, newest first")) {
    history->add_option("ID", a->id, "Account id")->required();
    AddPaging(history, *a);
    history->add_option("--since", a->since, "Only changes on or after this day (YYYY-MM-DD)")
        ->type_name("DATE");
    history->add_option("--until", a->until, "Only changes on or before this day (YYYY-MM-DD)")
        ->type_name("DATE");
    history->footer(
        "Days are calendar days in UTC, or in the zone TZ names (TZ=Europe/Paris), and the\n"
        "times are shown in it with its offset (2026-12-04T13:00:00.000-12:00).\n"
        "Examples:\n  drovebank history 1001 --page 2\n"
        "  drovebank history 1001 --since 2026-11-01 --until 2026-11-30 --all -O csv");
    history->callback(Body(ctx, [&ctx, a]() -> Status {
      return WithOutput(ctx, a->output, [&](OutputFormat f) { return PrintHistory(ctx, *a, f); });
    }));
  }
}

// `txn N`: one committed transaction.
void AddTxnCommand(const Subcommand& subcommand, CliContext& ctx, const std::shared_ptr<Args>& a) {
  if (auto* txn = subcommand("txn", "Show one committed transaction by its number")) {
    txn->add_option("N", a->txn, "Transaction number")->required();
    txn->footer("Example: drovebank txn 42");
    txn->callback(Body(ctx, [&ctx, a]() -> Status {
      std::uint64_t n = 0;
      if (a->txn.empty() || a->txn.size() > 19 ||
          a->txn.find_first_not_of("0123456789") != std::string::npos ||
          (n = std::stoull(a->txn)) == 0) {
        return Status::InvalidArgument(fmt::format("'{}' is not a transaction number", a->txn));
      }
      DB_ASSIGN_OR_RETURN(Store * store, ReadStoreOf(ctx));
      DB_ASSIGN_OR_RETURN(Record r, store->FindTxn(n));
      std::string text = fmt::format("Transaction {} at {}{}\n", r.txn, TimestampOf(r.time_ms),
                                     r.key.empty() ? "" : fmt::format(" (key {})", r.key));
      for (const Op& op : r.ops) {
        switch (op.kind) {
          case OpKind::kOpen:
            text += fmt::format("  open {} for {} {} with {}\n", op.id, op.first, op.last,
                                FormatCents(op.amount));
            break;
          case OpKind::kTransfer:
            text += fmt::format("  transfer {} from {} (now {}) to {} (now {})\n",
                                FormatCents(op.amount), op.id, FormatCents(op.after), op.to,
                                FormatCents(op.to_after));
            break;
          case OpKind::kClose:
            text += fmt::format("  close {}\n", op.id);
            break;
          case OpKind::kRename:
            text += fmt::format("  rename {} from {} {} to {} {}\n", op.id, op.was_first,
                                op.was_last, op.first, op.last);
            break;
          default:
            text += fmt::format("  {} {} on {} (now {})\n", OpKindName(op.kind),
                                FormatCents(op.amount), op.id, FormatCents(op.after));
        }
        if (!op.memo.empty()) text.insert(text.size() - 1, fmt::format(" (memo: {})", op.memo));
      }
      nlohmann::json j = RecordJsonView(r);
      if (r.reverses != 0) text += fmt::format("  reverses txn {}\n", r.reverses);
      DB_ASSIGN_OR_RETURN(std::uint64_t by, store->ReversedBy(r.txn));
      if (by != 0) {
        text += fmt::format("  reversed by txn {}\n", by);
        j["reversed_by"] = by;
      }
      if (r.reserve_ids != 0) {
        text += fmt::format("  reserve account ids up to {} (never given to a new account)\n",
                            r.reserve_ids);
      }
      if (r.ops.empty() && r.reserve_ids == 0) {  // batch_runs.h: the end of a run
        text += "  the end of a batch or import-csv run: its input again is refused without "
                "--again\n";
      }
      text.pop_back();
      ctx.Print(j, text);
      return Status::Ok();
    }));
  }
}

}  // namespace

std::unique_ptr<CLI::App> BuildApp(CliContext& ctx, bool with_globals, std::string_view only) {
  auto app = std::make_unique<CLI::App>(
      "drovebank: a crash-safe bank ledger kept in plain files.\n"
      "Run without a command for the interactive shell.",
      ctx.program);
  auto a = std::make_shared<Args>();
  // The subcommand `name`, or nullptr when `only` leaves it out.
  Subcommand subcommand = [&app, only](const char* name, const char* help) -> CLI::App* {
    return only.empty() || only == name ? app->add_subcommand(name, help) : nullptr;
  };
  OwnArgs(app.get(), a);
  app->footer(std::string("\n") + kExitCodeHelp +
              "\n\nExamples:\n  drovebank open Ada Lovelace 100.00\n  drovebank deposit 1 "
              "25.50 --txn pay-2026-001\n  drovebank transfer 1 2 10\n  drovebank --json show "
              "1\n  drovebank list --page 2");
  app->require_subcommand(0, 1);
  if (with_globals) AddGlobalOptions(*app, ctx);
  AddOpenCommand(subcommand, ctx, a);
  AddShowCommand(subcommand, ctx, a);
  AddMoneyCommands(subcommand, ctx, a);
  AddCloseCommand(subcommand, ctx, a);
  AddRenameCommand(subcommand, ctx, a);
  AddListCommand(subcommand, ctx, a);
  AddSearchCommand(subcommand, ctx, a);
  AddHistoryCommand(subcommand, ctx, a);
  AddTxnCommand(subcommand, ctx, a);
  AddReportCommands(*app, ctx, only);
  if (with_globals && only.empty()) AddProgramCommands(*app, ctx);
  if (only.empty()) {
    for (auto& ext : ctx.extensions) ext(*app, ctx);
  }
  PlainPositionals(*app);
  return app;
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
  // A one-shot command waits for a lock as the shell does: announced on a terminal, and
  // Ctrl-C gives up the wait with nothing changed. Only the core commands: batch and
  // import-legacy run long, and there Ctrl-C stops the program as it always did.
  // Output goes through the one stream whose failures are known by their cause.
  if (ctx.out == stdout) ctx.out = KeepStdoutErrors();
  bool catch_interrupts = !core.empty();
  if (catch_interrupts) {
    LockWait wait = TerminalLockWait(ctx, ::isatty(STDERR_FILENO) == 1);
    if (::isatty(STDERR_FILENO) != 1) wait.on_wait = nullptr;
    ctx.extra_wait = std::move(wait);
    shell_interrupts::Install();
  }
  int code = GuardOutput(ctx, [&]() -> int {
    bool parsed = false;
    int c = kExitOk;
    try {
      app->parse(argc, argv);
      parsed = true;
    } catch (const CLI::Success& e) {
      // Help and version go through ctx.out like everything else (CLI11 would write them
      // to std::cout, whose failures nothing would see).
      std::ostringstream help_out, help_err;
      c = app->exit(e, help_out, help_err);
      fmt::print(ctx.out, "{}", help_out.str());
    } catch (const CLI::ParseError& e) {
      ctx.Fail(UsageError(e, *app, ctx.program + " "));
      c = ctx.exit_code;
    }
    if (catch_interrupts) shell_interrupts::Restore();
    if (parsed) {
      if (app->get_subcommands().empty()) {
        if (ctx.no_command) return ctx.no_command(ctx);
        fmt::print(ctx.out, "{}", app->help());
      }
      c = ctx.exit_code;
    }
    return c;
  });
  return FinishOutput(ctx, code);
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
