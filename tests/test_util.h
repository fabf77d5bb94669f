// Test helpers: the scratch directory (temp_dir.h), running the real programs
// (run_program.h, run_drovebank.h), and small file and process helpers.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "run_drovebank.h"
#include "run_program.h"
#include "temp_dir.h"

namespace drovebank::testing {

// How many file descriptors this process has open (the entries of /proc/self/fd, the
// listing's own included).
inline size_t OpenFdCount() {
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd");
       it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

// The pid of a child that has exited and been reaped: a process known to be dead (until
// the pid is reused, which a lock owner's start time tells apart).
inline pid_t DeadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

// Sets the file's mtime to `seconds` before now, leaving its atime; false on failure.
inline bool SetMtimeAgo(const std::string& path, long seconds) {
  const struct timespec times[2] = {{0, UTIME_OMIT}, {::time(nullptr) - seconds, 0}};
  return ::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0;
}

// A file's bytes ("" when it cannot be read), and a file made to hold exactly `bytes`.
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}
// The path of `tool` on $PATH, "" when it is not there (the tests that need hledger, ledger
// or beancount skip themselves with a warning).
inline std::string Which(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    std::string p = d + "/" + tool;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}
// Everything written to `f` so far (flushed, then read from its start; `f` stays open).
inline std::string Contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

// The environment variable `name` set to `value` (nullopt: unset) for one scope, and put
// back at its end; `after` (if any) runs after each change, as tzset() must after TZ's.
class EnvScope {
 public:
  EnvScope(std::string name, std::optional<std::string> value, void (*after)() = nullptr)
      : name_(std::move(name)), after_(after) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    Set(value);
  }
  ~EnvScope() { Set(old_); }
  EnvScope(const EnvScope&) = delete;
  EnvScope& operator=(const EnvScope&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
    if (after_ != nullptr) after_();
  }
  std::string name_;
  void (*after_)();
  std::optional<std::string> old_;
};

// Whether anything (a link included, not followed) is at `path`.
inline bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// The size of the file at `path` (-1 when there is none).
inline long long FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

}  // namespace drovebank::testing
