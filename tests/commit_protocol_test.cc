// The commit protocol end to end, as a user meets it: a write killed at any step, then a
// fault inside `recover` or inside a writer's repair, then more writes, then `recover`.
// Every combination must conserve money, leave each account before or after the killed
// write, and pass `recover --check` with nothing left over. (Issue: a transfer killed
// between its two renames, then `recover` killed before its replay, then a deposit on
// the second account, destroyed the transfer's 10.00 in format 1.)
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "drovebank/account.h"
#include "testing/fault_injection.h"
#include "drovebank/money.h"
#include "settled.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Drovebank;
using testing::RunResult;
using testing::TempDir;

struct Write {
  std::string path;               // fault path
  std::vector<std::string> args;  // the command
  Cents a_after, b_after;         // balances of accounts 1 and 2 once it is applied
};

const Cents kA = 10000, kB = 10000;  // both accounts start at 100.00

Cents BalanceOf(const std::string& dir, int id) {
  RunResult r = Drovebank(dir, {"--json", "show", std::to_string(id)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto cents = ParseAmount(nlohmann::json::parse(r.out)["balance"].get<std::string>());
  REQUIRE(cents.ok());
  return *cents;
}

std::map<std::string, std::string> Fault(const std::string& spec, int hit = 1) {
  return {{"DROVEBANK_FAULT", spec}, {"DROVEBANK_FAULT_HIT", std::to_string(hit)}};
}

// Runs the sweep for one killed write; `recover_faults` are PATH:STEP points of recover
// (and of the repairs it or a writer makes) to crash at before the final recover.
void Sweep(const Write& w, const std::vector<std::pair<std::string, int>>& steps,
           const std::vector<std::string>& recover_faults, bool writer_repair_crash) {
  for (const auto& [step, hit] : steps) {
    for (const std::string& rf : recover_faults) {
      for (bool crash_writer : {false, writer_repair_crash}) {
        CAPTURE(w.path, step, hit, rf, crash_writer);
        TempDir t;
        std::string dir = t / "data";
        REQUIRE(Drovebank(dir, {"open", "A", "A", "100"}).exit_code == 0);
        REQUIRE(Drovebank(dir, {"open", "B", "B", "100"}).exit_code == 0);
        RunResult killed = Drovebank(dir, w.args, Fault(w.path + ":" + step + ":crash", hit));
        REQUIRE(killed.exit_code == kFaultCrashExitCode);
        if (!rf.empty()) {
          RunResult r = testing::Recover(dir, {}, Fault(rf + ":crash"));
          CHECK((r.exit_code == kFaultCrashExitCode || r.exit_code == 0));
        }
        if (crash_writer) {
          // A writer that meets the flag dies inside its repair.
          RunResult r = Drovebank(dir, {"deposit", "2", "1"}, Fault("repair:before_clear:crash"));
          CHECK((r.exit_code == kFaultCrashExitCode || r.exit_code == 0));
          if (r.exit_code == 0) REQUIRE(Drovebank(dir, {"withdraw", "2", "1"}).exit_code == 0);
        }
        // A writer between the faults and the final recover builds on whatever it finds.
        RunResult dep = Drovebank(dir, {"deposit", "2", "5"});
        INFO(dep.err);
        REQUIRE(dep.exit_code == 0);
        RunResult rec = testing::Recover(dir);
        INFO(rec.out << rec.err);
        REQUIRE(rec.exit_code == 0);
        RunResult check = testing::Recover(dir, {"--check"});
        INFO(check.out);
        CHECK(check.exit_code == 0);
        CHECK(testing::SettledProblems(dir).empty());
        Cents a = BalanceOf(dir, 1), b = BalanceOf(dir, 2) - 500;
        bool before = a == kA && b == kB;
        bool after = a == w.a_after && b == w.b_after;
        CHECK((before || after));
        // Which one is fixed by where it died: before the append nothing can be there;
        // from the sync on the record is durable and must win.
        if (step == "locks_held" || step == "flags_set" || step == "before_journal_write") {
          CHECK(before);
        }
        if (step == "after_journal_sync" || step == "after_temp_write" || step == "after_rename" ||
            step == "done") {
          CHECK(after);
        }
      }
    }
  }
}

const std::vector<std::pair<std::string, int>> kSingleSteps = {
    {"locks_held", 1},          {"flags_set", 1},           {"before_journal_write", 1},
    {"before_journal_publish", 1}, {"after_journal_write", 1}, {"before_journal_sync", 1},
    {"after_journal_sync", 1},  {"after_temp_write", 1},    {"after_rename", 1},
    {"done", 1}};

const std::vector<std::string> kRecoverFaults = {
    "",  "recover:after_open", "recover:after_upgrade", "recover:after_replay",
    "recover:after_flags", "recover:after_temps", "repair:after_install", "repair:before_clear"};

TEST_CASE("protocol: a transfer killed at any step, recover killed at any step, then a write: "
          "money conserved",
          "[protocol][faults]") {
  std::vector<std::pair<std::string, int>> steps = kSingleSteps;
  steps.push_back({"after_temp_write", 2});
  steps.push_back({"after_rename", 2});
  Sweep({"transfer", {"transfer", "1", "2", "10"}, 9000, 11000}, steps, kRecoverFaults, true);
}

TEST_CASE("protocol: a deposit or a withdrawal killed at any step, recover killed, then a write",
          "[protocol][faults]") {
  Sweep({"deposit", {"deposit", "2", "7"}, kA, kB + 700}, kSingleSteps,
        {"", "recover:after_upgrade", "repair:before_clear"}, true);
  Sweep({"withdraw", {"withdraw", "1", "7"}, kA - 700, kB}, kSingleSteps,
        {"", "recover:after_replay", "repair:after_install"}, false);
}

TEST_CASE("protocol: a keyed deposit killed at any step, then the same key again: applied "
          "exactly once",
          "[protocol][faults][keys]") {
  std::vector<std::pair<std::string, int>> steps = kSingleSteps;
  steps.push_back({"after_key_index", 1});
  for (const auto& [step, hit] : steps) {
    for (std::string rf : {"", "repair:after_install", "repair:before_clear",
                                  "recover:after_replay"}) {
      CAPTURE(step, rf);
      TempDir t;
      std::string dir = t / "data";
      REQUIRE(Drovebank(dir, {"open", "A", "A", "100"}).exit_code == 0);
      REQUIRE(Drovebank(dir, {"open", "B", "B", "100"}).exit_code == 0);
      // Another key first, so the slot's chain and the index are not empty.
      REQUIRE(Drovebank(dir, {"deposit", "1", "1", "--txn", "earlier"}).exit_code == 0);
      std::vector<std::string> keyed = {"deposit", "2", "7", "--txn", "pay-42"};
      RunResult killed = Drovebank(dir, keyed, Fault("deposit:" + step + ":crash", hit));
      REQUIRE(killed.exit_code == kFaultCrashExitCode);
      if (!rf.empty()) {
        RunResult r = testing::Recover(dir, {}, Fault(rf + ":crash"));
        CHECK((r.exit_code == kFaultCrashExitCode || r.exit_code == 0));
      }
      // The user retries, as the key is there for: applied now, or found applied.
      RunResult again = Drovebank(dir, keyed);
      INFO(again.out << again.err);
      REQUIRE(again.exit_code == 0);
      RunResult other = Drovebank(dir, {"deposit", "2", "8", "--txn", "pay-42"});
      CHECK(other.exit_code == 3);
      CHECK(Drovebank(dir, {"deposit", "1", "1", "--txn", "earlier"}).exit_code == 0);
      RunResult rec = testing::Recover(dir);
      INFO(rec.out << rec.err);
      REQUIRE(rec.exit_code == 0);
      RunResult check = testing::Recover(dir, {"--check"});
      INFO(check.out);
      CHECK(check.exit_code == 0);
      CHECK(testing::SettledProblems(dir).empty());
      CHECK(BalanceOf(dir, 1) == kA + 100);
      CHECK(BalanceOf(dir, 2) == kB + 700);
      // And once more after recover, when only the journal and keys/index remember it.
      RunResult late = Drovebank(dir, {"--json", "deposit", "2", "7", "--txn", "pay-42"});
      INFO(late.out << late.err);
      CHECK(late.exit_code == 0);
      CHECK(BalanceOf(dir, 2) == kB + 700);
    }
  }
}

}  // namespace
}  // namespace drovebank
