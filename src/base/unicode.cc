#include "unicode.h"

#include <unicode/brkiter.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>
#include <unicode/utf.h>

#include <memory>

namespace drovebank {

size_t DecodeUtf8(std::string_view s, size_t i, std::uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  std::uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

icu::StringPiece Piece(std::string_view s) {
  return icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size()));
}

// `s` through one of ICU's normalizers; `s` itself should ICU fail (it cannot run out of
// data: the data is linked in).
std::string Normalized(const icu::Normalizer2* (*instance)(UErrorCode&), std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = instance(err);
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  if (U_SUCCESS(err)) n->normalizeUTF8(0, Piece(s), sink, nullptr, err);
  return U_SUCCESS(err) ? out : std::string(s);
}

bool White(std::uint32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)) != 0; }

std::int32_t JoiningType(char32_t cp) {
  return u_getIntPropertyValue(static_cast<UChar32>(cp), UCHAR_JOINING_TYPE);
}

bool Has(char32_t cp, UProperty p) { return u_hasBinaryProperty(static_cast<UChar32>(cp), p) != 0; }

bool Joins(std::int32_t jt) {
  return jt == U_JT_DUAL_JOINING || jt == U_JT_LEFT_JOINING || jt == U_JT_RIGHT_JOINING ||
         jt == U_JT_JOIN_CAUSING;
}

}  // namespace

size_t GraphemeCount(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), err));
  UText* text = utext_openUTF8(nullptr, s.data(), static_cast<std::int64_t>(s.size()), &err);
  size_t n = 0;
  if (U_SUCCESS(err)) {
    it->setText(text, err);
    for (std::int32_t at = it->next(); U_SUCCESS(err) && at != icu::BreakIterator::DONE;
         at = it->next()) {
      ++n;
    }
  }
  utext_close(text);
  if (U_FAILURE(err)) {  // never expected; the code points are an upper bound
    n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  }
  return n;
}

std::string Nfc(std::string_view s) { return Normalized(&icu::Normalizer2::getNFCInstance, s); }

std::string SearchFold(std::string_view s) {
  std::string folded = Normalized(&icu::Normalizer2::getNFKCCasefoldInstance, s);
  std::string out;
  bool space = false;
  for (size_t i = 0; i < folded.size();) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(folded, i, &cp);
    if (n == 0) n = 1, cp = static_cast<unsigned char>(folded[i]);
    if (White(cp)) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out.append(folded, i, n);
    }
    i += n;
  }
  return out;
}

std::string TrimSpaces(std::string_view s) {
  size_t begin = s.size(), end = 0;
  for (size_t i = 0; i < s.size();) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) n = 1, cp = 0;
    if (u_charType(static_cast<UChar32>(cp)) != U_SPACE_SEPARATOR) {
      begin = std::min(begin, i);
      end = i + n;
    }
    i += n;
  }
  return begin < end ? std::string(s.substr(begin, end - begin)) : std::string();
}

bool JoinerInContext(const std::u32string& cps, size_t at) {
  if (at == 0 || at + 1 >= cps.size() || (cps[at] != U'\u200C' && cps[at] != U'\u200D')) {
    return false;
  }
  if (u_getCombiningClass(static_cast<UChar32>(cps[at - 1])) == 9) return true;  // a virama
  // A letter that joins on each side, transparent marks (harakat) between.
  size_t before = at, after = at + 1;
  while (before > 0 && JoiningType(cps[before - 1]) == U_JT_TRANSPARENT) --before;
  while (after < cps.size() && JoiningType(cps[after]) == U_JT_TRANSPARENT) ++after;
  if (before > 0 && after < cps.size() && Joins(JoiningType(cps[before - 1])) &&
      Joins(JoiningType(cps[after]))) {
    return true;
  }
  if (cps[at] != U'\u200D') return false;
  // An emoji (with its skin tone or presentation selector) joined to the next.
  size_t emoji = at;
  while (emoji > 0 && (Has(cps[emoji - 1], UCHAR_EMOJI_MODIFIER) ||
                       Has(cps[emoji - 1], UCHAR_VARIATION_SELECTOR))) {
    --emoji;
  }
  return emoji > 0 && Has(cps[emoji - 1], UCHAR_EXTENDED_PICTOGRAPHIC) &&
         Has(cps[at + 1], UCHAR_EXTENDED_PICTOGRAPHIC);
}

bool IsMark(std::uint32_t cp) {
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_M_MASK) != 0;
}

std::string_view NameCharProblem(const std::u32string& cps, size_t at) {
  UChar32 cp = static_cast<UChar32>(cps[at]);
  std::int8_t type = u_charType(cp);
  if (type == U_CONTROL_CHAR) return "a control character";
  if (type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR) {
    return "a line or paragraph separator";
  }
  if (cp == 0x200C || cp == 0x200D) {
    return JoinerInContext(cps, at) ? "" : "a zero-width joiner or non-joiner that joins nothing";
  }
  // Format characters (bidi controls, U+200B, U+FEFF, U+00AD, tags) and the other
  // characters Unicode draws as nothing (U+3164 HANGUL FILLER, the "blank name" trick);
  // combining marks among them (variation selectors, U+034F) change the letter before.
  if (type == U_FORMAT_CHAR ||
      (Has(cps[at], UCHAR_DEFAULT_IGNORABLE_CODE_POINT) && !IsMark(cps[at]))) {
    return "an invisible or text-direction character";
  }
  if (U_IS_UNICODE_NONCHAR(cp)) return "a noncharacter";
  return "";
}

}  // namespace drovebank
