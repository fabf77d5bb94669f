#include "table.h"

#include <fmt/format.h>

#include <algorithm>

#include "drovebank/account.h"
#include "color.h"
#include "columns.h"
#include "drovebank/validate.h"

namespace drovebank {

namespace {

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The fields of a JSON object without its braces ("" for an empty object), so head and
// tail fields can surround the streamed array.
std::string FieldsOf(const nlohmann::json& obj) {
  if (!obj.is_object() || obj.empty()) return "";
  std::string s = DumpJson(obj);
  return s.substr(1, s.size() - 2);
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "text" || name == "txt") return OutputFormat::kText;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "tsv") return OutputFormat::kTsv;
  if (name == "json") return OutputFormat::kJson;
  return Status::InvalidArgument(fmt::format(
      "output format '{}' is not one of text, csv, tsv, json", name.substr(0, 32)));
}

std::string SpreadsheetText(std::string_view text) {
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@')) {
    // fmt rather than "'" + std::string: GCC 12 at -O3 reports a false -Wrestrict there.
    return fmt::format("'{}", text);
  }
  return std::string(text);
}

TableWriter::TableWriter(std::FILE* out, OutputFormat format, std::vector<Column> columns,
                         std::string array_key)
    : out_(out), format_(format), columns_(std::move(columns)), array_key_(std::move(array_key)) {}

std::string TableWriter::TextLine(const std::vector<std::string>& cells) const {
  std::string line;
  bool first = true;
  for (size_t i = 0; i < columns_.size() && i < cells.size(); ++i) {
    const Column& c = columns_[i];
    if (c.show == Column::kDataOnly) continue;
    if (!first) line += "  ";
    first = false;
    if (c.fit && c.width > 0) {
      line += FitColumn(cells[i], static_cast<size_t>(c.width), c.right);
      continue;
    }
    size_t w = DisplayWidth(cells[i]);
    std::string pad(c.width > 0 && w < static_cast<size_t>(c.width) ? c.width - w : 0, ' ');
    line += c.right ? pad + cells[i] : cells[i] + pad;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

void TableWriter::Delimited(const std::vector<std::string>& cells, bool header) {
  std::string line;
  bool first = true;
  for (size_t i = 0; i < columns_.size() && i < cells.size(); ++i) {
    const Column& c = columns_[i];
    if (c.show == Column::kTextOnly) continue;
    if (!first) line += format_ == OutputFormat::kCsv ? ',' : '\t';
    first = false;
    std::string guarded;
    std::string_view cell = cells[i];
    if (!header && c.user_text) cell = guarded = SpreadsheetText(cell);
    if (format_ == OutputFormat::kCsv) {
      AppendCsvCell(&line, cell);
    } else {
      line.append(cell);
    }
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
}

void TableWriter::Begin(const nlohmann::json& head, bool text_header_if_empty) {
  std::vector<std::string> names;
  for (const Column& c : columns_) names.push_back(c.name);
  switch (format_) {
    case OutputFormat::kText: {
      for (std::string& n : names) std::replace(n.begin(), n.end(), '_', ' ');
      std::string header = Paint(out_, Style::kHeader, TextLine(names)) + "\n";
      if (text_header_if_empty) {
        std::fputs(header.c_str(), out_);
      } else {
        pending_header_ = std::move(header);
      }
      break;
    }
    case OutputFormat::kCsv:
    case OutputFormat::kTsv:
      Delimited(names, /*header=*/true);
      break;
    case OutputFormat::kJson: {
      std::string fields = FieldsOf(head);
      fmt::print(out_, "{{{}{}{}:[", fields, fields.empty() ? "" : ",", DumpJson(array_key_));
      break;
    }
  }
}

void TableWriter::Row(const std::vector<std::string>& cells, const nlohmann::json& item) {
  switch (format_) {
    case OutputFormat::kText:
      if (!pending_header_.empty()) {
        std::fputs(pending_header_.c_str(), out_);
        pending_header_.clear();
      }
      {
        std::string line = TextLine(cells);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), out_);
      }
      break;
    case OutputFormat::kCsv:
    case OutputFormat::kTsv:
      Delimited(cells, /*header=*/false);
      break;
    case OutputFormat::kJson:
      fmt::print(out_, "{}{}", first_row_ ? "" : ",", DumpJson(item));
      break;
  }
  first_row_ = false;
}

void TableWriter::End(const nlohmann::json& tail, const std::string& footer) {
  if (format_ == OutputFormat::kJson) {
    std::string fields = FieldsOf(tail);
    fmt::print(out_, "]{}{}}}\n", fields.empty() ? "" : ",", fields);
  } else if (format_ == OutputFormat::kText && !footer.empty()) {
    fmt::print(out_, "{}\n", footer);
  }
}

}  // namespace drovebank
