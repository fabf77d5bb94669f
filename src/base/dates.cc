#include "drovebank/dates.h"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>

namespace drovebank {

namespace {

bool UseUtc() {
  const char* tz = std::getenv("TZ");
  return tz == nullptr || *tz == '\0';
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), so
// UTC needs no libc call that reads the environment.
std::int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool Digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

// Midnight starting y-m-d in the report zone, in milliseconds; m may be 13 (January of
// the next year) and d may be one past the month's last day.
std::int64_t MidnightMs(int y, int m, int d) {
  if (m == 13) {
    y += 1;
    m = 1;
  }
  if (d > DaysIn(y, m)) {
    d = 1;
    if (++m == 13) {
      y += 1;
      m = 1;
    }
  }
  if (UseUtc()) {
    return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 86'400'000;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_isdst = -1;  // the zone's rules decide, so a DST day is 23 or 25 hours
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

Status BadDate(std::string_view text, std::string_view what, std::string_view shape) {
  return Status::InvalidArgument(fmt::format("{} '{}' is not a date of the form {}", what,
                                             text.substr(0, 32), shape));
}

struct Ymd {
  int y = 0, m = 0, d = 0;
};

Result<Ymd> ParseYmd(std::string_view t, std::string_view what) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-' || !Digits(t.substr(0, 4)) ||
      !Digits(t.substr(5, 2)) || !Digits(t.substr(8, 2))) {
    return BadDate(t, what, "YYYY-MM-DD");
  }
  Ymd v{std::atoi(std::string(t.substr(0, 4)).c_str()),
        std::atoi(std::string(t.substr(5, 2)).c_str()),
        std::atoi(std::string(t.substr(8, 2)).c_str())};
  if (v.y < 1970 || v.m < 1 || v.m > 12 || v.d < 1 || v.d > DaysIn(v.y, v.m)) {
    return Status::InvalidArgument(
        fmt::format("{} '{}' is not a calendar day from 1970 on", what, t));
  }
  return v;
}

std::tm Broken(std::int64_t ms) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (UseUtc()) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  return tm;
}

}  // namespace

Result<std::int64_t> DayStartMs(std::string_view date, std::string_view what) {
  DB_ASSIGN_OR_RETURN(Ymd v, ParseYmd(date, what));
  return MidnightMs(v.y, v.m, v.d);
}

Result<std::int64_t> DayAfterStartMs(std::string_view date, std::string_view what) {
  DB_ASSIGN_OR_RETURN(Ymd v, ParseYmd(date, what));
  return MidnightMs(v.y, v.m, v.d + 1);
}

Result<MonthSpan> ParseMonth(std::string_view t, std::string_view what) {
  if (t.size() != 7 || t[4] != '-' || !Digits(t.substr(0, 4)) || !Digits(t.substr(5, 2))) {
    return BadDate(t, what, "YYYY-MM");
  }
  int y = std::atoi(std::string(t.substr(0, 4)).c_str());
  int m = std::atoi(std::string(t.substr(5, 2)).c_str());
  if (y < 1970 || m < 1 || m > 12) {
    return Status::InvalidArgument(fmt::format("{} '{}' is not a month from 1970 on", what, t));
  }
  return MonthSpan{MidnightMs(y, m, 1), MidnightMs(y, m + 1, 1)};
}

std::string DateOf(std::int64_t ms) {
  std::tm tm = Broken(ms);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::string TimestampOf(std::int64_t ms) {
  std::tm tm = Broken(ms);
  long offset = tm.tm_gmtoff;
  if (offset % 60 != 0) {
    std::time_t t = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    gmtime_r(&t, &tm);
    offset = 0;
  }
  std::string zone = "Z";
  if (offset != 0) {
    long minutes = offset < 0 ? -offset / 60 : offset / 60;
    zone = fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
  }
  int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis, zone);
}

std::string NextDate(std::string_view date) {
  int y = std::atoi(std::string(date.substr(0, 4)).c_str());
  int m = std::atoi(std::string(date.substr(5, 2)).c_str());
  int d = std::atoi(std::string(date.substr(8, 2)).c_str()) + 1;
  if (d > DaysIn(y, m)) {
    d = 1;
    if (++m == 13) {
      m = 1;
      ++y;
    }
  }
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

}  // namespace drovebank
