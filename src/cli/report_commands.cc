// The report commands: balance (bal), statement and export. They share the command table
// with the rest (BuildApp calls AddReportCommands), so the shell speaks them too.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <limits>
#include <map>

#include "cli.h"
#include "drovebank/dates.h"
#include "export.h"
#include "progress.h"
#include "report_util.h"
#include "cli_usage.h"
#include "own_args.h"

namespace drovebank {

namespace {

struct ReportArgs {
  std::string output, at, id, month, format, since, until, file;
  bool all = false;
};

template <typename F>
std::function<void()> Run(CliContext& ctx, F f) {
  return [&ctx, f]() {
    Status s = f();
    if (!s.ok()) ctx.Fail(s);
  };
}

struct Held {
  Cents balance = 0;
  bool closed = false;
};

// Every account's state after the last record stamped before `cutoff_ms` (in journal
// order: the first record stamped at or after it ends the pass), from the journal.
Result<std::map<AccountId, Held>> StatesBefore(Store& store, std::int64_t cutoff_ms) {
  std::map<AccountId, Held> held;
  DB_RETURN_IF_ERROR(store.ForEachRecord([&](const Record& r) -> Result<bool> {
    if (r.time_ms >= cutoff_ms) return false;
    for (const RecordAccount& ra : r.accounts) held[ra.state.id] = {ra.state.balance, ra.state.closed};
    return true;
  }));
  return held;
}

Status Balance(CliContext& ctx, const ReportArgs& a, OutputFormat f) {
  std::int64_t cutoff = 0;
  if (!a.at.empty()) {
          DB_ASSIGN_OR_RETURN(cutoff, DayAfterStartMs(a.at, "--at"));
        }
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore(StoreAccess::kRead));
  std::vector<Column> cols = AccountColumns();
  TableWriter t(ctx.out, f, cols, "accounts");
  __int128 total = 0;
  std::uint64_t count = 0;
  auto row = [&](const Account& acct) {
    if (acct.closed && !a.all) return;
    nlohmann::json item = AccountItem(t, acct);
    if (!a.at.empty() && item.is_object()) {
      // The file's version and last change are today's, not the day's.
      item.erase("version");
      item.erase("last_txn");
    }
    t.Row(AccountCells(acct), item);
    total += acct.balance;
    ++count;
  };
  if (a.at.empty()) {
    t.Begin();
    DB_RETURN_IF_ERROR(store->ForEachAccount([&](const Account& acct) -> Result<bool> {
      row(acct);
      return true;
    }));
  } else {
    DB_ASSIGN_OR_RETURN(auto held, StatesBefore(*store, cutoff));
    t.Begin({{"at", a.at}});
    for (const auto& [id, h] : held) {
      DB_ASSIGN_OR_RETURN(Account acct, store->Get(id));  // names never change
      acct.balance = h.balance;
      acct.closed = h.closed;
      row(acct);
    }
  }
  std::string sum = FormatTotal(total);
  if (f == OutputFormat::kCsv || f == OutputFormat::kTsv) {
    // As hledger's csv: the total is the last row.
    t.Row({"total", "", "", "", sum, ""}, {});
  }
  std::string rule(t.TextLine({"", std::string(30, ' '), "", "", std::string(18, '-')}).size(),
                   '-');
  std::string footer =
      rule + "\n" +
      t.TextLine({"", fmt::format("total of {} account{}", count, count == 1 ? "" : "s"), "", "",
                  sum, ""});
  t.End({{"count", count}, {"total", sum}}, footer);
  return Status::Ok();
}

Status Statement(CliContext& ctx, const ReportArgs& a, OutputFormat f) {
  DB_ASSIGN_OR_RETURN(AccountId id, ParseAccountId(a.id));
  DB_ASSIGN_OR_RETURN(MonthSpan span, ParseMonth(a.month, "--month"));
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore(StoreAccess::kRead));
  DB_ASSIGN_OR_RETURN(Account acct, store->Get(id));
  // The chain runs newest first; the month's entries are printed oldest first, so they
  // are held (one account's month).
  std::vector<HistoryEntry> entries;
  Cents opening = 0;
  DB_RETURN_IF_ERROR(store->ForEachChange(id, [&](const HistoryEntry& e) -> Result<bool> {
    if (e.time_ms >= span.end_ms) return true;
    if (e.time_ms < span.begin_ms) {
      opening = e.balance_after;
      return false;
    }
    entries.push_back(e);
    return true;
  }));
  Cents in = 0, out = 0;
  for (const HistoryEntry& e : entries) {
    bool leaves = e.kind == OpKind::kWithdraw || e.outgoing;
    (leaves ? out : in) += e.amount;
  }
  for (HistoryEntry& e : entries) DB_RETURN_IF_ERROR(FillReversedBy(*store, &e));
  Cents closing = entries.empty() ? opening : entries.front().balance_after;
  TableWriter t(ctx.out, f, HistoryColumns(), "entries");
  nlohmann::json head = {{"id", id},
                         {"first", acct.first},
                         {"last", acct.last},
                         {"month", a.month},
                         {"opening", FormatCents(opening)}};
  if (f == OutputFormat::kText) {
    fmt::print(ctx.out, "Statement of account {} ({} {}) for {}\nOpening balance: {}\n", id,
               acct.first, acct.last, a.month, FormatCents(opening));
  }
  t.Begin(head);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    t.Row(HistoryCells(*it), HistoryItem(*it));
  }
  t.End({{"closing", FormatCents(closing)},
         {"total_in", FormatCents(in)},
         {"total_out", FormatCents(out)},
         {"count", entries.size()}},
        fmt::format("Closing balance: {}\nTotal in: {}  Total out: {}  ({} change{})",
                    FormatCents(closing), FormatCents(in), FormatCents(out), entries.size(),
                    entries.size() == 1 ? "" : "s"));
  return Status::Ok();
}

// `export -o FILE`: written to a temp file beside FILE and renamed over it only when
// complete and synced, so a failed export (full disk, an error in the journal) leaves the
// previous FILE as it was and never a partial one a tool would accept. A FILE that is
// not a regular file (/dev/stdout, a FIFO) is written in place; a symbolic link's target
// is replaced, not the link.
class ExportFile {
 public:
  ExportFile() = default;
  ExportFile(const ExportFile&) = delete;
  ExportFile& operator=(const ExportFile&) = delete;
  ~ExportFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }

  // `data_dir`: the store's directory, which FILE must not be in (nor be).
  Status Open(const std::string& path, const std::string& data_dir) {
    path_ = path;
    final_ = path;
    DB_RETURN_IF_ERROR(RefuseInside(path, data_dir));
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      return Adopt(fd);
    }
    if (char* real = ::realpath(path.c_str(), nullptr)) {  // an existing file or link
      final_ = real;
      std::free(real);
    }
    temp_ = final_ + ".tmp-XXXXXX";
    // 0600: an export holds every name and balance, as private as the data directory.
    int fd = ::mkostemp(temp_.data(), O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      temp_.clear();
      return Status::IOError(fmt::format("cannot write {}: {}", path_, std::strerror(err)));
    }
    return Adopt(fd);
  }

  std::FILE* file() const { return file_; }

  // Flushes, syncs and renames the temp file over FILE (or closes FILE written in place).
  Status Commit() {
    int err = 0;
    if (std::fflush(file_) != 0 || std::ferror(file_) != 0) err = errno != 0 ? errno : EIO;
    if (err == 0 && !temp_.empty() && ::fsync(::fileno(file_)) != 0) err = errno;
    if (std::fclose(file_) != 0 && err == 0) err = errno != 0 ? errno : EIO;
    file_ = nullptr;
    if (err == 0 && !temp_.empty() && ::rename(temp_.c_str(), final_.c_str()) != 0) err = errno;
    if (err != 0) return ErrnoStatus(err, fmt::format("writing {}", path_));
    temp_.clear();  // renamed: nothing to remove
    return Status::Ok();
  }

 private:
  // Why: a file in the store is the store's. An export over a journal segment (or an
  // account file, or journal/state) replaced it with hledger's text: every record in it
  // gone, exit 0 (found 2026-12-08). Both paths are compared as the kernel resolves them
  // (symbolic links followed, `..` taken out), so no spelling of a path reaches in.
  static Status RefuseInside(const std::string& path, const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec1, ec2;
    const fs::path target = fs::weakly_canonical(fs::absolute(path, ec1), ec1);
    const fs::path root = fs::weakly_canonical(fs::absolute(data_dir, ec2), ec2);
    if (ec1 || ec2 || root.empty()) return Status::Ok();  // the open below says what is wrong
    // Inside (or the directory itself): the path from the root to it climbs no "..".
    const fs::path from_root = target.lexically_relative(root);
    if (from_root.empty() || *from_root.begin() == "..") return Status::Ok();
    return Status::InvalidArgument(fmt::format(
        "--output-file {} is inside the data directory {}: write the export outside it; "
        "nothing was changed",
        path, data_dir));
  }

  Status Adopt(int fd) {
    if (fd >= 0) file_ = ::fdopen(fd, "w");
    if (file_ == nullptr) {
      int err = errno;
      if (fd >= 0) ::close(fd);
      return Status::IOError(fmt::format("cannot write {}: {}", path_, std::strerror(err)));
    }
    return Status::Ok();
  }

  std::string path_, final_, temp_;
  std::FILE* file_ = nullptr;
};

Status Export(CliContext& ctx, const ReportArgs& a) {
  ExportOptions o;
  DB_ASSIGN_OR_RETURN(o.format, ParseExportFormat(a.format));
  if (!a.since.empty()) {
    DB_ASSIGN_OR_RETURN(o.since_ms, DayStartMs(a.since, "--since"));
    o.since_date = a.since;
  }
  if (!a.until.empty()) {
          DB_ASSIGN_OR_RETURN(o.until_ms, DayAfterStartMs(a.until, "--until"));
        }
  if (o.since_ms >= o.until_ms) {
    return Status::InvalidArgument("--since must not be after --until");
  }
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore(StoreAccess::kRead));
  ExportFile target;
  bool to_file = !a.file.empty() && a.file != "-";
  if (to_file) DB_RETURN_IF_ERROR(target.Open(a.file, ResolveDataDir(ctx.data_dir)));
  std::FILE* file = to_file ? target.file() : nullptr;
  o.out = file != nullptr ? file : ctx.out;
  // A bar only when the export does not go to the terminal the bar would draw on.
  ProgressOptions po;
  if (file == nullptr && ::isatty(::fileno(ctx.out)) == 1) po.stream = nullptr;
  ProgressBar bar("exporting (journal bytes)", 0, po);
  o.progress = &bar;
  Result<ExportSummary> sum = Status::Internal("export not run");
  try {
    sum = ExportJournal(*store, o);
  } catch (const std::system_error& e) {
    // A writer's fmt::print found the output full or closed.
    int err = file == nullptr && ctx.out == stdout && StdoutWriteErrno() != 0
                  ? StdoutWriteErrno()
                  : e.code().value() != 0 ? e.code().value() : EIO;
    sum = ErrnoStatus(err, fmt::format("writing {}", to_file ? a.file : "the export"));
  }
  bar.Done();
  if (!to_file && !sum.ok() && std::ferror(ctx.out) != 0) {
    // stdout's own failure: FinishOutput reports it by its cause, as for every command.
    if (ctx.out_errno == 0) ctx.out_errno = sum.status().sys_errno() != 0 ? sum.status().sys_errno() : EIO;
    return Status::Ok();
  }
  if (to_file && !sum.ok() && std::ferror(file) != 0 && sum.status().sys_errno() != 0) {
    sum = ErrnoStatus(sum.status().sys_errno(), fmt::format("writing {}", a.file));
  }
  if (!sum.ok()) return sum.status();  // the temp file goes; FILE is as it was
  if (to_file) DB_RETURN_IF_ERROR(target.Commit());
  if (file != nullptr) {
    ctx.Print({{"file", a.file},
               {"format", a.format},
               {"transactions", sum->transactions},
               {"accounts", sum->accounts}},
              fmt::format("Exported {} transaction{} and {} account{} to {} ({})",
                          sum->transactions, sum->transactions == 1 ? "" : "s", sum->accounts,
                          sum->accounts == 1 ? "" : "s", a.file, a.format));
  }
  return Status::Ok();
}

}  // namespace

void AddReportCommands(CLI::App& app, CliContext& ctx, std::string_view only) {
  auto a = std::make_shared<ReportArgs>();
  auto subcommand = [&app, only](const char* name, const char* help) -> CLI::App* {
    return only.empty() || only == name ? app.add_subcommand(name, help) : nullptr;
  };
  // Each subcommand owns `a` (OwnArgs), not only its callback.

  if (auto* bal = subcommand("balance", "Every open account's balance and the total")) {
    OwnArgs(bal, a);
    bal->alias("bal");
    bal->add_flag("--all", a->all, "Closed accounts too");
    bal->add_option("--at", a->at,
                    "Balances as of the end of this day (YYYY-MM-DD), from the journal")
        ->type_name("DATE");
    AddOutputOption(bal, &a->output);
    bal->footer(
        "Days are calendar days in UTC, or in the zone TZ names (TZ=Europe/Paris).\nExamples:\n"
        "  drovebank balance\n  drovebank bal --all --at 2026-11-30\n"
        "  drovebank -O csv balance > balances.csv");
    bal->callback(Run(ctx, [&ctx, a]() {
      return WithOutput(ctx, a->output, [&](OutputFormat f) { return Balance(ctx, *a, f); });
    }));
  }

  if (auto* st = subcommand("statement", "One account's month: opening and closing balance, "
                                         "every change, totals in and out")) {
    OwnArgs(st, a);
    st->add_option("ID", a->id, "Account id")->required();
    st->add_option("--month", a->month, "The month (YYYY-MM)")->required()->type_name("MONTH");
    AddOutputOption(st, &a->output);
    st->footer(
        "Months are calendar months in UTC, or in the zone TZ names, and the times are\n"
        "shown in it with its offset.\nExample:\n"
        "  drovebank statement 1001 --month 2026-11");
    st->callback(Run(ctx, [&ctx, a]() {
      return WithOutput(ctx, a->output, [&](OutputFormat f) { return Statement(ctx, *a, f); });
    }));
  }

  if (auto* ex = subcommand("export", "The journal as a file hledger, ledger or beancount "
                                      "reads, or as CSV")) {
    OwnArgs(ex, a);
    ex->add_option("--format", a->format, "hledger, ledger, beancount or csv")
        ->type_name("FORMAT")
        ->required()
        ->check(OneOf("export format", {"hledger", "ledger", "beancount", "csv"}));
    ex->add_option("--since", a->since, "From this day on (YYYY-MM-DD); earlier balances "
                                        "become one opening entry")
        ->type_name("DATE");
    ex->add_option("--until", a->until, "Up to the end of this day (YYYY-MM-DD)")
        ->type_name("DATE");
    ex->add_option("-o,--output-file", a->file, "Write to FILE (created 0600) instead of stdout")
        ->type_name("FILE");
    ex->footer(
        "Accounts are assets:drovebank:ID; deposits, withdrawals and opening balances are\n"
        "posted against equity:drovebank:external. Days and times are in UTC, or in the zone\n"
        "TZ names (times with its offset).\n"
        "Names, keys and memos are percent-encoded where the tool would read them as syntax\n"
        "(hledger: % and ,; ledger: %, [ and ]); ledger and beancount amounts are in XXX.\n"
        "Examples:\n  drovebank export --format hledger -o bank.journal && hledger -f "
        "bank.journal bal\n  drovebank export --format beancount --since 2026-11-01 -o "
        "nov.beancount");
    ex->callback(Run(ctx, [&ctx, a]() { return Export(ctx, *a); }));
  }
}

}  // namespace drovebank
