// Memos on deposits, withdrawals and transfers through the real program: kept in the
// journal, shown by history and txn (text and JSON), part of what an idempotency key
// compares, refused when they could mislead a terminal; one-shot, shell and transaction.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "require_run.h"
#include "test_util.h"

namespace drovebank {
namespace {

using nlohmann::json;
using testing::MustJson;
using testing::Why;
using testing::Drovebank;
using testing::RunResult;
using testing::TempDir;



std::string Seed(const TempDir& tmp) {
  std::string dir = tmp / "data";
  MustJson(dir, {"open", "Ada", "Lovelace", "100.00"});
  MustJson(dir, {"open", "Bob", "Babbage", "50.00"});
  return dir;
}

const std::vector<std::string> kMemos = {"rent", "O'Brien, \"Jr.\" =1+2", "Zoë 名前 😀",
                                         std::string(200, 'x')};

TEST_CASE("memo: each money command keeps it, history and txn show it", "[memo]") {
  auto [cmd, args, id] =
      GENERATE(std::tuple<std::string, std::vector<std::string>, int>{"deposit", {"1", "5"}, 1},
               std::tuple<std::string, std::vector<std::string>, int>{"withdraw", {"1", "5"}, 1},
               std::tuple<std::string, std::vector<std::string>, int>{"transfer", {"1", "2", "5"},
                                                                      2});
  for (const std::string& memo : kMemos) {
    CAPTURE(cmd, memo);
    TempDir tmp;
    std::string dir = Seed(tmp);
    std::vector<std::string> a = {cmd};
    a.insert(a.end(), args.begin(), args.end());
    a.insert(a.end(), {"--memo", memo});
    json j = MustJson(dir, a);
    CHECK(j.at("ops").at(0).at("memo") == memo);
    CHECK(MustJson(dir, {"txn", "3"}).at("ops").at(0).at("memo") == memo);
    json h = MustJson(dir, {"history", std::to_string(id)});
    CHECK(h.at("entries").at(0).at("memo") == memo);
    CHECK(h.at("entries").at(1).at("memo") == "");  // the open has none
    RunResult ht = Drovebank(dir, {"history", std::to_string(id)});
    CHECK(ht.out.find("  " + memo + "\n") != std::string::npos);
    RunResult tt = Drovebank(dir, {"txn", "3"});
    CHECK(tt.out.find("(memo: " + memo + ")") != std::string::npos);
    // Without --memo nothing is added, in the journal either.
    json plain = MustJson(dir, {cmd == "transfer" ? "deposit" : cmd, "1", "1"});
    CHECK_FALSE(plain.at("ops").at(0).contains("memo"));
  }
}

TEST_CASE("memo: the same key with the same memo replays, with another memo is refused",
          "[memo]") {
  TempDir tmp;
  std::string dir = Seed(tmp);
  json first = MustJson(dir, {"deposit", "1", "5", "--txn", "k1", "--memo", "rent"});
  CHECK(first.at("replayed") == false);
  json again = MustJson(dir, {"deposit", "1", "5", "--txn", "k1", "--memo", "rent"});
  CHECK(again.at("replayed") == true);
  CHECK(again.at("txn") == first.at("txn"));
  for (std::vector<std::string> other :
       {std::vector<std::string>{"--memo", "Rent"}, std::vector<std::string>{}}) {
    std::vector<std::string> args = {"deposit", "1", "5", "--txn", "k1"};
    args.insert(args.end(), other.begin(), other.end());
    RunResult r = Drovebank(dir, args);
    INFO(Why(r));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("already used for a different request") != std::string::npos);
  }
  // A key first used without a memo is refused with one.
  MustJson(dir, {"deposit", "1", "5", "--txn", "k2"});
  CHECK(Drovebank(dir, {"deposit", "1", "5", "--txn", "k2", "--memo", "x"}).exit_code == 3);
  CHECK(MustJson(dir, {"show", "1"}).at("balance") == "110.00");
}

TEST_CASE("memo: text that could mislead is refused with exit 2 and nothing changed",
          "[memo][security]") {
  TempDir tmp;
  std::string dir = Seed(tmp);
  for (const std::string& bad :
       {std::string(201, 'x'), std::string("a\nb"), std::string("\x1b[31mred"),
        std::string("a\u202eb"), std::string("a\u2066b"), std::string("a\u200bb"),
        std::string("\xef\xbb\xbf" "bom"), std::string("\xc3")}) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"deposit", "1", "5"}, {"withdraw", "1", "5"},
          {"transfer", "1", "2", "5"}}) {
      args.insert(args.end(), {"--memo", bad});
      RunResult r = Drovebank(dir, args);
      INFO(Why(r));
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("memo") != std::string::npos);
      CHECK(r.err.find('\x1b') == std::string::npos);
    }
  }
  CHECK(Drovebank(dir, {"txn", "3"}).exit_code == 3);  // nothing was committed
}

TEST_CASE("memo: the shell takes it one-shot and staged in a transaction", "[memo][shell]") {
  TempDir tmp;
  std::string dir = Seed(tmp);
  RunResult s = Drovebank(dir, {}, {},
                              "deposit 1 5 --memo 'one shot'\n"
                              "begin\n"
                              "deposit 1 1 --memo \"staged, first\"\n"
                              "transfer 1 2 2 --memo second\n"
                              "withdraw 2 1\n"
                              "show\n"
                              "commit\n"
                              "begin\n"
                              "deposit 1 1 --memo " + std::string(201, 'y') + "\n"
                              "commit\n");
  INFO(Why(s));
  CHECK(s.exit_code == 2);  // line 9: the memo is too long, so nothing was staged
  CHECK(s.err.find("line 9: memo is 201 characters long") != std::string::npos);
  CHECK(s.out.find("deposit 1.00 to account 1 (memo: staged, first)") != std::string::npos);
  CHECK(Drovebank(dir, {"txn", "5"}).exit_code == 3);  // the empty transaction wrote nothing
  json t3 = MustJson(dir, {"txn", "3"});
  CHECK(t3.at("ops").at(0).at("memo") == "one shot");
  json t4 = MustJson(dir, {"txn", "4"});
  REQUIRE(t4.at("ops").size() == 3);
  CHECK(t4["ops"][0].at("memo") == "staged, first");
  CHECK(t4["ops"][1].at("memo") == "second");
  CHECK_FALSE(t4["ops"][2].contains("memo"));
  json h = MustJson(dir, {"history", "2"});
  CHECK(h.at("entries").at(0).at("memo") == "");       // withdraw 2 1
  CHECK(h.at("entries").at(1).at("memo") == "second");  // transfer in
  RunResult j = Drovebank(dir, {"--json"}, {}, "deposit 2 3 --memo shelljson\n");
  REQUIRE(j.exit_code == 0);
  CHECK(json::parse(j.out).at("ops").at(0).at("memo") == "shelljson");
}

}  // namespace
}  // namespace drovebank
