#include "columns.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <cstdint>

namespace drovebank {
namespace {

// The next character of `s` at *i: its columns, *i moved past it (one byte when it is not
// UTF-8).
size_t NextColumns(std::string_view s, size_t* i) {
  // Printable ASCII, nearly every cell of a report: one column, no look-up.
  if (auto c = static_cast<unsigned char>(s[*i]); c >= 0x20 && c < 0x7f) {
    ++*i;
    return 1;
  }
  UChar32 cp;
  auto len = static_cast<int32_t>(s.size());
  auto at = static_cast<int32_t>(*i);
  U8_NEXT(s.data(), at, len, cp);
  *i = static_cast<size_t>(at);
  if (cp < 0) return 1;
  if (cp >= 0x1160 && cp <= 0x11FF) return 0;  // joins the Hangul syllable before it
  auto mask = U_GET_GC_MASK(cp);
  if ((mask & (U_GC_MN_MASK | U_GC_ME_MASK | U_GC_CF_MASK)) != 0 ||
      u_hasBinaryProperty(cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
    return 0;
  }
  auto eaw = u_getIntPropertyValue(cp, UCHAR_EAST_ASIAN_WIDTH);
  return eaw == U_EA_WIDE || eaw == U_EA_FULLWIDTH ? 2 : 1;
}

}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) w += NextColumns(s, &i);
  return w;
}

std::string FitColumn(std::string_view s, size_t width, bool right_align) {
  std::string out;
  size_t used = DisplayWidth(s);
  if (used <= width) {
    out = std::string(s);
  } else {
    // Keep whole characters while one column is left for the ellipsis.
    used = 0;
    for (size_t i = 0; i < s.size();) {
      size_t start = i;
      size_t cols = NextColumns(s, &i);
      if (used + cols + 1 > width) break;
      out.append(s.substr(start, i - start));
      used += cols;
    }
    if (width > 0) {
      out += "\u2026";
      ++used;
    }
  }
  std::string pad(width > used ? width - used : 0, ' ');
  return right_align ? pad + out : out + pad;
}

}  // namespace drovebank
