// Report output in the formats of `-O` (as hledger's -O): aligned text, CSV, TSV or JSON,
// written row by row so a report over the whole store holds one row at a time.
//
//   text  a header row (bold on a terminal), then one line a row, aligned by display
//         width (DisplayWidth: wide characters take two columns); a `fit` column's cell
//         is cut to its width ending in "…" (FitColumn), only here: csv, tsv and json
//         carry it whole; the caller's footer lines (page counts, totals) after it
//   csv   RFC 4180: a header row of column names, CRLF-free ("\n" line ends), a cell quoted
//         when it holds a comma, quote, CR or LF or starts with = + - @ or space
//         (CsvCell); a text cell (names, keys) that starts with = + - @ is also prefixed
//         with ' so a spreadsheet shows it as text instead of evaluating it
//   tsv   the same columns separated by tabs, no quoting (no cell can hold a tab or line
//         end: names refuse control characters), the same ' prefix
//   json  one JSON object: the caller's head fields, then an array of row objects under
//         `array_key`, then the tail fields
// docs/FORMAT.md lists each report's columns.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "drovebank/status.h"

namespace drovebank {

enum class OutputFormat { kText, kCsv, kTsv, kJson };

// "text", "csv", "tsv" or "json"; InvalidArgument otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view name);

struct Column {
  enum Show { kBoth, kTextOnly, kDataOnly };  // data: csv, tsv
  std::string name;
  int width = 0;       // text: at least this many columns (0: as long as the cell)
  bool right = false;  // text: right-aligned
  bool user_text = false;  // csv/tsv: a cell of someone's text, protected from formulas
  Show show = kBoth;
  bool fit = false;  // text: cut to `width` with "…" (a name), so the columns stay aligned
};

// A cell for a spreadsheet: `text` with a ' in front when it starts with = + - @.
std::string SpreadsheetText(std::string_view text);

class TableWriter {
 public:
  TableWriter(std::FILE* out, OutputFormat format, std::vector<Column> columns,
              std::string array_key);
  // Prints the header row (text, csv, tsv) or `{` with the `head` fields and the array's
  // opening (json). Call once, before any Row. With `text_header_if_empty` false, the
  // text header waits for the first Row: a table of no rows is its footer alone.
  void Begin(const nlohmann::json& head = nlohmann::json::object(),
             bool text_header_if_empty = true);
  // One row: `cells` in the order of the columns (all of them: those not shown in this
  // format are skipped), `item` the row's JSON object (only its json form is printed).
  void Row(const std::vector<std::string>& cells, const nlohmann::json& item);
  // Closes the array and adds `tail`'s fields (json) or prints `footer` (text; nothing in
  // csv and tsv). It does not flush: the caller does, so that a failed write's errno
  // (ENOSPC) is the caller's to report.
  void End(const nlohmann::json& tail, const std::string& footer);

  OutputFormat format() const { return format_; }
  // The text row of `cells`, as Row prints it (for the caller's own footer lines).
  std::string TextLine(const std::vector<std::string>& cells) const;

 private:
  void Delimited(const std::vector<std::string>& cells, bool header);

  std::FILE* out_;
  OutputFormat format_;
  std::vector<Column> columns_;
  std::string array_key_;
  bool first_row_ = true;
  std::string pending_header_;  // text: the header row a first Row prints first
};

}  // namespace drovebank
