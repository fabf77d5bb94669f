// Test helpers: temporary data directories and running the real programs.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/filesystem.hpp>

extern char** environ;

namespace drovebank::testing {

// How many file descriptors this process has open (the entries of /proc/self/fd, the
// listing's own included).
inline size_t OpenFdCount() {
  size_t n = 0;
  for (boost::filesystem::directory_iterator it("/proc/self/fd"), end; it != end; ++it) ++n;
  return n;
}

// A fresh directory under the system temp dir, removed with everything in it at scope end.
class TempDir {
 public:
  TempDir() {
    namespace fs = boost::filesystem;
    path_ = (fs::temp_directory_path() / fs::unique_path("drovebank-test-%%%%-%%%%-%%%%")).string();
    fs::create_directories(path_);
    ::chmod(path_.c_str(), 0700);
  }
  ~TempDir() {
    boost::system::error_code ec;
    boost::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

struct ProgramResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is a path) with extra environment variables and `input` on stdin;
// captures stdout and stderr. Killed after `timeout_s` seconds.
inline ProgramResult RunProgram(const std::vector<std::string>& argv,
                                const std::map<std::string, std::string>& env = {},
                                const std::string& input = "", double timeout_s = 60) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return {};
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s = *e;
    if (env.count(s.substr(0, s.find('='))) == 0) env_strings.push_back(s);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ProgramResult r;
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    r.err = "spawn failed";
    return r;
  }
  // Feed stdin and drain both outputs together so no pipe fills up and blocks the child.
  size_t written = 0;
  if (input.empty()) {
    ::close(in_pipe[1]);
    in_pipe[1] = -1;
  } else {
    ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  bool out_open = true, err_open = true;
  signal(SIGPIPE, SIG_IGN);
  while (out_open || err_open) {
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
    int n = in_pipe[1] >= 0 ? 3 : 2;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    ::poll(fds, n, static_cast<int>(std::min<long>(left, 200)));
    char buf[8192];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t k = ::read(fds[i].fd, buf, sizeof buf);
      if (k <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(k));
      }
    }
    if (n == 3 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t k = ::write(in_pipe[1], input.data() + written, input.size() - written);
      if (k > 0) written += static_cast<size_t>(k);
      if (k < 0 || written == input.size()) {
        ::close(in_pipe[1]);
        in_pipe[1] = -1;
      }
    }
  }
  if (in_pipe[1] >= 0) ::close(in_pipe[1]);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

// Runs the drovebank binary on `dir` with `args`.
inline ProgramResult Drovebank(const std::string& dir, std::vector<std::string> args,
                               const std::map<std::string, std::string>& env = {},
                               const std::string& input = "") {
  std::vector<std::string> argv = {DROVEBANK_BIN, "-d", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, env, input);
}

inline ProgramResult Recover(const std::string& dir, std::vector<std::string> args = {},
                             const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = {RECOVER_BIN, "-d", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, env);
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
// Whether anything (a link included, not followed) is at `path`.
inline bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace drovebank::testing
