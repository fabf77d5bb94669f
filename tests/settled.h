// Whether a store is settled, by the one check the Python drivers use too
// (scripts/settled.py, run as a program): `recover --check --full` says consistent, nothing
// is left over in locks/, tmp/ or elsewhere (*.tmp, NEEDS_RECOVERY, a repair flag set), and
// the account files agree with the journal (versions one by one, newest states, money).
#pragma once

#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "run_program.h"

namespace drovebank::testing {

// Each problem scripts/settled.py finds in the store at `dir`, one a line; empty when it is
// settled. `files_only`: the file rules alone (no recover run, no journal read), for a
// store a test has left mid-way on purpose. A check that cannot run is a problem too.
inline std::vector<std::string> SettledProblems(const std::string& dir, bool files_only = false) {
  // Debian's python3 when there (scripts/setup installs it): a version manager's shim
  // first in PATH costs 0.4 s a run, against 0.04 s, and the fault sweeps run it often.
  bool debian = ::access("/usr/bin/python3", X_OK) == 0;
  std::vector<std::string> args = {DROVEBANK_SOURCE_DIR "/scripts/settled.py", "--recover",
                                   RECOVER_BIN};
  if (!debian) args.insert(args.begin(), "python3");
  if (files_only) args.push_back("--files-only");
  args.push_back(dir);
  RunOptions options;
  options.timeout_seconds = 180;
  RunResult r = RunProgram(debian ? "/usr/bin/python3" : "/usr/bin/env", args, options);
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(line);
  }
  if (r.exit_code != 0 && r.exit_code != 1) {
    out.push_back("scripts/settled.py exited " + std::to_string(r.exit_code) + ": " + r.err);
  } else if ((r.exit_code == 1) != !out.empty()) {
    out.push_back("scripts/settled.py exited " + std::to_string(r.exit_code) + " saying " +
                  std::to_string(out.size()) + " problem(s): " + r.err);
  }
  return out;
}

}  // namespace drovebank::testing
