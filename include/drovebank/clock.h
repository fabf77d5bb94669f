// The wall clock as drovebank reads and shows it (implemented in src/store/process_info.cc).
#pragma once

#include <cstdint>
#include <string>

namespace drovebank {

// Milliseconds since the Unix epoch (wall clock, for display and records). In a
// fault-injection build, DROVEBANK_NOW_MS (when set) is returned instead, so tests can
// commit records on chosen days.
std::int64_t NowMillis();
// Nanoseconds since the Unix epoch (wall clock, comparable with file mtimes).
std::int64_t NowNanos();

// "2026-11-22T03:04:05.123Z"
std::string FormatTime(std::int64_t millis);

}  // namespace drovebank
