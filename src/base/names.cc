// Names and memos: text as people write it (docs/FORMAT.md, "Account file").
#include <fmt/format.h>

#include "drovebank/validate.h"
#include "unicode.h"

namespace drovebank {

namespace {

// Why refused in memos: they reorder or hide text on a terminal or in a spreadsheet
// (the "Trojan Source" characters), so a memo could read as something it is not.
bool IsInvisibleOrBidi(std::uint32_t cp) {
  return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

bool IsControl(std::uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0); }

// `text`'s code points, or InvalidArgument when it is not UTF-8.
Result<std::u32string> CodePoints(std::string_view text, std::string_view what) {
  std::u32string cps;
  for (size_t i = 0; i < text.size();) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(text, i, &cp);
    if (n == 0) return Status::InvalidArgument(fmt::format("{} is not valid UTF-8", what));
    cps.push_back(cp);
    i += n;
  }
  return cps;
}

Status Refused(std::string_view what, std::string_view problem, char32_t cp) {
  return Status::InvalidArgument(
      fmt::format("{} contains {} (U+{:04X})", what, problem, static_cast<std::uint32_t>(cp)));
}

// At most `max_chars` user-perceived characters and four times as many code points (so a
// character cannot carry marks without end). The characters are counted only when the
// code points could exceed them: most text needs no break iterator.
Status CheckLength(std::string_view text, size_t code_points, std::string_view what,
                   size_t max_chars) {
  if (code_points > 4 * max_chars) {
    return Status::InvalidArgument(fmt::format(
        "{} is too long: {} code points (letters and the marks on them); at most {} are "
        "allowed",
        what, code_points, 4 * max_chars));
  }
  if (code_points <= max_chars) return Status::Ok();
  size_t chars = GraphemeCount(text);
  if (chars > max_chars) {
    return Status::InvalidArgument(
        fmt::format("{} is {} characters long; at most {} are allowed", what, chars, max_chars));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateName(std::string_view name, std::string_view what) {
  if (name.empty()) return Status::InvalidArgument(fmt::format("{} is empty", what));
  // Every reader of the store checks every name it decodes: one pass, nothing allocated.
  size_t count = 0;
  for (size_t i = 0; i < name.size(); ++count) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(name, i, &cp);
    if (n == 0) return Status::InvalidArgument(fmt::format("{} is not valid UTF-8", what));
    if (IsControl(cp)) return Refused(what, "a control character", cp);
    i += n;
  }
  return CheckLength(name, count, what, kMaxNameChars);
}

std::string TrimName(std::string_view name) {
  if (!IsUtf8(name)) {  // left for ValidateNewName to refuse, as it came
    size_t b = name.find_first_not_of(' ');
    if (b == std::string_view::npos) return "";
    return std::string(name.substr(b, name.find_last_not_of(' ') - b + 1));
  }
  return Nfc(TrimSpaces(name));
}

Status ValidateNewName(std::string_view name, std::string_view what) {
  if (name.empty()) return Status::InvalidArgument(fmt::format("{} is empty", what));
  DB_ASSIGN_OR_RETURN(std::u32string cps, CodePoints(name, what));
  for (size_t i = 0; i < cps.size(); ++i) {
    std::string_view problem = NameCharProblem(cps, i);
    if (!problem.empty()) return Refused(what, problem, cps[i]);
  }
  if (IsMark(cps[0])) {
    return Status::InvalidArgument(
        fmt::format("{} starts with a combining mark (U+{:04X}), which has no letter to go on",
                    what, static_cast<std::uint32_t>(cps[0])));
  }
  return CheckLength(name, cps.size(), what, kMaxNameChars);
}

Status ValidateMemo(std::string_view memo) {
  size_t count = 0;
  std::u32string cps;  // made only when a joiner needs its neighbours looked at
  for (size_t i = 0; i < memo.size(); ++count) {
    std::uint32_t cp;
    size_t n = DecodeUtf8(memo, i, &cp);
    if (n == 0) return Status::InvalidArgument("memo is not valid UTF-8");
    if (IsControl(cp)) return Refused("memo", "a control character", cp);
    if (IsInvisibleOrBidi(cp)) {
      bool joiner = cp == 0x200C || cp == 0x200D;
      if (joiner && cps.empty()) {
        DB_ASSIGN_OR_RETURN(cps, CodePoints(memo, "memo"));
      }
      if (!joiner || !JoinerInContext(cps, count)) {
        return Refused("memo", "an invisible or text-direction character", cp);
      }
    }
    i += n;
  }
  return CheckLength(memo, count, "memo", kMaxMemoChars);
}

}  // namespace drovebank
