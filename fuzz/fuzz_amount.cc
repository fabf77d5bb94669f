// ParseAmount: never crashes, never accepts anything outside [0, kMaxCents], and what it
// accepts formats back to text that parses to the same cents.
#include <cstdint>

#include "drovebank/money.h"
#include "fuzz_util.h"

using namespace drovebank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsView(data, size);
  auto v = ParseAmount(text);
  if (!v.ok()) {
    FUZZ_CHECK(v.status().code() == Code::kInvalidArgument);
    FUZZ_CHECK(!v.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(*v >= 0 && *v <= kMaxCents);
  // Only digits and at most one point can have passed.
  size_t points = 0;
  for (char c : text) {
    FUZZ_CHECK((c >= '0' && c <= '9') || c == '.');
    points += c == '.';
  }
  FUZZ_CHECK(points <= 1);
  std::string canonical = FormatCents(*v);
  auto again = ParseAmount(canonical);
  FUZZ_CHECK(again.ok() && *again == *v);
  // Adding within range never passes the maximum silently.
  auto sum = AddCents(*v, *v);
  FUZZ_CHECK(sum.ok() ? (*sum == *v + *v && *sum <= kMaxCents) : (*v + *v > kMaxCents));
  return 0;
}
