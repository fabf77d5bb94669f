// DecodeAccountFile on hostile files. Two inputs per run: the bytes as a whole file, and
// the bytes as a record body framed with the right header and checksum (so the fuzzer
// reaches the field parser behind the CRC). Properties: no crash; a decoded account is
// valid; Encode(Decode(x)) decodes to the same account and encodes to the same bytes.
#include <cstdint>

#include "drovebank/account.h"
#include "fuzz_util.h"

using namespace drovebank;

namespace {

void CheckDecoded(const Account& a, AccountId expected) {
  FUZZ_CHECK(a.id >= 1 && a.id <= kMaxAccountId);
  FUZZ_CHECK(expected == 0 || a.id == expected);
  FUZZ_CHECK(ValidateName(a.first, "first").ok());
  FUZZ_CHECK(ValidateName(a.last, "last").ok());
  FUZZ_CHECK(a.balance >= 0 && a.balance <= kMaxCents);
  FUZZ_CHECK(a.version >= 1);
  std::string encoded = EncodeAccountFile(a);
  auto again = DecodeAccountFile(encoded, a.id);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == a);
  FUZZ_CHECK(EncodeAccountFile(*again) == encoded);
  // Another id than the one inside is always refused.
  AccountId other = a.id == kMaxAccountId ? 1 : a.id + 1;
  FUZZ_CHECK(!DecodeAccountFile(encoded, other).ok());
}

void Try(std::string_view text, AccountId expected) {
  auto a = DecodeAccountFile(text, expected);
  if (a.ok()) {
    CheckDecoded(*a, expected);
  } else {
    FUZZ_CHECK(a.status().code() == Code::kCorruption);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view in = fuzz::AsView(data, size);
  Try(in, 0);
  // The body framed as the encoder would frame it, checksum included.
  std::string framed =
      std::string(kAccountHeader) + "\n" + std::string(in) + "," + Crc32Hex(in) + "\n";
  Try(framed, 0);
  auto a = DecodeAccountFile(framed, 0);
  if (a.ok()) Try(framed, a->id);
  return 0;
}
