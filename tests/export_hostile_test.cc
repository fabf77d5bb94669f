// Names, memos and keys that look like hledger, ledger or beancount syntax, exported and
// read back by the real tools: each must come back as the data it is and steer nothing
// (issue 26 item 16).
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/export_text.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Drovebank;
using testing::RunResult;
using testing::RunProgram;
using testing::WithEnv;
using testing::TempDir;
using testing::Which;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// RFC 3986 percent-decoding, as any URL decoder does it.
std::string Decoded(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Each name and memo is something a tool could read as syntax.
struct Hostile {
  std::string first, last, memo;
};
const std::vector<Hostile> kHostile = {
    {"Mallory", "M, type: R", "rent, txn: 999, key: forged"},
    {"Mallory, type: Revenue", "X", "rent, November"},
    {"a:b", "c; d", "[2026/02/02] moved"},
    {"[2026/03/03]", "=x", "[=2026/04/04] aux"},
    {"100%", "%2C", "100%2C off, 5% more"},
    {"\"quoted\"", "back\\slash", "\"q\" \\n \\\" end"},
    {"tag:", ":x:y:", ":t1:t2: y:: 1+1"},
    {"x:: 1+1", "date: 2020-01-01", "date: 2020-01-01, date2: 2020-01-02"},
    {"Zoë", "; owner: forged", "; comment | payee | note"},
    {"type:", "Revenue", "type: Revenue, type: L"},
};

struct HostileBank {
  TempDir tmp;
  std::string data = tmp / "data";
  std::vector<std::string> memos;  // in txn order of the deposits
  HostileBank() {
    std::map<std::string, std::string> env = {{"NO_COLOR", "1"}, {"TZ", ""},
                                              {"DROVEBANK_NOW_MS", "1793489400000"}};
    int id = 0;
    for (const Hostile& h : kHostile) {
      ++id;
      RunResult o = Drovebank(data, {"open", "--", h.first, h.last, "100"}, env);
      INFO(o.err);
      REQUIRE(o.exit_code == 0);
      // 77: a whole amount, so the balances end in .00 (ledger printed them without cents).
      RunResult d = Drovebank(
          data, {"deposit", std::to_string(id), "77", "--memo", h.memo, "--txn",
                 "k:" + std::to_string(id) + ":v"},
          env);
      INFO(d.err);
      REQUIRE(d.exit_code == 0);
      memos.push_back(h.memo);
    }
  }
  std::string Export(const std::string& format) {
    std::string file = tmp / ("bank." + format);
    RunResult r = Drovebank(data, {"export", "--format", format, "-o", file}, {{"TZ", ""}});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return file;
  }
};

RunResult Tool(std::vector<std::string> argv) {
  RunResult r = RunProgram(Which(argv[0]), {argv.begin() + 1, argv.end()}, WithEnv({{"TZ", ""}}));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

// True (with a warning) when a tool the test needs is not installed.
bool Missing(std::initializer_list<const char*> tools) {
  for (const char* t : tools) {
    if (Which(t).empty()) {
      WARN(t << " is not installed: skipped (scripts/setup installs it)");
      return true;
    }
  }
  return false;
}

std::set<std::string> SetOf(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::vector<std::string> DecodedAll(const std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (const std::string& s : v) out.push_back(Decoded(s));
  return out;
}

std::set<std::string> Names() {
  std::set<std::string> out;
  for (const Hostile& h : kHostile) out.insert(h.first + " " + h.last);
  return out;
}

}  // namespace

TEST_CASE("export text: hledger, ledger and beancount values escape exactly their syntax",
          "[export][hostile]") {
  CHECK(HledgerTagValue("rent, November") == "rent%2C November");
  CHECK(HledgerTagValue("a: b; [c] 5%") == "a: b; [c] 5%25");
  CHECK(LedgerNoteValue("rent, [2026/01/01] 5%") == "rent, %5B2026/01/01%5D 5%25");
  // Line ends of every kind, and a space a tool would trim.
  CHECK(HledgerTagValue(" a\nb\r\x7F\xC2\x85\xE2\x80\xA8\xE2\x80\xA9 ") ==
        "%20a%0Ab%0D%7F%C2%85%E2%80%A8%E2%80%A9%20");
  CHECK(HledgerTagValue("Zoë Ünal") == "Zoë Ünal");
  CHECK(BeancountString("a \"b\" \\n") == "\"a \\\"b\\\" \\\\n\"");
  for (const Hostile& h : kHostile) {
    CHECK(Decoded(HledgerTagValue(h.memo)) == h.memo);
    CHECK(Decoded(LedgerNoteValue(h.memo)) == h.memo);
  }
}

TEST_CASE("export: names and memos that look like syntax are data to hledger",
          "[export][hostile][tools]") {
  if (Missing({"hledger"})) return;
  HostileBank b;
  std::string f = b.Export("hledger");
  Tool({"hledger", "-f", f, "--strict", "bal"});
  // No account became anything but an asset (or the counter account's equity).
  for (const std::string& l : Lines(Tool({"hledger", "-f", f, "accounts", "--types"}).out)) {
    INFO(l);
    CHECK((l.rfind("assets:drovebank:", 0) == 0 ? l.find("; type: A") != std::string::npos
                                                 : l.find("; type: E") != std::string::npos));
  }
  // Exactly the tags the export writes: none forged by a memo or a name.
  CHECK(SetOf(Lines(Tool({"hledger", "-f", f, "tags"}).out)) ==
        std::set<std::string>{"key", "memo", "owner", "time", "txn"});
  CHECK(Tool({"hledger", "-f", f, "print", "tag:txn=999"}).out.empty());
  CHECK(Tool({"hledger", "-f", f, "print", "tag:key=forged"}).out.empty());
  // Each memo, name and key comes back whole, percent-decoded.
  std::vector<std::string> memos =
      DecodedAll(Lines(Tool({"hledger", "-f", f, "tags", "memo", "--values"}).out));
  CHECK(SetOf(memos) == SetOf(b.memos));
  CHECK(SetOf(DecodedAll(Lines(Tool({"hledger", "-f", f, "tags", "owner", "--values"}).out))) ==
        Names());
  CHECK(Tool({"hledger", "-f", f, "print", "tag:key=k:3:v"}).out.find("(6)") !=
        std::string::npos);
  // Every entry keeps its date.
  for (const std::string& l : Lines(Tool({"hledger", "-f", f, "reg", "-O", "csv"}).out)) {
    if (l.rfind("\"txnidx\"", 0) == 0) continue;
    CHECK(l.find("\"2026-10-31\"") != std::string::npos);
  }
}

TEST_CASE("export: names and memos that look like syntax are data to ledger, whose "
          "amounts show their cents",
          "[export][hostile][tools]") {
  if (Missing({"ledger"})) return;
  HostileBank b;
  std::string f = b.Export("ledger");
  std::string bal = Tool({"ledger", "-f", f, "--pedantic", "bal", "--flat"}).out;
  CHECK(bal.find("177.00 XXX  assets:drovebank:1\n") != std::string::npos);
  CHECK(bal.find("-1770.00 XXX  equity:drovebank:external\n") != std::string::npos);
  // Every entry keeps its date ([DATE] in a note would move it), each memo comes back whole.
  std::vector<std::string> rows = Lines(
      Tool({"ledger", "-f", f, "reg", "^equity", "-F", "%(date)|%(tag(\"memo\"))\n"}).out);
  std::vector<std::string> memos;
  for (const std::string& r : rows) {
    INFO(r);
    CHECK(r.rfind("2026/10/31|", 0) == 0);
    if (r.size() > 11) memos.push_back(Decoded(r.substr(11)));
  }
  CHECK(SetOf(memos) == SetOf(b.memos));
  // Only the tags the export declares (--pedantic refused any other) and the dates.
  std::string aux = Tool({"ledger", "-f", f, "reg", "-F", "%(aux_date)\n"}).out;
  for (const std::string& l : Lines(aux)) CHECK((l.empty() || l == "2026/10/31"));
  std::set<std::string> notes;
  for (const std::string& l : Lines(testing::Slurp(f))) {
    if (l.rfind("    note ", 0) == 0) notes.insert(Decoded(l.substr(9)));
  }
  CHECK(notes == Names());
}

TEST_CASE("export: names and memos that look like syntax are data to beancount",
          "[export][hostile][tools]") {
  if (Missing({"bean-check", "bean-query"})) return;
  HostileBank b;
  std::string f = b.Export("beancount");
  RunResult check = Tool({"bean-check", f});
  CHECK(check.out + check.err == "");
  // bean-query's text table: a header row and a rule, then one value a row, padded.
  auto column = [&](const std::string& query) {
    std::set<std::string> out;
    std::vector<std::string> rows = Lines(Tool({"bean-query", "-f", "text", "-q", f, query}).out);
    for (size_t i = 2; i < rows.size(); ++i) {
      std::string v = rows[i];
      while (!v.empty() && v.back() == ' ') v.pop_back();
      out.insert(v);
    }
    return out;
  };
  std::set<std::string> got = column(
      "SELECT DISTINCT entry_meta('memo') AS m WHERE entry_meta('memo') != NULL");
  CHECK(got == SetOf(b.memos));
  std::set<std::string> owners = column(
      "SELECT DISTINCT getitem(open_meta(account), 'owner') AS o WHERE account ~ 'Assets'");
  CHECK(owners == Names());
}

}  // namespace drovebank
