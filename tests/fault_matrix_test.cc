// A quick subset of the fault matrix (scripts/fault-injection runs all of it): faults at
// named points of the real programs (DROVEBANK_FAULT), and the power-loss model driven in
// process against Store at every point of deposit and transfer.
//
// The rule every test checks: after any fault each account is exactly its state before or
// after the operation, all accounts alike; what was acknowledged (or made durable by the
// journal sync, the commit point) is present; recover settles the rest and then finds
// nothing to do.
#include <fcntl.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "testing/fault_injection.h"
#include "testing/power_loss_env.h"
#include "drovebank/fault_path.h"
#include "drovebank/recovery.h"
#include "drovebank/store.h"
#include "store/journal.h"
#include "settled.h"
#include "store_ops.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

namespace fs = std::filesystem;
using testing::Drovebank;
using testing::Money;
using testing::RunResult;
using testing::Rename;
using testing::Recover;
using testing::TempDir;

// ---- Through the real programs -------------------------------------------------------

// Two accounts: 1 with 100.00, 2 with 50.00.
std::string SeedStore(const TempDir& tmp) {
  std::string dir = tmp / "data";
  REQUIRE(Drovebank(dir, {"open", "Ada", "Lovelace", "100.00"}).exit_code == 0);
  REQUIRE(Drovebank(dir, {"open", "Bob", "Babbage", "50.00"}).exit_code == 0);
  return dir;
}

// The balance a new process reads (it takes over dead locks and repairs first).
std::string Shown(const std::string& dir, int id) {
  RunResult r = Drovebank(dir, {"--json", "show", std::to_string(id)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out).at("balance").get<std::string>();
}

std::pair<std::string, std::string> ShownPair(const std::string& dir) {
  return {Shown(dir, 1), Shown(dir, 2)};
}


// recover settles, then finds nothing to do, and leaves no lock or temp file.
void RecoverSettles(const std::string& dir) {
  RunResult r = Recover(dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  RunResult check = Recover(dir, {"--check"});
  INFO(check.out);
  CHECK(check.exit_code == 0);
  CHECK(testing::SettledProblems(dir).empty());
}

std::map<std::string, std::string> Fault(const std::string& spec, int hit = 1) {
  return {{"DROVEBANK_FAULT", spec}, {"DROVEBANK_FAULT_HIT", std::to_string(hit)}};
}

const std::pair<std::string, std::string> kBefore{"100.00", "50.00"};
const std::pair<std::string, std::string> kAfter{"70.00", "80.00"};

TEST_CASE("transfer: crash after journal sync rolls forward", "[faults]") {
  // Every point past the commit point, including between the two account renames.
  auto [step, hit] = GENERATE(std::pair<std::string, int>{"after_journal_sync", 1},
                              std::pair<std::string, int>{"after_temp_write", 1},
                              std::pair<std::string, int>{"after_rename", 1},
                              std::pair<std::string, int>{"after_temp_write", 2},
                              std::pair<std::string, int>{"after_rename", 2},
                              std::pair<std::string, int>{"done", 1});
  CAPTURE(step, hit);
  TempDir tmp;
  std::string dir = SeedStore(tmp);
  RunResult r =
      Drovebank(dir, {"transfer", "1", "2", "30.00"}, Fault("transfer:" + step + ":crash", hit));
  REQUIRE(r.exit_code == kFaultCrashExitCode);
  CHECK(r.out.empty());  // never acknowledged
  // The next process takes over the dead process's locks and repairs from the journal:
  // the change is visible without recover.
  CHECK(ShownPair(dir) == kAfter);
  RecoverSettles(dir);
  CHECK(ShownPair(dir) == kAfter);
}

// The seed store after `transfer 1 2 30.00` crashed at transfer:STEP.
std::string CrashedTransfer(const TempDir& tmp, const std::string& step) {
  std::string dir = SeedStore(tmp);
  RunResult r =
      Drovebank(dir, {"transfer", "1", "2", "30.00"}, Fault("transfer:" + step + ":crash"));
  REQUIRE(r.exit_code == kFaultCrashExitCode);
  return dir;
}

TEST_CASE("transfer: crash after journal write before sync is all or nothing", "[faults]") {
  std::string step =
      GENERATE("before_journal_publish", "after_journal_write", "before_journal_sync");
  CAPTURE(step);
  TempDir tmp;
  std::string dir = CrashedTransfer(tmp, step);
  auto seen = ShownPair(dir);
  CHECK((seen == kBefore || seen == kAfter));
  RecoverSettles(dir);
  // recover never takes back what a reader has already seen.
  CHECK(ShownPair(dir) == seen);
}

// A writer killed between its journal write(2) and publishing the new end leaves a whole
// record that the next appender adopts. Whoever takes over its locks must build on that
// record, not on the file: otherwise two records carry the same account version and the
// transfer's money is lost (found by scripts/chaos with a kill every 0.05 s).
TEST_CASE("transfer: a record written but not published when its writer died is built on, "
          "never overwritten",
          "[faults]") {
  std::string step =
      GENERATE("before_journal_publish", "after_journal_write", "before_journal_sync");
  CAPTURE(step);
  TempDir tmp;
  std::string dir = CrashedTransfer(tmp, step);
  SECTION("the next writer comes first") {
    REQUIRE(Drovebank(dir, {"deposit", "1", "1.00"}).exit_code == 0);
    REQUIRE(Drovebank(dir, {"deposit", "2", "1.00"}).exit_code == 0);
    RecoverSettles(dir);
    CHECK(ShownPair(dir) == std::pair<std::string, std::string>{"71.00", "81.00"});
  }
  SECTION("recover comes first") {
    RecoverSettles(dir);
    CHECK(ShownPair(dir) == kAfter);
    REQUIRE(Drovebank(dir, {"deposit", "1", "1.00"}).exit_code == 0);
    RecoverSettles(dir);
    CHECK(ShownPair(dir) == std::pair<std::string, std::string>{"71.00", "80.00"});
  }
  // Versions in the journal go up by one per account, with no version written twice.
  RunResult h = Drovebank(dir, {"--json", "history", "1", "--page-size", "100"});
  REQUIRE(h.exit_code == 0);
  auto entries = nlohmann::json::parse(h.out).at("entries");
  CHECK(entries.size() == 3);  // open, transfer, deposit
}

TEST_CASE("deposit: eio at the journal sync says it may have been applied, recover settles",
          "[faults]") {
  std::string kind = GENERATE("eio", "enospc");
  CAPTURE(kind);
  TempDir tmp;
  std::string dir = SeedStore(tmp);
  RunResult r =
      Drovebank(dir, {"deposit", "1", "5.00"}, Fault("deposit:before_journal_sync:" + kind));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("may have been applied") != std::string::npos);
  // A failed fdatasync is never retried: writes are refused until recover has run.
  RunResult refused = Drovebank(dir, {"deposit", "2", "1.00"});
  CHECK(refused.exit_code == 5);
  RecoverSettles(dir);
  std::string b = Shown(dir, 1);
  CHECK((b == "100.00" || b == "105.00"));
  CHECK(Shown(dir, 2) == "50.00");
  CHECK(Drovebank(dir, {"deposit", "2", "1.00"}).exit_code == 0);
  CHECK(Shown(dir, 2) == "51.00");
}

TEST_CASE("transfer: power loss keeps exactly what the journal sync made durable", "[faults]") {
  struct Point {
    std::string step;
    int hit;
    bool durable;  // at or past the commit point
  };
  Point p = GENERATE(Point{"locks_held", 1, false}, Point{"before_journal_write", 1, false},
                     Point{"before_journal_publish", 1, false},
                     Point{"after_journal_write", 1, false}, Point{"before_journal_sync", 1, false},
                     Point{"after_journal_sync", 1, true}, Point{"after_rename", 1, true},
                     Point{"after_rename", 2, true}, Point{"done", 1, true});
  CAPTURE(p.step, p.hit);
  TempDir tmp;
  std::string dir = SeedStore(tmp);
  RunResult r = Drovebank(dir, {"transfer", "1", "2", "30.00", "--txn", "pl-1"},
                              Fault("transfer:" + p.step + ":powerloss", p.hit));
  INFO(r.err);
  REQUIRE(r.exit_code == kFaultCrashExitCode);
  // The first process after the "reboot" rebuilds the shared state and replays.
  CHECK(ShownPair(dir) == (p.durable ? kAfter : kBefore));
  RecoverSettles(dir);
  CHECK(ShownPair(dir) == (p.durable ? kAfter : kBefore));
  // The key answers for the transfer exactly once either way.
  RunResult again = Drovebank(dir, {"--json", "transfer", "1", "2", "30.00", "--txn", "pl-1"});
  REQUIRE(again.exit_code == 0);
  CHECK(nlohmann::json::parse(again.out).at("replayed").get<bool>() == p.durable);
  CHECK(ShownPair(dir) == kAfter);
}

// ---- In process: the power-loss model against Store ----------------------------------

struct Snapshot {
  Cents balance = 0;
  std::uint64_t version = 0;
  std::string last;  // a rename changes only the names (and the version)
  bool operator==(const Snapshot&) const = default;
};

std::map<AccountId, Snapshot> States(Store& s, const std::vector<AccountId>& ids) {
  std::map<AccountId, Snapshot> out;
  for (AccountId id : ids) {
    auto a = s.Get(id);
    INFO(a.status().message());
    REQUIRE(a.ok());
    out[id] = {a->balance, a->version, a->last};
  }
  return out;
}

std::unique_ptr<Store> OpenWith(const std::string& dir, Env* env, std::uint64_t segment_bytes) {
  StoreOptions o;
  o.data_dir = dir;
  o.env = env;
  o.lock_wait.timeout_seconds = 2;
  o.segment_bytes = segment_bytes;
  auto s = Store::Open(o);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(s).value();
}

// (point, hit) pairs in the order the operation reaches them, from a traced fault-free run.
std::vector<std::pair<std::string, int>> TracePoints(const std::string& trace_file) {
  std::ifstream in(trace_file);
  std::map<std::string, int> seen;
  std::vector<std::pair<std::string, int>> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.emplace_back(line, ++seen[line]);
  }
  return out;
}

// The sweep for one mode of the power-loss model. Local disk: the state lived in memory and
// the reboot drops it (see docs/RELIABILITY.md); the store reopens on the real Env. Shared
// mount: the state is an ordinary shared-volume file and stays; the store reopens, recovers
// and is checked through an env in shared mode (a model never powered off), as on a mount.
// Past the commit point the operation must be there; before it, all or nothing (on a mount
// a journal write is durable as it returns, so it may already be there).
void SweepPowerLoss(PowerLossMode mode) {
  struct Variant {
    std::string name;
    Event event;
    std::uint64_t segment_bytes;  // 1: every append starts a segment and checkpoints
  };
  Variant v = GENERATE(
      Variant{"deposit", Event{{Money(OpKind::kDeposit, 1, 500)}, ""}, kSegmentBytes},
      Variant{"deposit", Event{{Money(OpKind::kDeposit, 1, 500)}, "k-dep"}, 1},
      Variant{"transfer", Event{{Money(OpKind::kTransfer, 1, 3000, 2)}, ""}, kSegmentBytes},
      Variant{"transfer", Event{{Money(OpKind::kTransfer, 1, 3000, 2)}, "k-tr"}, 1},
      Variant{"rename", Event{{Rename(1, "Ada", "King")}, "k-ren"}, kSegmentBytes});
  CAPTURE(v.name, v.event.key, v.segment_bytes);
  const std::vector<AccountId> ids = {1, 2};
  const bool shared = mode == PowerLossMode::kSharedMount;
  // Shared mode everywhere, for the seed, the trace and the reopen (see above).
  auto shared_env = MakePowerLossEnv(PosixEnv(), PowerLossMode::kSharedMount);
  Env* after_env = shared ? static_cast<Env*>(shared_env.get()) : PosixEnv();

  TempDir tmp;
  std::string seed = tmp / "seed";
  std::map<AccountId, Snapshot> before, after;
  {
    auto s = OpenWith(seed, after_env, kSegmentBytes);
    for (Cents amount : {10000, 5000}) {
      Op open;
      open.kind = OpKind::kOpen;
      open.first = "Ada";
      open.last = "Lovelace";
      open.amount = amount;
      REQUIRE(s->Commit(Event{{open}, ""}).ok());
    }
    before = States(*s, ids);
  }
  // The points, from a traced fault-free run on a copy (in the mode: shared mode takes
  // other paths, in-place installs among them).
  std::string traced = tmp / "traced";
  fs::copy(seed, traced, fs::copy_options::recursive);
  {
    auto tracer = MakeFaultEnv(after_env, FaultSpec{}, tmp / "trace");
    auto s = OpenWith(traced, tracer.get(), v.segment_bytes);
    fs::remove(tmp / "trace");  // only the points of the operation, not of opening
    DB_FAULT_PATH(v.name);
    REQUIRE(s->Commit(v.event).ok());
    after = States(*s, ids);
  }
  REQUIRE(before != after);
  auto points = TracePoints(tmp / "trace");
  std::set<std::string> names;
  for (const auto& [point, hit] : points) names.insert(point);
  REQUIRE(names.count(v.name + ":after_journal_sync") == 1);
  if (v.segment_bytes == 1) REQUIRE(names.count("checkpoint:after_sync") == 1);

  bool committed = false;  // past the commit point in the order the points are reached
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& [point, hit] = points[i];
    if (point == v.name + ":after_journal_sync" || point == v.name + ":after_segment_create") {
      committed = true;  // a rotation fdatasyncs the old segment, record included, first
    }
    CAPTURE(point, hit);
    std::string dir = tmp / ("case-" + std::to_string(i));
    fs::copy(seed, dir, fs::copy_options::recursive);
    {
      auto power = MakePowerLossEnv(PosixEnv(), mode);
      auto s = OpenWith(dir, power.get(), v.segment_bytes);
      power->ArmPowerLossAt(point.substr(0, point.find(':')), point.substr(point.find(':') + 1),
                            hit);
      // Whatever it answers: the power is gone, the store is discarded.
      DB_FAULT_PATH(v.name);
      (void)s->Commit(v.event);
      REQUIRE(power->power_lost());
      INFO(power->power_loss_status().message());
      REQUIRE(power->power_loss_status().ok());
    }
    if (!shared) fs::remove(dir + "/journal/state");
    auto s = OpenWith(dir, after_env, kSegmentBytes);
    auto seen = States(*s, ids);
    if (committed) {
      CHECK(seen == after);
    } else {
      CHECK((seen == before || (shared && seen == after)));
    }
    s.reset();
    RecoverOptions ro;
    ro.data_dir = dir;
    ro.env = after_env;
    RecoverReport report;
    Status rs = Recover(ro, &report);
    INFO(rs.message());
    REQUIRE(rs.ok());
    ro.check_only = true;
    RecoverReport check;
    REQUIRE(Recover(ro, &check).ok());
    CHECK(check.consistent());
    auto settled = OpenWith(dir, after_env, kSegmentBytes);
    CHECK(States(*settled, ids) == seen);
  }
}

TEST_CASE(
    "store: power loss at every fault point of deposit, transfer and rename keeps accounts "
    "before or after",
    "[faults][powerloss]") {
  SweepPowerLoss(PowerLossMode::kLocalDisk);
}

TEST_CASE(
    "store on a shared mount that ignores directory fsync: power loss at every fault point "
    "of deposit, transfer and rename keeps accounts before or after",
    "[faults][powerloss][shared]") {
  SweepPowerLoss(PowerLossMode::kSharedMount);
}

// ---- reverse: every fault point of its write path ------------------------------------

// The seed store after `transfer 1 2 30.00` (txn 3): 70.00 and 80.00.
std::string Transferred(const TempDir& tmp) {
  std::string dir = SeedStore(tmp);
  REQUIRE(Drovebank(dir, {"transfer", "1", "2", "30.00"}).exit_code == 0);
  return dir;
}

// The points `reverse 3` passes through, each with how many times it is reached by then,
// from a fault-free run (so a new point is swept without editing this test).
std::vector<std::pair<std::string, int>> ReversePoints() {
  TempDir tmp;
  std::string dir = Transferred(tmp);
  std::string trace = tmp / "trace";
  RunResult r = Drovebank(dir, {"reverse", "3"}, {{"DROVEBANK_FAULT_TRACE", trace}});
  REQUIRE(r.exit_code == 0);
  std::ifstream in(trace);
  std::map<std::string, int> seen;
  std::vector<std::pair<std::string, int>> out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("reverse:", 0) == 0) out.emplace_back(line, ++seen[line]);
  }
  return out;
}

TEST_CASE("reverse: a fault at any point reverses the txn exactly once or not at all, and a "
          "second reverse then agrees",
          "[faults][reverse]") {
  const std::pair<std::string, std::string> transferred = kAfter;  // 70.00, 80.00
  const std::pair<std::string, std::string> reversed = kBefore;    // 100.00, 50.00
  auto points = ReversePoints();
  std::set<std::string> names;
  for (const auto& [p, hit] : points) names.insert(p);
  // The whole commit protocol, past the commit point too.
  for (const char* must : {"reverse:locks_held", "reverse:flags_set", "reverse:after_journal_sync",
                           "reverse:after_rename", "reverse:done"}) {
    CHECK(names.count(must) == 1);
  }
  for (const auto& [point, hit] : points) {
    for (const char* kind : {"crash", "eio", "enospc", "powerloss"}) {
      CAPTURE(point, hit, kind);
      TempDir tmp;
      std::string dir = Transferred(tmp);
      RunResult r = Drovebank(dir, {"reverse", "3"}, Fault(point + ":" + kind, hit));
      INFO(r.out + r.err);
      RecoverSettles(dir);
      auto seen = ShownPair(dir);
      CHECK((seen == transferred || seen == reversed));
      if (r.exit_code == 0) CHECK(seen == reversed);  // acknowledged: present
      if (r.exit_code >= 2 && r.exit_code <= 5) CHECK(seen == transferred);  // nothing changed
      RunResult again = Drovebank(dir, {"reverse", "3"});
      INFO(again.out + again.err);
      CHECK(again.exit_code == (seen == reversed ? 3 : 0));
      CHECK(ShownPair(dir) == reversed);
      RunResult third = Drovebank(dir, {"reverse", "3"});
      CHECK(third.exit_code == 3);
      CHECK(third.err.find("txn 3 was already reversed by txn ") != std::string::npos);
      CHECK(ShownPair(dir) == reversed);
      RecoverSettles(dir);
    }
  }
}

}  // namespace
}  // namespace drovebank
