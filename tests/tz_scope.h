// TZ set for one scope (time_zone_test.cc, dates_test.cc): the report zone of
// drovebank/dates.h is read from the environment.
#pragma once

#include <time.h>

#include <optional>
#include <string>

#include "test_util.h"

namespace drovebank::testing {

// Sets TZ (nullopt: unsets it) for one scope, and puts it back.
class TzScope {
 public:
  explicit TzScope(std::optional<std::string> tz) : env_("TZ", std::move(tz), [] { ::tzset(); }) {}

 private:
  EnvScope env_;
};

}  // namespace drovebank::testing
