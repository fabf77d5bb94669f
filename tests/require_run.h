// What a test says of a finished run: its output (for INFO), a REQUIRE of its exit
// status, and a --json run of drovebank parsed.
//
//   Must(Drovebank(dir, {"open", "Ada", "Lovelace", "100"}));      exit 0, or the test stops
//   json a = MustJson(dir, {"show", "1"});                         drovebank --json show 1
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_drovebank.h"
#include "run_program.h"

namespace drovebank::testing {

// A run's exit status and both outputs, for a failed check's message.
inline std::string Why(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// REQUIREs that the run exited `code`; returns it for more checks.
inline RunResult Must(RunResult r, int code = 0) {
  INFO(Why(r));
  REQUIRE(r.exit_code == code);
  return r;
}

// drovebank -d DIR --json ARGS..., which must exit 0; its output parsed.
inline nlohmann::json MustJson(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  return nlohmann::json::parse(Must(Drovebank(dir, args)).out);
}

}  // namespace drovebank::testing
