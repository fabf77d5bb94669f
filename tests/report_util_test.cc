// The report commands' shared pieces as a module (src/cli/report_util.h): totals past the
// range of one balance, signed amounts, and the cells and JSON of a history entry and an
// account in their columns. The reports through the program are reports_test.cc.
#include "cli/report_util.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drovebank/dates.h"
#include "tz_scope.h"

namespace drovebank {
namespace {

using testing::TzScope;

TEST_CASE("report util: totals of any size and the signed amount of a change", "[report_util]") {
  CHECK(FormatTotal(0) == "0.00");
  CHECK(FormatTotal(5) == "0.05");
  CHECK(FormatTotal(-5) == "-0.05");
  CHECK(FormatTotal(123456) == "1234.56");
  // 10^20 + 1 cents: past the range of one balance (and of 64 bits).
  __int128 big = static_cast<__int128>(1'000'000'000'000'000'000LL) * 100 + 1;
  CHECK(FormatTotal(big) == "1000000000000000000.01");
  CHECK(FormatTotal(-big) == "-1000000000000000000.01");

  HistoryEntry e;
  e.amount = 1000;
  e.kind = OpKind::kDeposit;
  CHECK(SignedAmount(e) == "10.00");
  e.kind = OpKind::kWithdraw;
  CHECK(SignedAmount(e) == "-10.00");
  e.kind = OpKind::kTransfer;
  e.outgoing = true;
  CHECK(SignedAmount(e) == "-10.00");
  e.outgoing = false;
  CHECK(SignedAmount(e) == "10.00");
  e.kind = OpKind::kWithdraw;
  e.amount = 0;
  CHECK(SignedAmount(e) == "0.00");  // never "-0.00"
}

TEST_CASE("report util: a history entry's cells line up with its columns, its JSON with them",
          "[report_util]") {
  TzScope utc(std::nullopt);
  std::vector<Column> cols = HistoryColumns();
  HistoryEntry e;
  e.txn = 7;
  e.time_ms = 0;
  e.kind = OpKind::kTransfer;
  e.amount = 250;
  e.outgoing = true;
  e.counterpart = 3;
  e.balance_after = 9750;
  e.memo = "rent";
  e.reversed_by = 9;
  std::vector<std::string> cells = HistoryCells(e);
  REQUIRE(cells.size() == cols.size());
  auto cell = [&](const std::string& name, Column::Show show) {
    for (size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].name == name && (cols[i].show == show || cols[i].show == Column::kBoth)) {
        return cells[i];
      }
    }
    FAIL("no column " << name);
    return std::string();
  };
  // Each column's cell, by where the column shows.
  const std::map<Column::Show, std::map<std::string, std::string>> want = {
      {Column::kBoth,
       {{"txn", "7"},
        {"time", "1970-01-01T00:00:00.000Z"},
        {"kind", "transfer"},
        {"amount", "-2.50"},
        {"balance_after", "97.50"}}},
      {Column::kTextOnly, {{"counterpart", "to 3"}, {"memo", "reversed by 9; rent"}}},
      {Column::kDataOnly,
       {{"counterpart", "3"}, {"direction", "out"}, {"memo", "rent"}, {"reverses", ""},
        {"reversed_by", "9"}}},
  };
  for (const auto& [show, texts] : want) {
    for (const auto& [name, text] : texts) {
      INFO("column " << name << ", shown " << static_cast<int>(show));
      CHECK(cell(name, show) == text);
    }
  }

  nlohmann::json item = HistoryItem(e);
  CHECK(item["amount"] == "2.50");
  CHECK(item["direction"] == "out");
  CHECK(item["counterpart"] == 3);
  CHECK(item["reverses"].is_null());
  CHECK(item["reversed_by"] == 9);

  HistoryEntry rename;
  rename.kind = OpKind::kRename;
  rename.first = "Ada";
  rename.last = "King";
  rename.was_first = "Ada";
  rename.was_last = "Byron";
  std::vector<std::string> rc = HistoryCells(rename);
  CHECK(rc[8] == "renamed from Ada Byron to Ada King");
  CHECK(HistoryItem(rename)["renamed"]["from"]["last"] == "Byron");
  CHECK(HistoryItem(rename)["counterpart"].is_null());
}

TEST_CASE("report util: an account's cells line up with its columns", "[report_util]") {
  std::vector<Column> cols = AccountColumns();
  Account a;
  a.id = 42;
  a.first = "Mary";
  a.last = "Somerville";
  a.balance = 5;
  a.closed = true;
  std::vector<std::string> cells = AccountCells(a);
  REQUIRE(cells.size() == cols.size());
  for (size_t i = 0; i < cols.size(); ++i) {
    INFO(cols[i].name);
    if (cols[i].name == "id") CHECK(cells[i] == "42");
    if (cols[i].name == "name") CHECK(cells[i] == "Mary Somerville");
    if (cols[i].name == "first") CHECK(cells[i] == "Mary");
    if (cols[i].name == "last") CHECK(cells[i] == "Somerville");
    if (cols[i].name == "balance") CHECK(cells[i] == "0.05");
    if (cols[i].name == "status") CHECK(cells[i] == "closed");
  }
}

}  // namespace
}  // namespace drovebank
