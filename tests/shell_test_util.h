// Helpers shared by the shell's tests: captured streams, a scripted line source, and
// running the real program with a pipe. TempDir and RunResult are test_util.h's: one
// definition of each name in drovebank::testing (two different ones are an ODR
// violation, which in the -O3 Release build crashed the shell script tests).
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/shell.h"
#include "test_util.h"

namespace drovebank::testing {

// A stdio stream whose text can be read back.
class Captured {
 public:
  Captured() { f_ = ::open_memstream(&buf_, &len_); }
  ~Captured() {
    if (f_ != nullptr) std::fclose(f_);
    std::free(buf_);
  }
  std::FILE* file() { return f_; }
  std::string text() {
    std::fflush(f_);
    return std::string(buf_, len_);
  }

 private:
  std::FILE* f_ = nullptr;
  char* buf_ = nullptr;
  size_t len_ = 0;
};

// Lines given in advance; records every prompt it was asked to show. `before[i]` runs
// just before line i (0-based) is returned: another session acting mid-script.
class ScriptSource : public LineSource {
 public:
  ScriptSource(std::vector<std::string> lines, bool interactive)
      : lines_(std::move(lines)), interactive_(interactive) {}
  InputLine Read(const std::string& prompt) override {
    prompts.push_back(prompt);
    if (next_ >= lines_.size()) return {InputLine::kEnd, ""};
    if (auto it = before.find(next_); it != before.end()) it->second();
    ++line_;
    return {InputLine::kLine, lines_[next_++]};
  }
  bool interactive() const override { return interactive_; }
  size_t line_number() const override { return line_; }
  bool Ready() const override { return ready; }

  std::vector<std::string> prompts;
  std::map<size_t, std::function<void()>> before;
  bool ready = true;  // false: a script whose next line is never there before it is read

 private:
  std::vector<std::string> lines_;
  bool interactive_;
  size_t next_ = 0;
  size_t line_ = 0;
};

// A context on `dir` writing into captured streams.
struct TestSession {
  explicit TestSession(const std::string& dir, bool json = false) {
    ctx.data_dir = dir;
    ctx.json = json;
    ctx.out = out.file();
    ctx.err = err.file();
    ctx.lock_timeout = 5;
  }
  // Runs `lines` through a Shell; returns its exit status.
  int Run(ScriptSource& src, ShellOptions opts = {}) {
    Shell shell(ctx, src, opts);
    return shell.Run();
  }
  Captured out, err;
  CliContext ctx;
};

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  return q + "'";
}

// Runs `program ARGS` (ARGS as the shell splits them) with SCRIPT on stdin, a pipe and
// never a terminal, in `tmp`.
inline RunResult RunWithPipe(const TempDir& tmp, const std::string& program,
                             const std::string& args, const std::string& script) {
  RunOptions o;
  o.stdin_text = script;
  o.cwd = tmp.path();
  return RunProgram("/bin/sh", {"-c", "exec " + ShellQuote(program) + " " + args}, o);
}

inline bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace drovebank::testing
