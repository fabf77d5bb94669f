// The tests' shorthands for running drovebank and recover, on RunProgram (run_program.h).
//
//   Drovebank(dir, {"open", "alice"})                 this process's environment, plus `env`
//   Recover(dir, {"--check"})
//   RunOnStore(dir, {"show", "1"})                    PlainOptions(): no colour, no fault
//   RunDrovebank({"--version"})                       variables, no DROVEBANK_DATA
#pragma once

#include <map>
#include <string>
#include <vector>

#include "run_program.h"

namespace drovebank::testing {

// drovebank -d DIR ARGS..., with this process's environment plus `env`.
inline RunResult Drovebank(const std::string& dir, std::vector<std::string> args,
                           const std::map<std::string, std::string>& env = {},
                           const std::string& input = "") {
  args.insert(args.begin(), {"-d", dir});
  return RunProgram(DROVEBANK_BIN, args, WithEnv(env, input));
}

// recover -d DIR ARGS..., likewise.
inline RunResult Recover(const std::string& dir, std::vector<std::string> args = {},
                         const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), {"-d", dir});
  return RunProgram(RECOVER_BIN, args, WithEnv(env));
}

// The end-to-end tests' usual run of drovebank: no colour, and none of the variables that
// would change what it does from outside (fault injection, another data directory).
inline RunOptions PlainOptions() {
  RunOptions o;
  o.env = {"NO_COLOR=1"};
  o.unset = {"DROVEBANK_FAULT", "DROVEBANK_FAULT_HIT", "DROVEBANK_FAULT_TRACE", "DROVEBANK_DATA"};
  return o;
}
inline RunResult RunDrovebank(std::vector<std::string> args, RunOptions o = PlainOptions()) {
  return RunProgram(DROVEBANK_BIN, args, o);
}
// What the program said on stderr, without its "PROGRAM: " prefix and the final newlines.
inline std::string Message(const RunResult& r, const std::string& program = "drovebank") {
  std::string m = r.err;
  if (m.rfind(program + ": ", 0) == 0) m = m.substr(program.size() + 2);
  while (!m.empty() && m.back() == '\n') m.pop_back();
  return m;
}
// drovebank -d DATA ARGS...
inline RunResult RunOnStore(const std::string& data, std::vector<std::string> args,
                            RunOptions o = PlainOptions()) {
  args.insert(args.begin(), {"-d", data});
  return RunDrovebank(args, o);
}

}  // namespace drovebank::testing
