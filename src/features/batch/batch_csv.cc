// CSV of drovebank operations: each row becomes the JSON Lines object it stands for, so
// both formats share one set of checks and messages (batch_ops.cc).
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "drovebank/batch.h"
#include "batch_parse.h"
#include "exact_json.h"

namespace drovebank {

namespace {

constexpr std::string_view kColumns[] = {"op",  "id",  "from",  "to",  "amount",
                                         "memo", "key", "first", "last"};

std::string ColumnList() {
  std::string out;
  for (std::string_view c : kColumns) out += fmt::format("{}{}", out.empty() ? "" : ",", c);
  return out;
}

}  // namespace

Result<std::vector<std::string>> SplitCsvLine(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  std::vector<std::string> cells(1);
  size_t i = 0;
  bool at_start = true;  // at the start of a cell: a quote here opens a quoted cell
  while (i < text.size()) {
    char c = text[i];
    if (at_start && c == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) {
          return Status::InvalidArgument(fmt::format(
              "cell {} opens a quote that does not close on this line", cells.size()));
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cells.back() += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cells.back() += text[i++];
      }
      if (i < text.size() && text[i] != ',') {
        return Status::InvalidArgument(fmt::format(
            "cell {} has text after its closing quote (a quote inside a cell is written \"\")",
            cells.size()));
      }
      at_start = false;
      continue;
    }
    if (c == ',') {
      cells.emplace_back();
      at_start = true;
    } else if (c == '"') {
      return Status::InvalidArgument(fmt::format(
          "cell {} has a quote inside it; quote the whole cell and double the quote",
          cells.size()));
    } else {
      cells.back() += c;
      at_start = false;
    }
    ++i;
  }
  return cells;
}

Result<CsvHeader> ParseCsvHeader(std::string_view text) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  DB_ASSIGN_OR_RETURN(std::vector<std::string> cells, SplitCsvLine(text));
  CsvHeader h;
  std::set<std::string> seen;
  for (std::string& c : cells) {
    if (std::find(std::begin(kColumns), std::end(kColumns), c) == std::end(kColumns)) {
      return Status::InvalidArgument(fmt::format(
          "the header row names an unknown column '{}'; the columns are {}",
          EscapeForTerminal(c), ColumnList()));
    }
    if (!seen.insert(c).second) {
      return Status::InvalidArgument(fmt::format("the header row names '{}' twice", c));
    }
    h.columns.push_back(std::move(c));
  }
  if (seen.count("op") == 0) {
    return Status::InvalidArgument(fmt::format(
        "the header row has no 'op' column (a header row such as {} comes first)",
        ColumnList()));
  }
  return h;
}

OpLine ParseCsvOpLine(const CsvHeader& header, std::string_view text, size_t line) {
  auto cells = SplitCsvLine(text);
  if (!cells.ok()) return OpLine{.line = line, .status = cells.status(), .event = {}};
  if (cells->size() != header.columns.size()) {
    return OpLine{.line = line,
                  .status = Status::InvalidArgument(
                      fmt::format("the row has {} cell(s); the header row has {}",
                                  cells->size(), header.columns.size())),
                  .event = {}};
  }
  nlohmann::json object = nlohmann::json::object();
  for (size_t i = 0; i < cells->size(); ++i) {
    if (!(*cells)[i].empty()) object[header.columns[i]] = std::move((*cells)[i]);
  }
  return ParseOpObject(object, line);
}

}  // namespace drovebank
