// The branch/customer format's parser as a module (ParseCustomerBatch,
// src/features/batch/batch_customers.cc): branches that agree on one balance, customers
// with their events sorted by id, and every malformed input refused saying where. Running
// customers against a store is batch_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/batch.h"
#include "features/batch/batch_parse.h"

namespace drovebank {
namespace {

TEST_CASE("batch customers: branches agree on the balance, events are sorted by id",
          "[batch_customers]") {
  auto b = ParseCustomerBatch(R"([
    {"type": "branch", "id": 1, "balance": 570.25},
    {"type": "customer", "id": 9, "events": [
      {"id": 3, "interface": "withdraw", "money": "10"},
      {"id": 1, "interface": "query"},
      {"id": 2, "interface": "deposit", "money": 0.5}]},
    {"type": "branch", "id": 2, "balance": "570.25"},
    {"type": "customer", "id": 4, "events": []}
  ])");
  REQUIRE(b.ok());
  REQUIRE(b->branch_balance);
  CHECK(*b->branch_balance == 57025);
  REQUIRE(b->customers.size() == 2);
  CHECK(b->customers[0].id == 9);  // file order
  CHECK(b->customers[1].id == 4);
  const auto& ev = b->customers[0].events;
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].id == 1);
  CHECK(ev[0].interface == Interface::kQuery);
  CHECK(ev[1].interface == Interface::kDeposit);
  CHECK(ev[1].money == 50);
  CHECK(ev[2].interface == Interface::kWithdraw);
  CHECK(ev[2].money == 1000);

  auto none = ParseCustomerBatch("[]");
  REQUIRE(none.ok());
  CHECK_FALSE(none->branch_balance);
  CHECK(none->customers.empty());
}

TEST_CASE("batch customers: anything unexpected is refused, saying what and where",
          "[batch_customers]") {
  struct Bad {
    const char* text;
    const char* says;
  };
  for (Bad b : {
           Bad{R"([{"type":"branch","id":1,"balance":5},{"type":"branch","id":2,"balance":6}])",
               "branches disagree on the balance: branch 1 has 5, branch 2 has 6"},
           Bad{R"([{"type":"customer","id":1,"events":[]},{"type":"customer","id":1,"events":[]}])",
               "customer 1 appears twice"},
           Bad{R"([{"type":"customer","id":1,"events":[{"id":2,"interface":"query"},{"id":2,"interface":"query"}]}])",
               "event id 2 appears twice"},
           Bad{R"([{"type":"customer","id":1,"events":[{"id":2,"interface":"query","money":1}]}])",
               "a query takes no \"money\""},
           Bad{R"([{"type":"customer","id":1,"events":[{"id":2,"interface":"deposit"}]}])",
               "a deposit needs \"money\""},
           Bad{R"([{"type":"customer","id":1,"events":[{"id":2,"interface":"deposit","money":0}]}])",
               "money must be above 0"},
           Bad{R"([{"type":"customer","id":1,"events":[{"id":2,"interface":"loan","money":1}]}])",
               "unknown interface \"loan\""},
           Bad{R"([{"type":"customer","id":-1,"events":[]}])", "\"id\" must be a non-negative"},
           Bad{R"([{"type":"customer","id":1,"events":[],"vip":true}])", "unexpected field \"vip\""},
           Bad{R"([{"type":"atm","id":1}])", "unknown type \"atm\""},
           Bad{R"([{"type":"branch","id":1}])", "branch 1: missing \"balance\""},
           Bad{R"({"type":"branch"})", "must be a JSON array"},
           Bad{R"([{"type":"branch",)", ""}}) {
    INFO(b.text);
    auto r = ParseCustomerBatch(b.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find(b.says) != std::string::npos);
  }
}

TEST_CASE("batch customers: a customer's results as printed", "[batch_customers]") {
  CHECK(CustomerResultJson(2, {}) == R"({"id": 2, "recv": []})");
  CHECK(CustomerResultJson(7, {"\"ok\"", "{\"balance\": 5}"}) ==
        R"({"id": 7, "recv": ["ok", {"balance": 5}]})");
}

}  // namespace
}  // namespace drovebank
