// The one-shot command line as a new user meets it (issue 14): usage errors in
// drovebank's own words, --json failures as one JSON value, global options anywhere,
// help/version/init, write errors, and data directories that are missing or read-only.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace drovebank::testing;  // the test support: test_util.h
using nlohmann::json;
namespace fs = std::filesystem;


// Every path under `dir` with its size and modification time: what "nothing was created
// or written" is checked against.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::end(it); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    out[it->path().string()] = std::to_string(st.st_size) + "@" +
                               std::to_string(st.st_mtim.tv_sec) + "." +
                               std::to_string(st.st_mtim.tv_nsec);
  }
  return out;
}


}  // namespace

TEST_CASE("cli usage: every usage error is one sentence of drovebank's, exit 2, and one JSON "
          "value with --json",
          "[cli][e2e][usage]") {
  TempDir dir("drovebank-usage");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);

  struct Case {
    std::vector<std::string> args;
    std::string message;  // what stderr says after "drovebank: " (a prefix of it)
  };
  const std::vector<Case> cases = {
      {{"depost", "1", "5"}, "unknown command 'depost'; did you mean 'deposit'?"},
      {{"withdrw", "1", "5"}, "unknown command 'withdrw'; did you mean 'withdraw'?"},
      {{"lst"}, "unknown command 'lst'; did you mean 'list'?"},
      {{"frobnicate"}, "unknown command 'frobnicate'; run `drovebank help` for the list"},
      {{"transfer", "1", "2"},
       "missing AMOUNT (usage: drovebank transfer FROM TO AMOUNT [--txn KEY] [--memo MEMO])"},
      {{"deposit"}, "missing ID (usage: drovebank deposit ID AMOUNT [--txn KEY] [--memo MEMO])"},
      {{"show", "1", "--bogus"}, "unknown option '--bogus' for show (usage: drovebank show ID)"},
      {{"show", "1", "2"}, "unexpected argument '2' (usage: drovebank show ID)"},
      {{"deposit", "1", "5", "--txn"},
       "--txn needs a value (usage: drovebank deposit ID AMOUNT [--txn KEY] [--memo MEMO])"},
      {{"list", "--page", "0"}, "page must be 1 or more"},
      {{"list", "--page", "000"}, "page must be 1 or more"},
      {{"list", "--page", "-1"}, "page must be a whole number from 1 to 99999999, not '-1'"},
      {{"list", "--page", "abc"}, "page must be a whole number from 1 to 99999999, not 'abc'"},
      {{"list", "--page", "1.5"}, "page must be a whole number from 1 to 99999999, not '1.5'"},
      {{"list", "--page", "99999999999999999999"},
       "page 99999999999999999999 is too large: at most 99999999"},
      {{"list", "--page", "18446744073709551617"},
       "page 18446744073709551617 is too large: at most 99999999"},
      {{"history", "1", "--page-size", "1001"}, "page size 1001 is too large: at most 1000"},
      {{"search", "a", "--page-size", "0"}, "page size must be 1 or more"},
  };
  std::vector<std::string> timeouts = {"abc", "nan", "NaN", "inf", "-1", "86401", "", "1e400"};
  for (const Case& c : cases) {
    for (bool as_json : {false, true}) {
      std::vector<std::string> args = c.args;
      if (as_json) args.insert(args.begin(), "--json");
      RunResult r = RunOnStore(data, args);
      INFO("drovebank " << args[0] << (args.size() > 1 ? " " + args[1] : "")
                        << "\nstdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.rfind("drovebank: " + c.message, 0) == 0);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      for (const char* seam : {"The following", "UINT", "FLOAT", "POSITIVE", "is required",
                               "Expected", "Run with --help"}) {
        CHECK(r.err.find(seam) == std::string::npos);
      }
      if (as_json) {
        json j = json::parse(r.out);  // throws (fails) unless stdout is exactly one value
        CHECK(j["error"]["exit"] == 2);
        CHECK(j["error"]["code"] == "InvalidArgument");
        CHECK(j["error"]["message"] == Message(r));
      } else {
        CHECK(r.out.empty());
      }
    }
  }
  for (const std::string& t : timeouts) {
    RunResult r = RunOnStore(data, {"--json", "--lock-timeout", t, "show", "1"});
    INFO("--lock-timeout '" << t << "': " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(Message(r) == "--lock-timeout must be a number of seconds from 0 to 86400, not '" + t +
                            "'");
    CHECK(json::parse(r.out)["error"]["exit"] == 2);
  }
  SECTION("-d '' is refused, before or after the command") {
    for (auto args : std::vector<std::vector<std::string>>{{"-d", "", "list"},
                                                          {"list", "-d", ""},
                                                          {"--data-dir", "", "show", "1"}}) {
      RunResult r = RunDrovebank(args);
      CHECK(r.exit_code == 2);
      CHECK(Message(r) == "the data directory (-d) must not be empty");
    }
  }
  SECTION("the shell suggests the same way") {
    RunOptions o = PlainOptions();
    o.stdin_text = "depost 1 5\nshow 1 2\n";
    RunResult r = RunOnStore(data, {}, o);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("line 1: unknown command 'depost'; did you mean 'deposit'?\n") !=
          std::string::npos);
    CHECK(r.err.find("line 2: unexpected argument '2' (usage: show ID)\n") != std::string::npos);
  }
}

TEST_CASE("cli usage: global options are accepted after the command too", "[cli][e2e][usage]") {
  TempDir dir("drovebank-usage");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  const std::vector<std::vector<std::string>> spellings = {
      {"--json", "-d", data, "show", "1"},
      {"show", "1", "--json", "-d", data},
      {"show", "--json", "1", "--data-dir", data},
      {"-d", data, "show", "1", "--json", "--lock-timeout", "1"},
      {"show", "1", "--lock-timeout=2", "--json", "--data-dir=" + data},
  };
  for (const auto& args : spellings) {
    RunResult r = RunDrovebank(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["balance"] == "100.00");
  }
  // Where the same option is given twice, the last one counts, as in git.
  RunResult r = RunDrovebank({"-d", dir.Path("elsewhere"), "show", "1", "-d", data});
  CHECK(r.exit_code == 0);
  r = RunDrovebank({"-d", data, "deposit", "1", "5", "--json", "--txn", "k1"});
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out)["account"]["balance"] == "105.00");
}

TEST_CASE("cli usage: help, version and the help placeholders", "[cli][e2e][usage]") {
  TempDir dir("drovebank-usage");
  std::string data = dir.Path("data");
  RunResult top = RunDrovebank({"help"});
  REQUIRE(top.exit_code == 0);
  CHECK(top.out == RunDrovebank({"--help"}).out);
  for (const char* cmd : {"open", "show", "deposit", "withdraw", "transfer", "close", "list",
                          "search", "history", "txn", "batch", "import-legacy", "init", "help",
                          "version", "shell"}) {
    INFO(cmd);
    RunResult h = RunDrovebank({"help", cmd});
    CHECK(h.exit_code == 0);
    CHECK(h.out == RunDrovebank({cmd, "--help"}).out);
    for (const char* seam : {"UINT", "FLOAT", "POSITIVE", " in ["}) {
      CHECK(h.out.find(seam) == std::string::npos);
    }
    // CLI11's type names after an option or a positional ("--account TEXT", "ID TEXT").
    CHECK_FALSE(std::regex_search(h.out, std::regex("(-[-a-z]+|[A-Z]+) (TEXT|INT|NUMBER)\\b")));
  }
  CHECK(top.out.find("--lock-timeout SECONDS") != std::string::npos);
  CHECK(top.out.find("-d,--data-dir DIR") != std::string::npos);
  CHECK(RunDrovebank({"help", "list"}).out.find("--page N") != std::string::npos);
  CHECK(RunDrovebank({"help", "deposit"}).out.find("AMOUNT REQUIRED") != std::string::npos);
  CHECK(RunDrovebank({"help", "deposit"}).out.find("--txn KEY") != std::string::npos);
  RunResult typo = RunDrovebank({"help", "depost"});
  CHECK(typo.exit_code == 2);
  CHECK(Message(typo) == "unknown command 'depost'; did you mean 'deposit'?");

#ifdef DROVEBANK_FAULT_INJECTION
  const std::string version = std::string("drovebank ") + DROVEBANK_VERSION + "+faultinjection\n";
#else
  const std::string version = std::string("drovebank ") + DROVEBANK_VERSION + "\n";
#endif
  for (const char* spelling : {"version", "-V", "--version"}) {
    RunResult v = RunDrovebank({spelling});
    CHECK(v.exit_code == 0);
    CHECK(v.out == version);
  }
  RunResult vj = RunDrovebank({"version", "--json"});
  CHECK(vj.exit_code == 0);
  CHECK("drovebank " + json::parse(vj.out)["version"].get<std::string>() + "\n" == version);
  // None of them needs or makes a store.
  CHECK_FALSE(fs::exists(data));
  CHECK(RunOnStore(data, {"help", "list"}).exit_code == 0);
  CHECK(RunOnStore(data, {"version"}).exit_code == 0);
  CHECK_FALSE(fs::exists(data));
}

TEST_CASE("cli output: a failed write of stdout is exit 1, and says when the change stands",
          "[cli][e2e][output]") {
  if (!fs::exists("/dev/full")) {
    WARN("no /dev/full: skipped");
    return;
  }
  TempDir dir("drovebank-output");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  auto to_full = [&](const std::string& args) {
    return RunProgram("/bin/sh", {"-c", "exec \"$0\" -d \"$1\" " + args + " >/dev/full",
                                  DROVEBANK_BIN, data},
                      PlainOptions());
  };
  for (const char* read : {"list", "show 1", "history 1", "txn 1", "--json list", "help",
                           "version", "search ada"}) {
    RunResult r = to_full(read);
    INFO(read << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "drovebank: write error: No space left on device\n");
  }
  RunResult w = to_full("deposit 1 5");
  INFO(w.err);
  CHECK(w.exit_code == 1);
  CHECK(w.err ==
        "drovebank: write error: No space left on device; the change was committed (txn 2) "
        "and stands\n");
  CHECK(json::parse(RunOnStore(data, {"--json", "show", "1"}).out)["balance"] == "105.00");
}

TEST_CASE("cli exit codes: a data directory that cannot be made is 1, a missing batch file 2",
          "[cli][e2e][output]") {
  TempDir dir("drovebank-output");
  for (const char* cmd : {"open", "init"}) {
    std::vector<std::string> args = {"-d", dir.Path("no/such/parent"), cmd};
    if (std::string(cmd) == "open") args.insert(args.end(), {"Ada", "Lovelace"});
    RunResult r = RunDrovebank(args);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("cannot create the data directory") != std::string::npos);
  }
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  for (bool as_json : {false, true}) {
    std::vector<std::string> args = {"batch", dir.Path("missing.jsonl")};
    if (as_json) args.push_back("--json");
    RunResult r = RunOnStore(data, args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("No such file or directory") != std::string::npos);
    if (as_json) CHECK(json::parse(r.out)["error"]["exit"] == 2);
  }
}

TEST_CASE("cli data directory: a command that only reads never creates a store; init does",
          "[cli][e2e][datadir]") {
  TempDir dir("drovebank-datadir");
  std::string typo = dir.Path("typo");
  const std::vector<std::vector<std::string>> reads = {
      {"list"}, {"show", "1"}, {"search", "ada"}, {"history", "1"}, {"txn", "1"},
      {"list", "--json"}, {"--read-only", "list"}};
  for (const auto& args : reads) {
    RunResult r = RunOnStore(typo, args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(Message(r) == "no drovebank store at " + typo + " (create one with 'drovebank -d " +
                            typo + " open ...' or 'drovebank init " + typo + "')");
    CHECK_FALSE(fs::exists(typo));
  }
  // An empty directory is no store either, and stays empty.
  REQUIRE(fs::create_directory(typo));
  CHECK(RunOnStore(typo, {"list"}).exit_code == 2);
  CHECK(fs::is_empty(typo));

  RunResult made = RunDrovebank({"init", typo}, PlainOptions());
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK(made.out == "Created an empty drovebank store at " + typo + "\n");
  RunResult list = RunOnStore(typo, {"--json", "list"});
  CHECK(list.exit_code == 0);
  CHECK(json::parse(list.out)["total"] == 0);
  RunResult again = RunOnStore(typo, {"init"});
  CHECK(again.exit_code == 0);
  CHECK(again.out == typo + " already holds a drovebank store; nothing changed\n");
  // Writes still create the store they need, as before.
  std::string fresh = dir.Path("fresh");
  CHECK(RunOnStore(fresh, {"open", "Ada", "Lovelace", "1"}).exit_code == 0);
  CHECK(RunOnStore(fresh, {"show", "1"}).exit_code == 0);
}

TEST_CASE("cli data directory: a read-only store is read without creating or writing anything",
          "[cli][e2e][datadir][readonly]") {
  TempDir dir("drovebank-readonly");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"deposit", "1", "5", "--txn", "pay-1"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"open", "Bob", "Kay", "0"}).exit_code == 0);
  // The shared state file is rebuildable: a restored backup may well lack it, and a
  // read-only open must not bring it back.
  std::error_code ec;
  for (const char* f : {"journal/shm", "journal/state"}) fs::remove(dir.Path("data/") + f, ec);
  const auto before = Snapshot(data);

  const std::vector<std::vector<std::string>> reads = {
      {"show", "1"},      {"list"},          {"search", "kay"}, {"history", "1"},
      {"txn", "2"},       {"--json", "list"}, {"list", "--page", "2"}};
  for (const auto& args : reads) {
    std::vector<std::string> ro = args;
    ro.push_back("--read-only");
    RunResult r = RunOnStore(data, ro);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
  }
  RunResult shown = RunOnStore(data, {"--read-only", "--json", "list"});
  CHECK(json::parse(shown.out)["total"] == 2);
  CHECK(json::parse(RunOnStore(data, {"--read-only", "--json", "show", "1"}).out)["balance"] == "105.00");

  const std::vector<std::vector<std::string>> writes = {
      {"deposit", "1", "5"}, {"withdraw", "1", "1"}, {"transfer", "1", "2", "1"},
      {"open", "Eve", "Ray"}, {"close", "2"}};
  for (const auto& args : writes) {
    std::vector<std::string> ro = {"--read-only", "--json"};
    ro.insert(ro.end(), args.begin(), args.end());
    RunResult r = RunOnStore(data, ro);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(Message(r) == "store is read-only (--read-only): nothing changed");
    CHECK(json::parse(r.out)["error"]["exit"] == 1);
  }
  RunOptions o = PlainOptions();
  o.stdin_text = "show 1\ndeposit 1 5\n";
  RunResult sh = RunOnStore(data, {"--read-only"}, o);
  CHECK(sh.exit_code == 1);
  CHECK(sh.err == "line 2: store is read-only (--read-only): nothing changed\n");

  RunResult check = RunProgram(RECOVER_BIN, {"-d", data, "--check"}, PlainOptions());
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK(Snapshot(data) == before);

#ifdef DROVEBANK_FAULT_INJECTION
  SECTION("a crash left work in flight: the read says it needs a replay, exit 5") {
    RunOptions crash = PlainOptions();
    crash.env.push_back("DROVEBANK_FAULT=deposit:after_journal_sync:crash");
    REQUIRE(RunOnStore(data, {"deposit", "1", "7"}, crash).exit_code == 86);
    for (const char* f : {"journal/shm", "journal/state"}) fs::remove(dir.Path("data/") + f, ec);
    const auto crashed = Snapshot(data);
    for (const auto& args : reads) {
      std::vector<std::string> ro = args;
      ro.push_back("--read-only");
      RunResult r = RunOnStore(data, ro);
      INFO(args[0] << ": " << r.err);
      CHECK(r.exit_code == 5);
      CHECK(r.err.find("cannot be read exactly without a replay") != std::string::npos);
      CHECK(r.out.find("105.00") == std::string::npos);  // never the stale balance
    }
    CHECK(Snapshot(data) == crashed);
    // Writable, the same read replays and shows the committed deposit.
    CHECK(json::parse(RunOnStore(data, {"--json", "show", "1"}).out)["balance"] == "112.00");
  }
#endif
}

TEST_CASE("cli data directory: a store the user cannot write (chmod -R a-w) is read-only",
          "[cli][e2e][datadir][readonly]") {
  // As root every file is writable whatever its mode: the programs then run as `nobody`
  // (setpriv), who owns the store and may not write it.
  bool root = ::geteuid() == 0;
  if (root && std::system("command -v setpriv >/dev/null 2>&1") != 0) {
    WARN("running as root without setpriv: skipped");
    return;
  }
  TempDir dir("drovebank-readonly");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"deposit", "1", "5"}).exit_code == 0);
  std::error_code ec;
  for (const char* f : {"journal/shm", "journal/state"}) fs::remove(dir.Path("data/") + f, ec);
  std::string q = "'" + data + "'";
  if (root) {
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    REQUIRE(std::system(("chown -R 65534:65534 " + q).c_str()) == 0);
  }
  REQUIRE(std::system(("chmod -R a-w " + q).c_str()) == 0);
  const auto before = Snapshot(data);
  auto as_user = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-d", data});
    if (!root) return RunProgram(DROVEBANK_BIN, args, PlainOptions());
    args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", DROVEBANK_BIN});
    return RunProgram("/usr/bin/setpriv", args, PlainOptions());
  };
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"show", "1"}, {"list"}, {"history", "1"}, {"txn", "2"}, {"search", "ada"}}) {
    RunResult r = as_user(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("105.00") != std::string::npos);
  }
  RunResult w = as_user({"deposit", "1", "5"});
  CHECK(w.exit_code == 1);
  CHECK(Message(w) == "store is read-only (" + data + " cannot be written): nothing changed");
  CHECK(Snapshot(data) == before);
  // So that the scratch directory can be removed.
  (void)std::system(("chmod -R u+w " + q).c_str());
}

namespace {

// Terminal columns of UTF-8 text as the tests' names need: one a character, two for the
// CJK ideographs (U+4E00-U+9FFF, lead bytes E4-E9), none for U+0301.
size_t Columns(const std::string& s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    if (c == 0xCC && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x81) continue;
    w += c >= 0xE4 && c <= 0xE9 ? 2 : 1;
  }
  return w;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', at)) {
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("cli names: trimmed, never empty, no invisible or bidi characters",
          "[cli][e2e][names]") {
  TempDir dir("drovebank-names");
  std::string data = dir.Path("data");
  RunResult r = RunOnStore(data, {"--json", "open", "  Ada ", " Lovelace  ", "1"});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["first"] == "Ada");
  CHECK(json::parse(r.out)["last"] == "Lovelace");
  for (const char* blank : {"", " ", "     "}) {
    RunResult b = RunOnStore(data, {"open", blank, "Kay"});
    CHECK(b.exit_code == 2);
    CHECK(Message(b) == "first name is empty");
  }
  const std::vector<std::pair<std::string, std::string>> invisible = {
      {"\u200B", "200B"}, {"\u200F", "200F"}, {"\u202A", "202A"},
      {"\u202E", "202E"}, {"\u2066", "2066"}, {"\u2069", "2069"}, {"\uFEFF", "FEFF"}};
  for (const auto& [ch, hex] : invisible) {
    INFO("U+" << hex);
    RunResult b = RunOnStore(data, {"open", "Ada", "Love" + ch + "lace"});
    CHECK(b.exit_code == 2);
    CHECK(Message(b) ==
          "last name contains an invisible or text-direction character (U+" + hex + ")");
    RunOptions o = PlainOptions();
    o.stdin_text = "{\"op\":\"open\",\"first\":\"E" + ch + "ve\",\"last\":\"Ray\"}\n";
    RunResult batch = RunOnStore(data, {"batch", "-"}, o);
    CHECK(batch.exit_code == 2);
    CHECK(batch.out.find("invisible or text-direction") != std::string::npos);
  }
  // A zero-width joiner between Latin letters joins nothing (names_test.cc has where it
  // does).
  RunResult zwj = RunOnStore(data, {"open", "Ada", "Love\u200Dlace"});
  CHECK(zwj.exit_code == 2);
  CHECK(Message(zwj) ==
        "last name contains a zero-width joiner or non-joiner that joins nothing (U+200D)");
  RunResult list = RunOnStore(data, {"--json", "list"});
  CHECK(json::parse(list.out)["total"] == 1);
}

TEST_CASE("cli tables: aligned by display width, long names cut with an ellipsis only in text",
          "[cli][e2e][names]") {
  TempDir dir("drovebank-tables");
  std::string data = dir.Path("data");
  const std::string long_first(64, 'F'), long_last(64, 'L');
  const std::vector<std::pair<std::string, std::string>> names = {
      {"Ada", "Lovelace"},          {"Zoe\xCC\x81", "Brontë"},        {"日本", "語太郎"},
      {long_first, long_last},      {"Ña", std::string(40, 'x')},     {"李", "小龍"}};
  for (const auto& [f, l] : names) REQUIRE(RunOnStore(data, {"open", f, l, "12.50"}).exit_code == 0);
  RunResult r = RunOnStore(data, {"list"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  // Since the merge of reports, a text table starts with its header row.
  REQUIRE(lines.size() == names.size() + 2);
  CHECK(lines[0].rfind("      id  name", 0) == 0);
  lines.erase(lines.begin());
  for (size_t i = 0; i < names.size(); ++i) {
    INFO(lines[i]);
    CHECK(Columns(lines[i]) == Columns(lines[0]));
    // The balance column ends at the same place on every line.
    size_t at = lines[i].find("12.50");
    REQUIRE(at != std::string::npos);
    CHECK(Columns(lines[i].substr(0, at)) == Columns(lines[0].substr(0, lines[0].find("12.50"))));
  }
  CHECK(lines[3].find("…") != std::string::npos);
  CHECK(lines[4].find("…") != std::string::npos);
  CHECK(lines[0].find("…") == std::string::npos);
  json j = json::parse(RunOnStore(data, {"--json", "list"}).out);
  CHECK(j["accounts"][3]["first"] == long_first);
  CHECK(j["accounts"][3]["last"] == long_last);
  CHECK(RunOnStore(data, {"--json", "show", "4"}).out.find("…") == std::string::npos);
}

TEST_CASE("cli pages: nothing found is one line, past the end says so, history nulls, close twice",
          "[cli][e2e][names]") {
  TempDir dir("drovebank-pages");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"init"}).exit_code == 0);
  RunResult empty = RunOnStore(data, {"list"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out == "No accounts yet.\n");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "10"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"open", "Bob", "Kay", "0"}).exit_code == 0);
  RunResult none = RunOnStore(data, {"search", "zzz"});
  CHECK(none.exit_code == 0);
  CHECK(none.out == "No matching accounts.\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"list", "--page", "2"}, {"search", "a", "--page", "3"}, {"history", "1", "--page", "2"}}) {
    INFO(args[0]);
    RunResult past = RunOnStore(data, args);
    CHECK(past.exit_code == 0);
    CHECK(past.out.rfind("There is no page " + args.back() + ": 1 page (", 0) == 0);
    std::vector<std::string> ja = args;
    ja.push_back("--json");
    RunResult pj = RunOnStore(data, ja);
    CHECK(pj.exit_code == 0);
    json j = json::parse(pj.out);
    CHECK(j["pages"] == 1);
    CHECK((j.contains("accounts") ? j["accounts"] : j["entries"]).empty());
  }
  REQUIRE(RunOnStore(data, {"transfer", "1", "2", "4"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"deposit", "1", "1"}).exit_code == 0);
  json h = json::parse(RunOnStore(data, {"--json", "history", "1"}).out);
  for (const json& e : h["entries"]) {
    INFO(e.dump());
    bool transfer = e["kind"] == "transfer";
    CHECK(e["counterpart"].is_null() == !transfer);
    CHECK(e["direction"].is_null() == !transfer);
    if (transfer) CHECK(e["direction"] == "out");
  }
  REQUIRE(RunOnStore(data, {"withdraw", "2", "4"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"close", "2"}).exit_code == 0);
  RunResult twice = RunOnStore(data, {"close", "2"});
  CHECK(twice.exit_code == 3);
  CHECK(Message(twice) == "account 2 is already closed");
}

TEST_CASE("shell scripts: a failed line inside begin...commit aborts the transaction, as psql",
          "[shell][e2e][txn]") {
  TempDir dir("drovebank-script-txn");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"open", "Bob", "Kay", "5"}).exit_code == 0);
  struct Case {
    std::string failing;  // the line that fails inside the transaction
    int exit_code;
  };
  for (const Case& c : {Case{"withdraw 2 99999", 3}, Case{"deposit 9 1", 3},
                        Case{"deposit 1 abc", 2}, Case{"depost 1 5", 2}}) {
    INFO(c.failing);
    RunOptions o = PlainOptions();
    o.stdin_text = "begin\ndeposit 1 10\n" + c.failing + "\ntransfer 1 2 1\ncommit\nshow 1\n";
    RunResult r = RunOnStore(data, {}, o);
    INFO(r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err.find("line 3: ") != std::string::npos);
    CHECK(r.err.find("line 4: not run: the transaction is aborted (line 3 failed)") !=
          std::string::npos);
    CHECK(r.err.find("line 5: the transaction was aborted by the failure on line 3: nothing "
                     "applied (1 staged change(s) discarded)") != std::string::npos);
    CHECK(r.out.find("Balance: 100.00") != std::string::npos);  // line 6 ran, nothing applied
    CHECK(json::parse(RunOnStore(data, {"--json", "show", "2"}).out)["balance"] == "5.00");
  }
  // `abort` ends an aborted transaction quietly; the lines after it run as usual.
  RunOptions o = PlainOptions();
  o.stdin_text = "begin\nwithdraw 2 99999\nabort\ndeposit 1 1\n";
  RunResult r = RunOnStore(data, {}, o);
  CHECK(r.exit_code == 3);
  CHECK(json::parse(RunOnStore(data, {"--json", "show", "1"}).out)["balance"] == "101.00");
  // Without a failure the transaction commits as before.
  o.stdin_text = "begin\ndeposit 1 1\nwithdraw 2 1\ncommit\n";
  r = RunOnStore(data, {}, o);
  CHECK(r.exit_code == 0);
  CHECK(json::parse(RunOnStore(data, {"--json", "show", "1"}).out)["balance"] == "102.00");
}

TEST_CASE("cli hand edits: a file whose checksum fails is named as changed outside drovebank",
          "[cli][e2e][corrupt]") {
  TempDir dir("drovebank-handedit");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"open", "Bob", "Kay", "50"}).exit_code == 0);
  std::string file = data + "/accounts/00/00/00/02.csv";
  REQUIRE(std::system(("sed -i 's/,50.00,/,5000.00,/' '" + file + "'").c_str()) == 0);
  for (bool ro : {true, false}) {
    std::vector<std::string> args = {"show", "2"};
    if (ro) args.push_back("--read-only");
    RunResult r = RunOnStore(data, args);
    INFO(r.err);
    CHECK(r.exit_code == 5);
    CHECK(Message(r) == file + " was changed outside drovebank (checksum mismatch): run `recover`");
    CHECK(r.out.find("5000.00") == std::string::npos);
  }
}

namespace {

// recover -d DATA ARGS... with PlainOptions() (testing::Recover keeps this process's
// environment).
RunResult PlainRecover(const std::string& data, std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"-d", data});
  return RunProgram(RECOVER_BIN, args, PlainOptions());
}

// Ada (100.00) and Bob (50.00), then Bob's file edited by hand to say 5000.00. With
// `checkpointed`, a recover first moves both opens out of the journal tail.
std::string MakeEditedStore(const std::string& data, bool checkpointed) {
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"open", "Bob", "Kay", "50"}).exit_code == 0);
  if (checkpointed) REQUIRE(PlainRecover(data).exit_code == 0);
  std::string file = data + "/accounts/00/00/00/02.csv";
  REQUIRE(std::system(("sed -i 's/,50.00,/,5000.00,/' '" + file + "'").c_str()) == 0);
  return file;
}

}  // namespace

TEST_CASE("recover --check names a hand-edited file as changed outside drovebank",
          "[recover][e2e][corrupt]") {
  for (bool checkpointed : {false, true}) {
    INFO("checkpointed " << checkpointed);
    TempDir dir("drovebank-editcheck");
    std::string data = dir.Path("data");
    std::string file = MakeEditedStore(data, checkpointed);
    // After a checkpoint only a read finds the edit; it marks the store for recover.
    if (checkpointed) REQUIRE(RunOnStore(data, {"show", "2"}).exit_code == 5);
    std::string edited = Slurp(file);
    RunResult r = PlainRecover(data, {"--check"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find(file + " was changed outside drovebank (checksum mismatch)\n") !=
          std::string::npos);
    CHECK(r.out.find("behind the journal") == std::string::npos);
    CHECK(r.out.find("needs repair: run recover") != std::string::npos);
    RunResult j = PlainRecover(data, {"--check", "--json"});
    CHECK(j.exit_code == 1);
    json notes = json::parse(j.out)["notes"];
    CHECK(std::find(notes.begin(), notes.end(),
                    file + " was changed outside drovebank (checksum mismatch)") != notes.end());
    CHECK(Slurp(file) == edited);  // --check changes nothing
  }
}

TEST_CASE("recover reports each file it restores, what it said and what the journal says, and "
          "keeps the edited one in quarantine/",
          "[recover][e2e][corrupt]") {
  // Not checkpointed: the replay of the tail rewrites it; checkpointed (and marked by
  // `show`): the rebuild of a marked store's corrupt files. Marked but not checkpointed:
  // the journal's re-initialisation rewrites it (it used to count as 0 repaired).
  struct Case {
    bool checkpointed, show_first, json;
  };
  for (Case c : {Case{false, false, false}, Case{false, true, false}, Case{true, true, false},
                 Case{false, true, true}, Case{true, true, true}}) {
    INFO("checkpointed " << c.checkpointed << " show first " << c.show_first << " json "
                         << c.json);
    TempDir dir("drovebank-editrepair");
    std::string data = dir.Path("data");
    std::string file = MakeEditedStore(data, c.checkpointed);
    std::string edited = Slurp(file);
    if (c.show_first) REQUIRE(RunOnStore(data, {"show", "2"}).exit_code == 5);
    RunResult r = c.json ? PlainRecover(data, {"--json"}) : PlainRecover(data);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> kept;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(data + "/quarantine", ec)) {
      kept.push_back("quarantine/" + e.path().filename().string());
    }
    if (kept.empty()) kept.push_back("(nothing in quarantine/)");
    CHECK(kept.size() == 1);
    if (c.json) {
      json j = json::parse(r.out);
      CHECK(j["files_repaired"] == 1);
      CHECK(j["quarantined"] == 1);
      REQUIRE(j["repairs"].size() == 1);
      json rep = j["repairs"][0];
      CHECK(rep["account"] == 2);
      CHECK(rep["file"] == "accounts/00/00/00/02.csv");
      CHECK(rep["found"] == "edited");
      CHECK(rep["file_said"]["balance"] == "5000.00");
      CHECK(rep["journal_says"]["balance"] == "50.00");
      CHECK(rep["problem"] == "account record checksum mismatch");
      CHECK(rep["kept_as"] == kept[0]);
    } else {
      CHECK(r.out.find("account 2: file said 5000.00, journal says 50.00; restored, the edited "
                       "file kept as " + kept[0] + "\n") != std::string::npos);
      CHECK(r.out.find("1 file(s) repaired, 1 quarantined") != std::string::npos);
    }
    CHECK(Slurp(data + "/" + kept[0]) == edited);
    CHECK(json::parse(RunOnStore(data, {"--json", "show", "2"}).out)["balance"] == "50.00");
    CHECK(PlainRecover(data, {"--check"}).exit_code == 0);
    // A second recover has nothing to restore and keeps the quarantined copy.
    RunResult again = PlainRecover(data);
    CHECK(again.out.find("0 file(s) repaired") != std::string::npos);
    CHECK(Slurp(data + "/" + kept[0]) == edited);
  }
}
