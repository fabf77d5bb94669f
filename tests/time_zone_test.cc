// The zone of reports (issue 26 item 17): a TZ that names no zone is refused instead of
// being UTC without a word, and the times shown are in the zone the days are, with its
// offset. Tables of TZ values and instants. The POSIX rule check is tz_rule_test.cc.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "drovebank/dates.h"
#include "drovebank/validate.h"
#include "drovebank/time_zone.h"
#include "test_util.h"
#include "tz_scope.h"

namespace drovebank {
namespace {

using testing::TzScope;

TEST_CASE("time zone: TZ must name a zone; unset, empty, UTC, files and rules do", "[dates][tz]") {
  testing::TempDir dir("drovebank-tz");
  const std::string tzdir = dir.Path("zoneinfo");
  REQUIRE(dir.Write("zoneinfo/Fake/Zone", std::string("TZif2\0\0\0", 8)));
  REQUIRE(dir.Write("zoneinfo/Not/Zone", "Europe/Paris\n"));
  REQUIRE(dir.Write("zoneinfo/Empty", ""));
  std::filesystem::create_directories(dir.Path("zoneinfo/Europe"));

  CHECK(CheckTimeZone(nullptr, tzdir).ok());
  for (const std::string& ok :
       {std::string(""), std::string("Fake/Zone"), std::string(":Fake/Zone"), tzdir + "/Fake/Zone",
        ":" + tzdir + "/Fake/Zone", std::string("UTC"), std::string(":UTC"), std::string("GMT"),
        std::string("Etc/UTC"), std::string("UTC0"), std::string(":UTC0"), std::string("<+03>-3"),
        std::string("CET-1CEST,M3.5.0,M10.5.0/3")}) {
    INFO("TZ=" << ok);
    CHECK(CheckTimeZone(ok.c_str(), tzdir).ok());
  }
  for (const std::string& bad :
       {std::string("Nonsense/Zone"), std::string(":Nonsense/Zone"), std::string("Not/Zone"),
        std::string("Empty"), std::string("Europe"), std::string("Fake"), std::string(":"),
        std::string("Fake/Zone/"), tzdir + "/Not/Zone", std::string("UTC+"),
        std::string("EST5EDT,M3.2.0"), std::string("utc"), std::string("Nonsense\x1b[2J")}) {
    INFO("TZ=" << bad);
    Status s = CheckTimeZone(bad.c_str(), tzdir);
    REQUIRE(!s.ok());
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message().rfind(
              "TZ='" + EscapeForTerminal(bad) + "' names no time zone (no such zone in " + tzdir,
              0) == 0);
    CHECK(s.message().find('\x1b') == std::string::npos);
  }
}

TEST_CASE("time zone: the zones of the system's database are found there", "[dates][tz]") {
  const char* tzdir = "/usr/share/zoneinfo";  // glibc's, when TZDIR is unset
  if (!std::filesystem::exists(std::string(tzdir) + "/Europe/Paris")) {
    WARN("no tzdata (scripts/setup installs it): skipped");
    return;
  }
  for (const char* ok : {"Europe/Paris", ":Europe/Paris", "Etc/GMT+12", "America/New_York",
                         "Asia/Kolkata", "UTC", "EST5EDT"}) {
    INFO(ok);
    CHECK(CheckTimeZone(ok, tzdir).ok());
  }
  for (const char* bad : {"Europe/Pariss", "Europe/paris", "Mars/Olympus_Mons", "Etc/GMT+15"}) {
    INFO(bad);
    CHECK(!CheckTimeZone(bad, tzdir).ok());
  }
}

TEST_CASE("time zone: times are shown in the zone of the days, with its offset", "[dates][tz]") {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Etc/GMT+12")) {
    WARN("no tzdata (scripts/setup installs it): skipped");
    return;
  }
  // 2026-12-05T01:00:00.250Z: still 2026-12-04 twelve hours west.
  const std::int64_t t = 1796432400250;
  struct Case {
    std::optional<std::string> tz;
    const char* shown;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "2026-12-05T01:00:00.250Z"},
      {"", "2026-12-05T01:00:00.250Z"},
      {"UTC", "2026-12-05T01:00:00.250Z"},
      {":UTC", "2026-12-05T01:00:00.250Z"},
      {"UTC0", "2026-12-05T01:00:00.250Z"},
      {"Etc/GMT+12", "2026-12-04T13:00:00.250-12:00"},
      {"Etc/GMT-12", "2026-12-05T13:00:00.250+12:00"},
      {"Europe/Paris", "2026-12-05T02:00:00.250+01:00"},
      {":Europe/Paris", "2026-12-05T02:00:00.250+01:00"},
      {"Asia/Kolkata", "2026-12-05T06:30:00.250+05:30"},
      {"America/St_Johns", "2026-12-04T21:30:00.250-03:30"},
      {"<+0545>-5:45", "2026-12-05T06:45:00.250+05:45"},
      {"Europe/London", "2026-12-05T01:00:00.250Z"},  // an offset of zero is Z
  };
  for (const Case& c : cases) {
    INFO("TZ=" << (c.tz ? *c.tz : "(unset)"));
    TzScope scope(c.tz);
    CHECK(TimestampOf(t) == c.shown);
    CHECK(DateOf(t) == std::string(c.shown).substr(0, 10));
  }
  {
    // Summer time: the offset of that day.
    TzScope scope("Europe/Paris");
    CHECK(TimestampOf(1783252800000) == "2026-07-05T14:00:00.000+02:00");
  }
  {
    // Monrovia kept -0:44:30 until 1972: no RFC 3339 offset says that, so UTC.
    TzScope scope("Africa/Monrovia");
    CHECK(TimestampOf(44582400000) == "1971-06-01T00:00:00.000Z");
  }
}

TEST_CASE("time zone: the day of a time shown is the day --since and --until select",
          "[dates][tz]") {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Etc/GMT+12")) {
    WARN("no tzdata (scripts/setup installs it): skipped");
    return;
  }
  for (const char* tz : {"", "Etc/GMT+12", "Etc/GMT-14", "America/New_York", "Asia/Kolkata",
                         "Australia/Lord_Howe", "<+0545>-5:45"}) {
    TzScope scope(std::string{tz});
    // Every 7 hours and 13 minutes through 2026 and its DST changes.
    for (std::int64_t t = 1767225600000; t < 1798761600000; t += 26'000'000) {
      std::string day = TimestampOf(t).substr(0, 10);
      auto since = DayStartMs(day, "--since");
      auto until = DayAfterStartMs(day, "--until");
      REQUIRE(since.ok());
      REQUIRE(until.ok());
      INFO("TZ=" << tz << " t=" << t << " shown " << TimestampOf(t));
      REQUIRE(*since <= t);
      REQUIRE(t < *until);
    }
  }
}

}  // namespace
}  // namespace drovebank
