// TokenizeShellLine, the shell's word splitter (src/cli/shell_tokenize.cc), on hostile
// lines. Properties: no crash; a failure is InvalidArgument; the words it returns, each
// quoted with '...' (and ' written as '"'"'), tokenize back to the same words.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/shell.h"
#include "fuzz_util.h"

using namespace drovebank;

namespace {

std::string Quote(const std::string& w) {
  std::string out = "'";
  for (char c : w) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  auto words = TokenizeShellLine(fuzz::AsView(data, size));
  if (!words.ok()) {
    FUZZ_CHECK(words.status().code() == Code::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(words->size() <= size);
  std::string line;
  for (const std::string& w : *words) {
    if (!line.empty()) line += ' ';
    line += Quote(w);
  }
  auto again = TokenizeShellLine(line);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *words);
  return 0;
}
