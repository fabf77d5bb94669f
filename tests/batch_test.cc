// `drovebank batch`: both input formats, exact money, per-line errors, --parallel, and a
// crash in the middle of a batch followed by a re-run.
#include <fmt/format.h>

#include <numeric>
#include <regex>
#include <sstream>

#include <boost/filesystem.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "drovebank/batch.h"
#include "features/batch/exact_json.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Drovebank;
using testing::RunResult;
using testing::Recover;
using testing::TempDir;

const char kSample[] = R"([ {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}]},
  {"id": 2, "type": "customer", "events": [{"id": 2, "interface": "deposit", "money": 170}, {"id": 3, "interface": "query"}]},
  {"id": 1, "type": "branch", "balance": 400}, {"id": 2, "type": "branch", "balance": 400} ]
)";

const char kSampleOutput[] =
    "[\n"
    "  {\"id\": 1, \"recv\": [{\"interface\": \"query\", \"balance\": 400}]},\n"
    "  {\"id\": 2, \"recv\": [{\"interface\": \"deposit\", \"result\": \"success\"}, "
    "{\"interface\": \"query\", \"balance\": 570}]}\n"
    "]\n";

std::string Why(const RunResult& r) {
  return fmt::format("exit {}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.out, r.err);
}

Cents BalanceOf(const std::string& dir, AccountId id) {
  RunResult r = Drovebank(dir, {"--json", "show", std::to_string(id)});
  INFO(Why(r));
  REQUIRE(r.exit_code == 0);
  return *ParseAmount(nlohmann::json::parse(r.out)["balance"].get<std::string>());
}

void Open(const std::string& dir, const std::string& amount) {
  RunResult r = Drovebank(dir, {"open", "Test", "Holder", amount});
  INFO(Why(r));
  REQUIRE(r.exit_code == 0);
}

// Writes `text` to a file in `d` (batch inputs are files, like a user's).
std::string WriteInput(const TempDir& d, const std::string& name, const std::string& text) {
  std::string path = d / name;
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return path;
}

std::vector<nlohmann::json> Lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream is(out);
  std::string line;
  while (std::getline(is, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

TEST_CASE("batch: the branch/customer sample gives exactly the documented output", "[batch]") {
  for (std::string group : {"1", "2", "1000"}) {
    for (bool from_stdin : {false, true}) {
      DYNAMIC_SECTION("group size " << group << (from_stdin ? ", stdin" : ", file")) {
        TempDir d;
        std::string file = WriteInput(d, "in.json", kSample);
        RunResult r =
            from_stdin
                ? Drovebank(d / "data", {"batch", "--group-size", group, "-"}, {}, kSample)
                : Drovebank(d / "data", {"batch", "--group-size", group, file});
        INFO(Why(r));
        REQUIRE(r.exit_code == 0);
        CHECK(r.out == kSampleOutput);
        CHECK(BalanceOf(d / "data", 1) == 57000);
      }
    }
  }
}

TEST_CASE("batch: a withdrawal the balance does not cover fails and changes nothing",
          "[batch]") {
  // 400 in the account; each withdrawal either fits exactly or misses by a cent.
  for (auto [money, ok] : std::vector<std::pair<std::string, bool>>{
           {"400", true}, {"400.01", false}, {"399.99", true}, {"1000", false}, {"0.01", true}}) {
    DYNAMIC_SECTION("withdraw " << money) {
      TempDir d;
      std::string in = fmt::format(
          R"([{{"id": 1, "type": "branch", "balance": 400}},
              {{"id": 7, "type": "customer", "events": [{{"id": 1, "interface": "withdraw",
                "money": {}}}, {{"id": 2, "interface": "query"}}]}}])",
          money);
      RunResult r = Drovebank(d / "data", {"batch", WriteInput(d, "in.json", in)});
      INFO(Why(r));
      REQUIRE(r.exit_code == 0);
      Cents want = ok ? 40000 - *ParseAmount(money) : 40000;
      CHECK(r.out == fmt::format("[\n  {{\"id\": 7, \"recv\": [{{\"interface\": \"withdraw\", "
                                 "\"result\": \"{}\"}}, {{\"interface\": \"query\", \"balance\": "
                                 "{}}}]}}\n]\n",
                                 ok ? "success" : "fail", FormatExactMoney(want)));
      CHECK(BalanceOf(d / "data", 1) == want);
    }
  }
}

TEST_CASE("batch: invalid branch/customer input exits 2 and changes nothing", "[batch]") {
  const std::string cust = R"({"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}]})";
  for (std::string in : std::vector<std::string>{
           // branches that disagree (also by a cent, also written differently)
           R"([{"id": 1, "type": "branch", "balance": 400}, {"id": 2, "type": "branch", "balance": 401}, )" + cust + "]",
           R"([{"id": 1, "type": "branch", "balance": 400}, {"id": 2, "type": "branch", "balance": 400.01}, )" + cust + "]",
           // money that is not exact or not allowed
           R"([{"id": 1, "type": "branch", "balance": 400.001}, )" + cust + "]",
           R"([{"id": 1, "type": "branch", "balance": 4e2}, )" + cust + "]",
           R"([{"id": 1, "type": "branch", "balance": -400}, )" + cust + "]",
           R"([{"id": 1, "type": "branch", "balance": 400}, {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 0}]}])",
           R"([{"id": 1, "type": "branch", "balance": 400}, {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit"}]}])",
           R"([{"id": 1, "type": "branch", "balance": 400}, {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "steal", "money": 5}]}])",
           // structure
           R"([{"id": 1, "type": "branch", "balance": 400}, )" + cust + ", " + cust + "]",
           R"([{"id": 1, "type": "branch", "balance": 400}, {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query"}, {"id": 1, "interface": "query"}]}])",
           R"([{"id": 1, "type": "bank", "balance": 400}])",
           R"([{"id": 1, "type": "branch", "balance": 400}, )" + cust,
           "[" + cust + "]",  // no branch and no --account: nothing to open with
       }) {
    DYNAMIC_SECTION(in) {
      TempDir d;
      RunResult r = Drovebank(d / "data", {"batch", WriteInput(d, "in.json", in)});
      INFO(Why(r));
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(r.err.find("batch") == std::string::npos);  // no summary: nothing ran
      RunResult show = Drovebank(d / "data", {"show", "1"});
      // No account was opened: the store was not even made (2), or has no account 1 (3).
      CHECK((show.exit_code == 2 || show.exit_code == 3));
      CHECK((show.err.find("no account 1") != std::string::npos ||
             show.err.find("no drovebank store") != std::string::npos));
    }
  }
}

TEST_CASE("batch: money is read and printed exactly", "[batch]") {
  SECTION("numbers keep their text") {
    for (auto [text, cents] : std::vector<std::pair<std::string, Cents>>{
             {"0.1", 10}, {"0.01", 1}, {"570.25", 57025}, {"570.5", 57050}, {"570.50", 57050},
             {"400", 40000}, {"999999999999.99", kMaxCents}, {"\"12.34\"", 1234}}) {
      auto j = ParseExactJson(text);
      REQUIRE(j.ok());
      auto c = JsonMoney(*j, "money");
      INFO(text);
      REQUIRE(c.ok());
      CHECK(*c == cents);
    }
    for (std::string bad : {"0.001", "1e2", "-1", "1000000000000", "1.5e-3", "true", "\"1.\"",
                            "12345678901234567890123"}) {
      auto j = ParseExactJson(bad);
      INFO(bad);
      REQUIRE(j.ok());
      CHECK(!JsonMoney(*j, "money").ok());
    }
  }
  SECTION("printing is the shortest exact decimal") {
    CHECK(FormatExactMoney(57000) == "570");
    CHECK(FormatExactMoney(57050) == "570.5");
    CHECK(FormatExactMoney(57025) == "570.25");
    CHECK(FormatExactMoney(1) == "0.01");
    CHECK(FormatExactMoney(0) == "0");
    CHECK(FormatExactMoney(kMaxCents) == "999999999999.99");
  }
  SECTION("end to end: ten deposits of 0.1 on 400 are exactly 401") {
    TempDir d;
    std::string events;
    for (int i = 1; i <= 10; ++i) {
      events += fmt::format(R"({}{{"id": {}, "interface": "deposit", "money": 0.1}})",
                            i == 1 ? "" : ", ", i);
    }
    std::string in = R"([{"id": 1, "type": "branch", "balance": 400.00},
        {"id": 2, "type": "customer", "events": [)" + events + R"(, {"id": 11, "interface": "query"},
          {"id": 12, "interface": "deposit", "money": 170.15}, {"id": 13, "interface": "query"},
          {"id": 14, "interface": "withdraw", "money": 0.90}, {"id": 15, "interface": "query"}]}])";
    RunResult r = Drovebank(d / "data", {"batch", "--group-size", "3", WriteInput(d, "i", in)});
    INFO(Why(r));
    REQUIRE(r.exit_code == 0);
    auto out = nlohmann::json::parse(r.out);
    auto recv = out.at(0).at("recv");
    REQUIRE(recv.size() == 15);
    // nlohmann reads 401 as an integer and 571.15 as a double: compare the text itself.
    CHECK(r.out.find("\"balance\": 401}") != std::string::npos);
    CHECK(r.out.find("\"balance\": 571.15}") != std::string::npos);
    CHECK(r.out.find("\"balance\": 570.25}") != std::string::npos);
    CHECK(BalanceOf(d / "data", 1) == 57025);
  }
}

TEST_CASE("batch: JSON Lines of operations report one result per line", "[batch]") {
  TempDir d;
  std::string dir = d / "data";
  std::string in =
      R"({"op": "open", "first": "Ada", "last": "Lovelace", "amount": "100.00"}
{"op": "open", "first": "Alan", "last": "Turing", "amount": 5.5}
{"op": "deposit", "id": 1, "amount": "0.25", "key": "k1"}
{"op": "withdraw", "id": 2, "amount": "6"}
{"op": "transfer", "from": 1, "to": 2, "amount": "5.00", "key": "k2"}

{"op": "close", "id": 2}
{"op": "deposit", "id": 1, "amount": "1.234"}
{"op": "deposit", "id": 1 "amount": "1"}
{"op": "steal", "id": 1}
{"op": "deposit", "id": 3, "amount": "1"}
{"op": "deposit", "id": 1, "amount": "1", "key": "k1"}
{"op": "deposit", "id": 1, "amount": "0.25", "key": "k1"}
{"op": "deposit", "id": 1, "amount": "1", "color": "red"}
)";
  for (std::string group : {"1", "3", "1000"}) {
    DYNAMIC_SECTION("group size " << group) {
      boost::filesystem::remove_all(dir);
      RunResult r = Drovebank(dir, {"batch", "--group-size", group, WriteInput(d, "o", in)});
      INFO(Why(r));
      CHECK(r.exit_code == 3);  // the first failing line (4) was refused by a rule
      auto lines = Lines(r.out);
      REQUIRE(lines.size() == 13);
      std::vector<std::pair<int, std::string>> want = {
          {1, ""}, {2, ""}, {3, ""}, {4, "InsufficientFunds"}, {5, ""}, {7, "RuleFailed"},
          {8, "InvalidArgument"}, {9, "InvalidArgument"}, {10, "InvalidArgument"},
          {11, "NotFound"}, {12, "KeyReused"}, {13, ""}, {14, "InvalidArgument"}};
      for (size_t i = 0; i < want.size(); ++i) {
        INFO(lines[i].dump());
        CHECK(lines[i]["line"] == want[i].first);
        CHECK(lines[i]["ok"] == want[i].second.empty());
        if (!want[i].second.empty()) CHECK(lines[i]["error"]["code"] == want[i].second);
      }
      CHECK(lines[0]["id"] == 1);
      CHECK(lines[0]["balance"] == "100.00");
      CHECK(lines[1]["balance"] == "5.50");
      CHECK(lines[4]["balance"] == "95.25");
      CHECK(lines[4]["to_balance"] == "10.50");
      CHECK(lines[11]["replayed"] == true);  // line 13 repeats line 3 with its key
      CHECK(lines[11]["txn"] == lines[2]["txn"]);
      CHECK(BalanceOf(dir, 1) == 9525);
      CHECK(BalanceOf(dir, 2) == 1050);
    }
  }
}

// A JSONL batch of `n` deposits on account 1, amounts 1.01, 1.02, ... so any lost or
// doubled event shows in the balance.
std::string Deposits(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) {
    s += fmt::format(R"({{"op": "deposit", "id": 1, "amount": "1.{:02}"}})", i) + "\n";
  }
  return s;
}

Cents SumOfFirst(int k) {
  Cents c = 0;
  for (int i = 1; i <= k; ++i) c += 100 + i;
  return c;
}

TEST_CASE("batch: a crash mid-batch leaves whole groups, a re-run completes exactly once",
          "[batch][crash]") {
  const int n = 12;
  for (int group : {1, 2, 5}) {
    for (int hit : {1, 2}) {
      DYNAMIC_SECTION("group size " << group << ", crash after the sync of group " << hit) {
        TempDir d;
        std::string dir = d / "data";
        Open(dir, "0");
        std::string file = WriteInput(d, "ops.jsonl", Deposits(n));
        RunResult crashed = Drovebank(
            dir, {"batch", "--group-size", std::to_string(group), file},
            {{"DROVEBANK_FAULT", "batch:after_journal_sync:crash"},
             {"DROVEBANK_FAULT_HIT", std::to_string(hit)}});
        INFO(Why(crashed));
        REQUIRE(crashed.exit_code == 86);
        // Output so far: the groups before the crashed one, each line applied.
        CHECK(Lines(crashed.out).size() == static_cast<size_t>((hit - 1) * group));
        RunResult rec = Recover(dir);
        INFO(Why(rec));
        REQUIRE(rec.exit_code == 0);
        int applied = std::min(n, hit * group);  // the crashed group is committed too
        CHECK(BalanceOf(dir, 1) == SumOfFirst(applied));

        RunResult again = Drovebank(dir, {"batch", "--group-size", "4", file});
        INFO(Why(again));
        REQUIRE(again.exit_code == 0);
        auto lines = Lines(again.out);
        REQUIRE(lines.size() == static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) CHECK(lines[i].value("replayed", false) == (i < applied));
        CHECK(again.err.find(fmt::format("resumed after {} applied event", applied)) !=
              std::string::npos);
        CHECK(BalanceOf(dir, 1) == SumOfFirst(n));

        // Finished now: the same input again is refused, and applies nothing.
        RunResult third = Drovebank(dir, {"batch", file});
        INFO(Why(third));
        CHECK(third.exit_code == 3);
        CHECK(BalanceOf(dir, 1) == SumOfFirst(n));
        CHECK(Recover(dir, {"--check"}).exit_code == 0);
      }
    }
  }
}

// A group of 8 keyed deposits on 8 accounts, killed at each step of its commit, leaves up
// to 8 account flags and 8 key-slot flags set. The next batch, with no `recover` between,
// takes all of them in one group: it holds every lock, reads the flags in bulk
// (LockTable::ReadFlags) and repairs each flagged slot before it reads anything. Re-run,
// the crashed batch applies each event exactly once (replaying what was committed); a
// second batch then applies on top; money is exact and `recover --check` finds nothing.
TEST_CASE("batch: a group killed at any step is repaired by the next group's bulk flag read, "
          "without recover",
          "[batch][crash]") {
  constexpr int kAccounts = 8;
  for (const char* step : {"before_journal_write", "after_journal_write", "before_journal_sync",
                           "after_journal_sync", "after_temp_write", "after_rename",
                           "after_key_index"}) {
    for (int hit : {1, 3, 8}) {  // the first, a middle and the last time the step is reached
      DYNAMIC_SECTION("killed at " << step << ", hit " << hit) {
        TempDir d;
        std::string dir = d / "data";
        for (int i = 0; i < kAccounts; ++i) Open(dir, "10");
        std::string first, second;
        for (int id = 1; id <= kAccounts; ++id) {
          first += fmt::format(R"({{"op":"deposit","id":{},"amount":"1.00"}})" "\n", id);
          second += fmt::format(R"({{"op":"deposit","id":{},"amount":"0.{:02}"}})" "\n", id, id);
        }
        std::string one = WriteInput(d, "one.jsonl", first);
        std::string two = WriteInput(d, "two.jsonl", second);
        RunResult crashed = Drovebank(dir, {"batch", "--group-size", "8", one},
                                      {{"DROVEBANK_FAULT", fmt::format("batch:{}:crash", step)},
                                       {"DROVEBANK_FAULT_HIT", std::to_string(hit)}});
        INFO(Why(crashed));
        if (crashed.exit_code != 86) {  // the step is reached fewer times than `hit`
          REQUIRE(crashed.exit_code == 0);
        }
        RunResult again = Drovebank(dir, {"batch", "--group-size", "8", one});
        INFO(Why(again));
        // A batch that ran to its end is refused as finished (3); otherwise it completes.
        REQUIRE((again.exit_code == 0 || (crashed.exit_code == 0 && again.exit_code == 3)));
        RunResult more = Drovebank(dir, {"batch", "--group-size", "8", two});
        INFO(Why(more));
        REQUIRE(more.exit_code == 0);
        for (int id = 1; id <= kAccounts; ++id) {
          INFO("account " << id);
          CHECK(BalanceOf(dir, id) == 1000 + 100 + id);
        }
        RunResult check = Recover(dir, {"--check", "--full"});
        INFO(Why(check));
        CHECK(check.exit_code == 0);
      }
    }
  }
}

TEST_CASE("batch: a crashed customer batch re-run finds its account and finishes once",
          "[batch][crash]") {
  TempDir d;
  std::string dir = d / "data";
  std::string events;
  for (int i = 1; i <= 6; ++i) {
    events += fmt::format(R"({}{{"id": {}, "interface": "deposit", "money": {}}})",
                          i == 1 ? "" : ", ", i, i);
  }
  std::string in = R"([{"id": 1, "type": "branch", "balance": 100},
      {"id": 1, "type": "customer", "events": [)" + events + "]}]";
  std::string file = WriteInput(d, "c.json", in);
  RunResult crashed = Drovebank(dir, {"batch", "--group-size", "2", file},
                                    {{"DROVEBANK_FAULT", "batch:after_journal_sync:crash"},
                                     {"DROVEBANK_FAULT_HIT", "3"}});  // open, group 1, group 2
  INFO(Why(crashed));
  REQUIRE(crashed.exit_code == 86);
  REQUIRE(Recover(dir).exit_code == 0);
  CHECK(BalanceOf(dir, 1) == (100 + 1 + 2 + 3 + 4) * 100);
  RunResult again = Drovebank(dir, {"batch", "--group-size", "2", file});
  INFO(Why(again));
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("resumed after 4 applied event") != std::string::npos);
  CHECK(BalanceOf(dir, 1) == (100 + 21) * 100);
  CHECK(Drovebank(dir, {"show", "2"}).exit_code == 3);  // no second account was opened
}

TEST_CASE("batch: --parallel ends with the same balance as a sequential run", "[batch]") {
  for (int customers : {1, 3, 6}) {
    DYNAMIC_SECTION(customers << " customers") {
      TempDir d;
      std::string dir = d / "data";
      // Withdrawals never exceed what the opening balance alone covers, so no outcome
      // depends on the order the processes happen to run in.
      std::string in = R"([{"id": 1, "type": "branch", "balance": 1000})";
      Cents want = 100000;
      for (int c = 1; c <= customers; ++c) {
        in += fmt::format(R"(, {{"id": {}, "type": "customer", "events": [)", c * 10);
        for (int e = 1; e <= 8; ++e) {
          bool dep = e % 3 != 0;
          Cents cents = c * 100 + e * 7;
          want += dep ? cents : -cents;
          in += fmt::format(R"({}{{"id": {}, "interface": "{}", "money": {}}}, {{"id": {},
                               "interface": "query"}})",
                            e == 1 ? "" : ", ", 2 * e, dep ? "deposit" : "withdraw",
                            FormatExactMoney(cents), 2 * e + 1);
        }
        in += "]}";
      }
      in += "]";
      std::string file = WriteInput(d, "p.json", in);
      RunResult seq = Drovebank(dir, {"batch", "--no-auto-keys", file});
      INFO(Why(seq));
      REQUIRE(seq.exit_code == 0);
      RunResult par = Drovebank(dir, {"batch", "--parallel", file});
      INFO(Why(par));
      REQUIRE(par.exit_code == 0);
      CHECK(BalanceOf(dir, 1) == want);
      CHECK(BalanceOf(dir, 2) == want);
      auto out = nlohmann::json::parse(par.out);
      REQUIRE(out.size() == static_cast<size_t>(customers));
      for (int c = 0; c < customers; ++c) {
        CHECK(out[c]["id"] == (c + 1) * 10);
        CHECK(out[c]["recv"].size() == 16);
        for (const auto& e : out[c]["recv"]) {
          if (e.contains("result")) CHECK(e["result"] == "success");
        }
      }
      CHECK(Recover(dir, {"--check"}).exit_code == 0);
    }
  }
}

TEST_CASE("batch: --account runs customers on an existing account", "[batch]") {
  TempDir d;
  std::string dir = d / "data";
  Open(dir, "10");
  Open(dir, "20");
  std::string in = R"([{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 1}, {"id": 2, "interface": "query"}]}])";
  RunResult r = Drovebank(dir, {"batch", "--account", "2", WriteInput(d, "a.json", in)});
  INFO(Why(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"balance\": 21}") != std::string::npos);
  CHECK(BalanceOf(dir, 1) == 1000);
  RunResult missing = Drovebank(dir, {"batch", "--account", "9", d / "a.json"});
  CHECK(missing.exit_code == 3);
}

}  // namespace
}  // namespace drovebank

namespace drovebank {
namespace {

TEST_CASE("batch: JSON Lines take a memo on money ops and refuse it and reversal keys elsewhere",
          "[batch][memo]") {
  TempDir d;
  std::string dir = d / "data";
  std::string in =
      R"({"op": "open", "first": "Ada", "last": "Lovelace", "amount": "100.00"}
{"op": "deposit", "id": 1, "amount": "1", "memo": "rent, Nov"}
{"op": "withdraw", "id": 1, "amount": "1", "memo": ""}
{"op": "open", "first": "Bo", "last": "B", "memo": "x"}
{"op": "close", "id": 1, "memo": "x"}
{"op": "deposit", "id": 1, "amount": "1", "memo": 5}
{"op": "deposit", "id": 1, "amount": "1", "memo": "a\u202eb"}
{"op": "deposit", "id": 1, "amount": "1", "key": "reverse:2"}
{"op": "withdraw", "id": 1, "amount": "1", "memo": "last"}
)";
  RunResult r = Drovebank(dir, {"batch", WriteInput(d, "m.jsonl", in)});
  INFO(Why(r));
  auto lines = Lines(r.out);
  REQUIRE(lines.size() == 9);
  std::vector<bool> ok = {true, true, true, false, false, false, false, false, true};
  for (size_t i = 0; i < ok.size(); ++i) {
    INFO(lines[i].dump());
    CHECK(lines[i]["ok"] == ok[i]);
  }
  CHECK(lines[3]["error"]["message"] == "unexpected field \"memo\" for op open");
  CHECK(lines[4]["error"]["message"] == "unexpected field \"memo\" for op close");
  CHECK(lines[5]["error"]["message"] == "memo must be a string");
  CHECK(lines[7]["error"]["message"].get<std::string>().find("kept for `reverse`") !=
        std::string::npos);
  RunResult t = Drovebank(dir, {"--json", "txn", std::to_string(lines[1]["txn"].get<int>())});
  CHECK(nlohmann::json::parse(t.out)["ops"][0]["memo"] == "rent, Nov");
  RunResult t3 = Drovebank(dir, {"--json", "txn", std::to_string(lines[2]["txn"].get<int>())});
  CHECK_FALSE(nlohmann::json::parse(t3.out)["ops"][0].contains("memo"));  // "" is no memo
  CHECK(BalanceOf(dir, 1) == 9900);
}

// The CSV twin of a JSON Lines input: one operation a row after the header.
const char kCsv[] =
    "op,id,from,to,amount,memo,key,first,last\n"                      // 1
    "open,,,,100.00,,,Ada,Lovelace\n"                                 // 2
    "open,,,,5.5,,,Mary Ann,\"O'Brien, Jr.\"\n"                       // 3
    "deposit,1,,,0.25,\"rent, \"\"Nov\"\"\",k1,,\n"                   // 4
    "withdraw,2,,,6,,,,\n"                                            // 5: 2 has 5.50
    "transfer,,1,2,5.00,,k2,,\r\n"                                    // 6: CRLF is fine
    "\n"                                                              // 7: blank
    "deposit,1,,,1.234,,,,\n"                                         // 8: 3 decimals
    "deposit,1,,,1,,,\n"                                              // 9: too few cells
    "deposit,1,,,\"1,,,,\n"                                           // 10: open quote
    "steal,1,,,1,,,,\n"                                               // 11
    "deposit,3,,,1,,,,\n"                                             // 12: no account 3
    "deposit,1,,,1,,k1,,\n"                                           // 13: k1 reused
    "deposit,1,2,,1,,,,\n"                                            // 14: from on deposit
    "deposit,1,,,0.25,\"rent, \"\"Nov\"\"\",k1,,\n"                   // 15: replays 4
    "withdraw,1,,,1,a\"b,,,\n";                                       // 16: stray quote

TEST_CASE("import-csv: rows run like JSON Lines, bad rows named by line, the rest applied",
          "[batch][csv]") {
  for (std::string cmd : {"import-csv", "batch"}) {
    for (std::string group : {"1", "3", "1000"}) {
      DYNAMIC_SECTION(cmd << ", group size " << group) {
        TempDir d;
        std::string dir = d / "data";
        RunResult r =
            Drovebank(dir, {cmd, "--group-size", group, WriteInput(d, "ops.csv", kCsv)});
        INFO(Why(r));
        CHECK(r.exit_code == 3);  // the first failing row (5) was refused by a rule
        auto lines = Lines(r.out);
        REQUIRE(lines.size() == 14);
        std::vector<std::pair<int, std::string>> want = {
            {2, ""}, {3, ""}, {4, ""}, {5, "InsufficientFunds"}, {6, ""},
            {8, "InvalidArgument"}, {9, "InvalidArgument"}, {10, "InvalidArgument"},
            {11, "InvalidArgument"}, {12, "NotFound"}, {13, "KeyReused"},
            {14, "InvalidArgument"}, {15, ""}, {16, "InvalidArgument"}};
        for (size_t i = 0; i < want.size(); ++i) {
          INFO(lines[i].dump());
          CHECK(lines[i]["line"] == want[i].first);
          CHECK(lines[i]["ok"] == want[i].second.empty());
          if (!want[i].second.empty()) CHECK(lines[i]["error"]["code"] == want[i].second);
        }
        CHECK(lines[6]["error"]["message"] == "the row has 8 cell(s); the header row has 9");
        CHECK(lines[7]["error"]["message"].get<std::string>().find("cell 5 opens a quote") !=
              std::string::npos);
        CHECK(lines[11]["error"]["message"] == "unexpected field \"from\" for op deposit");
        CHECK(lines[12]["replayed"] == true);
        CHECK(lines[12]["txn"] == lines[2]["txn"]);
        CHECK(r.err.find(cmd + ": 14 event(s): 4 applied") != std::string::npos);
        CHECK(BalanceOf(dir, 1) == 9525);
        CHECK(BalanceOf(dir, 2) == 1050);
        RunResult t =
            Drovebank(dir, {"--json", "txn", std::to_string(lines[2]["txn"].get<int>())});
        CHECK(nlohmann::json::parse(t.out)["ops"][0]["memo"] == "rent, \"Nov\"");
        RunResult s = Drovebank(dir, {"--json", "show", "2"});
        CHECK(nlohmann::json::parse(s.out)["last"] == "O'Brien, Jr.");
      }
    }
  }
}

TEST_CASE("import-csv: a byte order mark before the header row, as spreadsheets write, is "
          "skipped",
          "[batch][csv]") {
  for (std::string cmd : {"import-csv", "batch"}) {
    CAPTURE(cmd);
    TempDir d;
    std::string dir = d / "data";
    Open(dir, "10");
    RunResult r = Drovebank(
        dir, {cmd, WriteInput(d, "bom.csv", "\xEF\xBB\xBFop,id,amount\r\ndeposit,1,2.50\r\n")});
    INFO(Why(r));
    CHECK(r.exit_code == 0);
    CHECK(BalanceOf(dir, 1) == 1250);
  }
}

TEST_CASE("import-csv: a bad header or input that is not CSV is exit 2, nothing applied",
          "[batch][csv]") {
  for (std::string input :
       {std::string("op,id,amount,colour\ndeposit,1,5,red\n"),
        std::string("id,amount\n1,5\n"), std::string("op,id,id\ndeposit,1,1\n"),
        std::string("\"op,id\ndeposit,1\n"),
        std::string("{\"op\": \"deposit\", \"id\": 1, \"amount\": \"5\"}\n"),
        std::string("[]\n"), std::string(""), std::string("1,deposit\n")}) {
    CAPTURE(input);
    TempDir d;
    std::string dir = d / "data";
    Open(dir, "10");
    RunResult r = Drovebank(dir, {"import-csv", WriteInput(d, "bad.csv", input)});
    INFO(Why(r));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(BalanceOf(dir, 1) == 1000);
  }
  TempDir d;
  RunResult h = Drovebank(d / "data", {"import-csv",
                                           WriteInput(d, "h.csv", "op,id,amount,colour\n")});
  CHECK(h.err.find("line 1: the header row names an unknown column 'colour'") !=
        std::string::npos);
}

TEST_CASE("import-csv: a crash mid-import leaves whole groups, a re-run completes exactly once",
          "[batch][csv][crash]") {
  const int n = 12;
  std::string csv = "op,id,amount,memo\n";
  for (int i = 1; i <= n; ++i) csv += fmt::format("deposit,1,1.{:02},row {}\n", i, i);
  for (int group : {1, 5}) {
    for (int hit : {1, 2}) {
      DYNAMIC_SECTION("group size " << group << ", crash after the sync of group " << hit) {
        TempDir d;
        std::string dir = d / "data";
        Open(dir, "0");
        std::string file = WriteInput(d, "ops.csv", csv);
        RunResult crashed = Drovebank(
            dir, {"import-csv", "--group-size", std::to_string(group), file},
            {{"DROVEBANK_FAULT", "batch:after_journal_sync:crash"},
             {"DROVEBANK_FAULT_HIT", std::to_string(hit)}});
        INFO(Why(crashed));
        REQUIRE(crashed.exit_code == 86);
        REQUIRE(Recover(dir).exit_code == 0);
        int applied = std::min(n, hit * group);
        CHECK(BalanceOf(dir, 1) == SumOfFirst(applied));
        RunResult again = Drovebank(dir, {"import-csv", "--group-size", "4", file});
        INFO(Why(again));
        REQUIRE(again.exit_code == 0);
        auto lines = Lines(again.out);
        REQUIRE(lines.size() == static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
          CHECK(lines[i]["line"] == i + 2);
          CHECK(lines[i].value("replayed", false) == (i < applied));
        }
        CHECK(BalanceOf(dir, 1) == SumOfFirst(n));
        CHECK(Recover(dir, {"--check"}).exit_code == 0);
      }
    }
  }
}

TEST_CASE("import-csv and batch: a file run to its end is refused when run again, naming "
          "that run; --again applies it as a new run, itself resumable",
          "[batch][csv][again]") {
  std::string csv = "op,id,amount,memo\ndeposit,1,10.00,rent\ndeposit,1,2.50,fee\n";
  std::string jsonl = "{\"op\":\"deposit\",\"id\":1,\"amount\":\"10.00\"}\n"
                      "{\"op\":\"deposit\",\"id\":1,\"amount\":\"2.50\"}\n";
  for (std::string cmd : {"import-csv", "batch"}) {
    DYNAMIC_SECTION(cmd) {
      TempDir d;
      std::string dir = d / "data";
      Open(dir, "0");  // txn 1
      std::string file = WriteInput(d, "rent.csv", cmd == "batch" ? jsonl : csv);
      RunResult first = Drovebank(dir, {cmd, file});
      INFO(Why(first));
      REQUIRE(first.exit_code == 0);  // txns 2 and 3, its end txn 4
      CHECK(BalanceOf(dir, 1) == 1250);

      RunResult twice = Drovebank(dir, {cmd, file});
      INFO(Why(twice));
      CHECK(twice.exit_code == 3);
      CHECK(twice.out.empty());
      CHECK(twice.err.find(file + " was already run to its end: run 1 of this input (its "
                                  "changes from txn 2), ended by txn 4 at ") !=
            std::string::npos);
      CHECK(twice.err.find("nothing changed. To apply it again as a new run, add --again") !=
            std::string::npos);
      CHECK(BalanceOf(dir, 1) == 1250);
      CHECK(Drovebank(dir, {"txn", "4"}).out.find("the end of a batch or import-csv run") !=
            std::string::npos);
      RunResult json = Drovebank(dir, {"--json", cmd, file});
      CHECK(json.exit_code == 3);
      CHECK(nlohmann::json::parse(json.out)["error"]["code"] == "RuleFailed");

      RunResult again = Drovebank(dir, {cmd, "--again", file});
      INFO(Why(again));
      REQUIRE(again.exit_code == 0);
      for (const auto& l : Lines(again.out)) CHECK(l.value("replayed", false) == false);
      CHECK(BalanceOf(dir, 1) == 2500);
      RunResult third = Drovebank(dir, {cmd, file});
      CHECK(third.exit_code == 3);
      CHECK(third.err.find("run 2 of this input (its changes from txn 5), ended by txn 7") !=
            std::string::npos);

      // A new run that crashes at `fault`, then the same command finishes it exactly once.
      auto crash_then_resume = [&](const char* fault, Cents at_crash, int replayed,
                                   Cents at_end) {
        INFO(fault);
        RunResult crashed = Drovebank(dir, {cmd, "--again", "--group-size", "1", file},
                                          {{"DROVEBANK_FAULT", fault}});
        REQUIRE(crashed.exit_code == 86);
        REQUIRE(Recover(dir).exit_code == 0);
        CHECK(BalanceOf(dir, 1) == at_crash);
        RunResult resumed = Drovebank(dir, {cmd, "--again", file});
        INFO(Why(resumed));
        REQUIRE(resumed.exit_code == 0);
        CHECK(resumed.err.find(fmt::format("resumed after {} applied event", replayed)) !=
              std::string::npos);
        CHECK(BalanceOf(dir, 1) == at_end);
      };
      // After its first row: the rest is applied.
      crash_then_resume("batch:after_journal_sync:crash", 3500, 1, 3750);
      // Before its end is committed: every row replays, then it ends.
      crash_then_resume("batch-end:flags_set:crash", 5000, 2, 5000);
      CHECK(Drovebank(dir, {cmd, file}).exit_code == 3);

      CHECK(Drovebank(dir, {cmd, "--again", "--no-auto-keys", file}).exit_code == 2);
      // --no-auto-keys never refuses: it is asked to apply everything again.
      CHECK(Drovebank(dir, {cmd, "--no-auto-keys", file}).exit_code == 0);
      CHECK(BalanceOf(dir, 1) == 6250);
      CHECK(Recover(dir, {"--check"}).exit_code == 0);
    }
  }
}

// Bad input changes nothing: a run none of whose events got into the store (each line
// invalid, or each refused by the rules) commits no record of its end either, so the
// journal does not grow by a txn and the same input, run again, is judged again (here,
// once the account has the money, applied) rather than refused as already run.
TEST_CASE("import-csv and batch: a run that applied nothing commits nothing, not even its "
          "end, and may be run again",
          "[batch][csv][again]") {
  struct Input {
    std::string name, text;
    int exit_code;
  };
  for (std::string cmd : {"import-csv", "batch"}) {
    bool csv = cmd == "import-csv";
    std::vector<Input> inputs = {
        {"every line invalid",
         csv ? "op,id,amount\ndeposit,1,ten\ndeposit,x,1.00\n"
             : "{\"op\":\"deposit\",\"id\":1,\"amount\":\"ten\"}\n{\"op\":\"deposit\"}\n",
         2},
        {"every event refused",
         csv ? "op,id,amount\nwithdraw,1,5.00\nwithdraw,1,6.00\n"
             : "{\"op\":\"withdraw\",\"id\":1,\"amount\":\"5.00\"}\n"
               "{\"op\":\"withdraw\",\"id\":1,\"amount\":\"6.00\"}\n",
         3},
    };
    for (const Input& in : inputs) {
      DYNAMIC_SECTION(cmd << ": " << in.name) {
        TempDir d;
        std::string dir = d / "data";
        Open(dir, "0");  // txn 1
        std::string file = WriteInput(d, "in", in.text);
        std::string journal_before = Drovebank(dir, {"export", "--format", "csv"}).out;
        for (int round = 1; round <= 2; ++round) {
          CAPTURE(round);
          RunResult r = Drovebank(dir, {cmd, file});
          INFO(Why(r));
          CHECK(r.exit_code == in.exit_code);
          CHECK(r.err.find("already run to its end") == std::string::npos);
          CHECK(Drovebank(dir, {"txn", "2"}).exit_code != 0);  // no txn 2
          CHECK(Drovebank(dir, {"export", "--format", "csv"}).out == journal_before);
        }
        if (in.exit_code == 3) {
          REQUIRE(Drovebank(dir, {"deposit", "1", "20"}).exit_code == 0);  // txn 2
          RunResult later = Drovebank(dir, {cmd, file});
          INFO(Why(later));
          CHECK(later.exit_code == 0);
          CHECK(BalanceOf(dir, 1) == 900);
          CHECK(Drovebank(dir, {cmd, file}).exit_code == 3);  // now run to its end
        }
        CHECK(Recover(dir, {"--check"}).exit_code == 0);
      }
    }
  }
}

TEST_CASE("batch: a customer file run to its end is refused when run again; --again runs it "
          "on a new account",
          "[batch][again]") {
  TempDir d;
  std::string dir = d / "data";
  std::string file = WriteInput(d, "c.json", kSample);
  REQUIRE(Drovebank(dir, {"batch", file}).exit_code == 0);
  RunResult twice = Drovebank(dir, {"batch", file});
  INFO(Why(twice));
  CHECK(twice.exit_code == 3);
  CHECK(twice.err.find("run 1 of this input (its changes from txn 1)") != std::string::npos);
  CHECK(Drovebank(dir, {"show", "2"}).exit_code == 3);
  RunResult again = Drovebank(dir, {"batch", "--again", file});
  INFO(Why(again));
  CHECK(again.exit_code == 0);
  CHECK(again.out == kSampleOutput);
  CHECK(BalanceOf(dir, 2) == 57000);
}

}  // namespace
}  // namespace drovebank
