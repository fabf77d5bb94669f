// Every command tells the truth about what it did (issue 26): input from a pipe runs like
// a file, keys are never silently empty, write errors are reported with what stands, and
// both programs share one usage-error and JSON contract. Run through the real programs.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace drovebank::testing;  // the test support: test_util.h
using nlohmann::json;
namespace fs = std::filesystem;


// `script` run by bash with $0 = drovebank, $1 = the data directory, $2 = recover.
RunResult Bash(const std::string& data, const std::string& script, RunOptions o = PlainOptions()) {
  return RunProgram("/bin/bash", {"-c", script, DROVEBANK_BIN, data, RECOVER_BIN}, o);
}

std::string Balance(const std::string& data, const std::string& id) {
  RunResult r = RunOnStore(data, {"--json", "show", id});
  if (r.exit_code != 0) return "error: " + r.err;
  return json::parse(r.out)["balance"].get<std::string>();
}


}  // namespace

TEST_CASE("batch input: a pipe, a FIFO, /dev/stdin and <(...) run exactly like a file",
          "[cli][e2e][batch]") {
  if (!fs::exists("/bin/bash")) {
    WARN("no /bin/bash: skipped");
    return;
  }
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  // Each case its own amount, so its bytes (and so its automatic keys) are its own.
  auto jsonl = [](int units) {
    return fmt::format(R"({{"op":"deposit","id":1,"amount":"{}.00"}}\n)", units);
  };
  auto csv = [](int units) { return fmt::format(R"(op,id,amount\ndeposit,1,{}.00\n)", units); };

  struct Case {
    const char* what;
    std::string script;
    int added;  // units deposited to account 1
  };
  const std::vector<Case> cases = {
      {"batch <(...)", "exec \"$0\" -d \"$1\" batch <(printf '" + jsonl(1) + "')", 1},
      {"import-csv <(...)", "exec \"$0\" -d \"$1\" import-csv <(printf '" + csv(2) + "')", 2},
      {"batch /dev/stdin from a pipe",
       "printf '" + jsonl(3) + "' | \"$0\" -d \"$1\" batch /dev/stdin", 3},
      {"batch FIFO",
       "f=$(dirname \"$1\")/fifo; rm -f \"$f\"; mkfifo \"$f\" && { printf '" + jsonl(4) +
           "' > \"$f\" & } && \"$0\" -d \"$1\" batch \"$f\"; rc=$?; wait; rm -f \"$f\"; exit $rc",
       4},
      {"import-csv - from a pipe", "printf '" + csv(5) + "' | \"$0\" -d \"$1\" import-csv -", 5},
  };
  int units = 100;
  for (const Case& c : cases) {
    INFO(c.what);
    RunResult r = Bash(data, c.script);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find(": 1 event(s): 1 applied") != std::string::npos);
    units += c.added;
    CHECK(Balance(data, "1") == fmt::format("{}.00", units));
    // The automatic key comes from the bytes' hash, for a pipe as for a file: the same
    // bytes again are known as a run that got to its end, and refused.
    RunResult again = Bash(data, c.script);
    INFO("again: " << again.err);
    CHECK(again.exit_code == 3);
    CHECK(again.err.find("was already run to its end: run 1 of this input") !=
          std::string::npos);
    CHECK(Balance(data, "1") == fmt::format("{}.00", units));
  }
  SECTION("a file and a pipe of the same bytes share their automatic keys") {
    REQUIRE(dir.Write("ops.jsonl", "{\"op\":\"deposit\",\"id\":1,\"amount\":\"9.00\"}\n"));
    REQUIRE(RunOnStore(data, {"batch", dir.Path("ops.jsonl")}).exit_code == 0);
    RunResult r = Bash(data, "cat \"$(dirname \"$1\")/ops.jsonl\" | \"$0\" -d \"$1\" batch -");
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("standard input was already run to its end") != std::string::npos);
  }
}

TEST_CASE("txn keys: an empty --txn is a usage error everywhere it is taken, never no key",
          "[cli][e2e][usage]") {
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"open", "Bob", "Babbage", "100"}).exit_code == 0);
  const std::vector<std::vector<std::string>> cases = {
      {"deposit", "1", "5", "--txn", ""},  {"deposit", "1", "5", "--txn="},
      {"withdraw", "1", "5", "--txn", ""}, {"transfer", "1", "2", "5", "--txn", ""},
  };
  for (const auto& args : cases) {
    for (bool as_json : {false, true}) {
      std::vector<std::string> a = args;
      if (as_json) a.insert(a.begin(), "--json");
      RunResult r = RunOnStore(data, a);
      INFO(a[0] << " " << a[1] << "\nstdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 2);
      // `--txn=` is a value left out, as `--txn` alone: CLI11 says so before any check.
      CHECK(Message(r).rfind(args.back() == "--txn=" ? "--txn needs a value"
                                                     : "the transaction key (--txn) must not be empty",
                             0) == 0);
      if (as_json) CHECK(json::parse(r.out)["error"]["exit"] == 2);
    }
  }
  CHECK(Balance(data, "1") == "100.00");
  CHECK(Balance(data, "2") == "100.00");

  SECTION("the shell's begin --txn '' likewise") {
    RunOptions o = PlainOptions();
    o.stdin_text = "begin --txn ''\ndeposit 1 5\ncommit\n";
    RunResult r = RunOnStore(data, {"--bail"}, o);
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("line 1: the transaction key (--txn) must not be empty") != std::string::npos);
    CHECK(Balance(data, "1") == "100.00");
  }
  SECTION("batch: \"key\":\"\" is an invalid line; an empty CSV cell is a key left out") {
    REQUIRE(dir.Write("ops.jsonl", "{\"op\":\"deposit\",\"id\":1,\"amount\":\"5\",\"key\":\"\"}\n"));
    RunResult r = RunOnStore(data, {"batch", dir.Path("ops.jsonl")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("1 invalid") != std::string::npos);
    CHECK(Balance(data, "1") == "100.00");
    REQUIRE(dir.Write("ops.csv", "op,id,amount,key\ndeposit,1,5,\n"));
    RunResult csv = RunOnStore(data, {"import-csv", dir.Path("ops.csv")});
    CHECK(csv.exit_code == 0);
    CHECK(Balance(data, "1") == "105.00");
  }
}

TEST_CASE("write errors: every command, the shell and recover report a full stdout by its "
          "cause, exit 1, and say what was committed",
          "[cli][e2e][output]") {
  if (!fs::exists("/dev/full") || !fs::exists("/bin/bash")) {
    WARN("no /dev/full or /bin/bash: skipped");
    return;
  }
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  // Enough accounts that an export fills stdio's buffer more than once (a write fails
  // inside a print, not only at the final flush).
  std::string opens;
  for (int i = 1; i <= 150; ++i) {
    opens += fmt::format("{{\"op\":\"open\",\"first\":\"Ada{}\",\"last\":\"Lovelace\","
                         "\"amount\":\"10\"}}\n",
                         i);
  }
  REQUIRE(dir.Write("opens.jsonl", opens));
  REQUIRE(RunOnStore(data, {"batch", dir.Path("opens.jsonl")}).exit_code == 0);
  REQUIRE(dir.Write("one.jsonl", "{\"op\":\"deposit\",\"id\":1,\"amount\":\"1\"}\n"));
  REQUIRE(dir.Write("one.csv", "op,id,amount\ndeposit,2,1\n"));
  const std::string full = "drovebank: write error: No space left on device";

  auto to_full = [&](const std::string& command) {
    return Bash(data, command + " >/dev/full");
  };
  SECTION("reads, help and version") {
    for (const char* c : {"\"$0\" -d \"$1\" --version", "\"$0\" -d \"$1\" -V",
                          "\"$0\" -d \"$1\" --json --version", "\"$0\" -d \"$1\" --help",
                          "\"$0\" -d \"$1\" deposit --help", "\"$0\" -d \"$1\" list --all",
                          "printf 'list\\n' | \"$0\" -d \"$1\"",
                          "printf 'show 1\\n' | \"$0\" -d \"$1\"",
                          "\"$0\" -d \"$1\" export --format hledger",
                          "\"$0\" -d \"$1\" export --format ledger",
                          "\"$0\" -d \"$1\" export --format beancount",
                          "\"$0\" -d \"$1\" export --format csv"}) {
      RunResult r = to_full(c);
      INFO(c << "\nstderr: " << r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.err == full + "\n");
    }
  }
  SECTION("writes say that what they committed stands") {
    struct Case {
      const char* command;
      std::string tail;
    };
    // Txns 1-150 open the accounts, 151 ends that batch run.
    const std::vector<Case> cases = {
        {"printf 'deposit 1 1\\n' | \"$0\" -d \"$1\"",
         "; the change was committed (txn 152) and stands\n"},
        {"printf 'deposit 1 1\\ndeposit 2 1\\n' | \"$0\" -d \"$1\"",
         "; 2 changes were committed (txns 153 to 154) and stand\n"},
        {"printf 'begin\\ndeposit 1 1\\ncommit\\n' | \"$0\" -d \"$1\"",
         "; the change was committed (txn 155) and stands\n"},
        {"\"$0\" -d \"$1\" batch \"$(dirname \"$1\")/one.jsonl\"",
         "; 1 change was committed and stands\n"},
        {"\"$0\" -d \"$1\" import-csv \"$(dirname \"$1\")/one.csv\"",
         "; 1 change was committed and stands\n"},
    };
    for (const Case& c : cases) {
      RunResult r = to_full(c.command);
      INFO(c.command << "\nstderr: " << r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.err.size() >= full.size() + c.tail.size());
      CHECK(r.err.substr(r.err.size() - std::min(r.err.size(), full.size() + c.tail.size())) ==
            full + c.tail);
    }
    CHECK(Balance(data, "1") == "14.00");
    CHECK(Balance(data, "2") == "12.00");
  }
  SECTION("recover") {
    for (const char* c : {"--json", "--check", "--check --json", "--help", "--version"}) {
      RunResult r = to_full(std::string("\"$2\" -d \"$1\" ") + c);
      INFO("recover " << c << "\nstderr: " << r.err);
      CHECK(r.exit_code == 1);
      bool repairs = std::string(c) == "--json";  // a run that may change files
      CHECK(r.err == (repairs ? "recover: write error: No space left on device; the recovery "
                                "was done and stands (only its report is lost)\n"
                              : "recover: write error: No space left on device\n"));
    }
  }
  SECTION("export -o FILE replaces FILE only with a whole export") {
    std::string file = dir.Path("bank.journal");
    RunResult ok = RunOnStore(data, {"export", "--format", "hledger", "-o", file});
    REQUIRE(ok.exit_code == 0);
    std::ifstream in(file, std::ios::binary);
    std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(before.size() > 4096);
    REQUIRE(RunOnStore(data, {"deposit", "1", "5"}).exit_code == 0);
    // A file size limit of 1 KiB: the export fails part way (EFBIG) like a full disk. The
    // store is opened --read-only, so the limit meets only the export's writes.
    RunResult r = Bash(data, "trap '' XFSZ; ulimit -f 1; exec \"$0\" -d \"$1\" --read-only export "
                             "--format hledger -o \"$(dirname \"$1\")/bank.journal\"");
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("writing " + file + ": File too large") != std::string::npos);
    std::ifstream again(file, std::ios::binary);
    std::string after((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
    CHECK(after == before);
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) {
      entries += e.path().filename().string().rfind("bank.journal", 0) == 0 ? 1 : 0;
    }
    CHECK(entries == 1);  // no temp file left beside it
    RunResult dev = RunOnStore(data, {"export", "--format", "ledger", "-o", "/dev/full"});
    CHECK(dev.exit_code == 1);
    CHECK(Message(dev) == "writing /dev/full: No space left on device (nothing was changed)");
  }
}

TEST_CASE("recover usage: drovebank's usage errors, exit 2, JSON errors with exit and "
          "maybe_applied, -V",
          "[cli][e2e][usage][recover]") {
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  const std::string usage =
      " (usage: recover [--data-dir DIR] [--check] [--full] [--accept-loss] [--json] [--expect-head TXN:HASH] [--lock-timeout SECONDS])";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--chek"}, "unknown option '--chek'; did you mean '--check'?" + usage},
      {{"--check", "-d"}, "--data-dir needs a value" + usage},
      {{"--lock-timeout", "x"}, "--lock-timeout must be a number of seconds from 0 to 86400, not 'x'"},
      {{"extra"}, "unexpected argument 'extra'" + usage},
      {{"--check", "-d", dir.Path("missing")},
       "no data directory at " + dir.Path("missing") + ": nothing to recover"},
      {{"-d", dir.Path("missing")},
       "no data directory at " + dir.Path("missing") + ": nothing to recover"},
  };
  for (const Case& c : cases) {
    for (bool as_json : {false, true}) {
      std::vector<std::string> args = c.args;
      if (as_json) args.insert(args.begin(), "--json");
      RunResult r = RunProgram(RECOVER_BIN, args, PlainOptions());
      INFO("recover " << args[as_json ? 1 : 0] << "\nstdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(Message(r, "recover") == c.message);
      if (as_json) {
        json j = json::parse(r.out);  // exactly one JSON value
        CHECK(j["error"]["code"] == "InvalidArgument");
        CHECK(j["error"]["exit"] == 2);
        CHECK(j["error"]["maybe_applied"] == false);
        CHECK(j["error"]["message"] == c.message);
      } else {
        CHECK(r.out.empty());
      }
    }
  }
  CHECK_FALSE(fs::exists(dir.Path("missing")));  // recover never makes a store
  for (const char* v : {"-V", "--version"}) {
    RunResult r = RunProgram(RECOVER_BIN, {v}, PlainOptions());
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("recover (drovebank) ", 0) == 0);
  }
  SECTION("drovebank says unknown option before a missing argument, with a suggestion") {
    RunResult r = RunOnStore(data, {"deposit", "--hlep"});
    CHECK(r.exit_code == 2);
    CHECK(Message(r).rfind("unknown option '--hlep' for deposit; did you mean '--help'?", 0) == 0);
    RunResult j = RunOnStore(data, {"show", "1", "--jsn"});
    CHECK(Message(j).rfind("unknown option '--jsn' for show; did you mean '--json'?", 0) == 0);
  }
}

TEST_CASE("cli slips: typo suggestions, readable format errors, --all with --page, '--', "
          "--json --version, history dates",
          "[cli][e2e][usage]") {
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  struct Case {
    std::vector<std::string> args;
    std::string message;  // a prefix of stderr's sentence
  };
  const std::vector<Case> cases = {
      {{"hist", "1"}, "unknown command 'hist'; did you mean 'history'?"},
      {{"-O", "xml", "list"}, "unknown output format 'xml' (choose text, csv, tsv or json)"},
      {{"list", "-O", "xml"}, "unknown output format 'xml' (choose text, csv, tsv or json)"},
      {{"export", "--format", "xml"},
       "unknown export format 'xml' (choose hledger, ledger, beancount or csv)"},
      {{"list", "--all", "--page", "2"}, "--page cannot be given with --all"},
      {{"search", "ada", "--page", "2", "--all"}, "--page cannot be given with --all"},
      {{"history", "1", "--all", "--page", "2"}, "--page cannot be given with --all"},
      {{"--", "list"}, "'--' ends the options of a command"},
      {{"history", "1", "--since", "2026-12-10", "--until", "2026-12-01"},
       "--since must not be after --until"},
  };
  for (const Case& c : cases) {
    for (bool as_json : {false, true}) {
      std::vector<std::string> args = c.args;
      if (as_json) args.insert(args.begin(), "--json");
      RunResult r = RunOnStore(data, args, [] {
        RunOptions o = PlainOptions();
        o.stdin_text = "deposit 1 1\n";  // what a shell would run, were one started
        return o;
      }());
      INFO(args[as_json ? 1 : 0] << "\nstdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(Message(r).rfind(c.message, 0) == 0);
      if (as_json) CHECK(json::parse(r.out)["error"]["exit"] == 2);
    }
  }
  CHECK(Balance(data, "1") == "100.00");  // `-- list` ran no shell
  for (const char* v : {"--version", "-V"}) {
    RunResult flag = RunOnStore(data, {"--json", v});
    RunResult cmd = RunOnStore(data, {"--json", "version"});
    CHECK(flag.exit_code == 0);
    CHECK(json::parse(flag.out) == json::parse(cmd.out));
  }
  RunResult same_day = RunOnStore(data, {"history", "1", "--since", "2026-12-01", "--until", "2026-12-01"});
  CHECK(same_day.exit_code == 0);
}

TEST_CASE("cli output formats: -O json is --json everywhere; a table format where there is no "
          "table is a usage error",
          "[cli][e2e][usage]") {
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  // The same command with --json and with -O json (before and after it): the same JSON.
  const std::vector<std::vector<std::string>> same = {
      {"show", "1"}, {"txn", "1"}, {"version"}, {"list"}, {"balance"}, {"show", "99"},
      {"txn", "99"}, {"--version"}, {"frobnicate"}, {"show"},
  };
  for (const auto& args : same) {
    std::vector<std::string> with_json = args, with_o = args, with_o_after = args;
    with_json.insert(with_json.begin(), "--json");
    with_o.insert(with_o.begin(), {"-O", "json"});
    with_o_after.insert(with_o_after.end(), {"--output=json"});
    RunResult a = RunOnStore(data, with_json), b = RunOnStore(data, with_o), c = RunOnStore(data, with_o_after);
    INFO(args[0] << "\n--json: " << a.out << a.err << "\n-O json: " << b.out << b.err);
    REQUIRE_NOTHROW(json::parse(b.out));
    CHECK(json::parse(a.out) == json::parse(b.out));
    CHECK(json::parse(a.out) == json::parse(c.out));
    CHECK(a.exit_code == b.exit_code);
    CHECK(a.exit_code == c.exit_code);
  }
  // A change: each run commits once, so compare its shape, not its txn.
  RunResult dep = RunOnStore(data, {"-O", "json", "deposit", "1", "1"});
  CHECK(dep.exit_code == 0);
  CHECK(json::parse(dep.out)["account"]["balance"] == "101.00");
  // -O csv/tsv where no table is printed, and -O against --json: refused before anything runs.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-O", "csv", "deposit", "1", "1"},
           {"deposit", "1", "1", "-O", "tsv"},
           {"-O", "csv", "show", "1"},
           {"-O", "csv", "open", "Bob", "Babbage"},
           {"--json", "-O", "csv", "deposit", "1", "1"},
           {"-O", "text", "--json", "show", "1"}}) {
    RunResult r = RunOnStore(data, args);
    INFO(args[0] << " " << args[1] << " " << args[2] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK((Message(r).find("is for the tables of") != std::string::npos ||
           Message(r).find("ask for different formats") != std::string::npos));
  }
  CHECK(Balance(data, "1") == "101.00");
  RunResult none = RunOnStore(data, {"--json", "show", "2"});
  CHECK(none.exit_code == 3);  // Bob was never opened
  RunResult table = RunOnStore(data, {"-O", "csv", "list"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("id,first,last,balance", 0) == 0);
}

TEST_CASE("txn keys: open and close take --txn, so a re-issued request applies once",
          "[cli][e2e][keys]") {
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  RunResult first = RunOnStore(data, {"--json", "open", "Ada", "Lovelace", "100", "--txn", "open-ada"});
  REQUIRE(first.exit_code == 0);
  json a = json::parse(first.out);
  CHECK(a["replayed"] == false);
  RunResult again = RunOnStore(data, {"--json", "open", "Ada", "Lovelace", "100", "--txn", "open-ada"});
  CHECK(again.exit_code == 0);
  json b = json::parse(again.out);
  CHECK(b["replayed"] == true);
  CHECK(b["id"] == a["id"]);
  CHECK(b["txn"] == a["txn"]);
  CHECK(RunOnStore(data, {"show", "2"}).exit_code == 3);  // no second account, no new money
  RunResult text = RunOnStore(data, {"open", "Ada", "Lovelace", "100", "--txn", "open-ada"});
  CHECK(text.out == "Opened account 1 for Ada Lovelace, balance 100.00 (already applied earlier "
                    "with this key)\n");
  // The same key for another request is refused, as for deposit.
  RunResult other = RunOnStore(data, {"open", "Ada", "Lovelace", "200", "--txn", "open-ada"});
  CHECK(other.exit_code == 3);
  CHECK(RunOnStore(data, {"open", "Bob", "Babbage", "--txn", ""}).exit_code == 2);

  REQUIRE(RunOnStore(data, {"withdraw", "1", "100"}).exit_code == 0);
  RunResult close1 = RunOnStore(data, {"--json", "close", "1", "--txn", "close-ada"});
  REQUIRE(close1.exit_code == 0);
  RunResult close2 = RunOnStore(data, {"--json", "close", "1", "--txn", "close-ada"});
  CHECK(close2.exit_code == 0);  // the first close's answer, not "already closed"
  CHECK(json::parse(close2.out)["replayed"] == true);
  CHECK(json::parse(close2.out)["txn"] == json::parse(close1.out)["txn"]);
  RunResult unkeyed = RunOnStore(data, {"close", "1"});
  CHECK(unkeyed.exit_code == 3);  // without the key, closing twice is still refused
}

TEST_CASE("batch --parallel runs a bounded number of processes: 300 customers under ulimit -n "
          "64 all run, and a failure never says nothing changed after changes",
          "[cli][e2e][batch]") {
  if (!fs::exists("/bin/bash")) {
    WARN("no /bin/bash: skipped");
    return;
  }
  TempDir dir("drovebank-truth");
  std::string data = dir.Path("data");
  std::string input = "[{\"id\": 1, \"type\": \"branch\", \"balance\": 1000}";
  for (int c = 1; c <= 300; ++c) {
    input += fmt::format(",\n{{\"id\": {}, \"type\": \"customer\", \"events\": [{{\"id\": {}, "
                         "\"interface\": \"deposit\", \"money\": 1}}]}}",
                         c, c);
  }
  input += "]\n";
  REQUIRE(dir.Write("customers.json", input));
  RunResult r = Bash(data, "ulimit -n 64 && exec \"$0\" -d \"$1\" batch --parallel "
                           "\"$(dirname \"$1\")/customers.json\"");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("300 event(s), 300 applied") != std::string::npos);
  CHECK(r.err.find("nothing was changed") == std::string::npos);
  CHECK(Balance(data, "1") == "1300.00");
  json out = json::parse(r.out);
  CHECK(out.size() == 300);
}

namespace {

// Every entry below `dir`, for "nothing was created" checks.
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// Issue 26 item 7: a command that cannot succeed creates nothing. Only `init`, `open` (and
// what can open an account: batch, the imports, the shell) make a store; a deposit into a
// folder with no store, a typo'd -d, `--read-only init` and `recover` make none.
TEST_CASE("nothing created: a command that cannot succeed leaves no store behind",
          "[e2e][cli]") {
  TempDir dir;
  RunOptions here = PlainOptions();
  here.cwd = dir.Path("");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"deposit", "1", "5"}, std::vector<std::string>{"withdraw", "1", "5"},
        std::vector<std::string>{"transfer", "1", "2", "5"}, std::vector<std::string>{"close", "1"},
        std::vector<std::string>{"reverse", "1"}, std::vector<std::string>{"-d", "typo", "deposit", "1", "5"},
        std::vector<std::string>{"--read-only", "init", "newdir"}}) {
    RunResult r = RunDrovebank(args, here);
    INFO(fmt::format("{}: exit {}: {}", fmt::join(args, " "), r.exit_code, r.err));
    CHECK(r.exit_code == 2);
    CHECK(Entries(dir.Path("")).empty());
  }
  RunResult rec = RunProgram(RECOVER_BIN, {"-d", "nowhere"}, here);
  CHECK(rec.exit_code == 2);
  CHECK(Entries(dir.Path("")).empty());
  // The message says how to make one.
  RunResult dep = RunDrovebank({"deposit", "1", "5"}, here);
  CHECK(dep.err.find("init") != std::string::npos);
  // And `open` still makes the store it needs.
  CHECK(RunDrovebank({"open", "Ada", "Lovelace", "5"}, here).exit_code == 0);
  CHECK(fs::exists(dir.Path("data/FORMAT")));
  CHECK(RunDrovebank({"deposit", "1", "5"}, here).exit_code == 0);
}

// Issue 26 item 21: `version --verbose` named a data directory that does not exist as if it
// were one; it says so, and --json says "store": false, until a store is made there.
TEST_CASE("version --verbose says when no store is at the data directory", "[e2e][cli]") {
  TempDir dir;
  std::string data = dir.Path("data");
  RunResult none = RunOnStore(data, {"version", "--verbose"});
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("data directory: " + data + " (no store there yet") != std::string::npos);
  CHECK(json::parse(RunOnStore(data, {"--json", "version", "--verbose"}).out)["store"] == false);
  CHECK(!fs::exists(data));
  REQUIRE(RunOnStore(data, {"init"}).exit_code == 0);
  RunResult made = RunOnStore(data, {"version", "--verbose"});
  CHECK(made.out.find("data directory: " + data + "\n") != std::string::npos);
  CHECK(json::parse(RunOnStore(data, {"--json", "version", "--verbose"}).out)["store"] == true);
}

// Issue 26 item 18: the transaction words as psql and sqlite3 users type them.
TEST_CASE("shell: BEGIN, COMMIT, ROLLBACK, END in any case, with TRANSACTION or WORK, as in psql",
          "[e2e][shell]") {
  TempDir dir;
  std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "10"}).exit_code == 0);
  RunOptions o = PlainOptions();
  o.stdin_text =
      "BEGIN\ndeposit 1 1\nCOMMIT\n"
      "Begin Transaction\ndeposit 1 2\nROLLBACK\n"
      "begin\ndeposit 1 4\nrollback work\n"
      "BEGIN WORK\ndeposit 1 8\nEND\n"
      "begin transaction\ndeposit 1 16\ncommit transaction\n";
  RunResult r = RunOnStore(data, {}, o);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  RunResult shown = RunOnStore(data, {"--json", "show", "1"});
  CHECK(json::parse(shown.out)["balance"] == "35.00");  // 10 + 1 + 8 + 16
}

// An export written over a file of the store replaced it: `export -o` onto the journal's
// segment put hledger's text where every record was (exit 0; found 2026-12-08, every
// acknowledged transaction gone). Every spelling of a path in the data directory is
// refused before anything is written: the store's own files, new names in its folders,
// the folder itself, a relative path through `..`, a symbolic link into it, from the
// shell too. Each leaves every byte of the store as it was.
TEST_CASE("export: an --output-file in the data directory is refused, and the store is untouched",
          "[e2e][cli][export]") {
  TempDir dir("drovebank-truth");
  const std::string data = dir.Path("data");
  REQUIRE(RunOnStore(data, {"open", "Ada", "Lovelace", "100"}).exit_code == 0);
  REQUIRE(RunOnStore(data, {"deposit", "1", "5"}).exit_code == 0);
  fs::create_symlink(data + "/journal", dir.Path("into-journal"));
  auto tree = [&] {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(data)) {
      if (e.is_regular_file()) files[e.path().string()] = Slurp(e.path().string());
    }
    return files;
  };
  const auto before = tree();
  RunOptions here = PlainOptions();
  here.cwd = dir.Path("");
  for (const std::string& target :
       {data + "/journal/0000000000000001.log", data + "/journal/state",
        data + "/accounts/00/00/00/01.csv", data + "/keys/index", data + "/FORMAT",
        data + "/journal/new.ledger", data, data + "/", std::string("data/../data/x.journal"),
        std::string("./data/accounts"), dir.Path("into-journal/0000000000000001.log"),
        dir.Path("into-journal/new")}) {
    for (const char* format : {"hledger", "csv"}) {
      RunResult r = RunDrovebank({"-d", data, "export", "--format", format, "-o", target}, here);
      INFO(target << " (" << format << "): exit " << r.exit_code << ": " << r.out << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("is inside the data directory") != std::string::npos);
      CHECK(tree() == before);
    }
  }
  // The shell runs the same command.
  RunOptions shell = PlainOptions();
  shell.stdin_text = "export --format ledger -o " + data + "/journal/0000000000000001.log\n";
  RunResult sh = RunOnStore(data, {}, shell);
  INFO(sh.out << sh.err);
  CHECK(sh.err.find("is inside the data directory") != std::string::npos);
  // (A shell session checkpoints as it ends, so only the segment is compared.)
  const std::string segment = data + "/journal/0000000000000001.log";
  CHECK(Slurp(segment) == before.at(segment));
  CHECK(RunProgram(RECOVER_BIN, {"-d", data, "--check"}, here).exit_code == 0);
  // Beside it, a name that only starts like it, is written.
  RunResult beside = RunDrovebank({"-d", data, "export", "--format", "hledger", "-o", data + "-export.journal"}, here);
  INFO(beside.err);
  CHECK(beside.exit_code == 0);
  CHECK(fs::exists(data + "-export.journal"));
}
