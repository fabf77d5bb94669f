// Whether the TZ environment variable names a time zone, before any report reads a day
// or shows a time in it (drovebank/dates.h). Implemented in src/os/time_zone.cc.
#pragma once

#include <string_view>

#include "drovebank/status.h"

namespace drovebank {

// Ok when TZ is unset or empty (UTC) or names a zone glibc will use as named: a zone file
// of the system's database (TZDIR, else /usr/share/zoneinfo; "Europe/Paris", ":Europe/Paris",
// an absolute path; a file holding TZif data), UTC or GMT themselves (glibc's fallback is
// UTC), or a whole POSIX rule (IsPosixTzRule: "UTC0", "<+03>-3"). Anything else would be
// taken as UTC without a word, so it is InvalidArgument naming TZ's value.
Status CheckTimeZone();

// CheckTimeZone for the value `tz` (nullptr: unset) with the zone files under `tzdir`.
Status CheckTimeZone(const char* tz, std::string_view tzdir);

}  // namespace drovebank
