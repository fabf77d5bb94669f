// The batch inputs' parsers, private to src/features/batch: a line of JSON Lines or CSV
// becomes an Event or the reason it is invalid (the public entry points are in
// drovebank/batch.h: BatchInput, RunOpsBatch, ParseCustomerBatch, RunCustomerBatch).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/batch.h"
#include "drovebank/status.h"
#include "drovebank/store.h"

namespace drovebank {

// One customer's "recv" entry, as printed: {"id": 2, "recv": [...]}.
std::string CustomerResultJson(std::uint64_t id, const std::vector<std::string>& recv);

// ---- JSON Lines of operations -------------------------------------------------------

// One parsed line: an Event (one op, its key) or the reason the line is invalid.
struct OpLine {
  size_t line = 0;  // 1-based
  Status status;    // InvalidArgument when the line is not a valid operation
  Event event;
};

// Parses one JSONL line: {"op": "deposit", "id": 1, "amount": "5.00", "key": "k1"}.
// Ops and their fields: open (first, last, amount optional), deposit/withdraw (id,
// amount), transfer (from, to, amount), close (id); "key" is optional everywhere, "memo"
// (ValidateMemo) on deposit, withdraw and transfer. Amounts are strings or exact numbers;
// ids are integers or digit strings. A key starting with "reverse:" is refused.
OpLine ParseOpLine(std::string_view text, size_t line);

// ---- CSV of operations --------------------------------------------------------------

// The columns of a CSV batch, in file order: names from op, id, from, to, amount, memo,
// key, first, last, each at most once, op among them.
struct CsvHeader {
  std::vector<std::string> columns;
};

// The UTF-8 byte order mark a spreadsheet may put before the header row; skipped there.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Splits one RFC 4180 line into its cells: a cell in double quotes may hold commas and
// doubled quotes; a CR before the end is dropped. A cell cannot span lines (no value a
// batch accepts holds a line break). InvalidArgument on bad quoting.
Result<std::vector<std::string>> SplitCsvLine(std::string_view text);

// The header row (after a kUtf8Bom, if any); InvalidArgument naming an unknown, repeated or
// missing column.
Result<CsvHeader> ParseCsvHeader(std::string_view text);

// One data row: exactly as many cells as columns; an empty cell is a field left out, a
// filled one becomes the JSON Lines field of its column (a string), so the row is checked
// exactly as ParseOpObject checks a line. Errors name the line's problem.
OpLine ParseCsvOpLine(const CsvHeader& header, std::string_view text, size_t line);

}  // namespace drovebank
