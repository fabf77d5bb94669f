// Text as people write it (issue 26 items 14, 15, 17), through the real program: search
// folds case by Unicode rules and finds ids, names take what real names need and refuse
// what deceives, and a report's times are in the zone its days are, a TZ that names no
// zone refused.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace drovebank::testing;  // the test support: test_util.h
using nlohmann::json;

// PlainOptions with TZ set (an empty value: UTC) and, when given, the commit time.
RunOptions With(const std::string& tz, const std::string& now_ms = "") {
  RunOptions o = PlainOptions();
  o.env.push_back("TZ=" + tz);
  if (!now_ms.empty()) o.env.push_back("DROVEBANK_NOW_MS=" + now_ms);
  return o;
}

std::set<int> Ids(const std::string& json_out) {
  std::set<int> ids;
  json j = json::parse(json_out);  // kept: a loop over a temporary's member would dangle
  for (const json& a : j["accounts"]) ids.insert(a["id"].get<int>());
  return ids;
}

bool ZoneInstalled(const char* zone) {
  return std::filesystem::exists(std::string("/usr/share/zoneinfo/") + zone);
}

TEST_CASE("text search: Unicode case, the full name, and an id, in every output and page",
          "[cli][e2e][search]") {
  TempDir dir("drovebank-search");
  std::string data = dir.Path("data");
  const std::vector<std::pair<std::string, std::string>> people = {
      {"Ada", "Lovelace"},   {"Zo\u00EB", "\u00C5ngstr\u00F6m"},
      {"Emre", "\u00DCnal"}, {"Zoe\u0308", "Ngstrom"},
      {"Room", "7B"},        {"Mary Ann", "O'Brien"},
      {"Grace", "Hopper"}};
  for (const auto& [first, last] : people) {
    REQUIRE(RunOnStore(data, {"open", first, last}, With("")).exit_code == 0);
  }
  struct Case {
    std::string text;
    std::set<int> want;
  };
  const std::vector<Case> cases = {
      {"\u00C5NGSTR\u00D6M", {2}},           // ÅNGSTRÖM
      {"\u00FCnal", {3}},                    // ünal
      {"Zo\u00EB \u00C5ngstr\u00F6m", {2}},  // 'Zoë Ångström'
      {"zo\u00EB \u00E5ng", {2}},            // across the space
      {"\u00C5ngstr\u00F6m zo\u00EB", {2}},  // last first
      {"zo\u00EB", {2, 4}},                  // 4 was typed decomposed: stored as NFC
      {"7", {5, 7}},                         // "7B", and account 7
      {"lovelace", {1}},
      {"mary ann o'brien", {6}},
      {"nobody", {}},
  };
  for (const Case& c : cases) {
    INFO("search " << c.text);
    RunResult all = RunOnStore(data, {"--json", "search", c.text, "--all"}, With(""));
    REQUIRE(all.exit_code == 0);
    CHECK(Ids(all.out) == c.want);
    RunResult paged = RunOnStore(data, {"--json", "search", c.text}, With(""));
    REQUIRE(paged.exit_code == 0);
    CHECK(Ids(paged.out) == c.want);
    CHECK(json::parse(paged.out)["total"] == c.want.size());
  }
  // Text, CSV and pages as for any search.
  RunResult text = RunOnStore(data, {"search", "\u00C5NGSTR\u00D6M"}, With(""));
  CHECK(text.out.find("Zo\u00EB \u00C5ngstr\u00F6m") != std::string::npos);
  CHECK(text.out.find("page 1 of 1 (1 in all)") != std::string::npos);
  RunResult csv = RunOnStore(data, {"search", "7", "-O", "csv", "--all"}, With(""));
  CHECK(csv.out == "id,first,last,balance,status\n5,Room,7B,0.00,open\n7,Grace,Hopper,0.00,open\n");
  RunResult page2 =
      RunOnStore(data, {"--json", "search", "7", "--page-size", "1", "--page", "2"}, With(""));
  CHECK(Ids(page2.out) == std::set<int>{7});
  CHECK(json::parse(page2.out)["pages"] == 2);
  for (const std::string& blank : {std::string(" "), std::string("\u00A0\u3000")}) {
    RunResult r = RunOnStore(data, {"search", blank}, With(""));
    CHECK(r.exit_code == 2);
    CHECK(Message(r) == "search needs some text (not only spaces)");
  }
}

TEST_CASE(
    "text names: what real names need is kept, what deceives is refused, length as "
    "seen",
    "[cli][e2e][names]") {
  TempDir dir("drovebank-names2");
  std::string data = dir.Path("data");
  // Persian, whose words need the zero-width non-joiner.
  const std::string mehdi = "\u0645\u0647\u062F\u06CC",
                    mikhaham = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645";
  RunResult persian = RunOnStore(data, {"--json", "open", mehdi, mikhaham}, With(""));
  REQUIRE(persian.exit_code == 0);
  CHECK(json::parse(persian.out)["last"] == mikhaham);
  // An emoji ZWJ sequence, by batch.
  RunOptions o = With("");
  o.stdin_text =
      "{\"op\":\"open\",\"first\":\"Ada\",\"last\":\"\\ud83d\\udc69\\u200d\\ud83d\\udcbb\"}\n";
  RunResult batch = RunOnStore(data, {"batch", "-"}, o);
  CHECK(batch.exit_code == 0);
  // 40 "é" typed as e + U+0301: 40 characters, stored composed.
  std::string typed, composed;
  for (int i = 0; i < 40; ++i) typed += "e\u0301", composed += "\u00E9";
  RunResult accents = RunOnStore(data, {"--json", "open", typed, "Accent"}, With(""));
  REQUIRE(accents.exit_code == 0);
  CHECK(json::parse(accents.out)["first"] == composed);
  RunResult shown = RunOnStore(data, {"--json", "show", "3"}, With(""));
  CHECK(json::parse(shown.out)["first"] == composed);
  // 65 are too many.
  RunResult long_name = RunOnStore(data, {"open", typed + typed.substr(0, 25 * 3), "X"}, With(""));
  CHECK(long_name.exit_code == 2);
  CHECK(Message(long_name) == "first name is 65 characters long; at most 64 are allowed");

  struct Refused {
    std::string last;
    std::string message;
  };
  const std::vector<Refused> refused = {
      {"\u00A0", "last name is empty"},
      {" \u3000 ", "last name is empty"},
      {"\u3164", "last name contains an invisible or text-direction character (U+3164)"},
      {"Love\u2028lace", "last name contains a line or paragraph separator (U+2028)"},
      {"Love\u2029lace", "last name contains a line or paragraph separator (U+2029)"},
      {"Love\u202Elace", "last name contains an invisible or text-direction character (U+202E)"},
      {"Love\u2067lace", "last name contains an invisible or text-direction character (U+2067)"},
      {"Love\u00ADlace", "last name contains an invisible or text-direction character (U+00AD)"},
      {"\u0301Lovelace",
       "last name starts with a combining mark (U+0301), which has no letter to go on"},
  };
  for (const Refused& r : refused) {
    INFO(r.message);
    RunResult open = RunOnStore(data, {"open", "Ada", r.last}, With(""));
    CHECK(open.exit_code == 2);
    CHECK(Message(open) == r.message);
  }
  // Nothing of the refused ones was opened.
  RunResult list = RunOnStore(data, {"--json", "list"}, With(""));
  CHECK(json::parse(list.out)["total"] == 3);
}

TEST_CASE("text dates: times are shown in the zone of --since/--until, with its offset",
          "[cli][e2e][dates]") {
  if (!ZoneInstalled("Etc/GMT+12") || !ZoneInstalled("Europe/Paris")) {
    WARN("no tzdata (scripts/setup installs it): skipped");
    return;
  }
  TempDir dir("drovebank-tz");
  std::string data = dir.Path("data");
  // 2026-12-05T01:00:00Z is 2026-12-04T13:00 twelve hours west of UTC.
  const std::string t = "1796432400000";
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "5"}, With("", t)).exit_code == 0);

  RunResult west = RunOnStore(data, {"history", "1", "--until", "2026-12-04"}, With("Etc/GMT+12"));
  REQUIRE(west.exit_code == 0);
  CHECK(west.out.find("   1  2026-12-04T13:00:00.000-12:00  open") != std::string::npos);
  RunResult csv = RunOnStore(
      data, {"history", "1", "-O", "csv", "--since", "2026-12-04", "--until", "2026-12-04"},
      With("Etc/GMT+12"));
  CHECK(csv.out.find("\n1,2026-12-04T13:00:00.000-12:00,open,") != std::string::npos);
  RunResult json_west = RunOnStore(data, {"--json", "history", "1"}, With("Etc/GMT+12"));
  CHECK(json::parse(json_west.out)["entries"][0]["time"] == "2026-12-04T13:00:00.000-12:00");
  // The day after, in that zone, holds nothing.
  RunResult after =
      RunOnStore(data, {"--json", "history", "1", "--since", "2026-12-05"}, With("Etc/GMT+12"));
  CHECK(json::parse(after.out)["total"] == 0);

  struct Case {
    std::string tz;
    std::string time;
  };
  const std::vector<Case> zones = {{"", "2026-12-05T01:00:00.000Z"},
                                   {"UTC", "2026-12-05T01:00:00.000Z"},
                                   {"Europe/Paris", "2026-12-05T02:00:00.000+01:00"},
                                   {":Europe/Paris", "2026-12-05T02:00:00.000+01:00"},
                                   {"<+0545>-5:45", "2026-12-05T06:45:00.000+05:45"}};
  for (const Case& z : zones) {
    INFO("TZ=" << z.tz);
    RunResult txn = RunOnStore(data, {"--json", "txn", "1"}, With(z.tz));
    REQUIRE(txn.exit_code == 0);
    CHECK(json::parse(txn.out)["time"] == z.time);
    RunResult text = RunOnStore(data, {"txn", "1"}, With(z.tz));
    CHECK(text.out.rfind("Transaction 1 at " + z.time + "\n", 0) == 0);
    // export: the date column and the time column agree.
    RunResult ex = RunOnStore(data, {"export", "--format", "csv"}, With(z.tz));
    CHECK(ex.out.find("\n1," + z.time + "," + z.time.substr(0, 10) + ",open,") !=
          std::string::npos);
    RunResult hl = RunOnStore(data, {"export", "--format", "hledger"}, With(z.tz));
    CHECK(hl.out.find("    ; time: " + z.time + "\n") != std::string::npos);
  }
}

TEST_CASE(
    "text dates: a TZ that names no zone is refused, whatever the command, and "
    "changes nothing",
    "[cli][e2e][dates]") {
  TempDir dir("drovebank-badtz");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "5"}, With("")).exit_code == 0);
  for (const std::string& tz :
       {std::string("Nonsense/Zone"), std::string(":Nonsense/Zone"), std::string("Europe/Pariss"),
        std::string(":"), std::string("UTC+")}) {
    INFO("TZ=" << tz);
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"history", "1"},
                                               {"history", "1", "--until", "2026-12-04"},
                                               {"statement", "1", "--month", "2026-12"},
                                               {"balance", "--at", "2026-12-04"},
                                               {"export", "--format", "csv"},
                                               {"txn", "1"},
                                               {"deposit", "1", "1"},
                                               {"open", "Kay", "Ray"}}) {
      INFO(args[0]);
      RunResult r = RunOnStore(data, args, With(tz));
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(Message(r).rfind("TZ='" + tz + "' names no time zone (", 0) == 0);
    }
    RunResult j = RunOnStore(data, {"--json", "history", "1"}, With(tz));
    CHECK(j.exit_code == 2);
    CHECK(json::parse(j.out)["error"]["exit"] == 2);
    // Nor does a command that fails create a store.
    CHECK(RunOnStore(dir.Path("other"), {"open", "Kay", "Ray"}, With(tz)).exit_code == 2);
    CHECK(!std::filesystem::exists(dir.Path("other")));
  }
  RunResult after = RunOnStore(data, {"--json", "show", "1"}, With(""));
  CHECK(json::parse(after.out)["balance"] == "5.00");
  CHECK(json::parse(RunOnStore(data, {"--json", "list"}, With("")).out)["total"] == 1);
}

}  // namespace
