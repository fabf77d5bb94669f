// The tests' one way to run a program: arguments, extra environment, text on stdin;
// captures stdout, stderr and the exit status, within a time bound.
//
//   RunResult r = RunProgram(DROVEBANK_BIN, {"-d", dir, "--json", "show", "1"},
//                            {.env = {"NO_COLOR=1"}});
//   CHECK(r.exit_code == 0);
//
// Header-only so any test file (or a benchmark) can include it. Never throws; a failure
// to start the program is reported as exit_code -1 with the reason in `err`. The
// drovebank and recover shorthands are in run_drovebank.h.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

extern char** environ;

namespace drovebank::testing {

struct RunOptions {
  // "NAME=VALUE" entries added to (or replacing in) this process's environment.
  std::vector<std::string> env;
  // Names removed from the environment (e.g. "NO_COLOR", "DROVEBANK_FAULT").
  std::vector<std::string> unset;
  std::string stdin_text;       // written to the program's stdin, which is then closed
  std::string cwd;              // working directory; empty: this process's
  double timeout_seconds = 60;  // then the program is killed (SIGKILL) and timed_out set
  // Connect stdout / stderr to a pseudo-terminal instead of a pipe, so the program sees a
  // terminal (isatty); what it writes is captured the same way. When both are set they
  // share one terminal and everything lands in `out`.
  bool stdout_tty = false;
  bool stderr_tty = false;
};

struct RunResult {
  int exit_code = -1;  // the exit status; 128+N when killed by signal N; -1 not started
  int signal = 0;      // the signal that killed it (SIGKILL after a time-out), else 0
  bool timed_out = false;
  std::string out, err;
  // The program's own use of the machine (wait4's rusage), for tests that count it: minor
  // page faults (pages it touched first) and its peak resident set. -1 when not started.
  long minor_faults = -1;
  long max_rss_kb = -1;
};

namespace run_program_detail {

inline std::vector<std::string> MergedEnv(const RunOptions& o) {
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e, name = name_of(kv);
    bool drop = false;
    for (const std::string& u : o.unset) drop = drop || u == name;
    for (const std::string& s : o.env) drop = drop || name_of(s) == name;
    if (!drop) out.push_back(kv);
  }
  for (const std::string& s : o.env) out.push_back(s);
  return out;
}

inline void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

}  // namespace run_program_detail

inline RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                            const RunOptions& o = {}) {
  using run_program_detail::CloseFd;
  RunResult r;
  // A program that exits without reading all of its stdin must not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int pty_master = -1, pty_slave = -1;
  bool want_pty = o.stdout_tty || o.stderr_tty;
  auto fail = [&](const char* what) {
    int e = errno;
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1], &pty_master, &pty_slave})
      CloseFd(fd);
    r.err = std::string(what) + ": " + std::strerror(e);
    return r;
  };
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return fail("pipe2");
  }
  if (want_pty) {
    if (::openpty(&pty_master, &pty_slave, nullptr, nullptr, nullptr) != 0) return fail("openpty");
    ::fcntl(pty_master, F_SETFD, FD_CLOEXEC);
    ::fcntl(pty_slave, F_SETFD, FD_CLOEXEC);
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, o.stdout_tty ? pty_slave : out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, o.stderr_tty ? pty_slave : err[1], 2);
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, o.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // This process ignores SIGPIPE (below); the program gets the default back.
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (want_pty) flags |= POSIX_SPAWN_SETSID;  // so the pty can be its controlling terminal
  posix_spawnattr_setflags(&attr, flags);

  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = run_program_detail::MergedEnv(o);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    return fail(("posix_spawn " + program).c_str());
  }
  CloseFd(&in[0]);
  CloseFd(&out[1]);
  CloseFd(&err[1]);
  CloseFd(&pty_slave);

  // Feed stdin and drain the outputs together: a program blocked writing a full pipe
  // would otherwise never read the rest of its input.
  size_t fed = 0;
  if (o.stdin_text.empty()) CloseFd(&in[1]);
  if (in[1] >= 0) ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<long>(o.timeout_seconds * 1000));
  int* readers[3] = {&out[0], &err[0], &pty_master};
  std::string* sinks[3] = {&r.out, &r.err, o.stdout_tty ? &r.out : &r.err};
  while (out[0] >= 0 || err[0] >= 0 || pty_master >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    std::vector<pollfd> fds;
    for (int* fd : readers) {
      if (*fd >= 0) fds.push_back({*fd, POLLIN, 0});
    }
    if (in[1] >= 0) fds.push_back({in[1], POLLOUT, 0});
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 200)));
    if (n < 0 && errno != EINTR) break;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in[1]) {
        ssize_t w = ::write(in[1], o.stdin_text.data() + fed, o.stdin_text.size() - fed);
        if (w > 0) fed += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) fed = o.stdin_text.size();
        if (fed == o.stdin_text.size()) CloseFd(&in[1]);
        continue;
      }
      for (int k = 0; k < 3; ++k) {
        if (p.fd != *readers[k]) continue;
        char buf[65536];
        ssize_t got = ::read(p.fd, buf, sizeof buf);
        if (got > 0) {
          sinks[k]->append(buf, static_cast<size_t>(got));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          CloseFd(readers[k]);  // EOF; a pty master reports EIO once the program is gone
        }
      }
    }
  }
  for (int* fd : {&in[1], &out[0], &err[0], &pty_master}) CloseFd(fd);
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  r.minor_faults = usage.ru_minflt;
  r.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    r.exit_code = 128 + r.signal;
  }
  return r;
}

// Options that add `env` (NAME -> VALUE) to this process's environment and feed `input`.
inline RunOptions WithEnv(const std::map<std::string, std::string>& env,
                          const std::string& input = "") {
  RunOptions o;
  for (const auto& [k, v] : env) o.env.push_back(k + "=" + v);
  o.stdin_text = input;
  return o;
}

}  // namespace drovebank::testing
