// Batch input's exact JSON as a module (src/features/batch/exact_json.h, batch_json.cc):
// numbers that are not integers keep their text, so money is never rounded through a
// double; money from an integer, an exact number or a string, refused otherwise; the
// shortest exact decimal; the automatic key. Whole batches are batch_test.cc.
#include "features/batch/exact_json.h"

#include <catch2/catch.hpp>
#include <string>

#include "drovebank/batch.h"

namespace drovebank {
namespace {

TEST_CASE("batch json: a number that is not an integer keeps its text exactly",
          "[batch_json]") {
  auto j = ParseExactJson(
      R"({"a": 0.1, "b": 570.25, "c": 1e3, "d": 18446744073709551616, "e": 12, "f": -3})");
  REQUIRE(j.ok());
  auto text = [&](const char* k) {
    REQUIRE((*j)[k].is_binary());
    return std::string((*j)[k].get_binary().begin(), (*j)[k].get_binary().end());
  };
  CHECK(text("a") == "0.1");
  CHECK(text("b") == "570.25");
  CHECK(text("c") == "1e3");
  CHECK(text("d") == "18446744073709551616");
  CHECK((*j)["e"].is_number_unsigned());
  CHECK((*j)["e"].get<std::uint64_t>() == 12);
  CHECK((*j)["f"].is_number_integer());
  for (const char* bad : {"{", "{\"a\": 1,}", "[1 2]", "", "{\"a\": \"\xff\"}"}) {
    INFO(bad);
    CHECK(ParseExactJson(bad).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("batch json: money is exact from an integer, a number's text or a string, and "
          "refused otherwise",
          "[batch_json]") {
  auto money = [](const char* json_value) {
    auto j = ParseExactJson(std::string("{\"m\": ") + json_value + "}");
    REQUIRE(j.ok());
    return JsonMoney((*j)["m"], "amount");
  };
  CHECK(*money("570") == 57000);
  CHECK(*money("570.25") == 57025);
  CHECK(*money("0.1") == 10);
  CHECK(*money("\"570.25\"") == 57025);
  CHECK(*money("\"0.07\"") == 7);
  CHECK(*money("1000000000.10") == 100000000010);  // a double would not keep the cents
  CHECK(*money("0") == 0);
  for (const char* bad : {"-5", "\"-5\"", "1.001", "1e3", "\"\"", "true", "null", "[1]",
                          "\"5.0.0\"", "99999999999999999999"}) {
    INFO(bad);
    auto r = money(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("amount") != std::string::npos);
  }
}

TEST_CASE("batch json: the shortest exact decimal, and the automatic key", "[batch_json]") {
  CHECK(FormatExactMoney(57000) == "570");
  CHECK(FormatExactMoney(57050) == "570.5");
  CHECK(FormatExactMoney(57025) == "570.25");
  CHECK(FormatExactMoney(5) == "0.05");
  CHECK(FormatExactMoney(0) == "0");
  CHECK(AutoKey("0123456789abcdef", "7") == "batch-0123456789abcdef-7");
}

}  // namespace
}  // namespace drovebank
