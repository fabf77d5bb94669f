// Report dates as a module (include/drovebank/dates.h, src/base/dates.cc) in UTC: days and
// months as millisecond spans, impossible days refused naming the option, and the day and
// RFC 3339 time of an instant. The same in other zones is time_zone_test.cc.
#include "drovebank/dates.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "tz_scope.h"

namespace drovebank {
namespace {

using testing::TzScope;

constexpr std::int64_t kDay = 86'400'000;
// 2024-02-29T00:00:00Z, computed apart (calendar.timegm).
constexpr std::int64_t kLeapDay = 1'709'164'800'000;

TEST_CASE("dates: a day is the 24 hours from its UTC midnight, leap days and year ends "
          "included",
          "[dates]") {
  TzScope utc(std::nullopt);
  CHECK(*DayStartMs("1970-01-01", "--since") == 0);
  CHECK(*DayAfterStartMs("1970-01-01", "--since") == kDay);
  CHECK(*DayStartMs("2024-02-29", "--since") == kLeapDay);
  CHECK(*DayAfterStartMs("2024-02-29", "--until") == kLeapDay + kDay);  // March 1st
  CHECK(*DayAfterStartMs("2024-12-31", "--until") == 1'735'689'600'000);  // 2025-01-01
  CHECK(NextDate("2024-02-28") == "2024-02-29");
  CHECK(NextDate("2023-02-28") == "2023-03-01");
  CHECK(NextDate("2024-12-31") == "2025-01-01");
}

TEST_CASE("dates: anything but a calendar day from 1970 on is refused, naming the option",
          "[dates]") {
  TzScope utc(std::nullopt);
  for (const char* bad : {"2023-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31",
                          "1969-12-31", "2026-1-01", "2026/01/01", "26-01-01", "2026-01-01x",
                          "", "２０２６-01-01"}) {
    INFO(bad);
    auto r = DayStartMs(bad, "--since");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("--since") != std::string::npos);
    CHECK_FALSE(DayAfterStartMs(bad, "--until").ok());
  }
}

TEST_CASE("dates: a month spans its first millisecond to the next month's", "[dates]") {
  TzScope utc(std::nullopt);
  auto feb = ParseMonth("2024-02", "statement");
  REQUIRE(feb.ok());
  CHECK(feb->begin_ms == kLeapDay - 28 * kDay);
  CHECK(feb->end_ms == kLeapDay + kDay);
  auto dec = ParseMonth("2024-12", "statement");
  REQUIRE(dec.ok());
  CHECK(dec->begin_ms == 1'733'011'200'000);  // 2024-12-01
  CHECK(dec->end_ms == 1'735'689'600'000);    // 2025-01-01
  for (const char* bad : {"2024-13", "2024-00", "1969-12", "2024-2", "2024-02-01", "202402"}) {
    INFO(bad);
    auto r = ParseMonth(bad, "statement");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("statement") != std::string::npos);
  }
}

TEST_CASE("dates: the day and the RFC 3339 time of an instant, in UTC", "[dates]") {
  TzScope utc(std::nullopt);
  CHECK(DateOf(kLeapDay) == "2024-02-29");
  CHECK(DateOf(kLeapDay + kDay - 1) == "2024-02-29");
  CHECK(DateOf(kLeapDay + kDay) == "2024-03-01");
  CHECK(TimestampOf(kLeapDay + 13 * 3'600'000 + 5'007) == "2024-02-29T13:00:05.007Z");
  CHECK(TimestampOf(0) == "1970-01-01T00:00:00.000Z");
  CHECK(TimestampOf(-1) == "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace drovebank
