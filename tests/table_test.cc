// Report tables as a module (src/cli/table.h): text aligned by display width with a fit
// column cut with an ellipsis, CSV quoted and protected from formulas, TSV with the same
// protection, JSON streamed between head and tail fields; each format shows its own
// columns. The reports through the program are reports_test.cc and cli_polish_e2e_test.cc.
#include "cli/table.h"

#include <cstdio>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace drovebank {
namespace {

// What `write` prints through a TableWriter of `format` (a file: never a terminal, so no
// colour).
template <class Fn>
std::string Printed(OutputFormat format, const std::vector<Column>& columns, Fn write) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    TableWriter t(f, format, columns, "rows");
    write(t);
  }
  std::string out = testing::Contents(f);
  std::fclose(f);
  return out;
}

std::vector<Column> Columns() {
  return {{"id", 4, true},
          {"name", 8, false, true, Column::kTextOnly, /*fit=*/true},
          {"first", 0, false, true, Column::kDataOnly},
          {"balance", 8, true},
          {"status", 0}};
}

void TwoRows(TableWriter& t) {
  t.Begin(nlohmann::json{{"page", 1}});
  t.Row({"1", "Zoë Ångström", "=cmd()", "5.00", "open"}, {{"id", 1}, {"first", "=cmd()"}});
  t.Row({"22", "中文 Li", "a,\"b\"", "-1.50", "closed"}, {{"id", 22}});
  t.End(nlohmann::json{{"pages", 3}}, "page 1 of 3");
}

TEST_CASE("table: text is aligned by display width, a fit column cut with an ellipsis",
          "[table]") {
  std::string text = Printed(OutputFormat::kText, Columns(), TwoRows);
  CHECK(text ==
        "  id  name       balance  status\n"
        "   1  Zoë Ång…      5.00  open\n"
        "  22  中文 Li      -1.50  closed\n"
        "page 1 of 3\n");
  // Wide characters take two columns in a column that is not cut.
  std::vector<Column> wide = {{"who", 6}, {"n", 2, true}};
  CHECK(Printed(OutputFormat::kText, wide, [](TableWriter& t) {
          t.Begin();
          t.Row({"中文", "1"}, {});
          t.Row({"ab", "22"}, {});
          t.End({}, "");
        }) == "who      n\n"
              "中文     1\n"
              "ab      22\n");
  // A table of no rows may print its footer alone.
  std::string empty = Printed(OutputFormat::kText, Columns(), [](TableWriter& t) {
    t.Begin(nlohmann::json::object(), /*text_header_if_empty=*/false);
    t.End(nlohmann::json::object(), "nothing found");
  });
  CHECK(empty == "nothing found\n");
}

TEST_CASE("table: CSV and TSV carry the data columns whole, text protected from formulas",
          "[table]") {
  CHECK(Printed(OutputFormat::kCsv, Columns(), TwoRows) ==
        "id,first,balance,status\n"
        "1,'=cmd(),5.00,open\n"
        "22,\"a,\"\"b\"\"\",\"-1.50\",closed\n");
  CHECK(Printed(OutputFormat::kTsv, Columns(), TwoRows) ==
        "id\tfirst\tbalance\tstatus\n"
        "1\t'=cmd()\t5.00\topen\n"
        "22\ta,\"b\"\t-1.50\tclosed\n");
  CHECK(SpreadsheetText("@x") == "'@x");
  CHECK(SpreadsheetText("+1") == "'+1");
  CHECK(SpreadsheetText("a=b") == "a=b");
}

TEST_CASE("table: JSON is one object, the rows between the head and tail fields", "[table]") {
  std::string json = Printed(OutputFormat::kJson, Columns(), TwoRows);
  auto j = nlohmann::json::parse(json);
  CHECK(j == nlohmann::json::parse(
                 R"j({"page":1,"rows":[{"id":1,"first":"=cmd()"},{"id":22}],"pages":3})j"));
  CHECK(json.find("\"page\":1") < json.find("\"rows\""));
  CHECK(json.find("\"rows\"") < json.find("\"pages\""));
  auto none = nlohmann::json::parse(Printed(OutputFormat::kJson, Columns(), [](TableWriter& t) {
    t.Begin();
    t.End(nlohmann::json::object(), "ignored");
  }));
  CHECK(none == nlohmann::json::parse(R"({"rows":[]})"));
  CHECK(*ParseOutputFormat("txt") == OutputFormat::kText);
  CHECK(*ParseOutputFormat("tsv") == OutputFormat::kTsv);
  CHECK(ParseOutputFormat("xml").status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace drovebank
