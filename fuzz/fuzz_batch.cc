// The batch input parsers (include/drovebank/batch.h) on hostile input: ParseExactJson and
// JsonMoney on every value it yields, ParseOpLine, and ParseCustomerBatch. Properties: no
// crash, no exception escaping; whatever is accepted is in range (money in [0, kMaxCents],
// ids in 1..kMaxAccountId, names and keys valid).
#include <cstdint>
#include <set>

#include "drovebank/batch.h"
#include "features/batch/exact_json.h"
#include "drovebank/validate.h"
#include "fuzz_check_op.h"
#include "fuzz_util.h"

using namespace drovebank;
using drovebank::fuzz::CheckOp;

namespace {

// Recursion is bounded by libFuzzer's input length (-max_len), so depth stays small.
void WalkMoney(const nlohmann::json& v, int depth) {
  if (depth > 5000) return;
  if (v.is_structured()) {
    for (const auto& child : v) WalkMoney(child, depth + 1);
    return;
  }
  auto m = JsonMoney(v, "amount");
  if (m.ok()) {
    FUZZ_CHECK(*m >= 0 && *m <= kMaxCents);
    auto back = ParseAmount(FormatExactMoney(*m));
    FUZZ_CHECK(back.ok() && *back == *m);
  } else {
    FUZZ_CHECK(m.status().code() == Code::kInvalidArgument);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view in = fuzz::AsView(data, size);
  auto j = ParseExactJson(in);
  if (j.ok()) {
    WalkMoney(*j, 0);
  } else {
    FUZZ_CHECK(j.status().code() == Code::kInvalidArgument);
  }

  OpLine line = ParseOpLine(in, 7);
  FUZZ_CHECK(line.line == 7);
  if (line.status.ok()) {
    FUZZ_CHECK(line.event.ops.size() == 1);
    CheckOp(line.event.ops[0]);
    FUZZ_CHECK(line.event.key.empty() || ValidateKey(line.event.key).ok());
  } else {
    FUZZ_CHECK(!line.status.message().empty());
  }

  auto batch = ParseCustomerBatch(in);
  if (batch.ok()) {
    std::set<std::uint64_t> customers;
    for (const Customer& c : batch->customers) {
      FUZZ_CHECK(customers.insert(c.id).second);
      std::set<std::uint64_t> events;
      for (const CustomerEvent& e : c.events) {
        FUZZ_CHECK(events.insert(e.id).second);
        FUZZ_CHECK(e.money >= 0 && e.money <= kMaxCents);
        if (e.interface != Interface::kQuery) FUZZ_CHECK(e.money > 0);
      }
    }
    if (batch->branch_balance) {
      FUZZ_CHECK(*batch->branch_balance >= 0 && *batch->branch_balance <= kMaxCents);
    }
  } else {
    FUZZ_CHECK(batch.status().code() == Code::kInvalidArgument);
  }
  return 0;
}
