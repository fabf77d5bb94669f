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

namespace {

bool Invisible(std::uint32_t cp) {
  return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

bool Combining(std::uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) ||
         (cp >= 0x0591 && cp <= 0x05BD) || (cp >= 0x0610 && cp <= 0x061A) ||
         (cp >= 0x064B && cp <= 0x065F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

bool Wide(std::uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

size_t Columns(std::uint32_t cp) {
  if (Invisible(cp) || Combining(cp)) return 0;
  return Wide(cp) ? 2 : 1;
}

}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {  // not UTF-8: one column a byte, as a terminal shows a replacement
      ++w;
      ++i;
      continue;
    }
    w += Columns(cp);
    i += n;
  }
  return w;
}

std::string FitColumn(std::string_view s, size_t width, bool right_align) {
  std::string out;
  size_t used = 0;
  if (DisplayWidth(s) <= width) {
    out = std::string(s);
    used = DisplayWidth(s);
  } else {
    // Cut at a character boundary leaving one column for the ellipsis.
    for (size_t i = 0; i < s.size();) {
      std::uint32_t cp = 0;
      size_t n = DecodeUtf8(s, i, &cp);
      size_t cols = n == 0 ? 1 : Columns(cp);
      if (n == 0) n = 1;
      if (used + cols + 1 > width) break;
      out.append(s.substr(i, n));
      used += cols;
      i += n;
    }
    out += "\u2026";
    ++used;
  }
  std::string pad(width > used ? width - used : 0, ' ');
  return right_align ? pad + out : out + pad;
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
