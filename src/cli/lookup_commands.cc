// The look-up commands of the subcommand table (command_table.h): `list` and `search`
// (accounts, paged), `history ID` (an account's changes, paged, within dates) and `txn N`
// (one committed transaction). Each only reads the store.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "drovebank/search.h"
#include "cli.h"
#include "cli_usage.h"
#include "command_table.h"
#include "drovebank/dates.h"
#include "report_util.h"

namespace drovebank::commands {

namespace {

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
      t.Row(AccountCells(acct), AccountItem(t, acct));
      ++total;
      return Status::Ok();
    }));
    t.End({{"total", total}}, total == 0 ? std::string(empty) : fmt::format("({} in all)", total));
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(Page<Account> p, page_fn());
  t.Begin({}, /*text_header_if_empty=*/false);
  for (const Account& acct : p.items) t.Row(AccountCells(acct), AccountItem(t, acct));
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

void RememberPaged(CliContext& ctx, std::vector<std::string> cmd, size_t page, size_t pages) {
  ctx.last_paged = std::move(cmd);
  ctx.last_page = page;
  ctx.last_pages = pages;
}

}  // namespace

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

namespace {

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

}  // namespace

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
      if (r.snapshot_at != 0) {
        text += fmt::format(
            "  vouches for journal/SNAPSHOT: every account's state after txn {} (BLAKE2b {})\n",
            r.snapshot_at, r.snapshot_hash);
      } else if (r.ops.empty() && r.reserve_ids == 0) {  // batch_runs.h: the end of a run
        text += "  the end of a batch or import-csv run: its input again is refused without "
                "--again\n";
      }
      text.pop_back();
      ctx.Print(j, text);
      return Status::Ok();
    }));
  }
}

}  // namespace drovebank::commands
