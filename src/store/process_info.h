// Who this process is (for lock holders' notes and the journal's boot check). Nothing
// here decides whether a lock is held: the kernel does (lock_table.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "drovebank/clock.h"

namespace drovebank {

struct ProcessIdentity {
  int pid = 0;
  std::string boot_id;  // /proc/sys/kernel/random/boot_id (unique per process if unreadable)
  std::string host;              // gethostname
};

// This process, read once.
const ProcessIdentity& Self();

}  // namespace drovebank
