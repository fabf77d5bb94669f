// Pieces the report commands share (list, search, history, balance, statement, export):
// their -O/--all options and the output format a command resolves from them.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli.h"
#include "table.h"

namespace drovebank {

// `-O,--output FORMAT` on the subcommand, writing `*output`.
void AddOutputOption(CLI::App* c, std::string* output);

// Runs `body` with the format the command was asked for: its own -O, else the global -O,
// else json with --json, else text. -O json turns on ctx.json for the command (so an
// error is a JSON object too) and --json with another -O is a usage error.
Status WithOutput(CliContext& ctx, const std::string& local,
                  const std::function<Status(OutputFormat)>& body);

// "12.34" for any sum of balances (a total may pass Cents' range).
std::string FormatTotal(__int128 cents);

// Text of a history entry's signed amount ("-10.00" out, "25.50" in).
std::string SignedAmount(const HistoryEntry& e);

// The columns of an account history (history, statement) and one entry's cells and
// JSON, in those columns: in text the last column is the reversal link and the memo
// (`reverses 4; wrong account`), in csv/tsv they are the columns memo, reverses and
// reversed_by. `reversed_by` is a key look-up: callers fill it (FillReversedBy) only for
// the entries they print.
std::vector<Column> HistoryColumns();
Status FillReversedBy(Store& store, HistoryEntry* e);
std::vector<std::string> HistoryCells(const HistoryEntry& e);
nlohmann::json HistoryItem(const HistoryEntry& e);

// The id, name, balance and status columns of an account table (list, search, balance).
std::vector<Column> AccountColumns();
std::vector<std::string> AccountCells(const Account& a);
// The row's JSON item for `t`: AccountJson where `t` prints items (-O json), and null
// everywhere else, where it is never printed (a million objects made and dropped were a
// third of `balance`'s time at a million accounts).
nlohmann::json AccountItem(const TableWriter& t, const Account& a);

}  // namespace drovebank
