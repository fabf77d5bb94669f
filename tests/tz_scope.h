// TZ set for one scope (time_zone_test.cc, dates_test.cc): the report zone of
// drovebank/dates.h is read from the environment.
#pragma once

#include <stdlib.h>
#include <time.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace drovebank::testing {

// Sets TZ (nullopt: unsets it) for one scope, and puts it back.
class TzScope {
 public:
  explicit TzScope(std::optional<std::string> tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    Set(tz);
  }
  ~TzScope() { Set(old_); }

 private:
  static void Set(const std::optional<std::string>& tz) {
    if (tz) {
      ::setenv("TZ", tz->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  std::optional<std::string> old_;
};

}  // namespace drovebank::testing
