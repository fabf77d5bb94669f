// Terminal colour for the programs' human output, following https://no-color.org:
// colour is added only when the stream is a terminal, NO_COLOR is not set (any value,
// even empty, turns colour off) and TERM is not "dumb". Output to a file or a pipe, and
// --json output, never carries escape bytes.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace drovebank {

enum class Style {
  kError,   // bold red: the "drovebank:" prefix of error messages, failed rows
  kWarn,    // yellow: conflicts and notes that need attention
  kOk,      // green: success words in reports
  kHeader,  // bold: the header line of a table
};

// True when text written to `stream` may carry colour (see above). Decided on each call,
// so it follows a stream that is redirected by the caller; cheap (isatty + getenv).
bool ColorEnabled(std::FILE* stream);

// `text` wrapped in the style's escape sequence and a reset when ColorEnabled(stream);
// otherwise `text` unchanged. Never changes the visible characters.
std::string Paint(std::FILE* stream, Style style, std::string_view text);

}  // namespace drovebank
