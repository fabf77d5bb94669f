// Calendar dates for reports: `YYYY-MM-DD` days and `YYYY-MM` months, in UTC unless the
// TZ environment variable names another zone (then in that zone, as localtime(3) reads it).
// An unset or empty TZ means UTC, never the machine's /etc/localtime, so a report's days
// do not change with the machine it runs on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "drovebank/status.h"

namespace drovebank {

// The first millisecond (since the Unix epoch) of the day `date` (`YYYY-MM-DD`), and of
// the day after it. InvalidArgument (naming `what`, e.g. "--since") for anything else,
// including impossible days (2026-02-30).
Result<std::int64_t> DayStartMs(std::string_view date, std::string_view what);
Result<std::int64_t> DayAfterStartMs(std::string_view date, std::string_view what);

// The first millisecond of the month `month` (`YYYY-MM`) and of the month after it.
struct MonthSpan {
  std::int64_t begin_ms = 0;
  std::int64_t end_ms = 0;  // exclusive
};
Result<MonthSpan> ParseMonth(std::string_view month, std::string_view what);

// The calendar day of `ms` as `YYYY-MM-DD`, and its time of day as `HH:MM:SS`, in the
// same zone.
std::string DateOf(std::int64_t ms);
std::string TimeOfDay(std::int64_t ms);

// The date of the day after `date` (`YYYY-MM-DD`, assumed valid).
std::string NextDate(std::string_view date);

}  // namespace drovebank
