// Reports end to end through the real program: balance, history ranges, statement, the
// -O formats of list/search/history/balance/statement, and export, checked by the real
// hledger, ledger and beancount when they are installed.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "require_run.h"
#include "test_util.h"

namespace drovebank {
namespace {

using nlohmann::json;
using testing::Must;
using testing::Drovebank;
using testing::RunResult;
using testing::TempDir;

// 2026-10-31T23:30:00Z, 2026-11-02T02:00:00Z (2026-11-01 21:00 in New York),
// 2026-11-15T12:00:00Z, 2026-12-01T08:00:00Z.
constexpr const char* kDay1 = "1793489400000";
constexpr const char* kDay2 = "1793584800000";
constexpr const char* kDay3 = "1794744000000";
constexpr const char* kDay4 = "1796112000000";

std::map<std::string, std::string> At(const char* ms) {
  return {{"DROVEBANK_NOW_MS", ms}, {"NO_COLOR", "1"}, {"TZ", ""}};
}

std::map<std::string, std::string> Env(const std::string& tz = "") {
  return {{"NO_COLOR", "1"}, {"TZ", tz}};
}


// A store with opens, deposits, withdrawals, transfers, a close, a shell transaction of
// two changes, and awkward names. Final balances: 1 75.50, 2 6.00, 3 closed, 4 0.00.
struct Bank {
  TempDir tmp;
  std::string data = tmp / "data";
  Bank() {
    Must(Drovebank(data, {"open", "Ada", "Lovelace", "100"}, At(kDay1)));
    Must(Drovebank(data, {"open", "Mary Ann", "O'Brien, Jr."}, At(kDay1)));
    Must(Drovebank(data, {"open", "Zoë \"Zed\"", "Ünal; Ltd", "5"}, At(kDay1)));
    Must(Drovebank(data, {"open", "--", "=HYPERLINK(\"x\")", "-Minus, @at", "0"}, At(kDay1)));
    Must(Drovebank(data, {"deposit", "1", "25.50", "--txn", "pay-nov"}, At(kDay2)));
    Must(Drovebank(data, {"transfer", "1", "2", "10"}, At(kDay2)));
    Must(Drovebank(data, {"withdraw", "3", "5"}, At(kDay2)));
    Must(Drovebank(data, {"close", "3"}, At(kDay2)));
    Must(Drovebank(data, {}, At(kDay3), "begin\ntransfer 1 2 40\nwithdraw 2 45\ncommit\n"));
    Must(Drovebank(data, {"deposit", "2", "1"}, At(kDay4)));
  }
  RunResult Run(std::vector<std::string> args, const std::string& tz = "") {
    return Drovebank(data, std::move(args), Env(tz));
  }
};

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool Has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// "12.34", "-5", "0" -> cents (the tools print amounts without a commodity).
long long Cents(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '"')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.erase(0, 1);
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  frac.resize(2, '0');
  long long v = std::atoll(whole.c_str()) * 100 + std::atoll(frac.c_str());
  return neg ? -v : v;
}

// drovebank's own balances by account id (closed ones too), and their total.
std::map<std::string, long long> OurBalances(Bank& b, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--json", "balance", "--all"};
  args.insert(args.end(), extra.begin(), extra.end());
  json j = json::parse(Must(b.Run(args)).out);
  std::map<std::string, long long> out;
  for (const json& a : j["accounts"]) {
    out[std::to_string(a["id"].get<int>())] = Cents(a["balance"].get<std::string>());
  }
  out["total"] = Cents(j["total"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("balance: every open account and the total; --all adds the closed ones",
          "[reports][balance]") {
  Bank b;
  RunResult text = Must(b.Run({"balance"}));
  std::vector<std::string> lines = Lines(text.out);
  REQUIRE(lines.size() == 6);  // header, three open accounts, rule, total
  CHECK(lines[0] == "      id  name                                       balance  status");
  CHECK(lines[1] == "       1  Ada Lovelace                                 75.50  open");
  CHECK(Has(lines[2], "Mary Ann O'Brien, Jr.") );
  CHECK(Has(lines[2], "6.00  open"));
  CHECK(Has(lines[3], "=HYPERLINK(\"x\") -Minus, @at"));
  CHECK(lines[4].find_first_not_of('-') == std::string::npos);
  CHECK(Has(lines[5], "total of 3 accounts"));
  CHECK(Has(lines[5], "81.50"));
  CHECK(!Has(text.out, "Zoë"));
  CHECK(Must(b.Run({"bal"})).out == text.out);  // the alias

  RunResult all = Must(b.Run({"balance", "--all"}));
  CHECK(Has(all.out, "Zoë \"Zed\" Ünal; Ltd"));
  CHECK(Has(all.out, "0.00  closed"));
  CHECK(Has(all.out, "total of 4 accounts"));

  for (std::vector<std::string> args : {std::vector<std::string>{"--json", "balance"},
                                        {"-O", "json", "balance"},
                                        {"balance", "-O", "json"}}) {
    json j = json::parse(Must(b.Run(args)).out);
    CHECK(j["count"] == 3);
    CHECK(j["total"] == "81.50");
    REQUIRE(j["accounts"].size() == 3);
    CHECK(j["accounts"][0]["id"] == 1);
    CHECK(j["accounts"][2]["first"] == "=HYPERLINK(\"x\")");  // JSON keeps names exactly
  }

  RunResult csv = Must(b.Run({"-O", "csv", "balance", "--all"}));
  CHECK(csv.out ==
        "id,first,last,balance,status\n"
        "1,Ada,Lovelace,75.50,open\n"
        "2,Mary Ann,\"O'Brien, Jr.\",6.00,open\n"
        "3,\"Zoë \"\"Zed\"\"\",Ünal; Ltd,0.00,closed\n"
        "4,\"'=HYPERLINK(\"\"x\"\")\",\"'-Minus, @at\",0.00,open\n"
        "total,,,81.50,\n");
  RunResult tsv = Must(b.Run({"balance", "-O", "tsv"}));
  CHECK(Lines(tsv.out).at(0) == "id\tfirst\tlast\tbalance\tstatus");
  CHECK(Lines(tsv.out).at(3) == "4\t'=HYPERLINK(\"x\")\t'-Minus, @at\t0.00\topen");
  CHECK(Lines(tsv.out).at(4) == "total\t\t\t81.50\t");
}

TEST_CASE("balance --at: each account as of the end of a day, from the journal; days in UTC "
          "or TZ",
          "[reports][balance]") {
  Bank b;
  struct Case {
    const char* day;
    const char* tz;
    std::map<std::string, long long> want;  // with --all
  };
  const std::vector<Case> cases = {
      {"2026-10-30", "", {{"total", 0}}},
      {"2026-10-31", "", {{"1", 10000}, {"2", 0}, {"3", 500}, {"4", 0}, {"total", 10500}}},
      {"2026-11-01", "", {{"1", 10000}, {"2", 0}, {"3", 500}, {"4", 0}, {"total", 10500}}},
      // In New York the second day's changes were still on 2026-11-01.
      {"2026-11-01",
       "America/New_York",
       {{"1", 11550}, {"2", 1000}, {"3", 0}, {"4", 0}, {"total", 12550}}},
      {"2026-11-02", "", {{"1", 11550}, {"2", 1000}, {"3", 0}, {"4", 0}, {"total", 12550}}},
      {"2026-11-30", "", {{"1", 7550}, {"2", 500}, {"3", 0}, {"4", 0}, {"total", 8050}}},
      {"2026-12-01", "", {{"1", 7550}, {"2", 600}, {"3", 0}, {"4", 0}, {"total", 8150}}},
      {"2099-01-01", "", {{"1", 7550}, {"2", 600}, {"3", 0}, {"4", 0}, {"total", 8150}}},
  };
  for (const Case& c : cases) {
    INFO("--at " << c.day << " TZ=" << c.tz);
    RunResult r = Must(b.Run({"--json", "balance", "--all", "--at", c.day}, c.tz));
    json j = json::parse(r.out);
    std::map<std::string, long long> got;
    for (const json& a : j["accounts"]) {
      got[std::to_string(a["id"].get<int>())] = Cents(a["balance"].get<std::string>());
    }
    got["total"] = Cents(j["total"].get<std::string>());
    CHECK(got == c.want);
    CHECK(j["at"] == c.day);
  }
  // Without --all a closed account is left out at the date it was closed by.
  json j = json::parse(Must(b.Run({"--json", "balance", "--at", "2026-11-02"})).out);
  CHECK(j["count"] == 3);
  // The newest day equals the files.
  CHECK(OurBalances(b, {"--at", "2099-01-01"}) == OurBalances(b));
  for (const char* bad : {"2026-13-01", "2026-02-30", "2025-02-29", "20261101", "yesterday",
                          "2026-1-01", "1969-12-31"}) {
    INFO(bad);
    RunResult r = b.Run({"balance", "--at", bad});
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, "--at"));
  }
}

TEST_CASE("a change stamped at midnight belongs to the day it starts, in every report",
          "[reports][balance][history][statement][export]") {
  TempDir tmp;
  std::string data = tmp / "data";
  Must(Drovebank(data, {"open", "Ada", "Lovelace", "1"}, At("1794700799999")));  // 23:59:59.999
  Must(Drovebank(data, {"deposit", "1", "1"}, At("1794700800000")));  // 2026-11-15 00:00:00.000
  auto run = [&](std::vector<std::string> args) { return Must(Drovebank(data, args, Env())); };
  CHECK(json::parse(run({"--json", "balance", "--at", "2026-11-14"}).out)["total"] == "1.00");
  CHECK(json::parse(run({"--json", "balance", "--at", "2026-11-15"}).out)["total"] == "2.00");
  CHECK(json::parse(run({"--json", "history", "1", "--until", "2026-11-14"}).out)["total"] == 1);
  CHECK(json::parse(run({"--json", "history", "1", "--since", "2026-11-15"}).out)["total"] == 1);
  json st = json::parse(run({"--json", "statement", "1", "--month", "2026-11"}).out);
  CHECK(st["count"] == 2);
  CHECK(Lines(run({"export", "--format", "csv", "--until", "2026-11-14"}).out).size() == 2);
  std::vector<std::string> since = Lines(run({"export", "--format", "csv", "--since", "2026-11-15"}).out);
  REQUIRE(since.size() == 3);
  CHECK(since[1] == ",,2026-11-15,opening,1,1.00,1.00,,,Ada,Lovelace,,");
}

TEST_CASE("history --since/--until: inclusive days, UTC unless TZ says otherwise, with paging "
          "and every format",
          "[reports][history]") {
  Bank b;
  struct Case {
    std::vector<std::string> range;
    const char* tz;
    std::vector<int> txns;  // newest first
  };
  // Account 1: txn 1 open (day 1), 5 deposit and 6 transfer (day 2), 9 transfer (day 3).
  const std::vector<Case> cases = {
      {{}, "", {9, 6, 5, 1}},
      {{"--since", "2026-11-01"}, "", {9, 6, 5}},
      {{"--since", "2026-11-02", "--until", "2026-11-02"}, "", {6, 5}},
      {{"--until", "2026-11-01"}, "", {1}},
      {{"--until", "2026-11-01"}, "America/New_York", {6, 5, 1}},
      {{"--since", "2026-11-01", "--until", "2026-11-01"}, "America/New_York", {6, 5}},
      {{"--since", "2026-11-03", "--until", "2026-11-14"}, "", {}},
      {{"--since", "2026-12-01"}, "", {}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--json", "history", "1", "--all"};
    args.insert(args.end(), c.range.begin(), c.range.end());
    std::string shown;
    for (const std::string& s : args) shown += s + " ";
    INFO(shown << " TZ=" << c.tz);
    json j = json::parse(Must(b.Run(args, c.tz)).out);
    std::vector<int> got;
    for (const json& e : j["entries"]) got.push_back(e["txn"].get<int>());
    CHECK(got == c.txns);
    CHECK(j["total"] == c.txns.size());
    // Paged one at a time, the pages hold the same entries.
    std::vector<int> paged;
    for (size_t page = 1; page <= std::max<size_t>(1, c.txns.size()); ++page) {
      std::vector<std::string> p = {"--json", "history", "1", "--page-size", "1", "--page",
                                    std::to_string(page)};
      p.insert(p.end(), c.range.begin(), c.range.end());
      json pj = json::parse(Must(b.Run(p, c.tz)).out);
      CHECK(pj["pages"] == std::max<size_t>(1, c.txns.size()));
      for (const json& e : pj["entries"]) paged.push_back(e["txn"].get<int>());
    }
    CHECK(paged == c.txns);
  }
  RunResult csv = Must(b.Run({"history", "1", "-O", "csv", "--all"}));
  CHECK(Lines(csv.out).at(0) ==
        "txn,time,kind,amount,counterpart,direction,balance_after,memo,reverses,reversed_by");
  // A negative amount is quoted (it starts with '-'), and not prefixed: it is a number.
  CHECK(Lines(csv.out).at(1) ==
        "9,2026-11-15T12:00:00.000Z,transfer,\"-40.00\",2,out,75.50,,,");
  CHECK(Lines(csv.out).at(3) == "5,2026-11-02T02:00:00.000Z,deposit,25.50,,,125.50,,,");
  RunResult text = Must(b.Run({"history", "2", "--since", "2026-11-15"}));
  CHECK(Lines(text.out).at(0) ==
        "     txn  time                           kind                   amount  counterpart        "
        "balance after  memo");
  CHECK(Has(text.out, "from 1"));
  CHECK(Has(text.out, "page 1 of 1 (3 in all)"));
  CHECK(b.Run({"history", "1", "--since", "2026-11-31"}).exit_code == 2);
  CHECK(b.Run({"history", "99", "--all"}).exit_code == 3);
}

TEST_CASE("statement: opening balance, every change of the month, closing balance, totals",
          "[reports][statement]") {
  Bank b;
  struct Case {
    const char* id;
    const char* month;
    const char* opening;
    const char* closing;
    const char* in;
    const char* out;
    std::vector<int> txns;  // oldest first
  };
  const std::vector<Case> cases = {
      {"1", "2026-10", "0.00", "100.00", "100.00", "0.00", {1}},
      {"1", "2026-11", "100.00", "75.50", "25.50", "50.00", {5, 6, 9}},
      {"1", "2026-12", "75.50", "75.50", "0.00", "0.00", {}},
      {"1", "2026-09", "0.00", "0.00", "0.00", "0.00", {}},
      {"2", "2026-11", "0.00", "5.00", "50.00", "45.00", {6, 9, 9}},
      {"2", "2026-12", "5.00", "6.00", "1.00", "0.00", {10}},
      {"3", "2026-11", "5.00", "0.00", "0.00", "5.00", {7, 8}},
  };
  for (const Case& c : cases) {
    INFO("statement " << c.id << " --month " << c.month);
    json j = json::parse(Must(b.Run({"--json", "statement", c.id, "--month", c.month})).out);
    CHECK(j["opening"] == c.opening);
    CHECK(j["closing"] == c.closing);
    CHECK(j["total_in"] == c.in);
    CHECK(j["total_out"] == c.out);
    std::vector<int> got;
    for (const json& e : j["entries"]) got.push_back(e["txn"].get<int>());
    CHECK(got == c.txns);
    RunResult text = Must(b.Run({"statement", c.id, "--month", c.month}));
    CHECK(Has(text.out, std::string("Opening balance: ") + c.opening));
    CHECK(Has(text.out, std::string("Closing balance: ") + c.closing));
    CHECK(Has(text.out, std::string("Total in: ") + c.in + "  Total out: " + c.out));
  }
  RunResult csv = Must(b.Run({"statement", "1", "--month", "2026-11", "-O", "csv"}));
  CHECK(Lines(csv.out).size() == 4);  // header and three changes, oldest first
  CHECK(Has(Lines(csv.out).at(1), "5,"));
  CHECK(b.Run({"statement", "1", "--month", "2026-13"}).exit_code == 2);
  CHECK(b.Run({"statement", "1"}).exit_code == 2);
  CHECK(b.Run({"statement", "42", "--month", "2026-11"}).exit_code == 3);
}

TEST_CASE("list and search: a header row in text, -O csv/tsv/json, --all without paging",
          "[reports][list]") {
  Bank b;
  RunResult text = Must(b.Run({"list", "--page-size", "2"}));
  CHECK(Lines(text.out).at(0) == "      id  name                                       balance  status");
  CHECK(Lines(text.out).at(1) == "       1  Ada Lovelace                                 75.50  open");
  CHECK(Lines(text.out).back() == "page 1 of 2 (4 in all)");
  RunResult all = Must(b.Run({"list", "--all", "--page-size", "2"}));
  CHECK(Lines(all.out).size() == 6);
  CHECK(Lines(all.out).back() == "(4 in all)");
  RunResult csv = Must(b.Run({"-O", "csv", "list", "--all"}));
  CHECK(Lines(csv.out).at(0) == "id,first,last,balance,status");
  CHECK(Lines(csv.out).at(4) == "4,\"'=HYPERLINK(\"\"x\"\")\",\"'-Minus, @at\",0.00,open");
  CHECK(Lines(csv.out).size() == 5);
  json j = json::parse(Must(b.Run({"list", "-O", "json", "--all"})).out);
  CHECK(j["total"] == 4);
  CHECK(j["accounts"].size() == 4);
  CHECK(!j.contains("page"));
  json paged = json::parse(Must(b.Run({"--json", "list", "--page", "2", "--page-size", "3"})).out);
  CHECK(paged["page"] == 2);
  CHECK(paged["accounts"].size() == 1);
  RunResult s = Must(b.Run({"search", "o'brien", "-O", "tsv", "--all"}));
  CHECK(s.out == "id\tfirst\tlast\tbalance\tstatus\n2\tMary Ann\tO'Brien, Jr.\t6.00\topen\n");
  // Since the merge of cli-polish, nothing found is one line, without the header row.
  RunResult st = Must(b.Run({"search", "zzz"}));
  CHECK(st.out == "No matching accounts.\n");
  RunResult st_csv = Must(b.Run({"search", "zzz", "-O", "csv"}));
  CHECK(st_csv.out == "id,first,last,balance,status\n");
}

TEST_CASE("output formats: one a command (--json is -O json), bad formats and conflicts are "
          "usage errors, errors in JSON with -O json",
          "[reports][output]") {
  Bank b;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-O", "xml", "list"},
        {"list", "-O", "yaml"},
        {"--json", "-O", "csv", "list"},
        {"--json", "balance", "-O", "text"}}) {
    RunResult r = b.Run(args);
    CHECK(r.exit_code == 2);
  }
  RunResult r = b.Run({"balance", "-O", "json", "--at", "never"});
  CHECK(r.exit_code == 2);
  json err = json::parse(r.out);
  CHECK(err["error"]["code"] == "InvalidArgument");
  // -O json in the shell lasts one line: the next line is text again.
  RunResult shell = Drovebank(b.data, {}, Env(), "balance -O json\nbalance\n");
  REQUIRE(shell.exit_code == 0);
  CHECK(Has(shell.out, "{\"accounts\":["));
  CHECK(Has(shell.out, "total of 3 accounts"));
}

TEST_CASE("reports in the shell print what the one-shot commands print", "[reports][shell]") {
  Bank b;
  const std::vector<std::vector<std::string>> commands = {
      {"balance"},
      {"bal", "--all", "-O", "csv"},
      {"balance", "--at", "2026-11-02", "-O", "json"},
      {"statement", "1", "--month", "2026-11"},
      {"statement", "2", "--month", "2026-11", "-O", "tsv"},
      {"history", "1", "--since", "2026-11-02", "-O", "csv", "--all"},
      {"list", "--all", "-O", "json"},
      {"search", "ann", "-O", "csv"},
      {"export", "--format", "hledger"},
      {"export", "--format", "csv", "--since", "2026-11-02"},
  };
  for (const auto& c : commands) {
    std::string line;
    for (const std::string& w : c) line += (line.empty() ? "" : " ") + w;
    INFO(line);
    RunResult one = Must(b.Run(c));
    RunResult shell = Drovebank(b.data, {}, Env(), line + "\n");
    CHECK(shell.exit_code == 0);
    CHECK(shell.out == one.out);
  }
}

namespace {

using testing::Which;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The tool's balance of each assets:drovebank:ID account (by ID) and their total.
std::map<std::string, long long> ToolBalances(const std::string& tool, const std::string& file,
                                              bool* accepted) {
  std::vector<std::string> argv;
  char sep = '\t';
  if (tool == "hledger") {
    argv = {Which("hledger"), "-f", file, "--strict", "bal", "--flat", "-N", "--empty", "-O",
            "csv"};
    sep = ',';
  } else if (tool == "ledger") {
    argv = {Which("ledger"), "-f", file, "--pedantic", "--empty", "bal", "--flat", "--no-total",
            "-F", "%(account)\t%(quantity(display_total))\n"};
  } else {
    argv = {Which("bean-query"), "-f", "csv", file,
            "SELECT account, sum(number) AS n GROUP BY account ORDER BY account"};
    sep = ',';
  }
  testing::RunResult r =
      testing::RunProgram(argv[0], {argv.begin() + 1, argv.end()}, testing::WithEnv({{"TZ", ""}}));
  INFO(tool << " said: " << r.out << r.err);
  *accepted = r.exit_code == 0 && (tool != "beancount" || r.err.empty());
  std::map<std::string, long long> out;
  long long total = 0;
  std::string prefix = tool == "beancount" ? "Assets:Drovebank:" : "assets:drovebank:";
  for (const std::string& l : Lines(r.out)) {
    size_t cut = l.find(sep);
    if (cut == std::string::npos) continue;
    std::string account = l.substr(0, cut);
    while (!account.empty() && (account.back() == ' ' || account.back() == '"')) account.pop_back();
    while (!account.empty() && account.front() == '"') account.erase(0, 1);
    if (account.rfind(prefix, 0) != 0) continue;
    long long v = Cents(l.substr(cut + 1));
    out[account.substr(prefix.size())] = v;
    total += v;
  }
  out["total"] = total;
  return out;
}

}  // namespace

TEST_CASE("export: hledger, ledger and beancount accept every assertion and their balances "
          "equal drovebank's, whole and from a day on",
          "[reports][export][tools]") {
  Bank b;
  struct Tool {
    const char* name;
    const char* format;
    const char* program;
  };
  for (const Tool& t : {Tool{"hledger", "hledger", "hledger"}, Tool{"ledger", "ledger", "ledger"},
                        Tool{"beancount", "beancount", "bean-check"}}) {
    if (Which(t.program).empty() || (std::string(t.name) == "beancount" && Which("bean-query").empty())) {
      WARN(t.program << " is not installed: the " << t.name
                     << " export test is skipped (scripts/setup installs it)");
      continue;
    }
    for (std::vector<std::string> range :
         {std::vector<std::string>{}, {"--since", "2026-11-02"}, {"--until", "2026-11-02"},
          {"--since", "2026-11-15", "--until", "2026-11-30"}}) {
      std::string shown;
      for (const std::string& s : range) shown += s + " ";
      INFO(t.name << " export " << shown);
      std::string file = b.tmp / (std::string("bank.") + t.format);
      std::vector<std::string> args = {"export", "--format", t.format, "-o", file};
      args.insert(args.end(), range.begin(), range.end());
      RunResult r = Must(b.Run(args));
      CHECK(Has(r.out, "Exported "));
      std::string text = Slurp(file);
      // hledger ends a tag value at a comma: there it is percent-encoded.
      CHECK(Has(text, std::string(t.name) == "hledger" ? "O'Brien%2C Jr." : "O'Brien, Jr."));
      if (range.empty()) {
        // A beancount string escapes its quotes; hledger and ledger keep the name as it is.
        CHECK(Has(text, std::string(t.name) == "beancount" ? "Zoë \\\"Zed\\\" Ünal; Ltd"
                                                           : "Zoë \"Zed\" Ünal; Ltd"));
      }
      if (std::string(t.program) == "bean-check") {
        testing::RunResult check = testing::RunProgram(Which("bean-check"), {file});
        INFO("bean-check: " << check.out << check.err);
        CHECK(check.exit_code == 0);
        CHECK(check.out + check.err == "");
      }
      bool accepted = false;
      std::map<std::string, long long> got = ToolBalances(t.name, file, &accepted);
      CHECK(accepted);
      // What drovebank says at the end of the range (closed accounts hold 0.00, which
      // the tools list as 0 or leave out).
      std::vector<std::string> at;
      for (size_t i = 0; i + 1 < range.size(); i += 2) {
        if (range[i] == "--until") at = {"--at", range[i + 1]};
      }
      std::map<std::string, long long> want = OurBalances(b, at);
      for (auto it = want.begin(); it != want.end();) {
        it = it->second == 0 && got.count(it->first) == 0 ? want.erase(it) : std::next(it);
      }
      for (auto it = got.begin(); it != got.end();) {
        it = it->second == 0 && want.count(it->first) == 0 ? got.erase(it) : std::next(it);
      }
      CHECK(got == want);
    }
    // A wrong balance is caught: the tool really checks the assertions.
    std::string file = b.tmp / "bad.txt";
    Must(b.Run({"export", "--format", t.format, "-o", file}));
    std::string text = Slurp(file);
    size_t at = text.find(std::string(t.name) == "beancount" ? "balance Assets:Drovebank:1 75.50"
                                                             : "= 75.50");
    REQUIRE(at != std::string::npos);
    text.replace(text.find("75.50", at), 5, "75.51");
    std::ofstream(file, std::ios::trunc) << text;
    bool accepted = true;
    (void)ToolBalances(t.name, file, &accepted);
    if (std::string(t.name) == "beancount") {
      accepted = testing::RunProgram(Which("bean-check"), {file}).exit_code == 0;
    }
    CHECK(!accepted);
  }
}

TEST_CASE("export --format csv: one row per account change, names on opens, formulas "
          "protected, written 0600",
          "[reports][export]") {
  Bank b;
  std::string file = b.tmp / "out.csv";
  RunResult r = Must(b.Run({"--json", "export", "--format", "csv", "-o", file}));
  json j = json::parse(r.out);
  CHECK(j["transactions"] == 10);
  CHECK(j["accounts"] == 4);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::vector<std::string> rows = Lines(Slurp(file));
  REQUIRE(rows.size() == 14);  // header, 4 opens, 2 deposits, transfer x2, ...
  CHECK(rows[0] ==
        "txn,time,date,kind,account,amount,balance_after,counterpart,key,first,last,memo,reverses");
  CHECK(rows[1] == "1,2026-10-31T23:30:00.000Z,2026-10-31,open,1,100.00,100.00,,,Ada,Lovelace,,");
  CHECK(rows[4] ==
        "4,2026-10-31T23:30:00.000Z,2026-10-31,open,4,0.00,0.00,,,\"'=HYPERLINK(\"\"x\"\")\","
        "\"'-Minus, @at\",,");
  CHECK(rows[5] == "5,2026-11-02T02:00:00.000Z,2026-11-02,deposit,1,25.50,125.50,,pay-nov,,,,");
  CHECK(rows[6] == "6,2026-11-02T02:00:00.000Z,2026-11-02,transfer,1,\"-10.00\",115.50,2,,,,,");
  CHECK(rows[7] == "6,2026-11-02T02:00:00.000Z,2026-11-02,transfer,2,10.00,10.00,1,,,,,");
  // TZ moves the dates and the times alike: the time is shown in that zone.
  RunResult ny = Must(b.Run({"export", "--format", "csv"}, "America/New_York"));
  CHECK(Lines(ny.out).at(5) ==
        "5,2026-11-01T21:00:00.000-05:00,2026-11-01,deposit,1,25.50,125.50,,pay-nov,,,,");
  // A range starts with each open account's balance.
  RunResult nov = Must(b.Run({"export", "--format", "csv", "--since", "2026-11-15"}));
  CHECK(Lines(nov.out).at(1) == ",,2026-11-15,opening,1,115.50,115.50,,,Ada,Lovelace,,");
  CHECK(b.Run({"export", "--format", "gnucash"}).exit_code == 2);
  CHECK(b.Run({"export", "--format", "csv", "--since", "2026-11-02", "--until", "2026-11-01"})
            .exit_code == 2);
  CHECK(b.Run({"export", "--format", "csv", "-o", b.tmp / "no/such/dir/x.csv"}).exit_code == 1);
}

}  // namespace drovebank

namespace drovebank {

TEST_CASE("memos and reversals in the reports and the exports: shown, linked, protected, "
          "and accepted by the tools",
          "[reports][export][memo]") {
  Bank b;  // then txn 11 a transfer with a memo, 12 its reversal
  Must(Drovebank(b.data, {"transfer", "1", "2", "7.50", "--memo", "=rent, \"may\""}, At(kDay4)));
  Must(Drovebank(b.data, {"reverse", "11", "--memo", "wrong account"}, At(kDay4)));
  RunResult csv = Must(b.Run({"history", "2", "--all", "-O", "csv"}));
  CHECK(Lines(csv.out).at(1) ==
        "12,2026-12-01T08:00:00.000Z,transfer,\"-7.50\",1,out,6.00,wrong account,11,");
  CHECK(Lines(csv.out).at(2) ==
        "11,2026-12-01T08:00:00.000Z,transfer,7.50,1,in,13.50,\"'=rent, \"\"may\"\"\",,12");
  RunResult text = Must(b.Run({"history", "2", "--page-size", "2"}));
  CHECK(Has(Lines(text.out).at(1), "reverses 11; wrong account"));
  CHECK(Has(Lines(text.out).at(2), "reversed by 12; =rent, \"may\""));
  json st = json::parse(Must(b.Run({"--json", "statement", "1", "--month", "2026-12"})).out);
  REQUIRE(st["entries"].size() == 2);
  CHECK(st["entries"][0]["memo"] == "=rent, \"may\"");
  CHECK(st["entries"][0]["reversed_by"] == 12);
  CHECK(st["entries"][1]["reverses"] == 11);
  std::vector<std::string> rows = Lines(Must(b.Run({"export", "--format", "csv"})).out);
  CHECK(rows.back() ==
        "12,2026-12-01T08:00:00.000Z,2026-12-01,transfer,1,7.50,75.50,2,reverse:11,,,"
        "wrong account,11");
  std::string hl = Must(b.Run({"export", "--format", "hledger"})).out;
  CHECK(Has(hl, "    ; memo: =rent%2C \"may\"\n"));
  CHECK(Has(hl, "    ; reverses: 11\n"));
  std::string bc = Must(b.Run({"export", "--format", "beancount"})).out;
  CHECK(Has(bc, "  memo: \"=rent, \\\"may\\\"\"\n"));
  for (const char* tool : {"hledger", "ledger", "beancount"}) {
    if (Which(std::string(tool) == "beancount" ? "bean-query" : tool).empty()) {
      WARN(tool << " is not installed: skipped (scripts/setup installs it)");
      continue;
    }
    INFO(tool);
    std::string file = b.tmp / (std::string("memo.") + tool);
    Must(b.Run({"export", "--format", tool, "-o", file}));
    bool accepted = false;
    std::map<std::string, long long> got = ToolBalances(tool, file, &accepted);
    CHECK(accepted);
    if (std::string(tool) == "beancount") {
      CHECK(testing::RunProgram(Which("bean-check"), {file}).exit_code == 0);
    }
    std::map<std::string, long long> want = OurBalances(b);
    for (auto it = want.begin(); it != want.end();) {
      it = it->second == 0 && got.count(it->first) == 0 ? want.erase(it) : std::next(it);
    }
    for (auto it = got.begin(); it != got.end();) {
      it = it->second == 0 && want.count(it->first) == 0 ? got.erase(it) : std::next(it);
    }
    CHECK(got == want);
  }
}

}  // namespace drovebank
