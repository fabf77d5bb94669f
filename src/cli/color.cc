#include "color.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace drovebank {

namespace {

const char* Sequence(Style style) {
  switch (style) {
    case Style::kError:
      return "\033[1;31m";
    case Style::kWarn:
      return "\033[33m";
    case Style::kOk:
      return "\033[32m";
    case Style::kHeader:
      return "\033[1m";
  }
  return "";
}

}  // namespace

bool ColorEnabled(std::FILE* stream) {
  if (stream == nullptr) return false;
  // no-color.org asks for "set and non-empty"; an empty NO_COLOR is far more likely a
  // user trying to turn colour off than on, so any NO_COLOR disables it.
  if (std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  int fd = ::fileno(stream);
  return fd >= 0 && ::isatty(fd) == 1;
}

std::string Paint(std::FILE* stream, Style style, std::string_view text) {
  if (!ColorEnabled(stream)) return std::string(text);
  std::string out = Sequence(style);
  out += text;
  out += "\033[0m";
  return out;
}

}  // namespace drovebank
