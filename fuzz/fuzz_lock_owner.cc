// ParseLockOwner on hostile owner notes (anyone who can write locks/owners controls them).
// Properties: no crash; a parsed owner formats to a line that parses to the same owner.
#include <cstdint>

#include "store/lockfile.h"
#include "fuzz_util.h"

using namespace drovebank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsView(data, size);
  for (std::uint64_t slot : {std::uint64_t{0}, std::uint64_t{7}}) {
    auto owner = ParseLockOwner(text, slot);
    if (!owner) continue;
    std::string line = FormatLockOwner(*owner, slot);
    if (owner->host.size() > 64) continue;  // cut to fit the note line (FormatLockOwner)
    auto again = ParseLockOwner(line, slot);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->pid == owner->pid);
    FUZZ_CHECK(again->host == owner->host);
    FUZZ_CHECK(again->since_ms == owner->since_ms);
  }
  return 0;
}
