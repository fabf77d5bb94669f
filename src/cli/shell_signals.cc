// Ctrl-C in the shell. The handler only sets a flag: the lock wait polls it through
// LockWait::cancelled (and gives up with Cancelled, having changed nothing), and the line
// reader polls it to clear the line. No SA_RESTART, so a blocked read(2) returns EINTR
// and the reader sees the flag at once.
#include <signal.h>

#include <atomic>

#include "shell.h"

namespace drovebank::shell_interrupts {
namespace {

volatile sig_atomic_t g_pending = 0;
struct sigaction g_previous;
std::atomic<int> g_installed{0};

void OnSigint(int) { g_pending = 1; }

}  // namespace

void Install() {
  if (g_installed++ > 0) return;
  g_pending = 0;
  struct sigaction sa = {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &g_previous);
}

void Restore() {
  if (--g_installed > 0) return;
  sigaction(SIGINT, &g_previous, nullptr);
}

bool Pending() { return g_pending != 0; }

bool Take() {
  bool was = g_pending != 0;
  g_pending = 0;
  return was;
}

}  // namespace drovebank::shell_interrupts
