// The import-legacy command end to end, through the real program: hand-built original
// (Python) data directories with each kind of crash leftover, checked by what
// `drovebank --json show/list` report. The planner it runs (PlanLegacyImport) has its
// module test in legacy_import_test.cc.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace drovebank::testing;  // the test support: test_util.h
using nlohmann::json;

struct Expected {
  std::string first, last, balance;
};

// A legacy directory and a new data directory side by side in one scratch directory.
class Fixture {
 public:
  std::string legacy() const { return dir_.Path("legacy"); }
  std::string data() const { return dir_.Path("data"); }
  void Legacy(const std::string& name, const std::string& content) {
    REQUIRE(dir_.Write("legacy/" + name, content));
  }

  // drovebank -d DATA ARGS as the end-to-end tests run it, with `env` on top (a fault
  // variable set here wins over PlainOptions' unsetting it).
  RunResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    RunOptions o = PlainOptions();
    o.env.insert(o.env.end(), env.begin(), env.end());
    return RunOnStore(data(), args, o);
  }
  RunResult Import(std::vector<std::string> extra = {}, std::vector<std::string> env = {}) const {
    std::vector<std::string> args{"--json", "import-legacy", legacy()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args, std::move(env));
  }

  // Every account as `list` shows it, by id.
  std::map<int, json> Accounts() const {
    RunResult r = Run({"--json", "list", "--page-size", "1000"});
    REQUIRE(r.exit_code == 0);
    std::map<int, json> out;
    json list = json::parse(r.out);
    for (const json& a : list["accounts"]) out[a["id"].get<int>()] = a;
    return out;
  }

  // The legacy directory's files and contents: the import must never change them.
  std::map<std::string, std::string> LegacySnapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(legacy())) {
      std::ifstream f(e.path());
      std::stringstream ss;
      ss << f.rdbuf();
      out[e.path().filename().string()] = ss.str();
    }
    return out;
  }

 private:
  TempDir dir_{"drovebank-import"};
};

json Parse(const RunResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(!r.out.empty());
  return json::parse(r.out);
}

std::string ActionOf(const json& report, const std::string& file) {
  for (const json& d : report["decisions"]) {
    if (d["file"] == file) return d["action"];
  }
  return "<none>";
}

void CheckAccounts(const Fixture& f, const std::map<int, Expected>& want) {
  std::map<int, json> have = f.Accounts();
  CHECK(have.size() == want.size());
  for (const auto& [id, e] : want) {
    INFO("account " << id);
    RunResult r = f.Run({"--json", "show", std::to_string(id)});
    REQUIRE(r.exit_code == 0);
    json a = json::parse(r.out);
    CHECK(a["id"] == id);
    CHECK(a["first"] == e.first);
    CHECK(a["last"] == e.last);
    CHECK(a["balance"] == e.balance);
    CHECK(a["status"] == "open");
  }
}

struct Scenario {
  const char* name;
  std::map<std::string, std::string> files;
  std::map<int, Expected> accounts;
  std::map<std::string, std::string> actions;  // file -> expected plan action
  int exit_code;
};

}  // namespace

TEST_CASE("import-legacy: each kind of leftover settles, and a second run changes nothing",
          "[import][e2e]") {
  const std::vector<Scenario> scenarios = {
      {"clean directory",
       {{"1.txt", "Ann,Lee,100.0\n"}, {"2.txt", "Bob,Kay,50.25\n"}, {"index.idx", "2\n"}},
       {{1, {"Ann", "Lee", "100.00"}}, {2, {"Bob", "Kay", "50.25"}}},
       {{"1.txt", "import"}, {"index.idx", "import"}},
       0},
      {".lock + .tmp + .old without .txt: the .tmp is the account",
       {{"5.lock", ""},
        {"5_AB12CD34.txt.tmp", "Ann,Lee,150.0\n"},
        {"5_AB12CD34.txt.old", "Ann,Lee,100.0\n"},
        {"index.idx", "5\n"}},
       {{5, {"Ann", "Lee", "150.00"}}},
       {{"5_AB12CD34.txt.tmp", "use-tmp"},
        {"5_AB12CD34.txt.old", "discard"},
        {"5.lock", "discard"}},
       0},
      {".lock + .tmp with .txt: the .txt is kept",
       {{"5.txt", "Ann,Lee,100.0\n"}, {"5.lock", ""}, {"5_AB12CD34.txt.tmp", "Ann,Lee,150.0\n"}},
       {{5, {"Ann", "Lee", "100.00"}}},
       {{"5.txt", "import"}, {"5_AB12CD34.txt.tmp", "discard"}, {"5.lock", "discard"}},
       0},
      {".xtmp pair with one .txt missing: the transfer completes",
       {{"1.lock", ""},
        {"2.lock", ""},
        {"2.txt", "Bob,Kay,10.0\n"},
        {"1_XFER0001.txt.xold", "Ann,Lee,100.0\n"},
        {"1_XFER0001.txt.xtmp", "Ann,Lee,70.0\n"},
        {"2_XFER0001.txt.xtmp", "Bob,Kay,40.0\n"}},
       {{1, {"Ann", "Lee", "70.00"}}, {2, {"Bob", "Kay", "40.00"}}},
       {{"1_XFER0001.txt.xtmp", "use-xtmp"},
        {"2_XFER0001.txt.xtmp", "use-xtmp"},
        {"2.txt", "discard"}},
       0},
      {".atmp: an interrupted creation is skipped",
       {{"1.txt", "Ann,Lee,1.5\n"}, {"2.txt.atmp", "Eve,Ray,5.0\n"}},
       {{1, {"Ann", "Lee", "1.50"}}},
       {{"2.txt.atmp", "skip"}},
       0},
      {"bad balances are errors; the rest is imported and the exit is 3",
       {{"1.txt", "Ann,Lee,1e3\n"},
        {"2.txt", "Bob,Kay,-5.0\n"},
        {"3.txt", "Cy,Dee,50.255\n"},
        {"4.txt", "Di,Eve,nan\n"},
        {"5.txt", "Ed,Fay,12.30\n"}},
       {{5, {"Ed", "Fay", "12.30"}}},
       {{"1.txt", "error"}, {"2.txt", "error"}, {"3.txt", "error"}, {"4.txt", "error"}},
       3},
  };
  for (const Scenario& sc : scenarios) {
    DYNAMIC_SECTION(sc.name) {
      Fixture f;
      for (const auto& [name, content] : sc.files) f.Legacy(name, content);
      auto before = f.LegacySnapshot();

      RunResult first = f.Import();
      INFO("stderr: " << first.err);
      CHECK(first.exit_code == sc.exit_code);
      json report = Parse(first);
      CHECK(report["exit"] == sc.exit_code);
      CHECK(report["decisions"].size() == sc.files.size());
      for (const auto& [file, action] : sc.actions) {
        INFO("file " << file);
        CHECK(ActionOf(report, file) == action);
      }
      CHECK(report["summary"]["imported"] == sc.accounts.size());
      CHECK(report["summary"]["already_imported"] == 0);
      for (const json& a : report["accounts"]) CHECK(a["outcome"] == "imported");
      CheckAccounts(f, sc.accounts);
      if (sc.exit_code == 0) CHECK(first.err.empty());

      std::map<int, json> after_first = f.Accounts();
      RunResult second = f.Import();
      CHECK(second.exit_code == sc.exit_code);
      json again = Parse(second);
      CHECK(again["summary"]["imported"] == 0);
      CHECK(again["summary"]["already_imported"] == sc.accounts.size());
      for (const json& a : again["accounts"]) CHECK(a["outcome"] == "already-imported");
      // Not even a version or txn moved.
      CHECK(f.Accounts() == after_first);
      CHECK(f.LegacySnapshot() == before);
    }
  }
}

TEST_CASE("import-legacy: the plain-text report names every file and the outcome",
          "[import][e2e]") {
  Fixture f;
  f.Legacy("1.txt", "Ann,Lee,100.0\n");
  f.Legacy("3.lock", "");
  f.Legacy("3_AB12CD34.txt.tmp", "Cy,Dee,7.5\n");
  f.Legacy("4.txt.atmp", "Eve,Ray,5.0\n");
  f.Legacy("5.txt", "Dan,Fox,1e3\n");
  RunResult r = f.Run({"import-legacy", f.legacy()});
  CHECK(r.exit_code == 3);
  for (const char* file : {"1.txt", "3.lock", "3_AB12CD34.txt.tmp", "4.txt.atmp", "5.txt"}) {
    CHECK(r.out.find(file) != std::string::npos);
  }
  CHECK(r.out.find("account 1 (Ann Lee, 100.00): imported") != std::string::npos);
  CHECK(r.out.find("use-tmp") != std::string::npos);
  CHECK(r.out.find("Imported 2 account(s)") != std::string::npos);
  CHECK(r.err.find("1 file(s) in error") != std::string::npos);
  CHECK(r.out.find('\033') == std::string::npos);
  CHECK(r.err.find('\033') == std::string::npos);
}

TEST_CASE("import-legacy: an id already here with other data is a conflict, left unchanged",
          "[import][e2e]") {
  Fixture f;
  f.Legacy("1.txt", "Ann,Lee,100.0\n");
  f.Legacy("2.txt", "Bob,Kay,20.0\n");
  SECTION("opened here by hand with different data") {
    REQUIRE(f.Run({"open", "Zed", "Zee", "5"}).exit_code == 0);  // takes id 1
    RunResult r = f.Import();
    CHECK(r.exit_code == 3);
    json report = Parse(r);
    CHECK(report["accounts"][0]["outcome"] == "conflict");
    CHECK(report["accounts"][1]["outcome"] == "imported");
    CheckAccounts(f, {{1, {"Zed", "Zee", "5.00"}}, {2, {"Bob", "Kay", "20.00"}}});
  }
  SECTION("opened here by hand with the same data counts as imported") {
    REQUIRE(f.Run({"open", "Ann", "Lee", "100"}).exit_code == 0);
    RunResult r = f.Import();
    CHECK(r.exit_code == 0);
    json report = Parse(r);
    CHECK(report["accounts"][0]["outcome"] == "already-imported");
    CheckAccounts(f, {{1, {"Ann", "Lee", "100.00"}}, {2, {"Bob", "Kay", "20.00"}}});
  }
  SECTION("the legacy file changed after an earlier import") {
    REQUIRE(f.Import().exit_code == 0);
    f.Legacy("1.txt", "Ann,Lee,999.0\n");
    RunResult r = f.Import();
    CHECK(r.exit_code == 3);
    json report = Parse(r);
    CHECK(report["accounts"][0]["outcome"] == "conflict");
    CHECK(report["accounts"][1]["outcome"] == "already-imported");
    CheckAccounts(f, {{1, {"Ann", "Lee", "100.00"}}, {2, {"Bob", "Kay", "20.00"}}});
  }
  SECTION("money moved after the import: re-running still counts it as imported") {
    REQUIRE(f.Import().exit_code == 0);
    REQUIRE(f.Run({"transfer", "1", "2", "30"}).exit_code == 0);
    RunResult r = f.Import();
    CHECK(r.exit_code == 0);
    CHECK(Parse(r)["summary"]["already_imported"] == 2);
    CheckAccounts(f, {{1, {"Ann", "Lee", "70.00"}}, {2, {"Bob", "Kay", "50.00"}}});
  }
}

TEST_CASE("import-legacy: new accounts get ids past the largest imported id and index.idx",
          "[import][e2e]") {
  Fixture f;
  auto open_one = [&f] {
    RunResult r = f.Run({"--json", "open", "New", "Person", "1"});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)["id"].get<int>();
  };
  SECTION("index.idx above every file: the original deleted accounts 4 to 9") {
    f.Legacy("1.txt", "Ann,Lee,100.0\n");
    f.Legacy("3.txt", "Cy,Dee,5.0\n");
    f.Legacy("index.idx", "9\n");
    json first = Parse(f.Import());
    CHECK(first["exit"] == 0);
    CHECK(first["reserve_txn"].is_number());
    CHECK(first["next_id"] == 10);
    CHECK(open_one() == 10);

    std::map<int, json> before = f.Accounts();
    json again = Parse(f.Import());
    CHECK(again["exit"] == 0);
    CHECK(again["reserve_txn"].is_null());  // already reserved: nothing committed
    CHECK(again["next_id"] == 11);
    CHECK(f.Accounts() == before);
    CHECK(open_one() == 11);
  }
  SECTION("index.idx below the largest file: the largest file wins") {
    f.Legacy("1.txt", "Ann,Lee,100.0\n");
    f.Legacy("7.txt", "Gus,Hay,5.0\n");
    f.Legacy("index.idx", "3\n");
    json first = Parse(f.Import());
    CHECK(first["reserve_txn"].is_null());
    CHECK(first["next_id"] == 8);
    CHECK(open_one() == 8);
  }
  SECTION("only index.idx: every id it names stays used") {
    f.Legacy("index.idx", "4\n");
    json first = Parse(f.Import());
    CHECK(first["summary"]["imported"] == 0);
    CHECK(first["next_id"] == 5);
    CHECK(open_one() == 5);
  }
  SECTION("a file in error keeps its id: fixed, it imports under that id later") {
    f.Legacy("1.txt", "Ann,Lee,100.0\n");
    f.Legacy("8.txt", "Hal,Ivy,1.005\n");
    f.Legacy("index.idx", "3\n");
    json first = Parse(f.Import());
    CHECK(first["exit"] == 3);
    CHECK(first["last_id_used"] == 8);
    CHECK(first["next_id"] == 9);
    CHECK(open_one() == 9);
    f.Legacy("8.txt", "Hal,Ivy,1.00\n");
    json fixed = Parse(f.Import());
    CHECK(fixed["exit"] == 0);
    CHECK(fixed["summary"]["imported"] == 1);
    CheckAccounts(f, {{1, {"Ann", "Lee", "100.00"}},
                      {8, {"Hal", "Ivy", "1.00"}},
                      {9, {"New", "Person", "1.00"}}});
  }
  SECTION("the plain-text report says so") {
    f.Legacy("2.txt", "Bob,Kay,20.0\n");
    f.Legacy("index.idx", "6\n");
    RunResult r = f.Run({"import-legacy", f.legacy()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("ids up to 6 stay reserved") != std::string::npos);
    CHECK(r.out.find("The next account opened here gets id 7.") != std::string::npos);
  }
}

TEST_CASE("import-legacy: a directory that is not there is a usage error", "[import][e2e]") {
  Fixture f;
  for (const std::string& dir : {f.legacy(), f.legacy() + "/nothing"}) {
    RunResult r = f.Run({"import-legacy", dir});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("not a legacy data directory") != std::string::npos);
  }
  f.Legacy("plain-file", "x");
  CHECK(f.Run({"import-legacy", f.legacy() + "/plain-file"}).exit_code == 2);
}

#ifdef DROVEBANK_FAULT_INJECTION
TEST_CASE("import-legacy: a crash while reserving index.idx's ids is finished by a re-run",
          "[import][e2e][fault]") {
  // The accounts are one group (the first time each step is reached); the reservation is
  // the second.
  for (const char* step : {"before_journal_write", "after_journal_write", "done"}) {
    DYNAMIC_SECTION("import:" << step << ":crash, hit 2") {
      Fixture f;
      f.Legacy("1.txt", "Ann,Lee,100.0\n");
      f.Legacy("index.idx", "9\n");
      RunResult crashed = f.Import(
          {}, {std::string("DROVEBANK_FAULT=import:") + step + ":crash", "DROVEBANK_FAULT_HIT=2"});
      INFO("crashed run stderr: " << crashed.err);
      REQUIRE(crashed.exit_code == 86);
      RunResult rerun = f.Import();
      INFO("re-run stderr: " << rerun.err);
      REQUIRE(rerun.exit_code == 0);
      CHECK(Parse(rerun)["next_id"] == 10);
      RunResult opened = f.Run({"--json", "open", "New", "Person", "1"});
      REQUIRE(opened.exit_code == 0);
      CHECK(json::parse(opened.out)["id"] == 10);
      CheckAccounts(f, {{1, {"Ann", "Lee", "100.00"}}, {10, {"New", "Person", "1.00"}}});
    }
  }
}

TEST_CASE("import-legacy: a crash at any step, then a re-run, gives the complete result",
          "[import][e2e][fault]") {
  // 7 accounts committed 2 a group: hit 1 crashes in the first group, hit 2 in the second
  // (after the first is durable), hit 4 in the last, partial group.
  std::map<int, Expected> want;
  const char* firsts[] = {"Ann", "Bob", "Cy", "Di", "Ed", "Fay", "Gus"};
  for (int i = 0; i < 7; ++i) {
    want[i * 3 + 1] = {firsts[i], "Legacy", std::to_string(i * 10 + 1) + ".25"};
  }
  for (const char* step :
       {"locks_held", "before_journal_write", "before_journal_publish", "after_journal_write",
        "before_journal_sync",
        "after_journal_sync", "after_temp_write", "after_rename", "done"}) {
    for (int hit : {1, 2, 4}) {
      DYNAMIC_SECTION("import:" << step << ":crash, hit " << hit) {
        Fixture f;
        for (const auto& [id, e] : want) {
          f.Legacy(std::to_string(id) + ".txt", e.first + "," + e.last + "," + e.balance + "\n");
        }
        RunResult crashed = f.Import({"--group-size", "2"},
                                     {std::string("DROVEBANK_FAULT=import:") + step + ":crash",
                                      "DROVEBANK_FAULT_HIT=" + std::to_string(hit)});
        INFO("crashed run stderr: " << crashed.err);
        REQUIRE(crashed.exit_code == 86);

        RunResult rerun = f.Import({"--group-size", "2"});
        INFO("re-run stderr: " << rerun.err);
        REQUIRE(rerun.exit_code == 0);
        json report = Parse(rerun);
        size_t imported = report["summary"]["imported"];
        size_t already = report["summary"]["already_imported"];
        CHECK(imported + already == want.size());
        // Groups before the crashing one were wholly durable. (after_temp_write and
        // after_rename are reached once per account, the other steps once per group.)
        std::string s = step;
        if (s != "after_temp_write" && s != "after_rename") {
          CHECK(already >= static_cast<size_t>(2 * (hit - 1)));
        }
        CheckAccounts(f, want);

        RunResult third = f.Import({"--group-size", "2"});
        CHECK(third.exit_code == 0);
        CHECK(Parse(third)["summary"]["already_imported"] == want.size());
        RunOptions clean;
        clean.unset = {"DROVEBANK_FAULT", "DROVEBANK_DATA"};
        RunResult check = RunProgram(RECOVER_BIN, {"-d", f.data(), "--check"}, clean);
        INFO("recover --check: " << check.out << check.err);
        CHECK(check.exit_code == 0);
      }
    }
  }
}
#endif
