// `recover --check` as a module (CheckStore, src/store/recovery_parts.h, check.cc): on a
// settled store it finds nothing to do; on a store with every kind of leftover it counts
// what recover would do, and changes no byte of any file. The program's report and exit
// codes are recovery_test.cc and corruption_test.cc.
#include <filesystem>
#include <map>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/recovery.h"
#include "lock_test_util.h"
#include "store/recovery_parts.h"
#include "journal_ops.h"

namespace drovebank {
namespace {

namespace fs = std::filesystem;
using namespace testing;

// Every file under `dir` with its bytes, but those that are rewritten without changing the
// store (as scripts/fault_injection.py's snapshot leaves them out): journal/state, the lock
// holders' notes (written at every lock, and the check waits for writers by locking), and
// the spares.
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "journal/state" || rel == "locks/owners" || rel.rfind("tmp/spare-", 0) == 0) {
      continue;
    }
    if (e.is_regular_file()) out[rel] = Slurp(e.path().string());
  }
  return out;
}

// The files added, removed or changed from `before` to `after`.
std::vector<std::string> Changed(const std::map<std::string, std::string>& before,
                                 const std::map<std::string, std::string>& after) {
  std::vector<std::string> out;
  for (const auto& [path, bytes] : before) {
    auto it = after.find(path);
    if (it == after.end() || it->second != bytes) out.push_back(path);
  }
  for (const auto& [path, bytes] : after) {
    if (!before.count(path)) out.push_back(path);
  }
  return out;
}

RecoverOptions CheckOnly(const std::string& data) {
  RecoverOptions o;
  o.data_dir = data;
  o.check_only = true;
  return o;
}

TEST_CASE("check: a settled store has nothing to do and its chain is followed", "[check]") {
  TempDir dir;
  std::string data = ThreeRecords(dir);
  auto before = Tree(data);
  RecoverReport r;
  REQUIRE(CheckStore(CheckOnly(data), DefaultEnv(), &r).ok());
  CHECK(r.consistent());
  CHECK(r.dead_locks == 0);
  CHECK(r.live_locks == 0);
  CHECK(r.chain_records == 3);
  CHECK(Changed(before, Tree(data)) == std::vector<std::string>{});
}

TEST_CASE("check: each leftover is counted as recover would settle it, and no byte changes",
          "[check]") {
  TempDir dir;
  std::string data = ThreeRecords(dir);
  Layout layout(data);
  REQUIRE(WriteRecoveryMarker(DefaultEnv(), layout, "a test marks it").ok());
  {
    auto t = Table(layout);  // a writer that died with account 2's flag set
    REQUIRE(t->SetNeedsRepair(AccountSlot(2), true).ok());
  }
  Spit(layout.tmp() + "/leftover.tmp", "half a file");
  std::string file1 = layout.AccountPath(1);
  std::string edited = Slurp(file1);
  size_t comma = edited.find(",105.00,");
  REQUIRE(comma != std::string::npos);
  edited.replace(comma, 8, ",999.00,");  // changed by hand: its checksum fails
  Spit(file1, edited);

  auto before = Tree(data);
  RecoverReport r;
  REQUIRE(CheckStore(CheckOnly(data), DefaultEnv(), &r).ok());
  CHECK_FALSE(r.consistent());
  CHECK(r.marker_cleared);
  CHECK(r.dead_locks == 1);
  CHECK(r.live_locks == 0);
  CHECK(r.temps_removed == 1);
  CHECK(r.files_repaired >= 1);
  CHECK(r.repairs.empty());  // nothing is rewritten by a check
  CHECK(Changed(before, Tree(data)) == std::vector<std::string>{});
}

TEST_CASE("check: a flag whose writer is alive is left to it", "[check]") {
  TempDir dir;
  std::string data = ThreeRecords(dir);
  Layout layout(data);
  auto writer = Table(layout);  // alive: holds account 1 with its flag set
  REQUIRE(writer->TryLock(AccountSlot(1)).ok());
  REQUIRE(writer->SetNeedsRepair(AccountSlot(1), true).ok());
  RecoverReport r;
  REQUIRE(CheckStore(CheckOnly(data), DefaultEnv(), &r).ok());
  CHECK(r.live_locks == 1);
  CHECK(r.dead_locks == 0);
  CHECK(*writer->NeedsRepair(AccountSlot(1)));
}

}  // namespace
}  // namespace drovebank
