// CSV batches as a module (src/features/batch/batch_csv.cc): RFC 4180 cells on one line,
// the header row (after a byte order mark) naming known columns once with op among them,
// and a row becoming the event its JSON Lines twin would. import-csv end to end is
// batch_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "features/batch/batch_parse.h"

namespace drovebank {
namespace {

using Cells = std::vector<std::string>;

TEST_CASE("batch csv: cells split like RFC 4180 on one line", "[batch_csv]") {
  CHECK(*SplitCsvLine("a,b,c") == Cells{"a", "b", "c"});
  CHECK(*SplitCsvLine("") == Cells{""});
  CHECK(*SplitCsvLine("a,,") == Cells{"a", "", ""});
  CHECK(*SplitCsvLine("\"x, y\",\"say \"\"hi\"\"\",z\r") == Cells{"x, y", "say \"hi\"", "z"});
  CHECK(*SplitCsvLine("\"\",b") == Cells{"", "b"});
  for (const char* bad : {"\"open", "\"a\"b,c", "a\"b,c"}) {
    INFO(bad);
    CHECK(SplitCsvLine(bad).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("batch csv: the header names known columns once, op among them, after a BOM",
          "[batch_csv]") {
  auto h = ParseCsvHeader(std::string(kUtf8Bom) + "op,id,amount,key");
  REQUIRE(h.ok());
  CHECK(h->columns == Cells{"op", "id", "amount", "key"});
  CHECK(ParseCsvHeader("op,from,to,amount,memo,key,first,last,id").ok());
  for (const char* bad : {"id,amount", "op,op,id", "op,id,colour", ""}) {
    INFO(bad);
    auto r = ParseCsvHeader(bad);
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
  CHECK(ParseCsvHeader("op,id,colour").status().message().find("colour") != std::string::npos);
}

TEST_CASE("batch csv: a row is the event its JSON Lines twin is; empty cells are left out",
          "[batch_csv]") {
  auto h = ParseCsvHeader("op,id,from,to,amount,memo,key");
  REQUIRE(h.ok());
  OpLine dep = ParseCsvOpLine(*h, "deposit,7,,,12.50,rent,k1", 3);
  REQUIRE(dep.status.ok());
  CHECK(dep.line == 3);
  REQUIRE(dep.event.ops.size() == 1);
  CHECK(dep.event.ops[0].kind == OpKind::kDeposit);
  CHECK(dep.event.ops[0].id == 7);
  CHECK(dep.event.ops[0].amount == 1250);
  CHECK(dep.event.ops[0].memo == "rent");
  CHECK(dep.event.key == "k1");
  OpLine twin = ParseOpLine(R"({"op":"deposit","id":"7","amount":"12.50","memo":"rent","key":"k1"})", 3);
  REQUIRE(twin.status.ok());
  CHECK(twin.event.ops == dep.event.ops);
  CHECK(twin.event.key == dep.event.key);

  OpLine tr = ParseCsvOpLine(*h, "transfer,,1,2,3,,", 4);
  REQUIRE(tr.status.ok());
  CHECK(tr.event.ops[0].kind == OpKind::kTransfer);
  CHECK(tr.event.ops[0].id == 1);
  CHECK(tr.event.ops[0].to == 2);
  CHECK(tr.event.ops[0].amount == 300);
  CHECK(tr.event.key.empty());

  CHECK(ParseCsvOpLine(*h, "deposit,7,,,1", 5).status.code() == Code::kInvalidArgument);
  CHECK(ParseCsvOpLine(*h, "deposit,7,,,1,,,extra", 5).status.code() == Code::kInvalidArgument);
  CHECK(ParseCsvOpLine(*h, "deposit,7,1,,1,,", 5).status.code() == Code::kInvalidArgument);
  CHECK(ParseCsvOpLine(*h, "fly,7,,,1,,", 5).status.code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace drovebank
