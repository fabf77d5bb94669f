// The import-legacy subcommand: runs ImportLegacy and reports every decision.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "color.h"
#include "exit_codes.h"
#include "cli_usage.h"
#include "import_cmd.h"
#include "progress.h"
#include "own_args.h"

namespace drovebank {

namespace {

// Directory entries are echoed as they are named; a name can hold terminal escapes.
std::string Printable(std::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    out += (c < 0x20 || c == 0x7F) ? '?' : ch;
  }
  return out;
}

std::string Outcome(std::FILE* out, const ImportedAccount& a) {
  std::string word;
  switch (a.outcome) {
    case ImportOutcome::kImported:
      return Paint(out, Style::kOk, "imported") + fmt::format(" (txn {})", a.txn);
    case ImportOutcome::kAlreadyImported:
      word = "already imported";
      break;
    case ImportOutcome::kConflict:
      word = Paint(out, Style::kWarn, "conflict");
      break;
    case ImportOutcome::kError:
      word = Paint(out, Style::kError, "error");
      break;
  }
  return a.message.empty() ? word : fmt::format("{}: {}", word, a.message);
}

nlohmann::json AccountReportJson(const ImportedAccount& a) {
  nlohmann::json j = {{"id", a.account.id},
                      {"first", a.account.first},
                      {"last", a.account.last},
                      {"balance", FormatCents(a.account.balance)},
                      {"source", a.account.source_file},
                      {"outcome", ImportOutcomeName(a.outcome)},
                      {"message", a.message}};
  j["txn"] = a.txn == 0 ? nlohmann::json(nullptr) : nlohmann::json(a.txn);
  return j;
}

// What the summary line, the JSON report and the closing complaint count.
struct ImportCounts {
  size_t imported = 0, already = 0, conflicts = 0, errors = 0;
  size_t discarded = 0, skipped = 0;  // leftovers discarded, files skipped (by the plan)
};

ImportCounts CountReport(const ImportReport& r) {
  ImportCounts c;
  for (const LegacyDecision& d : r.plan.decisions) {
    c.discarded += d.action == "discard" ? 1 : 0;
    c.skipped += d.action == "skip" ? 1 : 0;
  }
  c.imported = r.Count(ImportOutcome::kImported);
  c.already = r.Count(ImportOutcome::kAlreadyImported);
  c.conflicts = r.Count(ImportOutcome::kConflict);
  c.errors = r.Count(ImportOutcome::kError);
  return c;
}

// The text table of the plan's decisions, one row a legacy file with what became of its
// account; each row's JSON goes to `decisions`.
std::string DecisionTable(CliContext& ctx, const std::string& dir, const ImportReport& r,
                          nlohmann::json* decisions) {
  std::map<std::string, const ImportedAccount*> by_source;
  for (const ImportedAccount& a : r.accounts) by_source[a.account.source_file] = &a;
  size_t width = 4;
  for (const LegacyDecision& d : r.plan.decisions) {
    width = std::max(width, std::min<size_t>(d.file.size(), 40));
  }
  std::string text = fmt::format("Legacy directory {}", Printable(dir));
  if (r.plan.last_id_from_index != 0) {
    text += fmt::format(" (index.idx: last id {})", r.plan.last_id_from_index);
  }
  text += "\n" +
          Paint(ctx.out, Style::kHeader,
                fmt::format("{:<{}}  {:<8}  {}", "FILE", width, "ACTION", "DETAILS")) +
          "\n";
  for (const LegacyDecision& d : r.plan.decisions) {
    nlohmann::json j = {{"file", d.file}, {"action", d.action}, {"reason", d.reason}};
    std::string details = d.reason;
    auto it = by_source.find(d.file);
    if (it != by_source.end()) {
      const ImportedAccount& a = *it->second;
      j["account"] = a.account.id;
      j["outcome"] = ImportOutcomeName(a.outcome);
      details = fmt::format("account {} ({} {}, {}): {}", a.account.id, a.account.first,
                            a.account.last, FormatCents(a.account.balance), Outcome(ctx.out, a));
      // A plain account file's reason only names the account again.
      if (d.reason != fmt::format("account {}", a.account.id)) details += "; " + d.reason;
    }
    std::string action = d.action == "error" ? Paint(ctx.out, Style::kError, d.action) : d.action;
    // Pad before painting: escape bytes must not count as columns.
    action += std::string(d.action.size() < 8 ? 8 - d.action.size() : 0, ' ');
    text += fmt::format("{:<{}}  {}  {}\n", Printable(d.file), width, action, details);
    decisions->push_back(std::move(j));
  }
  return text;
}

// The closing lines: the counts, why ids stay reserved, and the next id.
std::string SummaryText(const ImportReport& r, const ImportCounts& c) {
  std::string text = fmt::format(
      "Imported {} account(s); {} already imported; {} conflict(s); {} account error(s); {} "
      "file(s) in error; {} leftover(s) discarded; {} skipped.",
      c.imported, c.already, c.conflicts, c.errors, r.plan.errors, c.discarded, c.skipped);
  AccountId max_id = r.plan.accounts.empty() ? 0 : r.plan.accounts.back().id;
  if (AccountId used = r.plan.LastIdUsed(); used > max_id) {
    std::string why = r.plan.last_id_from_index == used
                          ? fmt::format("index.idx says ids up to {} were handed out", used)
                          : fmt::format("a legacy file names id {}", used);
    text += fmt::format(
        "\nNote: {}, but the largest account imported is {}; ids up to {} stay reserved{}, so "
        "none of them is given to a new account.",
        why, max_id, used, r.reserve_txn != 0 ? fmt::format(" (txn {})", r.reserve_txn) : "");
  }
  if (r.next_id != 0) text += fmt::format("\nThe next account opened here gets id {}.", r.next_id);
  return text;
}

nlohmann::json ReportJson(const std::string& dir, const ImportReport& r, const ImportCounts& c,
                          nlohmann::json decisions) {
  nlohmann::json accounts = nlohmann::json::array();
  for (const ImportedAccount& a : r.accounts) accounts.push_back(AccountReportJson(a));
  return {{"dir", dir},
          {"last_id_from_index", r.plan.last_id_from_index},
          {"last_id_used", r.plan.LastIdUsed()},
          {"decisions", std::move(decisions)},
          {"accounts", accounts},
          {"summary",
           {{"imported", c.imported},
            {"already_imported", c.already},
            {"conflicts", c.conflicts},
            {"account_errors", c.errors},
            {"file_errors", r.plan.errors},
            {"discarded", c.discarded},
            {"skipped", c.skipped}}},
          {"reserve_txn",
           r.reserve_txn == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.reserve_txn)},
          {"next_id", r.next_id == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.next_id)},
          {"exit", r.ExitCode()}};
}

void PrintReport(CliContext& ctx, const std::string& dir, const ImportReport& r) {
  ImportCounts c = CountReport(r);
  nlohmann::json decisions = nlohmann::json::array();
  std::string text = DecisionTable(ctx, dir, r, &decisions);
  text += SummaryText(r, c);
  ctx.Print(ReportJson(dir, r, c, std::move(decisions)), text);
  ctx.exit_code = r.ExitCode();
  if (ctx.exit_code != kExitOk) {
    std::vector<std::string> parts;
    if (r.plan.errors > 0) parts.push_back(fmt::format("{} file(s) in error", r.plan.errors));
    if (c.conflicts > 0) parts.push_back(fmt::format("{} conflicting account(s)", c.conflicts));
    if (c.errors > 0) parts.push_back(fmt::format("{} refused account(s)", c.errors));
    fmt::print(ctx.err,
               "{} not imported: {} (see the report); fix them and run import-legacy again\n",
               Paint(ctx.err, Style::kError, ctx.program + ":"), fmt::join(parts, ", "));
    std::fflush(ctx.err);
  }
}

Status RunImport(CliContext& ctx, const std::string& dir, size_t group_size) {
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ProgressOptions progress;
  progress.stream = ctx.err;
  ProgressBar bar("importing accounts", 0, progress);
  ImportOptions options;
  options.group_size = group_size;
  options.progress = [&bar](size_t done, size_t total) {
    bar.set_total(total);
    bar.Update(done);
  };
  Result<ImportReport> report = ImportLegacy(store, dir, options);
  bar.Done();
  if (!report.ok()) return report.status();
  // Counted (the report lists them); their txns are not in one known order.
  ctx.Committed(0, report->Count(ImportOutcome::kImported) + (report->reserve_txn != 0 ? 1 : 0));
  PrintReport(ctx, dir, *report);
  return Status::Ok();
}

}  // namespace

void AddImportLegacyCommand(CLI::App& app, CliContext& ctx) {
  auto dir = std::make_shared<std::string>();
  auto group = std::make_shared<size_t>(500);
  auto* c = app.add_subcommand(
      "import-legacy",
      "Import the accounts of an original (Python) drovebank data directory, keeping ids");
  OwnArgs(c, dir, group);
  c->add_option("DIR", *dir, "The original's data directory (only read, never changed)")
      ->required();
  c->add_option("--group-size", *group, "Accounts committed per journal sync (default 500)")
      ->type_name("N")
      ->check(WholeNumber("group size", 100000));
  c->footer(
      "Crash leftovers (.lock, .tmp, .old, .xtmp, .xold, .atmp) are settled the way the "
      "original's recover did. Safe to run again: accounts already imported are reported and "
      "left alone, so a run cut short by a crash is finished by running it again.\n\n"
      "Exit codes: 0 everything importable is imported; 3 some files were in error or some "
      "ids conflict with different accounts here (the rest is imported); 1, 4, 5 as for "
      "every command (the import stopped; run it again).\n\n"
      "Examples:\n  drovebank -d data import-legacy ../old-drovebank/data\n"
      "  drovebank --json import-legacy old-data > import-report.json");
  c->callback([&ctx, dir, group]() {
    Status s = RunImport(ctx, *dir, *group);
    if (!s.ok()) ctx.Fail(s);
  });
}

}  // namespace drovebank
