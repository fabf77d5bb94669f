// JSON Lines of operations as a module (src/features/batch/batch_ops.cc): each op's fields
// and refusals, and RunOpsBatch's one result line per input line in order, groups, the
// summary, and the automatic keys that make a second run replay. The program's batch and
// its crashes are batch_test.cc.
#include <cstdio>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drovebank/batch.h"
#include "features/batch/batch_parse.h"
#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::MustOpen;
using testing::MustOpenStore;
using testing::TempDir;

TEST_CASE("batch ops: each op's fields become its event", "[batch_ops]") {
  OpLine open = ParseOpLine(R"({"op":"open","first":"  Ada ","last":"Lovelace"})", 1);
  REQUIRE(open.status.ok());
  CHECK(open.event.ops[0].kind == OpKind::kOpen);
  CHECK(open.event.ops[0].first == "Ada");  // trimmed
  CHECK(open.event.ops[0].amount == 0);     // optional
  OpLine wd = ParseOpLine(R"({"op":"withdraw","id":12,"amount":5,"memo":"cash"})", 2);
  REQUIRE(wd.status.ok());
  CHECK(wd.event.ops[0].kind == OpKind::kWithdraw);
  CHECK(wd.event.ops[0].id == 12);
  CHECK(wd.event.ops[0].amount == 500);
  CHECK(wd.event.ops[0].memo == "cash");
  OpLine tr = ParseOpLine(R"({"op":"transfer","from":"1","to":2,"amount":0.5,"key":"t-1"})", 3);
  REQUIRE(tr.status.ok());
  CHECK(tr.event.ops[0].id == 1);
  CHECK(tr.event.ops[0].to == 2);
  CHECK(tr.event.ops[0].amount == 50);
  CHECK(tr.event.key == "t-1");
  OpLine close = ParseOpLine(R"({"op":"close","id":4})", 4);
  REQUIRE(close.status.ok());
  CHECK(close.event.ops[0].kind == OpKind::kClose);
}

TEST_CASE("batch ops: a line that is not exactly an operation is refused, saying why",
          "[batch_ops]") {
  struct Bad {
    const char* line;
    const char* says;
  };
  for (Bad b : {Bad{R"({"op":"deposit","id":1})", "needs \"amount\""},
                Bad{R"({"op":"deposit","id":1,"amount":1,"to":2})", "unexpected field \"to\""},
                Bad{R"({"op":"close","id":1,"memo":"x"})", "unexpected field \"memo\""},
                Bad{R"({"op":"rename","id":1,"first":"A","last":"B"})", "unknown op"},
                Bad{R"({"op":"deposit","id":1,"amount":"0"})", "above 0.00"},
                Bad{R"({"op":"deposit","id":1,"amount":1,"key":"reverse:3"})", "reverse"},
                Bad{R"({"id":1})", "missing \"op\""},
                Bad{R"([1])", "one JSON object"},
                Bad{R"({"op":"deposit","id":1,"amount":1.234})", "amount"}}) {
    INFO(b.line);
    OpLine l = ParseOpLine(b.line, 9);
    CHECK(l.line == 9);
    CHECK(l.status.code() == Code::kInvalidArgument);
    CHECK(l.status.message().find(b.says) != std::string::npos);
  }
}

// Runs `text` against `store`, returning the printed lines.
std::vector<nlohmann::json> Run(Store* store, const std::string& text, size_t group_size,
                                BatchSummary* summary) {
  BatchInput in = BatchInput::FromString(text);
  BatchOptions o;
  o.group_size = group_size;
  o.open_store = [store]() -> Result<Store*> { return store; };
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  REQUIRE(RunOpsBatch(&in, o, out, summary).ok());
  std::rewind(out);
  std::vector<nlohmann::json> lines;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, out) != nullptr) lines.push_back(nlohmann::json::parse(buf));
  std::fclose(out);
  return lines;
}

TEST_CASE("batch ops: one result a line in order, in groups; a second run replays",
          "[batch_ops]") {
  TempDir dir;
  auto s = MustOpenStore(dir / "data", DefaultEnv());
  AccountId a = MustOpen(*s, 1000);
  const std::string text = R"({"op":"deposit","id":1,"amount":"2.50"}

{"op":"withdraw","id":1,"amount":"500"}
not json
{"op":"transfer","from":1,"to":1,"amount":1}
{"op":"deposit","id":1,"amount":1,"key":"mine"}
)";
  BatchSummary first;
  auto lines = Run(s.get(), text, 2, &first);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0]["line"] == 1);
  CHECK(lines[0]["ok"] == true);
  CHECK(lines[0]["balance"] == "12.50");
  CHECK(lines[1]["line"] == 3);
  CHECK(lines[1]["error"]["code"] == "InsufficientFunds");
  CHECK(lines[2]["line"] == 4);
  CHECK(lines[2]["error"]["code"] == "InvalidArgument");
  CHECK(lines[3]["line"] == 5);
  CHECK(lines[3]["ok"] == false);
  CHECK(lines[4]["line"] == 6);
  CHECK(lines[4]["key"] == "mine");
  CHECK(lines[4]["balance"] == "13.50");
  CHECK(first.events == 5);
  CHECK(first.applied == 2);
  CHECK(first.refused == 2);
  CHECK(first.invalid == 1);
  CHECK(first.groups == 2);
  CHECK(s->Get(a)->balance == 1350);

  BatchSummary again;
  auto second = Run(s.get(), text, 2, &again);
  REQUIRE(second.size() == 5);
  CHECK(second[0]["replayed"] == true);
  CHECK(second[0]["key"].get<std::string>().rfind("batch-", 0) == 0);
  CHECK(second[4]["replayed"] == true);
  CHECK(again.applied == 0);
  CHECK(again.replayed == 2);
  CHECK(again.groups == 0);
  CHECK(s->Get(a)->balance == 1350);  // nothing applied twice
}

}  // namespace
}  // namespace drovebank
