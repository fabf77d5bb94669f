// Who this process is (for lock holders' notes and the journal's boot check). Nothing
// here decides whether a lock is held: the kernel does (lockfile.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace drovebank {

struct ProcessIdentity {
  int pid = 0;
  std::string boot_id;  // /proc/sys/kernel/random/boot_id (unique per process if unreadable)
  std::string host;              // gethostname
};

// This process, read once.
const ProcessIdentity& Self();

// Milliseconds since the Unix epoch (wall clock, for display and records). In a
// fault-injection build, DROVEBANK_NOW_MS (when set) is returned instead, so tests can
// commit records on chosen days.
std::int64_t NowMillis();
// Nanoseconds since the Unix epoch (wall clock, comparable with file mtimes).
std::int64_t NowNanos();

// "2026-11-22T03:04:05.123Z"
std::string FormatTime(std::int64_t millis);

}  // namespace drovebank
