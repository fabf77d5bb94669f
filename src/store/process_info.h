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

// getpid(), asked of the kernel once a process: a forked child asks again (the cache is
// dropped in the child by a pthread_atfork handler), so each process names itself. A lock
// holder's note names it for every slot it takes (a batch takes 1,000 key slots a group).
int CurrentPid();

}  // namespace drovebank
