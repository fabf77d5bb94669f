// ParseLegacyAccountLine on hostile legacy files (the first four bytes choose the id).
// Properties: no crash; an accepted line gives valid names (kept verbatim, no comma), a
// balance in [0, kMaxCents], and the id it was given; a bad id is always refused.
#include <cstdint>

#include "drovebank/legacy_import.h"
#include "fuzz_util.h"

using namespace drovebank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view in = fuzz::AsView(data, size);
  std::uint32_t raw = fuzz::TakeU32(&in);
  // Mostly valid ids, sometimes the edges and beyond.
  AccountId id = raw % 16 == 0 ? raw : 1 + raw % kMaxAccountId;
  auto a = ParseLegacyAccountLine(in, id);
  if (!a.ok()) {
    FUZZ_CHECK(a.status().code() == Code::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(id >= 1 && id <= kMaxAccountId && a->id == id);
  FUZZ_CHECK(ValidateName(a->first, "first").ok() && ValidateName(a->last, "last").ok());
  FUZZ_CHECK(a->first.find(',') == std::string::npos && a->last.find(',') == std::string::npos);
  FUZZ_CHECK(in.find(a->first) == 0);
  FUZZ_CHECK(a->balance >= 0 && a->balance <= kMaxCents);
  FUZZ_CHECK(a->source_file.empty());
  return 0;
}
