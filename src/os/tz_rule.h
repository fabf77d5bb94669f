// The TZ environment variable's POSIX form ("std offset [dst [offset] [,rule,rule]]"),
// checked as glibc's tzset(3) reads it. Pure; CheckTimeZone (drovebank/time_zone.h)
// decides whether TZ names a zone at all.
#pragma once

#include <string_view>

namespace drovebank {

// Whether `tz` is a whole POSIX TZ rule: "UTC0", "JST-9", "<+03>-3",
// "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3". Names are 3 or more letters, or
// `<...>` around 3 or more letters, digits, '+' and '-'; offsets and rule times
// [+-]hh[:mm[:ss]] (hours to 24, to 167 in a rule's time); a rule is Jn (1-365), n
// (0-365) or Mm.w.d. Nothing may follow. glibc takes anything else as UTC, silently.
bool IsPosixTzRule(std::string_view tz);

}  // namespace drovebank
