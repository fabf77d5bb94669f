#include "process_info.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace drovebank {
namespace {

// /proc is not part of the data directory, so it is read directly rather than through Env.
std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::atomic<int> cached_pid{0};

}  // namespace

int CurrentPid() {
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, [] { cached_pid.store(0, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  int pid = cached_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = static_cast<int>(::getpid());
    cached_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

const ProcessIdentity& Self() {
  static const ProcessIdentity self = [] {
    ProcessIdentity p;
    p.pid = static_cast<int>(::getpid());
    p.boot_id = ReadSmall("/proc/sys/kernel/random/boot_id");
    while (!p.boot_id.empty() && (p.boot_id.back() == '\n' || p.boot_id.back() == ' ')) {
      p.boot_id.pop_back();
    }
    // Unreadable: a name no other process has, so the journal's shared state is never
    // taken for this boot's (a failure to read must never count as "same boot"); every
    // process then rebuilds it, slower but safe.
    if (p.boot_id.empty()) {
      p.boot_id = fmt::format("unreadable-{}-{}", p.pid,
                              std::chrono::steady_clock::now().time_since_epoch().count());
    }
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) {
      std::snprintf(host, sizeof host, "localhost");
    }
    p.host = host;
    return p;
  }();
  return self;
}

std::int64_t NowMillis() {
  using namespace std::chrono;
#ifdef DROVEBANK_FAULT_INJECTION
  // Tests of date ranges (history --since, statement, balance --at, export) commit on
  // chosen days; never in a release build.
  static const char* fixed = std::getenv("DROVEBANK_NOW_MS");
  if (fixed != nullptr && *fixed != '\0') return std::strtoll(fixed, nullptr, 10);
#endif
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t NowNanos() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatTime(std::int64_t millis) {
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis % 1000);
}

}  // namespace drovebank
