// DefaultEnv() of a build without fault injection (-DDROVEBANK_FAULT_INJECTION=OFF, the
// programs scripts/run builds): the OS itself, and DROVEBANK_FAULT is inert. With fault
// injection on, CMake leaves this file out and DefaultEnv() is src/testing/fault_env.cc's.
#include "drovebank/env.h"
#include "posix_env.h"

namespace drovebank {

Env* DefaultEnv() { return PosixEnv(); }

}  // namespace drovebank
