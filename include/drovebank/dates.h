// Calendar dates and times for reports: `YYYY-MM-DD` days, `YYYY-MM` months and the times
// shown beside them, in UTC unless the TZ environment variable names another zone (then in
// that zone, as localtime(3) reads it). An unset or empty TZ means UTC, never the machine's
// /etc/localtime, so a report's days do not change with the machine it runs on. Whether
// TZ names a zone at all is checked before (CheckTimeZone in drovebank/time_zone.h, called
// by CliContext::GetStore).
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

// The calendar day of `ms` as `YYYY-MM-DD`, in the same zone.
std::string DateOf(std::int64_t ms);

// `ms` as RFC 3339 in the same zone, with milliseconds and the zone's offset then:
// `2026-12-04T13:00:00.000-12:00`, or `...Z` when the offset is zero (UTC). An offset of
// seconds (local mean time) cannot be written so: then the time is given in UTC.
std::string TimestampOf(std::int64_t ms);

// The date of the day after `date` (`YYYY-MM-DD`, assumed valid).
std::string NextDate(std::string_view date);

}  // namespace drovebank
