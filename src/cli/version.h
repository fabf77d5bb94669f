// What `--version` prints, the same for both programs.
#pragma once

#include <string>
#include <string_view>

namespace drovebank {

// "<program> <version>", where <version> is the project version plus "+faultinjection"
// when the build honours DROVEBANK_FAULT (CMake option DROVEBANK_FAULT_INJECTION) —
// exactly the version its Debian package carries, so a test build never passes for a
// release one.
inline std::string VersionLine(std::string_view program) {
  std::string line(program);
  line += ' ';
  line += DROVEBANK_VERSION;
#ifdef DROVEBANK_FAULT_INJECTION
  line += "+faultinjection";
#endif
  return line;
}

}  // namespace drovebank
