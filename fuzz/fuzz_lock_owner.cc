// ParseLockOwner on hostile lock files (anyone who can write locks/ controls them).
// Properties: no crash; a parsed owner formats to a line that parses to the same owner.
#include <cstdint>

#include "drovebank/lockfile.h"
#include "fuzz_util.h"

using namespace drovebank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  auto owner = ParseLockOwner(fuzz::AsView(data, size));
  if (!owner) return 0;
  std::string line = FormatLockOwner(*owner);
  auto again = ParseLockOwner(line);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->process.pid == owner->process.pid);
  FUZZ_CHECK(again->process.start_time == owner->process.start_time);
  FUZZ_CHECK(again->process.boot_id == owner->process.boot_id);
  FUZZ_CHECK(again->process.host == owner->process.host);
  FUZZ_CHECK(again->since_ms == owner->since_ms);
  return 0;
}
