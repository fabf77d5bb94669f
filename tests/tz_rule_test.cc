// The POSIX form of TZ as a module (src/os/tz_rule.h): a rule is whole or refused, as
// glibc's tzset(3) reads it. Which zones TZ may name, and the zone of reports, are
// time_zone_test.cc.
#include "os/tz_rule.h"

#include <catch2/catch.hpp>

namespace drovebank {
namespace {

TEST_CASE("time zone: POSIX rules are whole or refused", "[dates][tz]") {
  for (const char* ok : {"UTC0", "GMT0", "JST-9", "EST5", "EST+5", "EST5EDT", "<+03>-3",
                         "<-0330>3:30", "<+0545>-5:45", "NZST-12NZDT,M9.5.0,M4.1.0/3",
                         "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0/2:00:00,M11.1.0/2:00:00",
                         "AAA3BBB,J60/-1,J300/167", "XXX0YYY,0,365", "IST-5:30"}) {
    INFO(ok);
    CHECK(IsPosixTzRule(ok));
  }
  for (const char* bad : {"",
                          "UTC",
                          "Nonsense/Zone",
                          "Nonsense",
                          "Europe/Paris",
                          "UT0",
                          "UTC+",
                          "EST5EDT,M3.2.0",
                          "EST5EDT,M13.2.0,M11.1.0",
                          "EST5EDT,M3.6.0,M11.1.0",
                          "EST5EDT,M3.2.7,M11.1.0",
                          "EST25",
                          "EST5:60",
                          "<+3>-3",
                          "<+03-3",
                          "EST5EDT,J0,J100",
                          "EST5EDT,366,1",
                          "EST5EDT,M3.2.0,M11.1.0,x",
                          "EST5 ",
                          "EST5EDT4x"}) {
    INFO(bad);
    CHECK(!IsPosixTzRule(bad));
  }
}

}  // namespace
}  // namespace drovebank
