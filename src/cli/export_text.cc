#include "export_text.h"

#include <fmt/format.h>

namespace drovebank {

namespace {

// Percent-encodes '%', the characters of `reserved`, every ASCII control character, the
// line breaks of Unicode beyond ASCII (U+0085, U+2028, U+2029, which some readers end a
// line at), and a space at either end (the tools trim a value).
std::string PercentEncoded(std::string_view s, std::string_view reserved) {
  std::string out;
  out.reserve(s.size());
  auto encode = [&](std::string_view bytes) {
    for (unsigned char b : bytes) out += fmt::format("%{:02X}", b);
  };
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::string_view rest = s.substr(i);
    if (rest.starts_with("\xC2\x85")) {  // U+0085 NEL
      encode(rest.substr(0, 2));
      ++i;
    } else if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) {
      encode(rest.substr(0, 3));  // U+2028, U+2029
      i += 2;
    } else if (c < 0x20 || c == 0x7F || c == '%' || reserved.find(s[i]) != reserved.npos ||
               (c == ' ' && (i == 0 || i + 1 == s.size()))) {
      encode(rest.substr(0, 1));
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string HledgerTagValue(std::string_view s) { return PercentEncoded(s, ","); }

std::string LedgerNoteValue(std::string_view s) { return PercentEncoded(s, "[]"); }

std::string BeancountString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace drovebank
