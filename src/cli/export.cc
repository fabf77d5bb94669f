#include "export.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "drovebank/dates.h"
#include "export_text.h"
#include "table.h"
#include "report_util.h"

namespace drovebank {

namespace {

// One change of one account within an entry, in the order the record made them.
struct Posting {
  AccountId id = 0;     // 0: the counter account
  Cents change = 0;     // signed
  Cents after = 0;      // the account's balance after it (not for the counter account)
  AccountId other = 0;  // the other account of a transfer (csv)
};

std::vector<Posting> PostingsOf(const Op& op) {
  switch (op.kind) {
    case OpKind::kOpen:
      if (op.amount == 0) return {{op.id, 0, 0, 0}};
      return {{op.id, op.amount, op.after, 0}, {0, -op.amount, 0, 0}};
    case OpKind::kDeposit:
      return {{op.id, op.amount, op.after, 0}, {0, -op.amount, 0, 0}};
    case OpKind::kWithdraw:
      return {{op.id, -op.amount, op.after, 0}, {0, op.amount, 0, 0}};
    case OpKind::kTransfer:
      return {{op.id, -op.amount, op.after, op.to}, {op.to, op.amount, op.to_after, op.id}};
    case OpKind::kClose:
      return {{op.id, 0, 0, 0}};
    case OpKind::kRename:  // no money: the balance asserted, the names in the entry's notes
      return {{op.id, 0, op.after, 0}};
  }
  return {};
}

std::string Describe(const Record& r) {
  std::string d;
  for (const Op& op : r.ops) {
    if (!d.empty()) d += ", ";
    d += op.kind == OpKind::kTransfer ? fmt::format("transfer {} to {}", op.id, op.to)
                                      : fmt::format("{} {}", OpKindName(op.kind), op.id);
  }
  return d;
}

std::string TxnOrEmpty(std::uint64_t t) { return t == 0 ? "" : std::to_string(t); }

// A rename's names before and after, "FIRST LAST" each.
std::string NameWas(const Op& op) { return op.was_first + " " + op.was_last; }
std::string NameNow(const Op& op) { return op.first + " " + op.last; }

// The memos of the record's ops, in order ("; " between two), "" for none.
std::string Memos(const Record& r) {
  std::string m;
  for (const Op& op : r.ops) {
    if (op.memo.empty()) continue;
    m += (m.empty() ? "" : "; ") + op.memo;
  }
  return m;
}

// What every format is told, in file order.
class Writer {
 public:
  explicit Writer(std::FILE* out) : out_(out) {}
  virtual ~Writer() = default;
  virtual void Begin() {}
  // An account first seen on `date` (its open, or the opening entry of a range).
  virtual void Declare(const Account& a, const std::string& date) = 0;
  // The opening entry of a range: Opening for each account, then EndOpening.
  virtual void BeginOpening(const std::string& date) = 0;
  virtual void Opening(const Account& a) = 0;
  virtual void EndOpening(__int128 total) = 0;
  virtual void Entry(const Record& r, std::int64_t time_ms, const std::string& date) = 0;
  virtual void Finish() {}

 protected:
  std::FILE* out_;
};

// hledger and ledger read the same entries; they differ in how an account's owner is noted.
class LedgerWriter : public Writer {
 public:
  LedgerWriter(std::FILE* out, bool hledger) : Writer(out), hledger_(hledger) {}
  void Begin() override {
    fmt::print(out_,
               "; drovebank export ({} format). Each drovebank account is {}:ID; money that\n"
               "; enters or leaves the bank is posted against {}.\n"
               "; Each posting asserts the account's balance after it. Names, keys and memos\n"
               "; are percent-encoded where {} would read them as syntax ({}).\n\n"
               "{}account {}\n\n",
               hledger_ ? "hledger" : "ledger", kExportAssetRoot, kExportCounterAccount,
               hledger_ ? "hledger" : "ledger", hledger_ ? "% and ," : "%, [ and ]",
               // hledger --strict wants the amounts' commodity (none) declared; ledger
               // shows amounts of no commodity without their cents, so there they are in
               // XXX, and --pedantic wants it and the metadata tags declared.
               hledger_ ? "commodity 0.00\n"
                        : fmt::format("commodity {0}\n    format 1000.00 {0}\ntag txn\ntag "
                                      "time\ntag key\ntag memo\ntag reverses\ntag renamed_from\ntag renamed_to\n",
                                      kLedgerCommodity),
               kExportCounterAccount);
  }
  void Declare(const Account& a, const std::string&) override {
    std::string owner = Text(a.first + " " + a.last);
    if (hledger_) {
      fmt::print(out_, "account {}:{}  ; owner: {}\n", kExportAssetRoot, a.id, owner);
    } else {
      fmt::print(out_, "account {}:{}\n    note {}\n", kExportAssetRoot, a.id, owner);
    }
  }
  void BeginOpening(const std::string& date) override {
    fmt::print(out_, "{} opening balances\n    ; drovebank balances at the start of {}\n", date,
               date);
  }
  void Opening(const Account& a) override {
    fmt::print(out_, "    {}:{}  {} = {}\n", kExportAssetRoot, a.id, Amount(a.balance),
               Amount(a.balance));
  }
  void EndOpening(__int128 total) override {
    fmt::print(out_, "    {}  {}{}\n\n", kExportCounterAccount, FormatTotal(-total), Unit());
  }
  void Entry(const Record& r, std::int64_t time_ms, const std::string& date) override {
    std::string text = fmt::format("{} ({}) {}\n    ; txn: {}\n    ; time: {}\n", date, r.txn,
                                   Describe(r), r.txn, TimestampOf(time_ms));
    if (!r.key.empty()) text += fmt::format("    ; key: {}\n", Text(r.key));
    if (r.reverses != 0) text += fmt::format("    ; reverses: {}\n", r.reverses);
    if (std::string m = Memos(r); !m.empty()) text += fmt::format("    ; memo: {}\n", Text(m));
    for (const Op& op : r.ops) {
      if (op.kind != OpKind::kRename) continue;
      text += fmt::format("    ; renamed_from: {}\n    ; renamed_to: {}\n", Text(NameWas(op)),
                          Text(NameNow(op)));
    }
    for (const Op& op : r.ops) {
      for (const Posting& p : PostingsOf(op)) {
        if (p.id == 0) {
          text += fmt::format("    {}  {}\n", kExportCounterAccount, Amount(p.change));
        } else {
          text += fmt::format("    {}:{}  {} = {}\n", kExportAssetRoot, p.id, Amount(p.change),
                              Amount(p.after));
        }
      }
    }
    fmt::print(out_, "{}\n", text);
  }

 private:
  std::string Text(std::string_view s) const {
    return hledger_ ? HledgerTagValue(s) : LedgerNoteValue(s);
  }
  std::string Unit() const { return hledger_ ? "" : fmt::format(" {}", kLedgerCommodity); }
  std::string Amount(Cents c) const { return FormatCents(c) + Unit(); }

  bool hledger_;
};

class BeancountWriter : public Writer {
 public:
  using Writer::Writer;
  void Begin() override {
    fmt::print(out_,
               "; drovebank export (beancount format). Each drovebank account is\n"
               "; Assets:Drovebank:ID; money that enters or leaves the bank is posted against\n"
               "; Equity:Drovebank:External. Amounts are in {} (no currency). Every account\n"
               "; changed on a day has a balance assertion at the start of the next day.\n"
               "option \"title\" \"drovebank export\"\n"
               // Exact assertions: by default a balance off by 0.01 would pass.
               "option \"inferred_tolerance_multiplier\" \"0\"\n"
               "option \"operating_currency\" \"{}\"\n\n",
               kBeancountCommodity, kBeancountCommodity);
  }
  void Declare(const Account& a, const std::string& date) override {
    Dated(date);
    fmt::print(out_, "{} open {} {}\n  owner: {}\n", date, Name(a.id), kBeancountCommodity,
               BeancountString(a.first + " " + a.last));
  }
  void BeginOpening(const std::string& date) override {
    Dated(date);
    fmt::print(out_, "{} * \"opening balances\"\n", date);
  }
  void Opening(const Account& a) override {
    if (a.balance != 0) fmt::print(out_, "  {}  {} {}\n", Name(a.id), FormatCents(a.balance),
                                   kBeancountCommodity);
    touched_[a.id] = a.balance;
  }
  void EndOpening(__int128 total) override {
    if (total != 0) {
      fmt::print(out_, "  Equity:Drovebank:External  {} {}\n", FormatTotal(-total),
                 kBeancountCommodity);
    }
    fmt::print(out_, "\n");
  }
  void Entry(const Record& r, std::int64_t time_ms, const std::string& date) override {
    Dated(date);
    std::string text = fmt::format("{} * {}\n  txn: {}\n  time: {}\n", date,
                                   BeancountString(Describe(r)), r.txn,
                                   BeancountString(TimestampOf(time_ms)));
    if (!r.key.empty()) text += fmt::format("  key: {}\n", BeancountString(r.key));
    if (r.reverses != 0) text += fmt::format("  reverses: {}\n", r.reverses);
    if (std::string m = Memos(r); !m.empty()) text += fmt::format("  memo: {}\n", BeancountString(m));
    for (const Op& op : r.ops) {
      if (op.kind != OpKind::kRename) continue;
      text += fmt::format("  renamed_from: {}\n  renamed_to: {}\n", BeancountString(NameWas(op)),
                          BeancountString(NameNow(op)));
    }
    for (const Op& op : r.ops) {
      for (const Posting& p : PostingsOf(op)) {
        if (p.id != 0) touched_[p.id] = p.after;
        if (p.change == 0) continue;
        text += fmt::format("  {}  {} {}\n", p.id == 0 ? "Equity:Drovebank:External" : Name(p.id),
                            FormatCents(p.change), kBeancountCommodity);
      }
      if (op.kind == OpKind::kClose) closing_.push_back(op.id);
    }
    fmt::print(out_, "{}\n", text);
  }
  void Finish() override { Flush(); }

 private:
  static std::string Name(AccountId id) { return fmt::format("Assets:Drovebank:{}", id); }

  // Before anything dated `date`: the counter account's open on the first date, and the
  // assertions (and closes) of the day that ended.
  void Dated(const std::string& date) {
    if (day_.empty()) {
      fmt::print(out_, "{} open Equity:Drovebank:External {}\n", date, kBeancountCommodity);
    } else if (date != day_) {
      Flush();
    }
    day_ = date;
  }

  // A closed account's last assertion comes before its close, both at the start of the
  // next day: beancount refuses a directive on an account after its close.
  void Flush() {
    if (day_.empty() || (touched_.empty() && closing_.empty())) return;
    std::string next = NextDate(day_);
    for (const auto& [id, balance] : touched_) {
      fmt::print(out_, "{} balance {} {} {}\n", next, Name(id), FormatCents(balance),
                 kBeancountCommodity);
    }
    for (AccountId id : closing_) fmt::print(out_, "{} close {}\n", next, Name(id));
    fmt::print(out_, "\n");
    touched_.clear();
    closing_.clear();
  }

  std::string day_;
  std::map<AccountId, Cents> touched_;  // accounts changed on day_, their balance at its end
  std::vector<AccountId> closing_;
};

// One row per account change (a transfer is two rows), with the counter account's side
// left out: `counterpart` names the other drovebank account of a transfer.
class CsvWriter : public Writer {
 public:
  CsvWriter(std::FILE* out)
      : Writer(out),
        table_(out, OutputFormat::kCsv,
               {{"txn"},
                {"time"},
                {"date"},
                {"kind"},
                {"account"},
                {"amount"},
                {"balance_after"},
                {"counterpart"},
                {"key", 0, false, true},
                {"first", 0, false, true},
                {"last", 0, false, true},
                {"memo", 0, false, true},
                {"reverses"}},
               "") {}
  void Begin() override { table_.Begin(); }
  void Declare(const Account&, const std::string&) override {}
  void BeginOpening(const std::string& date) override { opening_date_ = date; }
  void Opening(const Account& a) override {
    table_.Row({"", "", opening_date_, "opening", std::to_string(a.id), FormatCents(a.balance),
                FormatCents(a.balance), "", "", a.first, a.last, "", ""},
               {});
  }
  void EndOpening(__int128) override {}
  void Entry(const Record& r, std::int64_t time_ms, const std::string& date) override {
    for (const Op& op : r.ops) {
      bool named = op.kind == OpKind::kOpen || op.kind == OpKind::kRename;
      for (const Posting& p : PostingsOf(op)) {
        if (p.id == 0) continue;
        table_.Row({std::to_string(r.txn), TimestampOf(time_ms), date,
                    std::string(OpKindName(op.kind)), std::to_string(p.id),
                    FormatCents(p.change), FormatCents(p.after),
                    p.other == 0 ? "" : std::to_string(p.other), r.key, named ? op.first : "",
                    named ? op.last : "", op.memo, TxnOrEmpty(r.reverses)},
                   {});
      }
    }
  }
  void Finish() override { std::fflush(out_); }

 private:
  TableWriter table_;
  std::string opening_date_;
};

std::unique_ptr<Writer> MakeWriter(ExportFormat f, std::FILE* out) {
  switch (f) {
    case ExportFormat::kHledger: return std::make_unique<LedgerWriter>(out, true);
    case ExportFormat::kLedger: return std::make_unique<LedgerWriter>(out, false);
    case ExportFormat::kBeancount: return std::make_unique<BeancountWriter>(out);
    case ExportFormat::kCsv: return std::make_unique<CsvWriter>(out);
  }
  return nullptr;
}

// An account as the records before the range left it.
struct Held {
  Cents balance = 0;
  bool closed = false;
  std::string first, last;
};

}  // namespace

Result<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "hledger") return ExportFormat::kHledger;
  if (name == "ledger") return ExportFormat::kLedger;
  if (name == "beancount") return ExportFormat::kBeancount;
  if (name == "csv") return ExportFormat::kCsv;
  return Status::InvalidArgument(fmt::format(
      "export format '{}' is not one of hledger, ledger, beancount, csv", name.substr(0, 32)));
}

namespace {

// The accounts open at the start of the range, declared, and their balances as one
// entry; `held` is emptied.
void OpenRange(Writer* w, const std::string& since_date, std::map<AccountId, Held>* held,
               ExportSummary* sum) {
  auto account = [](AccountId id, const Held& h) {
    Account a;
    a.id = id;
    a.first = h.first;  // the names then: a later rename is an entry of the range
    a.last = h.last;
    a.balance = h.balance;
    return a;
  };
  for (const auto& [id, h] : *held) {
    if (h.closed) continue;
    w->Declare(account(id, h), since_date);
    ++sum->accounts;
  }
  if (sum->accounts == 0) return;
  w->BeginOpening(since_date);
  __int128 total = 0;
  for (const auto& [id, h] : *held) {
    if (h.closed) continue;
    w->Opening(account(id, h));
    total += h.balance;
  }
  w->EndOpening(total);
  held->clear();
}

}  // namespace

Result<ExportSummary> ExportJournal(Store& store, const ExportOptions& o) {
  std::unique_ptr<Writer> w = MakeWriter(o.format, o.out);
  w->Begin();
  ExportSummary sum;
  bool ranged = o.since_ms != std::numeric_limits<std::int64_t>::min();
  std::map<AccountId, Held> held;  // balances before the range (only with a start)
  bool started = !ranged;
  std::int64_t last_ms = std::numeric_limits<std::int64_t>::min();

  auto start = [&]() {
    started = true;
    OpenRange(w.get(), o.since_date, &held, &sum);
    return Status::Ok();
  };

  std::function<void(std::uint64_t, std::uint64_t)> progress;
  if (o.progress != nullptr) {
    progress = [&](std::uint64_t done, std::uint64_t total) {
      o.progress->set_total(total);
      o.progress->Update(done);
    };
  }
  auto entry = [&](const Record& r) -> Result<bool> {
    std::int64_t t = std::max(last_ms, r.time_ms);
    last_ms = t;
    if (t >= o.until_ms) return false;  // the export's range ends here
    if (!started) {
      if (t < o.since_ms) {
        for (const RecordAccount& ra : r.accounts) {
          held[ra.state.id] = {ra.state.balance, ra.state.closed, ra.state.first, ra.state.last};
        }
        return true;
      }
      DB_RETURN_IF_ERROR(start());
    }
    if (r.ops.empty()) return true;  // an id reservation moves no money
    std::string date = DateOf(t);
    for (const Op& op : r.ops) {
      if (op.kind != OpKind::kOpen) continue;
      Account a;
      a.id = op.id;
      a.first = op.first;
      a.last = op.last;
      w->Declare(a, date);
      ++sum.accounts;
    }
    w->Entry(r, t, date);
    ++sum.transactions;
    return true;
  };
  DB_RETURN_IF_ERROR(store.ForEachRecord(entry, progress));
  if (!started) DB_RETURN_IF_ERROR(start());
  w->Finish();
  int err = std::fflush(o.out) != 0 ? errno : 0;
  if (std::ferror(o.out)) return ErrnoStatus(err != 0 ? err : EIO, "writing the export");
  return sum;
}

}  // namespace drovebank
