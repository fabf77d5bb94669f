// The validators that guard file names and terminal output: ParseAccountId, ValidateKey,
// ValidateName, ValidateNewName, AccountQuery. Properties: an accepted id is 1..kMaxAccountId
// and its decimal text is the input without leading zeros; an accepted key can never act as
// a path (no '/', no leading '.', only [A-Za-z0-9_.:-]); an accepted name holds no C0, DEL
// or C1 code point and no ESC, is 1-256 code points of well-formed UTF-8; TrimName is
// idempotent, and a name ValidateNewName accepts every reader accepts; a search text parses
// or is refused, never crashes.
#include <cstdint>
#include <string>

#include "drovebank/search.h"
#include "drovebank/validate.h"
#include "fuzz_util.h"

using namespace drovebank;

namespace {

bool WellFormedUtf8NoControls(std::string_view s, size_t* count) {
  *count = 0;
  for (size_t i = 0; i < s.size(); ++(*count)) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (i + len > s.size()) return false;
    // C1 controls are U+0080..U+009F: C2 80..C2 9F.
    if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view in = fuzz::AsView(data, size);
  auto id = ParseAccountId(in);
  if (id.ok()) {
    FUZZ_CHECK(*id >= 1 && *id <= kMaxAccountId);
    size_t nz = in.find_first_not_of('0');
    FUZZ_CHECK(nz != std::string_view::npos && std::to_string(*id) == in.substr(nz));
  }
  if (ValidateKey(in).ok()) {
    FUZZ_CHECK(!in.empty() && in.size() <= 64 && in[0] != '.');
    FUZZ_CHECK(in.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_.:-") == std::string_view::npos);
  }
  if (ValidateName(in, "name").ok()) {
    size_t count = 0;
    FUZZ_CHECK(WellFormedUtf8NoControls(in, &count));
    FUZZ_CHECK(count >= 1 && count <= 4 * kMaxNameChars && Utf8Length(in) == count);
    FUZZ_CHECK(in.find('\x1b') == std::string_view::npos);
  }
  std::string trimmed = TrimName(in);
  FUZZ_CHECK(TrimName(trimmed) == trimmed);
  if (ValidateNewName(trimmed, "name").ok()) FUZZ_CHECK(ValidateName(trimmed, "name").ok());
  auto query = AccountQuery::Parse(in);
  if (query.ok()) {
    Account a;
    a.id = 1;
    a.first = trimmed;
    a.last = std::string(in);
    (void)query->Matches(a);
  }
  return 0;
}
