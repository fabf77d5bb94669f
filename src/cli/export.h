// `drovebank export`: the journal (or the part of it in a range of days) as a file that
// hledger, ledger or beancount reads, or as CSV. docs/FORMAT.md specifies each format.
//
// Every drovebank account is one asset account (assets:drovebank:ID, in beancount
// Assets:Drovebank:ID), declared with its owner's name. Money that enters or leaves the
// bank (opening balances, deposits, withdrawals) is posted against one counter account,
// equity:drovebank:external (Equity:Drovebank:External), so each entry balances. Each
// posting carries an assertion of the account's balance after it (hledger, ledger); in
// beancount, which asserts balances only at the start of a day, every account changed on
// a day gets a `balance` directive for the start of the next one.
//
// The journal is read once, one chunk at a time: memory is one record plus one amount per
// account (the balances before --since, and in beancount the day's changed accounts).
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "progress.h"
#include "drovebank/status.h"
#include "drovebank/store.h"

namespace drovebank {

enum class ExportFormat { kHledger, kLedger, kBeancount, kCsv };
Result<ExportFormat> ParseExportFormat(std::string_view name);

inline constexpr std::string_view kExportAssetRoot = "assets:drovebank";
inline constexpr std::string_view kExportCounterAccount = "equity:drovebank:external";
// Beancount needs a commodity on every amount and drovebank has none: ISO 4217's code for
// "no currency".
inline constexpr std::string_view kBeancountCommodity = "XXX";
// ledger prints an amount of no commodity without its cents (177, not 177.00): the ledger
// export gives its amounts the same code, declared with two decimals.
inline constexpr std::string_view kLedgerCommodity = "XXX";

struct ExportOptions {
  ExportFormat format = ExportFormat::kHledger;
  // Records stamped in [since_ms, until_ms) are exported. With a start, the balances
  // before it become one opening entry dated `since_date`, so the assertions hold.
  std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();
  std::string since_date;  // YYYY-MM-DD, set with since_ms
  std::FILE* out = stdout;
  ProgressBar* progress = nullptr;  // told the journal bytes read so far, when set
};

struct ExportSummary {
  std::uint64_t transactions = 0;  // journal records written as entries
  std::uint64_t accounts = 0;      // accounts declared
};

// Writes the export to options.out. Records are taken in journal order; a record
// stamped earlier than the one before it (the clock stepped back) is dated as that one,
// so dates never go backwards and the tools check the assertions in journal order. The
// first record stamped at or after until_ms ends the export.
Result<ExportSummary> ExportJournal(Store& store, const ExportOptions& options);

}  // namespace drovebank
