// `drovebank reverse TXN` through the real program: what it commits, how history and txn
// link the two, what it refuses (exit 3, nothing changed), and that a txn is reversed at
// most once when many sessions try at the same time.
#include <catch2/catch.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "shell_test_util.h"
#include "require_run.h"
#include "test_util.h"

namespace drovebank {
namespace {

using nlohmann::json;
using testing::MustJson;
using testing::Why;
using testing::Drovebank;
using testing::RunResult;
using testing::Recover;
using testing::TempDir;



std::string Balance(const std::string& dir, int id) {
  return MustJson(dir, {"show", std::to_string(id)}).at("balance").get<std::string>();
}

// Ada (1) 100.00 and Bob (2) 50.00 as txns 1 and 2; then `more` runs in order.
std::string Seed(const TempDir& tmp, const std::vector<std::vector<std::string>>& more = {}) {
  std::string dir = tmp / "data";
  MustJson(dir, {"open", "Ada", "Lovelace", "100.00"});
  MustJson(dir, {"open", "Bob", "Babbage", "50.00"});
  for (const auto& args : more) MustJson(dir, args);
  return dir;
}

// The newest txn of the store: the highest N that `txn N` finds.
std::uint64_t LastTxn(const std::string& dir) {
  std::uint64_t n = 1;
  while (Drovebank(dir, {"txn", std::to_string(n + 1)}).exit_code == 0) ++n;
  return n;
}

TEST_CASE("reverse: each kind of change is undone by its exact opposite", "[reverse]") {
  struct Case {
    std::vector<std::string> change;
    std::string kind;  // of the reversal's op
    int id, to;        // of the reversal's op
    std::string ada, bob;  // after the change
  };
  auto c = GENERATE(Case{{"deposit", "1", "25.50"}, "withdraw", 1, 0, "125.50", "50.00"},
                    Case{{"withdraw", "2", "20.00"}, "deposit", 2, 0, "100.00", "30.00"},
                    Case{{"transfer", "1", "2", "30.00"}, "transfer", 2, 1, "70.00", "80.00"});
  CAPTURE(c.change);
  TempDir tmp;
  std::string dir = Seed(tmp, {c.change});
  CHECK(Balance(dir, 1) == c.ada);
  CHECK(Balance(dir, 2) == c.bob);
  json j = MustJson(dir, {"reverse", "3", "--memo", "entered twice"});
  CHECK(j.at("txn") == 4);
  CHECK(j.at("reverses") == 3);
  CHECK(j.at("key") == "reverse:3");
  REQUIRE(j.at("ops").size() == 1);
  CHECK(j["ops"][0].at("kind") == c.kind);
  CHECK(j["ops"][0].at("id") == c.id);
  if (c.to != 0) CHECK(j["ops"][0].at("to") == c.to);
  CHECK(j["ops"][0].at("memo") == "entered twice");
  CHECK(Balance(dir, 1) == "100.00");
  CHECK(Balance(dir, 2) == "50.00");

  // Both transactions name each other, in txn and in history, text and JSON.
  json orig = MustJson(dir, {"txn", "3"});
  CHECK(orig.at("reversed_by") == 4);
  CHECK_FALSE(orig.contains("reverses"));
  json rev = MustJson(dir, {"txn", "4"});
  CHECK(rev.at("reverses") == 3);
  CHECK_FALSE(rev.contains("reversed_by"));
  RunResult t3 = Drovebank(dir, {"txn", "3"});
  CHECK(t3.out.find("reversed by txn 4") != std::string::npos);
  RunResult t4 = Drovebank(dir, {"txn", "4"});
  CHECK(t4.out.find("reverses txn 3") != std::string::npos);
  CHECK(t4.out.find("(memo: entered twice)") != std::string::npos);
  json h = MustJson(dir, {"history", std::to_string(c.id)});
  REQUIRE(h.at("entries").size() == 3);
  CHECK(h["entries"][0].at("txn") == 4);
  CHECK(h["entries"][0].at("reverses") == 3);
  CHECK(h["entries"][0].at("reversed_by").is_null());
  CHECK(h["entries"][0].at("memo") == "entered twice");
  CHECK(h["entries"][1].at("txn") == 3);
  CHECK(h["entries"][1].at("reversed_by") == 4);
  CHECK(h["entries"][1].at("reverses").is_null());
  CHECK(h["entries"][2].at("reversed_by").is_null());  // the open
  RunResult ht = Drovebank(dir, {"history", std::to_string(c.id)});
  CHECK(ht.out.find("reverses 3; entered twice\n") != std::string::npos);
  CHECK(ht.out.find("reversed by 4\n") != std::string::npos);
  CHECK(Recover(dir, {"--check"}).exit_code == 0);
}

TEST_CASE("reverse: a shell transaction of several changes is undone whole, in reverse order",
          "[reverse]") {
  TempDir tmp;
  std::string dir = Seed(tmp);
  RunResult s = Drovebank(dir, {}, {}, "begin\ndeposit 1 5\ntransfer 1 2 100\ncommit\n");
  INFO(Why(s));
  REQUIRE(s.exit_code == 0);
  CHECK(Balance(dir, 1) == "5.00");
  json j = MustJson(dir, {"reverse", "3"});
  REQUIRE(j.at("ops").size() == 2);
  CHECK(j["ops"][0].at("kind") == "transfer");  // the transfer back first: 1 has only 5.00
  CHECK(j["ops"][1].at("kind") == "withdraw");
  CHECK_FALSE(j["ops"][0].contains("memo"));
  CHECK(Balance(dir, 1) == "100.00");
  CHECK(Balance(dir, 2) == "50.00");
}

TEST_CASE("reverse: refused with exit 3 and nothing changed", "[reverse]") {
  struct Case {
    std::string name;
    std::vector<std::vector<std::string>> setup;  // after the two opens
    std::string txn;
    std::string message;
  };
  auto c = GENERATE(
      Case{"an open", {}, "1", "txn 1 opens account 1: only deposits, withdrawals and transfers"},
      Case{"a close", {{"withdraw", "2", "50"}, {"close", "2"}}, "4", "txn 4 closes account 2"},
      Case{"a reversal", {{"deposit", "1", "5"}, {"reverse", "3"}}, "4", "is itself the reversal"},
      Case{"already reversed", {{"deposit", "1", "5"}, {"reverse", "3"}}, "3",
           "txn 3 was already reversed by txn 4"},
      Case{"already reversed with another memo",
           {{"deposit", "1", "5"}, {"reverse", "3", "--memo", "first"}}, "3",
           "txn 3 was already reversed by txn 4"},
      Case{"the money is gone", {{"deposit", "1", "5"}, {"withdraw", "1", "104"}}, "3",
           "cannot reverse txn 3: account 1 has 1.00, not enough"},
      Case{"the money moved on",
           {{"transfer", "1", "2", "60"}, {"withdraw", "2", "100"}}, "3",
           "cannot reverse txn 3: account 2 has 10.00, not enough"},
      Case{"a closed account", {{"withdraw", "2", "10"}, {"withdraw", "2", "40"}, {"close", "2"}},
           "3", "cannot reverse txn 3:"},
      Case{"no such txn", {}, "99", "no transaction 99"});
  CAPTURE(c.name);
  TempDir tmp;
  std::string dir = Seed(tmp, c.setup);
  std::uint64_t last = LastTxn(dir);
  std::string a = Balance(dir, 1), b = Balance(dir, 2);
  for (std::vector<std::string> memo : {std::vector<std::string>{},
                                        std::vector<std::string>{"--memo", "again"}}) {
    std::vector<std::string> args = {"reverse", c.txn};
    args.insert(args.end(), memo.begin(), memo.end());
    RunResult r = Drovebank(dir, args);
    INFO(Why(r));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(c.message) != std::string::npos);
    args.insert(args.begin(), "--json");
    RunResult jr = Drovebank(dir, args);
    CHECK(jr.exit_code == 3);
    CHECK(json::parse(jr.out).at("error").at("exit") == 3);
  }
  CHECK(LastTxn(dir) == last);
  CHECK(Balance(dir, 1) == a);
  CHECK(Balance(dir, 2) == b);
  CHECK(Recover(dir, {"--check"}).exit_code == 0);
}

TEST_CASE("reverse: bad input is exit 2; its key cannot be taken by another request",
          "[reverse]") {
  TempDir tmp;
  std::string dir = Seed(tmp, {{"deposit", "1", "5"}});
  for (std::vector<std::string> args :
       {std::vector<std::string>{"reverse", "0"}, {"reverse", "x"}, {"reverse", "-3"},
        {"reverse"}, {"reverse", "3", "--memo", std::string(201, 'm')},
        {"reverse", "3", "--memo", "a\u202eb"}, {"reverse", "3", "--memo", "a\tb"},
        {"deposit", "1", "5", "--txn", "reverse:3"}, {"deposit", "1", "5", "--txn", "reverse:9"},
        {"transfer", "1", "2", "5", "--txn", "reverse:"}}) {
    CAPTURE(args);
    RunResult r = Drovebank(dir, args);
    CHECK(r.exit_code == 2);
  }
  CHECK(LastTxn(dir) == 3);
  CHECK(Balance(dir, 1) == "105.00");
  // The key was never taken: the reversal still goes through.
  CHECK(MustJson(dir, {"reverse", "3"}).at("txn") == 4);
}

TEST_CASE("reverse: many sessions reversing one txn at once commit it exactly once",
          "[reverse][concurrency]") {
  TempDir tmp;
  std::string dir = Seed(tmp, {{"transfer", "1", "2", "30"}});
  const int n = 8;
  std::vector<std::future<RunResult>> runs;
  for (int i = 0; i < n; ++i) {
    // Half with a memo, half without: a replay and a reused key are both "already".
    std::vector<std::string> args = {"reverse", "3"};
    if (i % 2 == 1) args.insert(args.end(), {"--memo", "session " + std::to_string(i)});
    runs.push_back(std::async(std::launch::async, [dir, args] { return Drovebank(dir, args); }));
  }
  int ok = 0, refused = 0;
  for (auto& f : runs) {
    RunResult r = f.get();
    INFO(Why(r));
    if (r.exit_code == 0) ++ok;
    if (r.exit_code == 3) {
      ++refused;
      CHECK(r.err.find("txn 3 was already reversed by txn 4") != std::string::npos);
    }
  }
  CHECK(ok == 1);
  CHECK(refused == n - 1);
  CHECK(LastTxn(dir) == 4);
  CHECK(Balance(dir, 1) == "100.00");
  CHECK(Balance(dir, 2) == "50.00");
  CHECK(Recover(dir, {"--check"}).exit_code == 0);
}

TEST_CASE("reverse: in the shell, with --json, and refused inside a transaction",
          "[reverse][shell]") {
  TempDir tmp;
  std::string dir = Seed(tmp, {{"deposit", "1", "5"}, {"deposit", "2", "7"}});
  RunResult s = Drovebank(dir, {}, {},
                              "reverse 3 --memo 'typo, sorry'\n"
                              "reverse 3\n"
                              "begin\n"
                              "reverse 4\n"
                              "abort\n"
                              "history 1\n");
  INFO(Why(s));
  CHECK(s.exit_code == 3);  // the first failing line: 2, already reversed
  CHECK(s.out.find("Reversed txn 3 as txn 5") != std::string::npos);
  CHECK(s.out.find("(memo: typo, sorry)") != std::string::npos);
  CHECK(s.err.find("line 2: txn 3 was already reversed by txn 5") != std::string::npos);
  CHECK(s.err.find("line 4: reverse cannot be part of a transaction") != std::string::npos);
  CHECK(s.out.find("reverses 3; typo, sorry") != std::string::npos);
  CHECK(Balance(dir, 2) == "57.00");  // txn 4 was not reversed inside the transaction

  RunResult j = Drovebank(dir, {"--json"}, {}, "reverse 4\n");
  INFO(Why(j));
  REQUIRE(j.exit_code == 0);
  json v = json::parse(j.out);
  CHECK(v.at("reverses") == 4);
  CHECK(v.at("txn") == 6);
  CHECK(Balance(dir, 2) == "50.00");
}

}  // namespace
}  // namespace drovebank
