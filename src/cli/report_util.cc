#include "report_util.h"

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "drovebank/dates.h"
#include "cli_usage.h"

namespace drovebank {

void AddOutputOption(CLI::App* c, std::string* output) {
  c->add_option("-O,--output", *output, "Output format: text (default), csv, tsv or json")
      ->type_name("FORMAT")
      ->check(OneOf("output format", {"text", "csv", "tsv", "json"}));
}

Status WithOutput(CliContext& ctx, const std::string& local,
                  const std::function<Status(OutputFormat)>& body) {
  const std::string& asked = !local.empty() ? local : ctx.output;
  OutputFormat f = ctx.json ? OutputFormat::kJson : OutputFormat::kText;
  if (!asked.empty()) {
    DB_ASSIGN_OR_RETURN(f, ParseOutputFormat(asked));
    if (ctx.json && f != OutputFormat::kJson) {
      return Status::InvalidArgument(
          fmt::format("--json and -O {} ask for different formats; give one", asked));
    }
  }
  bool was_json = ctx.json;
  ctx.json = f == OutputFormat::kJson;
  Status s = body(f);
  // Flushed here so a full disk is reported as such (FinishOutput's later flush only sees
  // the stream's error flag, not why).
  if (std::fflush(ctx.out) != 0 && ctx.out_errno == 0) ctx.out_errno = errno != 0 ? errno : EIO;
  // The shell keeps its context from line to line: -O json lasts one command.
  if (!s.ok()) ctx.Fail(s);
  ctx.json = was_json;
  return Status::Ok();  // reported above, while ctx.json was the command's
}

std::string FormatTotal(__int128 cents) {
  bool neg = cents < 0;
  unsigned __int128 v = neg ? static_cast<unsigned __int128>(-cents)
                            : static_cast<unsigned __int128>(cents);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  while (digits.size() < 3) digits.insert(digits.begin(), '0');
  return fmt::format("{}{}.{}", neg ? "-" : "", digits.substr(0, digits.size() - 2),
                     digits.substr(digits.size() - 2));
}

std::string SignedAmount(const HistoryEntry& e) {
  bool out = e.kind == OpKind::kWithdraw || e.outgoing;
  return fmt::format("{}{}", out && e.amount != 0 ? "-" : "", FormatCents(e.amount));
}

std::vector<Column> HistoryColumns() {
  return {{"txn", 8, true},
          {"time", 29},
          {"kind", 9},
          {"amount", 18, true},
          {"counterpart", 12, false, false, Column::kTextOnly},
          {"counterpart", 0, false, false, Column::kDataOnly},
          {"direction", 0, false, false, Column::kDataOnly},
          {"balance_after", 18, true},
          {"memo", 0, false, true, Column::kTextOnly},
          {"memo", 0, false, true, Column::kDataOnly},
          {"reverses", 0, false, false, Column::kDataOnly},
          {"reversed_by", 0, false, false, Column::kDataOnly}};
}

Status FillReversedBy(Store& store, HistoryEntry* e) {
  if (!Reversible(e->kind) || e->reverses != 0) {
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(e->reversed_by, store.ReversedBy(e->txn));
  return Status::Ok();
}

namespace {

// The history's last text column: the reversal link, then the memo.
std::string HistoryNote(const HistoryEntry& e) {
  if (e.kind == OpKind::kRename) {
    return fmt::format("renamed from {} {} to {} {}", e.was_first, e.was_last, e.first, e.last);
  }
  std::string link = e.reverses != 0      ? fmt::format("reverses {}", e.reverses)
                     : e.reversed_by != 0 ? fmt::format("reversed by {}", e.reversed_by)
                                          : "";
  if (link.empty() || e.memo.empty()) return link + e.memo;
  return fmt::format("{}; {}", link, e.memo);
}

std::string TxnOrEmpty(std::uint64_t t) { return t == 0 ? "" : std::to_string(t); }

nlohmann::json TxnOrNull(std::uint64_t t) {
  return t == 0 ? nlohmann::json(nullptr) : nlohmann::json(t);
}

}  // namespace

std::vector<std::string> HistoryCells(const HistoryEntry& e) {
  std::string counterpart =
      e.counterpart == 0 ? "" : fmt::format("{} {}", e.outgoing ? "to" : "from", e.counterpart);
  return {std::to_string(e.txn),
          TimestampOf(e.time_ms),
          std::string(OpKindName(e.kind)),
          SignedAmount(e),
          counterpart,
          e.counterpart == 0 ? "" : std::to_string(e.counterpart),
          e.counterpart == 0 ? "" : (e.outgoing ? "out" : "in"),
          FormatCents(e.balance_after),
          HistoryNote(e),
          e.memo,
          TxnOrEmpty(e.reverses),
          TxnOrEmpty(e.reversed_by)};
}

nlohmann::json HistoryItem(const HistoryEntry& e) {
  nlohmann::json item = {{"txn", e.txn},
          {"time", TimestampOf(e.time_ms)},
          {"kind", OpKindName(e.kind)},
          {"amount", FormatCents(e.amount)},
          {"counterpart",
           e.counterpart == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.counterpart)},
          {"direction", e.counterpart == 0 ? nlohmann::json(nullptr)
                                           : nlohmann::json(e.outgoing ? "out" : "in")},
          {"balance_after", FormatCents(e.balance_after)},
          {"memo", e.memo},
          {"reverses", TxnOrNull(e.reverses)},
          {"reversed_by", TxnOrNull(e.reversed_by)}};
  if (e.kind == OpKind::kRename) {
    item["renamed"] = {{"from", {{"first", e.was_first}, {"last", e.was_last}}},
                       {"to", {{"first", e.first}, {"last", e.last}}}};
  }
  return item;
}

std::vector<Column> AccountColumns() {
  return {{"id", 8, true},
          {"name", 30, false, true, Column::kTextOnly, /*fit=*/true},
          {"first", 0, false, true, Column::kDataOnly},
          {"last", 0, false, true, Column::kDataOnly},
          {"balance", 18, true},
          {"status", 0}};
}

nlohmann::json AccountItem(const TableWriter& t, const Account& a) {
  return t.format() == OutputFormat::kJson ? AccountJson(a) : nlohmann::json();
}

std::vector<std::string> AccountCells(const Account& a) {
  std::string name;
  name.reserve(a.first.size() + 1 + a.last.size());
  name.append(a.first).append(1, ' ').append(a.last);
  return {std::to_string(a.id), std::move(name), a.first, a.last, FormatCents(a.balance),
          a.closed ? "closed" : "open"};
}

}  // namespace drovebank
