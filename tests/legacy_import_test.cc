// The legacy planner's module test (features/import/legacy_import.cc, PlanLegacyImport):
// hand-built original (Python) data directories, and the decision it makes for each file.
// The import-legacy command end to end is import_legacy_e2e_test.cc.
#include "drovebank/legacy_import.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "drovebank/env.h"
#include "temp_dir.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

// A scratch directory filled by hand with legacy files and removed after.
class LegacyDir {
 public:
  const std::string& path() const { return dir_.path(); }
  std::string Path(const std::string& name) const { return dir_.Path(name); }
  void Write(const std::string& name, std::string_view content) {
    REQUIRE(dir_.Write(name, std::string(content)));
  }

  // Every entry's name and content (directories and symlinks by kind), to prove planning
  // leaves the directory as it found it.
  std::map<std::string, std::string> Snapshot() const {
    Env* env = PosixEnv();
    std::map<std::string, std::string> out;
    auto names = env->ListDir(path());
    REQUIRE(names.ok());
    for (const std::string& n : *names) {
      auto info = env->Stat(Path(n));
      REQUIRE(info.ok());
      if (info->is_regular) {
        auto text = env->ReadFile(Path(n));
        REQUIRE(text.ok());
        out[n] = *text;
      } else {
        out[n] = info->is_dir ? "<dir>" : "<other>";
      }
    }
    return out;
  }

 private:
  testing::TempDir dir_{"drovebank-legacy"};
};

// Plans DIR and checks what every plan must satisfy: one decision per entry in name order,
// errors counting the "error" decisions, accounts sorted by id, DIR untouched.
LegacyPlan Plan(const LegacyDir& dir) {
  auto before = dir.Snapshot();
  auto plan = PlanLegacyImport(PosixEnv(), dir.path());
  REQUIRE(plan.ok());
  auto after = dir.Snapshot();
  CHECK(before == after);

  std::vector<std::string> files;
  for (const auto& d : plan->decisions) files.push_back(d.file);
  std::vector<std::string> entries;
  for (const auto& [name, content] : before) entries.push_back(name);
  CHECK(files == entries);  // the map iterates in name order, as the decisions must be

  size_t errors = std::count_if(plan->decisions.begin(), plan->decisions.end(),
                                [](const LegacyDecision& d) { return d.action == "error"; });
  CHECK(plan->errors == errors);
  for (size_t i = 1; i < plan->accounts.size(); ++i) {
    CHECK(plan->accounts[i - 1].id < plan->accounts[i].id);
  }
  return std::move(plan).value();
}

std::string ActionOf(const LegacyPlan& plan, const std::string& file) {
  for (const auto& d : plan.decisions) {
    if (d.file == file) return d.action;
  }
  return "<no decision>";
}

std::string ReasonOf(const LegacyPlan& plan, const std::string& file) {
  for (const auto& d : plan.decisions) {
    if (d.file == file) return d.reason;
  }
  return "<no decision>";
}

const LegacyAccount* AccountOf(const LegacyPlan& plan, AccountId id) {
  for (const auto& a : plan.accounts) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- directory scenarios ----

TEST_CASE("legacy: plain account files and index.idx are imported", "[legacy]") {
  LegacyDir dir;
  dir.Write("1.txt", "Ann,Lee,100.0\n");
  dir.Write("2.txt", "Bob,Kay,50.25\n");
  dir.Write("10.txt", "Cy,Dee,7\r\n");
  dir.Write("index.idx", "10\n");
  LegacyPlan plan = Plan(dir);

  REQUIRE(plan.accounts.size() == 3);
  CHECK(plan.accounts[0].id == 1);
  CHECK(plan.accounts[0].first == "Ann");
  CHECK(plan.accounts[0].last == "Lee");
  CHECK(plan.accounts[0].balance == 10000);
  CHECK(plan.accounts[0].source_file == "1.txt");
  CHECK(plan.accounts[1].id == 2);
  CHECK(plan.accounts[1].balance == 5025);
  CHECK(plan.accounts[2].id == 10);
  CHECK(plan.accounts[2].balance == 700);
  CHECK(plan.last_id_from_index == 10);
  CHECK(plan.errors == 0);
  for (const auto& d : plan.decisions) CHECK(d.action == "import");
  CHECK(Contains(ReasonOf(plan, "index.idx"), "last id used: 10"));
}

TEST_CASE("legacy: an empty directory gives an empty plan", "[legacy]") {
  LegacyDir dir;
  LegacyPlan plan = Plan(dir);
  CHECK(plan.accounts.empty());
  CHECK(plan.decisions.empty());
  CHECK(plan.last_id_from_index == 0);
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: .tmp becomes the account when .txt is missing", "[legacy]") {
  // Crash between moving 5.txt to .old and moving the .tmp into place.
  LegacyDir dir;
  dir.Write("5.lock", "");
  dir.Write("5_AB12CD34.txt.tmp", "Ann,Lee,150.0\n");
  dir.Write("5_AB12CD34.txt.old", "Ann,Lee,100.0\n");
  dir.Write("index.idx", "5\n");
  LegacyPlan plan = Plan(dir);

  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.accounts[0].id == 5);
  CHECK(plan.accounts[0].balance == 15000);
  CHECK(plan.accounts[0].source_file == "5_AB12CD34.txt.tmp");
  CHECK(ActionOf(plan, "5_AB12CD34.txt.tmp") == "use-tmp");
  CHECK(ActionOf(plan, "5_AB12CD34.txt.old") == "discard");
  CHECK(ActionOf(plan, "5.lock") == "discard");
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: .txt is kept and .tmp/.old/.lock are discarded when .txt exists", "[legacy]") {
  LegacyDir dir;
  dir.Write("5.txt", "Ann,Lee,100.0\n");
  dir.Write("5.lock", "");
  SECTION("crash before the rename: .tmp holds an unapplied write") {
    dir.Write("5_AB12CD34.txt.tmp", "Ann,Lee,150.0\n");
  }
  SECTION("crash after the rename: only .old is left") {
    dir.Write("5_AB12CD34.txt.old", "Ann,Lee,50.0\n");
  }
  SECTION("both, and a stale pair from an earlier write") {
    dir.Write("5_AB12CD34.txt.tmp", "Ann,Lee,150.0\n");
    dir.Write("5_AB12CD34.txt.old", "Ann,Lee,50.0\n");
    dir.Write("5_ZZZZ9999.txt.old", "Ann,Lee,1.0\n");
  }
  LegacyPlan plan = Plan(dir);
  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.accounts[0].balance == 10000);
  CHECK(plan.accounts[0].source_file == "5.txt");
  for (const auto& d : plan.decisions) {
    CHECK(d.action == (d.file == "5.txt" ? "import" : "discard"));
  }
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: several .tmp files and no .txt is an error", "[legacy]") {
  LegacyDir dir;
  dir.Write("5_AAAAAAAA.txt.tmp", "Ann,Lee,150.0\n");
  dir.Write("5_BBBBBBBB.txt.tmp", "Ann,Lee,160.0\n");
  dir.Write("5.lock", "");
  LegacyPlan plan = Plan(dir);
  CHECK(plan.accounts.empty());
  CHECK(ActionOf(plan, "5_AAAAAAAA.txt.tmp") == "error");
  CHECK(ActionOf(plan, "5_BBBBBBBB.txt.tmp") == "error");
  CHECK(ActionOf(plan, "5.lock") == "error");
  CHECK(plan.errors == 3);
}

TEST_CASE("legacy: an .old with no .txt and no .tmp is an error", "[legacy]") {
  LegacyDir dir;
  dir.Write("5_AAAAAAAA.txt.old", "Ann,Lee,100.0\n");
  dir.Write("5.lock", "");
  LegacyPlan plan = Plan(dir);
  CHECK(plan.accounts.empty());
  CHECK(ActionOf(plan, "5_AAAAAAAA.txt.old") == "error");
  CHECK(ActionOf(plan, "5.lock") == "error");
  CHECK(Contains(ReasonOf(plan, "5.lock"), "5.txt is missing"));
  CHECK(plan.errors == 2);
}

TEST_CASE("legacy: an unreadable .tmp is an error and its siblings are kept", "[legacy]") {
  // Power loss can leave the unsynced .tmp empty.
  LegacyDir dir;
  dir.Write("5_AB12CD34.txt.tmp", "");
  dir.Write("5_AB12CD34.txt.old", "Ann,Lee,100.0\n");
  dir.Write("5.lock", "");
  LegacyPlan plan = Plan(dir);
  CHECK(plan.accounts.empty());
  CHECK(ActionOf(plan, "5_AB12CD34.txt.tmp") == "error");
  CHECK(ActionOf(plan, "5_AB12CD34.txt.old") == "skip");
  CHECK(ActionOf(plan, "5.lock") == "skip");
  CHECK(Contains(ReasonOf(plan, "5.lock"), "kept for inspection"));
  CHECK(plan.errors == 1);
}

TEST_CASE("legacy: an interrupted transfer completes when an account file is missing", "[legacy]") {
  // Transfer of 30.00 from 1 (100.00) to 2 (10.00) with write id XFER0001. Its steps:
  // copy both .txt to .xtmp, write new balances there, move each .txt to .xold, move each
  // .xtmp to .txt, delete the .xold files.
  LegacyDir dir;
  dir.Write("1.lock", "");
  dir.Write("2.lock", "");
  SECTION("only 1.txt was moved aside") {
    dir.Write("2.txt", "Bob,Kay,10.0\n");
    dir.Write("1_XFER0001.txt.xold", "Ann,Lee,100.0\n");
    dir.Write("1_XFER0001.txt.xtmp", "Ann,Lee,70.0\n");
    dir.Write("2_XFER0001.txt.xtmp", "Bob,Kay,40.0\n");
    LegacyPlan plan = Plan(dir);
    // Taking 2.txt would lose the 30.00 that left account 1.
    CHECK(ActionOf(plan, "1_XFER0001.txt.xtmp") == "use-xtmp");
    CHECK(ActionOf(plan, "2_XFER0001.txt.xtmp") == "use-xtmp");
    CHECK(ActionOf(plan, "2.txt") == "discard");
    CHECK(ActionOf(plan, "1_XFER0001.txt.xold") == "discard");
    CHECK(ActionOf(plan, "1.lock") == "discard");
    REQUIRE(plan.accounts.size() == 2);
    REQUIRE(AccountOf(plan, 1) != nullptr);
    REQUIRE(AccountOf(plan, 2) != nullptr);
    CHECK(AccountOf(plan, 1)->balance == 7000);
    CHECK(AccountOf(plan, 2)->balance == 4000);
    CHECK(AccountOf(plan, 2)->source_file == "2_XFER0001.txt.xtmp");
    CHECK(plan.errors == 0);
  }
  SECTION("both .txt were moved aside") {
    dir.Write("1_XFER0001.txt.xold", "Ann,Lee,100.0\n");
    dir.Write("2_XFER0001.txt.xold", "Bob,Kay,10.0\n");
    dir.Write("1_XFER0001.txt.xtmp", "Ann,Lee,70.0\n");
    dir.Write("2_XFER0001.txt.xtmp", "Bob,Kay,40.0\n");
    LegacyPlan plan = Plan(dir);
    CHECK(ActionOf(plan, "1_XFER0001.txt.xtmp") == "use-xtmp");
    CHECK(ActionOf(plan, "2_XFER0001.txt.xtmp") == "use-xtmp");
    CHECK(ActionOf(plan, "1_XFER0001.txt.xold") == "discard");
    CHECK(ActionOf(plan, "2_XFER0001.txt.xold") == "discard");
    REQUIRE(plan.accounts.size() == 2);
    CHECK(plan.accounts[0].source_file == "1_XFER0001.txt.xtmp");
    CHECK(plan.accounts[0].balance == 7000);
    CHECK(plan.accounts[1].balance == 4000);
    CHECK(plan.errors == 0);
  }
  SECTION("1 was already renamed into place, 2 was not") {
    dir.Write("1.txt", "Ann,Lee,70.0\n");
    dir.Write("1_XFER0001.txt.xold", "Ann,Lee,100.0\n");
    dir.Write("2_XFER0001.txt.xold", "Bob,Kay,10.0\n");
    dir.Write("2_XFER0001.txt.xtmp", "Bob,Kay,40.0\n");
    LegacyPlan plan = Plan(dir);
    CHECK(ActionOf(plan, "1.txt") == "import");
    CHECK(ActionOf(plan, "2_XFER0001.txt.xtmp") == "use-xtmp");
    CHECK(ActionOf(plan, "1_XFER0001.txt.xold") == "discard");
    CHECK(ActionOf(plan, "2_XFER0001.txt.xold") == "discard");
    REQUIRE(plan.accounts.size() == 2);
    CHECK(plan.accounts[0].balance == 7000);
    CHECK(plan.accounts[1].balance == 4000);
    CHECK(plan.errors == 0);
  }
}

TEST_CASE("legacy: a transfer with both .txt present keeps them and discards x-files", "[legacy]") {
  LegacyDir dir;
  dir.Write("1.txt", "Ann,Lee,100.0\n");
  dir.Write("2.txt", "Bob,Kay,10.0\n");
  dir.Write("1.lock", "");
  SECTION("crash before any .txt was moved: the transfer never happened") {
    dir.Write("1_XFER0001.txt.xtmp", "Ann,Lee,70.0\n");
    dir.Write("2_XFER0001.txt.xtmp", "Bob,Kay,40.0\n");
  }
  SECTION("crash while deleting the .xold files: the .txt hold the result") {
    dir.Write("2_XFER0001.txt.xold", "Bob,Kay,40.0\n");
  }
  LegacyPlan plan = Plan(dir);
  REQUIRE(plan.accounts.size() == 2);
  CHECK(plan.accounts[0].balance == 10000);
  CHECK(plan.accounts[1].balance == 1000);
  for (const auto& d : plan.decisions) {
    bool txt = d.file.ends_with(".txt");
    CHECK(d.action == (txt ? "import" : "discard"));
  }
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: a lone transfer leftover with its .txt missing is an error", "[legacy]") {
  // Only one side of write id ABCDEFGH exists (the original's self-transfer ends here), so
  // there is no pair to complete and nothing tells which balance is right.
  LegacyDir dir;
  dir.Write("3_ABCDEFGH.txt.xtmp", "Ann,Lee,70.0\n");
  dir.Write("3_ABCDEFGH.txt.xold", "Ann,Lee,100.0\n");
  dir.Write("4.txt", "Bob,Kay,1.0\n");
  LegacyPlan plan = Plan(dir);
  CHECK(ActionOf(plan, "3_ABCDEFGH.txt.xtmp") == "error");
  CHECK(ActionOf(plan, "3_ABCDEFGH.txt.xold") == "error");
  CHECK(ActionOf(plan, "4.txt") == "import");
  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.accounts[0].id == 4);
  CHECK(plan.errors == 2);
}

TEST_CASE("legacy: .atmp and unknown files are skipped", "[legacy]") {
  LegacyDir dir;
  dir.Write("7.txt.atmp", "Eve,Ray,5.0\n");
  dir.Write("notes.md", "hello");
  dir.Write("5.TXT", "Ann,Lee,1.0\n");
  dir.Write(".hidden", "");
  dir.Write("5.txt.tmp", "Ann,Lee,1.0\n");        // no write id
  dir.Write("5_SHORT.txt.tmp", "Ann,Lee,1.0\n");  // write id too short
  dir.Write("index.idx.bak", "3\n");
  dir.Write("drovebank.log", "DEBUG:root:AC0064 create account\n");
  REQUIRE(PosixEnv()->MakeDir(dir.Path("backup"), 0700).ok());
  LegacyPlan plan = Plan(dir);
  CHECK(plan.accounts.empty());
  for (const auto& d : plan.decisions) CHECK(d.action == "skip");
  CHECK(Contains(ReasonOf(plan, "7.txt.atmp"), "account creation"));
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: ids outside 1..99999999 or zero-padded are errors", "[legacy]") {
  LegacyDir dir;
  dir.Write("0.txt", "Ann,Lee,1.0\n");
  dir.Write("007.txt", "Ann,Lee,1.0\n");
  dir.Write("100000000.txt", "Ann,Lee,1.0\n");
  dir.Write("123456789012345678901234567890.txt", "Ann,Lee,1.0\n");
  dir.Write("100000000_ABCDEFGH.txt.tmp", "Ann,Lee,1.0\n");
  dir.Write("99999999.txt", "Max,Id,1.0\n");
  LegacyPlan plan = Plan(dir);
  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.accounts[0].id == 99999999);
  CHECK(ActionOf(plan, "0.txt") == "error");
  CHECK(ActionOf(plan, "007.txt") == "error");
  CHECK(ActionOf(plan, "100000000.txt") == "error");
  CHECK(ActionOf(plan, "123456789012345678901234567890.txt") == "error");
  CHECK(ActionOf(plan, "100000000_ABCDEFGH.txt.tmp") == "error");
  CHECK(plan.errors == 5);
}

TEST_CASE("legacy: ids above index.idx are imported and reported", "[legacy]") {
  LegacyDir dir;
  dir.Write("index.idx", "3\n");
  dir.Write("2.txt", "Ann,Lee,1.0\n");
  dir.Write("5.txt", "Bob,Kay,2.0\n");
  LegacyPlan plan = Plan(dir);
  CHECK(plan.last_id_from_index == 3);
  REQUIRE(plan.accounts.size() == 2);
  CHECK(ActionOf(plan, "5.txt") == "import");
  CHECK(Contains(ReasonOf(plan, "5.txt"), "above index.idx's last id 3"));
  CHECK_FALSE(Contains(ReasonOf(plan, "2.txt"), "above"));
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: the last id used is index.idx or any file's id, in error or not",
          "[legacy]") {
  LegacyDir dir;
  CHECK(Plan(dir).LastIdUsed() == 0);
  dir.Write("2.txt", "Ann,Lee,1.0\n");
  CHECK(Plan(dir).LastIdUsed() == 2);
  dir.Write("index.idx", "4\n");
  CHECK(Plan(dir).LastIdUsed() == 4);
  dir.Write("7_AB12CD34.txt.old", "Bob,Kay,1.0\n");  // no source: an error, id 7 still used
  LegacyPlan plan = Plan(dir);
  CHECK(ActionOf(plan, "7_AB12CD34.txt.old") == "error");
  CHECK(plan.largest_file_id == 7);
  CHECK(plan.LastIdUsed() == 7);
  dir.Write("9.txt.atmp", "Cy,Dee,1.0\n");  // not an account file: skipped, not counted
  CHECK(Plan(dir).LastIdUsed() == 7);
}

TEST_CASE("legacy: a bad index.idx is an error decision, not a failure", "[legacy]") {
  auto text = GENERATE(as<std::string>{}, "", "\n", "garbage", "-1", "1e2", "12 ", "100000000",
                       "99999999999999999999", std::string("\x1b[2J", 4));
  CAPTURE(text);
  LegacyDir dir;
  dir.Write("index.idx", text);
  dir.Write("1.txt", "Ann,Lee,1.0\n");
  LegacyPlan plan = Plan(dir);
  CHECK(ActionOf(plan, "index.idx") == "error");
  CHECK(ReasonOf(plan, "index.idx").find('\x1b') == std::string::npos);
  CHECK(plan.last_id_from_index == 0);
  CHECK(plan.errors == 1);
  REQUIRE(plan.accounts.size() == 1);  // accounts are still planned
  CHECK_FALSE(Contains(ReasonOf(plan, "1.txt"), "above"));
}

TEST_CASE("legacy: index.idx values that parse", "[legacy]") {
  auto [text, want] = GENERATE(table<std::string, AccountId>(
      {{"0", 0}, {"0\n", 0}, {"7\r\n", 7}, {"99999999\n", 99999999}}));
  CAPTURE(text);
  LegacyDir dir;
  dir.Write("index.idx", text);
  LegacyPlan plan = Plan(dir);
  CHECK(ActionOf(plan, "index.idx") == "import");
  CHECK(plan.last_id_from_index == want);
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: an interrupted index write is settled like an account", "[legacy]") {
  LegacyDir dir;
  dir.Write("index.lock", "");
  dir.Write("index_QWERTY12.idx.old", "11\n");
  SECTION("index.idx missing: the .tmp is the index") {
    dir.Write("index_QWERTY12.idx.tmp", "12\n");
    LegacyPlan plan = Plan(dir);
    CHECK(plan.last_id_from_index == 12);
    CHECK(ActionOf(plan, "index_QWERTY12.idx.tmp") == "use-tmp");
    CHECK(ActionOf(plan, "index_QWERTY12.idx.old") == "discard");
    CHECK(ActionOf(plan, "index.lock") == "discard");
    CHECK(plan.errors == 0);
  }
  SECTION("index.idx present: it is kept") {
    dir.Write("index.idx", "11\n");
    dir.Write("index_QWERTY12.idx.tmp", "12\n");
    LegacyPlan plan = Plan(dir);
    CHECK(plan.last_id_from_index == 11);
    CHECK(ActionOf(plan, "index.idx") == "import");
    CHECK(ActionOf(plan, "index_QWERTY12.idx.tmp") == "discard");
    CHECK(plan.errors == 0);
  }
  SECTION("index.idx missing and no .tmp") {
    LegacyPlan plan = Plan(dir);
    CHECK(plan.last_id_from_index == 0);
    CHECK(ActionOf(plan, "index_QWERTY12.idx.old") == "error");
    CHECK(ActionOf(plan, "index.lock") == "error");
    CHECK(plan.errors == 2);
  }
}

TEST_CASE("legacy: bad account lines are errors and not imported", "[legacy]") {
  LegacyDir dir;
  dir.Write("1.txt", "Ann,Lee,50.255\n");
  dir.Write("2.txt", "Ann,Marie,Lee,1.0\n");
  dir.Write("3.txt", "Ann,Lee,-5.0\n");
  dir.Write("4.txt", "");
  dir.Write("5.txt", "Ann,Lee,1e2\n");
  dir.Write("6.txt", "Ann,,1.0\n");
  dir.Write("7.txt", "Ann,Lee,1.0\nBob,Kay,2.0\n");
  dir.Write("8.txt", "Ann,Lee,1.0\n");
  LegacyPlan plan = Plan(dir);
  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.accounts[0].id == 8);
  for (int id = 1; id <= 7; ++id) CHECK(ActionOf(plan, std::to_string(id) + ".txt") == "error");
  CHECK(Contains(ReasonOf(plan, "1.txt"), "whole number of cents"));
  CHECK(Contains(ReasonOf(plan, "2.txt"), "4 comma-separated fields"));
  CHECK(plan.errors == 7);
}

TEST_CASE("legacy: the stray quote line of the original's deposit is tolerated", "[legacy]") {
  // The original's deposit wrote "%s,%s,%s\n'" and read back only the first line.
  LegacyDir dir;
  dir.Write("1.txt", "Ann,Lee,150.0\n'");
  LegacyPlan plan = Plan(dir);
  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.accounts[0].balance == 15000);
  CHECK(ActionOf(plan, "1.txt") == "import");
  CHECK(Contains(ReasonOf(plan, "1.txt"), "stray"));
  CHECK(plan.errors == 0);
}

TEST_CASE("legacy: non-regular or oversized account files are errors", "[legacy]") {
  LegacyDir dir;
  dir.Write("1.txt", "Ann,Lee,1.0\n");
  dir.Write("2.txt", "Ann,Lee," + std::string(kMaxLegacyFileBytes, '0') + "\n");
  REQUIRE(PosixEnv()->MakeDir(dir.Path("9.txt"), 0700).ok());
  REQUIRE(::symlink(dir.Path("1.txt").c_str(), dir.Path("8.txt").c_str()) == 0);
  LegacyPlan plan = Plan(dir);
  CHECK(ActionOf(plan, "1.txt") == "import");
  CHECK(ActionOf(plan, "2.txt") == "error");
  CHECK(ActionOf(plan, "8.txt") == "error");
  CHECK(Contains(ReasonOf(plan, "8.txt"), "symbolic link"));
  CHECK(ActionOf(plan, "9.txt") == "error");
  REQUIRE(plan.accounts.size() == 1);
  CHECK(plan.errors == 3);
}

TEST_CASE("legacy: a directory that cannot be listed fails the plan", "[legacy]") {
  LegacyDir dir;
  auto missing = PlanLegacyImport(PosixEnv(), dir.Path("no-such-dir"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(Contains(missing.status().message(), "no-such-dir"));

  dir.Write("plain-file", "x");
  auto not_dir = PlanLegacyImport(PosixEnv(), dir.Path("plain-file"));
  REQUIRE_FALSE(not_dir.ok());
  CHECK(not_dir.status().code() == Code::kIOError);
}

TEST_CASE("legacy: a directory path with a trailing slash works", "[legacy]") {
  LegacyDir dir;
  dir.Write("1.txt", "Ann,Lee,1.0\n");
  auto plan = PlanLegacyImport(PosixEnv(), dir.path() + "/");
  REQUIRE(plan.ok());
  REQUIRE(plan->accounts.size() == 1);
  CHECK(plan->accounts[0].balance == 100);
}

// ---- ParseLegacyAccountLine ----

TEST_CASE("legacy: balances that convert exactly to cents", "[legacy]") {
  auto [text, cents] = GENERATE(table<std::string, Cents>({
      {"0", 0},
      {"0.0", 0},
      {"0.00", 0},
      {"7", 700},
      {"100.0", 10000},
      {"50.25", 5025},
      {"50.250", 5025},
      {"50.2500000000000000000000", 5025},
      {"0.1", 10},
      {"0.01", 1},
      {"007", 700},
      {"7.", 700},
      {".5", 50},
      {"00000000000000000000001.5", 150},
      {"999999999999.99", kMaxCents},
      {"999999999999.990", kMaxCents},
  }));
  CAPTURE(text);
  auto a = ParseLegacyAccountLine("Ann,Lee," + text + "\n", 1);
  REQUIRE(a.ok());
  CHECK(a->balance == cents);
}

TEST_CASE("legacy: balances that are refused", "[legacy]") {
  auto [text, why] = GENERATE(table<std::string, std::string>({
      {"", "empty"},
      {"50.255", "whole number of cents"},
      {"0.001", "whole number of cents"},
      {"99.89999999999999", "whole number of cents"},
      {"1e2", "exponent"},
      {"1E2", "exponent"},
      {"1.5e-05", "exponent"},
      {"-1", "negative"},
      {"-0.0", "negative"},
      {"+5", "plain decimal"},
      {"abc", "plain decimal"},
      {"inf", "plain decimal"},
      {"nan", "plain decimal"},
      {".", "plain decimal"},
      {"1.2.3", "plain decimal"},
      {" 5", "plain decimal"},
      {"5 ", "plain decimal"},
      {"1,000", "fields"},  // the comma splits it into a fourth field
      {"0x10", "plain decimal"},
      {"1000000000000", "maximum"},
      {"1000000000000.00", "maximum"},
      {"99999999999999999999999999999999", "maximum"},
  }));
  CAPTURE(text);
  auto a = ParseLegacyAccountLine("Ann,Lee," + text + "\n", 1);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kInvalidArgument);
  CHECK(Contains(a.status().message(), why));
}

TEST_CASE("legacy: account line format", "[legacy]") {
  SECTION("fields and line endings") {
    for (std::string_view line : {"Ann,Lee,1.5", "Ann,Lee,1.5\n", "Ann,Lee,1.5\r\n"}) {
      CAPTURE(line);
      auto a = ParseLegacyAccountLine(line, 42);
      REQUIRE(a.ok());
      CHECK(a->id == 42);
      CHECK(a->first == "Ann");
      CHECK(a->last == "Lee");
      CHECK(a->balance == 150);
      CHECK(a->source_file.empty());
    }
  }
  SECTION("names are kept verbatim, UTF-8 and apostrophes included") {
    auto a = ParseLegacyAccountLine(" Zoë ,O'Brien,2.0\n", 1);
    REQUIRE(a.ok());
    CHECK(a->first == " Zoë ");
    CHECK(a->last == "O'Brien");
  }
  SECTION("malformed lines") {
    for (std::string_view line :
         {"", "\n", "Ann,Lee", "Ann,Lee,Kay,1.0", "Ann,Marie,Lee,1.0\n", ",Lee,1.0", "Ann,,1.0",
          "Ann,Lee,1.0\n\n", "Ann,Lee,1.0\r", "Ann\nLee,1.0", "A\x1b[2J,Lee,1.0", "\xff,Lee,1.0"}) {
      CAPTURE(line);
      auto a = ParseLegacyAccountLine(line, 1);
      REQUIRE_FALSE(a.ok());
      CHECK(a.status().code() == Code::kInvalidArgument);
    }
  }
  SECTION("four fields says why") {
    auto a = ParseLegacyAccountLine("Ann,Marie,Lee,1.0\n", 1);
    REQUIRE_FALSE(a.ok());
    CHECK(Contains(a.status().message(), "cannot contain a comma"));
  }
  SECTION("names longer than 64 characters") {
    std::string line = std::string(65, 'a') + ",Lee,1.0";
    CHECK_FALSE(ParseLegacyAccountLine(line, 1).ok());
    CHECK(ParseLegacyAccountLine(std::string(64, 'a') + ",Lee,1.0", 1).ok());
  }
  SECTION("ids outside 1..99999999") {
    CHECK_FALSE(ParseLegacyAccountLine("Ann,Lee,1.0", 0).ok());
    CHECK_FALSE(ParseLegacyAccountLine("Ann,Lee,1.0", kMaxAccountId + 1).ok());
    CHECK(ParseLegacyAccountLine("Ann,Lee,1.0", kMaxAccountId).ok());
  }
}

}  // namespace
}  // namespace drovebank
