#include "drovebank/validate.h"

#include <algorithm>

#include <fmt/format.h>

#include "unicode.h"

namespace drovebank {

Result<AccountId> ParseAccountId(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(
        fmt::format("'{}' is not an account id (a whole number from 1 to {})",
                    EscapeForTerminal(text), kMaxAccountId));
  };
  if (text.empty() || text.size() > 8) return bad();
  std::uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v == 0 || v > kMaxAccountId) return bad();
  return v;
}

Result<std::uint64_t> ParseTxnNumber(std::string_view text) {
  std::uint64_t v = 0;
  bool digits = !text.empty() && text.size() <= 19 &&
                text.find_first_not_of("0123456789") == std::string_view::npos;
  for (char c : digits ? text : std::string_view()) v = v * 10 + static_cast<unsigned>(c - '0');
  if (!digits || v == 0) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not a transaction number", EscapeForTerminal(text)));
  }
  return v;
}

Status ValidateKey(std::string_view key) {
  auto bad = [&] {
    return Status::InvalidArgument(fmt::format(
        "transaction key '{}' must be 1-64 characters of letters, digits, '_', '-', '.', ':' "
        "and must not start with '.'",
        EscapeForTerminal(key)));
  };
  if (key.empty() || key.size() > 64 || key[0] == '.') return bad();
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return bad();
  }
  return Status::Ok();
}

std::string EscapeForTerminal(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    if (chars == max_chars) return out + "...";
    std::uint32_t cp = 0;
    size_t n = DecodeUtf8(text, i, &cp);
    if (n == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) {
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i + k]));
      }
      i += std::max<size_t>(n, 1);
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace drovebank
