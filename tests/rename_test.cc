// `drovebank rename ID FIRST LAST`: a journaled change of names, in history, txn, the
// exports, the shell, keyed re-issues and crashes (issue 26 item 19).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "require_run.h"
#include "test_util.h"

namespace drovebank {
namespace {

using nlohmann::json;
using testing::Must;
using testing::Why;
using testing::Drovebank;
using testing::RunResult;
using testing::Recover;
using testing::RunProgram;
using testing::WithEnv;
using testing::TempDir;
using testing::Which;


bool Has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct Bank {
  TempDir tmp;
  std::string data = tmp / "data";
  std::map<std::string, std::string> env = {{"NO_COLOR", "1"}, {"TZ", ""}};
  explicit Bank(const char* now_ms = nullptr) {
    if (now_ms != nullptr) env["DROVEBANK_NOW_MS"] = now_ms;
    Must(Run({"open", "Ada", "Lovelace", "100"}));  // txn 1
    Must(Run({"open", "Bob", "Babbage", "0"}));     // txn 2
  }
  RunResult Run(std::vector<std::string> args, const std::string& input = "") {
    return Drovebank(data, std::move(args), env, input);
  }
  json Show(int id) { return json::parse(Must(Run({"--json", "show", std::to_string(id)})).out); }
};

}  // namespace

TEST_CASE("rename: new names, journaled, shown by show, history and txn", "[rename][e2e]") {
  Bank b;
  RunResult r = Must(b.Run({"rename", "1", " Ada ", "King"}));
  CHECK(r.out == "Renamed account 1 from Ada Lovelace to Ada King (txn 3)\n");
  json s = b.Show(1);
  CHECK(s["first"] == "Ada");
  CHECK(s["last"] == "King");
  CHECK(s["balance"] == "100.00");
  CHECK(s["last_txn"] == 3);

  std::string h = Must(b.Run({"history", "1"})).out;
  CHECK(Has(h, "rename"));
  CHECK(Has(h, "renamed from Ada Lovelace to Ada King"));
  json hj = json::parse(Must(b.Run({"--json", "history", "1"})).out);
  json row = hj["entries"][0];
  CHECK(row["kind"] == "rename");
  CHECK(row["amount"] == "0.00");
  CHECK(row["balance_after"] == "100.00");
  CHECK(row["renamed"]["from"]["last"] == "Lovelace");
  CHECK(row["renamed"]["to"]["last"] == "King");

  CHECK(Has(Must(b.Run({"txn", "3"})).out, "  rename 1 from Ada Lovelace to Ada King"));
  json t = json::parse(Must(b.Run({"--json", "txn", "3"})).out);
  CHECK(t["ops"][0]["kind"] == "rename");
  CHECK(t["ops"][0]["was_last"] == "Lovelace");
  CHECK(t["ops"][0]["last"] == "King");
  CHECK(Has(Must(b.Run({"search", "King"})).out, "Ada King"));
  CHECK(Must(b.Run({"search", "Lovelace"})).out.find("Ada") == std::string::npos);

  json jr = json::parse(Must(b.Run({"--json", "rename", "2", "Bob", "Byron"})).out);
  CHECK(jr["was_last"] == "Babbage");
  CHECK(jr["last"] == "Byron");
  CHECK(jr["txn"] == 4);
  CHECK(Recover(b.data, {"--check"}).exit_code == 0);
}

TEST_CASE("rename: a key makes a re-issue replay; refusals change nothing", "[rename][e2e]") {
  Bank b;
  Must(b.Run({"rename", "1", "Ada", "King", "--txn", "ren-1"}));
  RunResult again = Must(b.Run({"rename", "1", "Ada", "King", "--txn", "ren-1"}));
  CHECK(again.out ==
        "Renamed account 1 from Ada Lovelace to Ada King (txn 3) (already applied earlier "
        "with this key)\n");
  json j = json::parse(Must(b.Run({"--json", "rename", "1", "Ada", "King", "--txn", "ren-1"})).out);
  CHECK(j["replayed"] == true);
  CHECK(b.Show(1)["last_txn"] == 3);

  struct Refused {
    std::vector<std::string> args;
    int exit;
    const char* says;
  };
  Must(b.Run({"close", "2"}));  // txn 4
  for (const Refused& c : std::vector<Refused>{
           {{"rename", "1", "Ada", "Byron", "--txn", "ren-1"}, 3, "ren-1"},  // key reused
           {{"rename", "1", "Ada", "King"}, 3, "already named Ada King"},
           {{"rename", "9", "A", "B"}, 3, "no account 9"},
           {{"rename", "2", "Bob", "Byron"}, 3, "closed"},
           {{"rename", "1", "", "King"}, 2, "first name"},
           {{"rename", "1", "Ada"}, 2, "LAST"},
           {{"rename", "x", "A", "B"}, 2, "x"},
           {{"rename", "1", "A", "B", "--txn", ""}, 2, "key"},
       }) {
    std::string shown;
    for (const std::string& a : c.args) shown += a + " ";
    INFO(shown);
    RunResult r = b.Run(c.args);
    INFO(Why(r));
    CHECK(r.exit_code == c.exit);
    CHECK(Has(r.err, c.says));
  }
  CHECK(b.Show(1)["last"] == "King");
  CHECK(b.Show(1)["last_txn"] == 3);
  CHECK(Has(Must(b.Run({"txn", "4"})).out, "close 2"));
  CHECK(b.Run({"txn", "5"}).exit_code == 3);  // nothing was committed after the close
  RunResult rev = b.Run({"reverse", "3"});
  CHECK(rev.exit_code == 3);
  CHECK(Has(rev.err, "renames account 1"));
}

TEST_CASE("rename: a crash after the commit point keeps the new names, before it the old",
          "[rename][e2e][crash]") {
  for (const char* step : {"flags_set", "after_journal_sync", "after_rename"}) {
    DYNAMIC_SECTION(step) {
      Bank b;
      b.env["DROVEBANK_FAULT"] = std::string("rename:") + step + ":crash";
      RunResult r = b.Run({"rename", "1", "Ada", "King", "--txn", "k1"});
      INFO(Why(r));
      CHECK(r.exit_code == 86);
      b.env.erase("DROVEBANK_FAULT");
      bool committed = std::string(step) != "flags_set";
      // A reader repairs from the journal before it shows anything.
      CHECK(b.Show(1)["last"] == (committed ? "King" : "Lovelace"));
      Must(Recover(b.data));
      CHECK(b.Show(1)["last"] == (committed ? "King" : "Lovelace"));
      CHECK(Recover(b.data, {"--check"}).exit_code == 0);
      json j = json::parse(Must(b.Run({"--json", "rename", "1", "Ada", "King", "--txn", "k1"})).out);
      CHECK(j["replayed"] == committed);
      CHECK(b.Show(1)["last"] == "King");
    }
  }
}

TEST_CASE("rename: the shell runs it, and refuses it inside a transaction", "[rename][shell]") {
  Bank b;
  RunResult r = b.Run({}, "rename 1 Ada King\nshow 1\n");
  INFO(Why(r));
  CHECK(r.exit_code == 0);
  CHECK(Has(r.out, "Renamed account 1 from Ada Lovelace to Ada King"));
  CHECK(Has(r.out, "Account 1: Ada King"));
  RunResult t = b.Run({}, "begin\nrename 2 Bob Byron\nabort\n");
  CHECK(t.exit_code == 2);
  CHECK(Has(t.err, "rename cannot be part of a transaction"));
  CHECK(b.Show(2)["last"] == "Babbage");
  CHECK(Has(Must(b.Run({"help"})).out, "rename"));
  CHECK(Has(Must(b.Run({"rename", "--help"})).out, "Usage: drovebank rename [OPTIONS] ID FIRST LAST"));
}

TEST_CASE("rename: the exports carry it as notes the tools accept, and a range starts with "
          "the names of its first day",
          "[rename][export][tools]") {
  Bank b("1793489400000");  // 2026-10-31
  Must(b.Run({"deposit", "1", "5"}));
  b.env["DROVEBANK_NOW_MS"] = "1796112000000";  // 2026-12-01
  Must(b.Run({"rename", "1", "Mallory, type: Revenue", "M, txn: 999"}));
  b.env.erase("DROVEBANK_NOW_MS");

  std::string hl = Must(b.Run({"export", "--format", "hledger"})).out;
  CHECK(Has(hl, "    ; renamed_from: Ada Lovelace\n"));
  CHECK(Has(hl, "    ; renamed_to: Mallory%2C type: Revenue M%2C txn: 999\n"));
  CHECK(Has(hl, "    assets:drovebank:1  0.00 = 105.00\n"));
  std::string bc = Must(b.Run({"export", "--format", "beancount"})).out;
  CHECK(Has(bc, "  renamed_to: \"Mallory, type: Revenue M, txn: 999\"\n"));
  std::string csv = Must(b.Run({"export", "--format", "csv"})).out;
  CHECK(Has(csv, ",rename,1,0.00,105.00,,,\"Mallory, type: Revenue\",\"M, txn: 999\",,\n"));
  // From a day before the rename: the old name is declared, the rename is an entry.
  std::string nov = Must(b.Run({"export", "--format", "hledger", "--since", "2026-11-15"})).out;
  CHECK(Has(nov, "account assets:drovebank:1  ; owner: Ada Lovelace\n"));
  CHECK(Has(nov, "renamed_to: Mallory"));
  std::string dec = Must(b.Run({"export", "--format", "csv", "--since", "2026-12-02"})).out;
  CHECK(Has(dec, ",opening,1,105.00,105.00,,,\"Mallory, type: Revenue\",\"M, txn: 999\",,"));

  for (const char* format : {"hledger", "ledger", "beancount"}) {
    std::string tool = std::string(format) == "beancount" ? "bean-check" : format;
    if (Which(tool).empty()) {
      WARN(tool << " is not installed: skipped (scripts/setup installs it)");
      continue;
    }
    INFO(format);
    std::string file = b.tmp / (std::string("bank.") + format);
    Must(b.Run({"export", "--format", format, "-o", file}));
    std::vector<std::string> argv = {Which(tool), "-f", file, "--strict", "bal"};
    if (tool == "ledger") argv = {Which(tool), "-f", file, "--pedantic", "bal"};
    if (tool == "bean-check") argv = {Which(tool), file};
    RunResult t = RunProgram(argv[0], {argv.begin() + 1, argv.end()}, WithEnv({{"TZ", ""}}));
    INFO(t.out << t.err);
    CHECK(t.exit_code == 0);
    if (tool == "hledger") {
      RunResult types = RunProgram(Which(tool), {"-f", file, "accounts", "--types"});
      std::istringstream lines(types.out);
      for (std::string line; std::getline(lines, line);) {
        INFO(line);
        if (line.rfind("assets:drovebank:1 ", 0) == 0) CHECK(Has(line, "; type: A"));
      }
      CHECK(Has(types.out, "assets:drovebank:1 "));
      CHECK(RunProgram(Which(tool), {"-f", file, "print", "tag:txn=999"}).out.empty());
    }
  }
}

}  // namespace drovebank
