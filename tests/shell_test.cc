// The shell engine driven by scripted input: menu, named commands, transactions. (The
// tokenizer: shell_tokenize_test.cc; script mode through the real program:
// shell_script_test.cc; a real terminal: shell_e2e_test.cc.)
#include <catch2/catch.hpp>

#include "cli/shell_internal.h"
#include "drovebank/store.h"
#include "shell_test_util.h"

namespace drovebank {
namespace {

using testing::Contains;
using testing::ScriptSource;
using testing::TempDir;
using testing::TestSession;

std::unique_ptr<Store> OpenStore(const std::string& dir) {
  StoreOptions o;
  o.data_dir = dir;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

Cents BalanceOf(Store* s, AccountId id) {
  auto a = s->Get(id);
  REQUIRE(a.ok());
  return a->balance;
}

// Opens accounts 1 (Ada, 100.00) and 2 (Bob, 5.00).
void Seed(const std::string& dir) {
  auto s = OpenStore(dir);
  for (auto [first, amount] : {std::pair{"Ada", 10000}, std::pair{"Bob", 500}}) {
    Op op;
    op.kind = OpKind::kOpen;
    op.first = first;
    op.last = "Test";
    op.amount = amount;
    REQUIRE(s->Commit(Event{{op}, ""}).ok());
  }
}

std::uint64_t LastTxn(Store* s, AccountId id) {
  auto a = s->Get(id);
  REQUIRE(a.ok());
  return a->last_txn;
}

}  // namespace

TEST_CASE("shell menu: create asks each value in turn and re-asks a bad one", "[shell][menu]") {
  TempDir tmp;
  TestSession s(tmp.path());
  ScriptSource src({"c", "", "Mary Ann", "O'Brien", "12.345", "-3", "12.34", "l", "q"},
                   /*interactive=*/true);
  REQUIRE(s.Run(src) == 0);
  std::vector<std::string> want = {"drovebank> ",        "First Name: ",       "First Name: ",
                                   "Last Name: ",        "Starting Balance: ", "Starting Balance: ",
                                   "Starting Balance: ", "drovebank> ",        "drovebank> "};
  CHECK(src.prompts == want);
  std::string out = s.out.text();
  CHECK(Contains(out, "Opened account 1 for Mary Ann O'Brien, balance 12.34"));
  CHECK(Contains(out, "page 1 of 1 (1 in all)"));
  std::string err = s.err.text();
  CHECK(Contains(err, "try again (q cancels)"));
  CHECK(Contains(err, "12.345"));
  auto store = OpenStore(tmp.path());
  CHECK(BalanceOf(store.get(), 1) == 1234);
}

TEST_CASE("shell menu: q at any question cancels and nothing changes", "[shell][menu]") {
  struct Action {
    std::string letter;
    std::vector<std::string> answers;
  };
  std::vector<Action> actions = {{"c", {"Eve", "Adams", "7"}},
                                 {"d", {"1", "10"}},
                                 {"w", {"1", "10"}},
                                 {"t", {"1", "2", "10"}}};
  for (const Action& a : actions) {
    for (size_t cancel_at = 0; cancel_at < a.answers.size(); ++cancel_at) {
      INFO(a.letter << " cancelled at question " << cancel_at);
      TempDir tmp;
      Seed(tmp.path());
      std::vector<std::string> lines = {a.letter};
      for (size_t i = 0; i < cancel_at; ++i) lines.push_back(a.answers[i]);
      lines.push_back("q");
      lines.push_back("list");
      TestSession s(tmp.path());
      ScriptSource src(lines, /*interactive=*/true);
      REQUIRE(s.Run(src) == 0);
      CHECK(Contains(s.out.text(), "Cancelled; nothing changed."));
      CHECK(Contains(s.out.text(), "(2 in all)"));
      auto store = OpenStore(tmp.path());
      CHECK(BalanceOf(store.get(), 1) == 10000);
      CHECK(BalanceOf(store.get(), 2) == 500);
      CHECK(LastTxn(store.get(), 1) == 1);
      CHECK(LastTxn(store.get(), 2) == 2);
    }
    // And answered in full, the action happens.
    TempDir tmp;
    Seed(tmp.path());
    std::vector<std::string> lines = {a.letter};
    lines.insert(lines.end(), a.answers.begin(), a.answers.end());
    TestSession s(tmp.path());
    ScriptSource src(lines, /*interactive=*/true);
    REQUIRE(s.Run(src) == 0);
    auto store = OpenStore(tmp.path());
    Cents b1 = BalanceOf(store.get(), 1);
    if (a.letter == "c") CHECK(store->Get(3).ok());
    if (a.letter == "d") CHECK(b1 == 11000);
    if (a.letter == "w") CHECK(b1 == 9000);
    if (a.letter == "t") CHECK((b1 == 9000 && BalanceOf(store.get(), 2) == 1500));
  }
}

TEST_CASE("shell menu: an account or amount the rules refuse is asked again", "[shell][menu]") {
  TempDir tmp;
  Seed(tmp.path());
  TestSession s(tmp.path());
  // w: no account 9, then Bob (5.00) cannot give 50, then 5 is fine.
  // t: same account twice is refused at To.
  ScriptSource src({"w", "9", "abc", "2", "50", "0", "5", "t", "1", "1", "2", "100.01", "100"},
                   /*interactive=*/true);
  REQUIRE(s.Run(src) == 0);
  std::string err = s.err.text();
  CHECK(Contains(err, "no account 9"));
  CHECK(Contains(err, "account 2 has 5.00, not enough to withdraw 50.00"));
  CHECK(Contains(err, "a transfer needs two different accounts"));
  CHECK(Contains(err, "account 1 has 100.00, not enough to transfer 100.01"));
  auto store = OpenStore(tmp.path());
  CHECK(BalanceOf(store.get(), 1) == 0);
  CHECK(BalanceOf(store.get(), 2) == 10000);
}

TEST_CASE("shell: named commands run exactly as the one-shot subcommands", "[shell][commands]") {
  TempDir tmp;
  TestSession s(tmp.path());
  ScriptSource src({"open \"Mary Ann\" 'O'\"'\"'Brien' 10", "open Bob Smith", "deposit 1 2.50",
                    "list --page-size 1", "next", "next", "prev", "prev", "history 1",
                    "help deposit",
                    "bogus 1", "d 1 5", "quit", "list"},
                   /*interactive=*/false);
  int code = s.Run(src);
  std::string out = s.out.text();
  std::string err = s.err.text();
  CHECK(Contains(out, "Opened account 1 for Mary Ann O'Brien, balance 10.00"));
  CHECK(Contains(out, "Deposited 2.50 to account 1; balance 12.50"));
  CHECK(Contains(out, "page 2 of 2"));
  CHECK(Contains(out, "Usage"));
  CHECK(Contains(err, "line 6: already on the last page (2 of 2)"));
  CHECK_FALSE(Contains(out, "page 3 of 2"));
  CHECK(Contains(err, "line 8: already on the first page"));
  CHECK(Contains(err, "line 11: unknown command 'bogus'"));
  CHECK(Contains(err, "line 12: the menu letter d takes no arguments"));
  CHECK(code == 2);  // the first failure (line 6) was a usage error
  // quit stopped the run: the last list never ran (one "page 1 of 2" from list, one from prev).
  size_t lists = 0;
  for (size_t p = out.find("page 1 of 2"); p != std::string::npos;
       p = out.find("page 1 of 2", p + 1)) {
    ++lists;
  }
  CHECK(lists == 2);
}

// A shell line of a built-in command builds that command's options alone (BuildApp's
// `only`: the whole table was 73% of a shell deposit's instructions). Its help, which
// CLI11 draws from every option and positional, must be what the whole table gives, for
// every built-in command and the alias `bal`, and the alias must run.
TEST_CASE("shell: a line built with its own command alone parses and helps as the whole table",
          "[shell][commands]") {
  TempDir tmp;
  Seed(tmp.path());
  for (std::string name : {"open", "show", "deposit", "withdraw", "transfer", "close", "rename",
                           "list", "search", "history", "txn", "balance", "bal", "statement",
                           "export"}) {
    INFO(name);
    REQUIRE_FALSE(CoreCommand(name).empty());
    TestSession s(tmp.path());
    ScriptSource src({name + " --help"}, /*interactive=*/false);
    CHECK(s.Run(src) == 0);
    CliContext ctx;
    auto whole = BuildApp(ctx, /*with_globals=*/false);
    auto alone = BuildApp(ctx, /*with_globals=*/false, CoreCommand(name));
    CHECK(alone->get_subcommands({}).size() == 1);
    std::string want = whole->get_subcommand(name)->help();
    CHECK(alone->get_subcommand(name)->help() == want);
    CHECK(s.out.text() == want + "\n");
  }
  TestSession s(tmp.path());
  // An extension's command (reverse_test.cc runs the real one) is found in the whole table.
  s.ctx.extensions.push_back([](CLI::App& app, CliContext& c) {
    app.add_subcommand("frob", "an extension's command")->callback([&c] { c.Fail(Status::Busy("frobbed")); });
  });
  ScriptSource src({"bal", "frob", "frobnicate"}, /*interactive=*/false);
  s.Run(src);
  CHECK(Contains(s.out.text(), "105.00"));  // the total of Ada's and Bob's, through `bal`
  CHECK(Contains(s.err.text(), "line 2: frobbed"));
  CHECK(Contains(s.err.text(), "line 3: unknown command 'frobnicate'"));
}

// A session keeps one App per command and parses it again for each line (OwnArgs puts
// the defaults back before each parse). A line's options must never carry into the next
// line of the same command: a key would make the next deposit a replay that changes
// nothing, an output format would change the next report.
TEST_CASE("shell: a line's options never carry into the next line of the same command",
          "[shell][commands]") {
  SECTION("changes: each unkeyed line after a keyed one applies") {
    struct Case {
      std::vector<std::string> lines;
      Cents ada, bob;
    };
    for (const Case& c : std::vector<Case>{
             {{"deposit 1 1 --txn k1", "deposit 1 1"}, 10200, 500},
             {{"withdraw 1 1 --txn k2 --memo rent", "withdraw 1 1"}, 9800, 500},
             {{"transfer 1 2 1 --txn k3", "transfer 1 2 1"}, 9800, 700},
             {{"deposit 1 1 --txn k4 --bogus", "deposit 1 1"}, 10100, 500},  // a refused line
         }) {
      INFO(c.lines[0]);
      TempDir tmp;
      Seed(tmp.path());
      TestSession s(tmp.path());
      ScriptSource src(c.lines, /*interactive=*/false);
      s.Run(src);
      auto store = OpenStore(tmp.path());
      CHECK(BalanceOf(store.get(), 1) == c.ada);
      CHECK(BalanceOf(store.get(), 2) == c.bob);
      CHECK_FALSE(Contains(s.out.text(), "already applied"));
    }
  }
  SECTION("reports: two lines print what each prints alone") {
    TempDir tmp;
    Seed(tmp.path());
    auto run = [&](const std::vector<std::string>& lines) {
      TestSession s(tmp.path());
      ScriptSource src(lines, /*interactive=*/false);
      CHECK(s.Run(src) == 0);
      return s.out.text();
    };
    for (const auto& [first, second] : std::vector<std::pair<std::string, std::string>>{
             {"list --all -O csv", "list"},
             {"list --page-size 1", "list"},
             {"balance -O json", "balance"},
             {"search Ada -O csv", "search Bob"},
             {"history 1 -O csv", "history 1"},
             {"statement 1 --month 2026-12 -O json", "statement 1 --month 2026-12"},
             {"history 1 --page-size 1", "history 2"},
         }) {
      INFO(first << " then " << second);
      CHECK(run({first, second}) == run({first}) + run({second}));
    }
  }
}

TEST_CASE("shell transaction: commit applies every staged change as one record", "[shell][txn]") {
  TempDir tmp;
  Seed(tmp.path());
  TestSession s(tmp.path());
  ScriptSource src({"begin", "deposit 1 10", "w", "2", "3", "transfer 1 2 50", "show", "show 2",
                    "commit", "show 2"},
                   /*interactive=*/false);
  // Before commit, nothing is written: another session sees the old balances.
  src.before[8] = [&] {
    auto other = OpenStore(tmp.path());
    CHECK(BalanceOf(other.get(), 1) == 10000);
    CHECK(BalanceOf(other.get(), 2) == 500);
  };
  REQUIRE(s.Run(src) == 0);
  std::string out = s.out.text();
  CHECK(Contains(out, "Staged: deposit 10.00 to account 1"));
  CHECK(Contains(out, "account 2 balance 2.00 (pending)"));
  CHECK(Contains(out, "Balance: 52.00 (pending; committed 5.00)"));
  CHECK(Contains(out, "Committed 3 change(s) as transaction 3"));
  auto store = OpenStore(tmp.path());
  CHECK(BalanceOf(store.get(), 1) == 6000);
  CHECK(BalanceOf(store.get(), 2) == 5200);
  auto rec = store->FindTxn(3);
  REQUIRE(rec.ok());
  CHECK(rec->ops.size() == 3);
  CHECK(LastTxn(store.get(), 1) == 3);
  CHECK(LastTxn(store.get(), 2) == 3);
  CHECK_FALSE(store->FindTxn(4).ok());
}

TEST_CASE("shell transaction: abort, quit and end of input discard and say so", "[shell][txn]") {
  struct Ending {
    std::vector<std::string> tail;
    bool interactive;
    int want_code;
    const char* says;
  };
  for (const Ending& e : {Ending{{"abort", "list"}, false, 0, "Transaction aborted"},
                          Ending{{"quit"}, false, 0, "discarded on exit"},
                          Ending{{"q"}, true, 0, "discarded on exit"},
                          Ending{{}, true, 0, "discarded at the end of input"},
                          Ending{{}, false, 2, "discarded at the end of input"}}) {
    INFO(e.says << " interactive=" << e.interactive);
    TempDir tmp;
    Seed(tmp.path());
    TestSession s(tmp.path());
    std::vector<std::string> lines = {"begin", "deposit 1 10", "transfer 1 2 5"};
    lines.insert(lines.end(), e.tail.begin(), e.tail.end());
    ScriptSource src(lines, e.interactive);
    CHECK(s.Run(src) == e.want_code);
    CHECK(Contains(s.out.text(), e.says));
    CHECK(Contains(s.out.text(), "2 staged change(s) discarded; nothing changed."));
    if (e.want_code != 0) {
      // The script's failure is its end, not its last line (which succeeded).
      CHECK(Contains(s.err.text(), "end of input: the input ended inside a transaction"));
      CHECK_FALSE(Contains(s.err.text(), "line 3:"));
    }
    auto store = OpenStore(tmp.path());
    CHECK(BalanceOf(store.get(), 1) == 10000);
    CHECK(BalanceOf(store.get(), 2) == 500);
    CHECK_FALSE(store->FindTxn(3).ok());
  }
}

TEST_CASE(
    "shell transaction: a change by another session that breaks a rule refuses the "
    "whole commit",
    "[shell][txn]") {
  TempDir tmp;
  Seed(tmp.path());
  TestSession s(tmp.path());
  ScriptSource src({"begin", "deposit 2 1", "withdraw 1 80", "commit", "abort"},
                   /*interactive=*/false);
  // Between staging and commit, someone else takes 50.00 from account 1.
  src.before[3] = [&] {
    auto other = OpenStore(tmp.path());
    Op op;
    op.kind = OpKind::kWithdraw;
    op.id = 1;
    op.amount = 5000;
    REQUIRE(other->Commit(Event{{op}, ""}).ok());
  };
  CHECK(s.Run(src) == 3);  // refused by a bank rule
  CHECK(Contains(s.err.text(),
                 "commit refused: account 1 has 50.00, not enough to withdraw "
                 "80.00; nothing changed"));
  CHECK(Contains(s.out.text(), "Transaction aborted"));
  auto store = OpenStore(tmp.path());
  CHECK(BalanceOf(store.get(), 1) == 5000);
  CHECK(BalanceOf(store.get(), 2) == 500);  // the deposit did not go through alone
  CHECK(LastTxn(store.get(), 2) == 2);
  CHECK_FALSE(store->FindTxn(4).ok());
}

TEST_CASE("shell transaction: staging checks the rules against pending balances", "[shell][txn]") {
  TempDir tmp;
  Seed(tmp.path());
  TestSession s(tmp.path());
  // A failed line aborts a script's transaction (as in psql), so each refusal gets its own.
  ScriptSource src({"begin", "withdraw 2 5", "withdraw 2 0.01", "abort",       // 1-4
                    "begin", "open A B", "abort",                              // 5-7
                    "begin", "close 1", "abort",                               // 8-10
                    "begin", "deposit 1 1 --txn k1", "abort",                  // 11-13
                    "begin", "withdraw 2 5", "begin", "abort",                 // 14-17
                    "begin", "withdraw 2 5", "show", "commit"},                // 18-21
                   /*interactive=*/false);
  CHECK(s.Run(src) == 3);
  std::string err = s.err.text();
  CHECK(Contains(err, "line 3: account 2 has 0.00, not enough to withdraw 0.01"));
  CHECK(Contains(err, "line 6: open cannot be part of a transaction"));
  CHECK(Contains(err, "line 9: close cannot be part of a transaction"));
  CHECK(Contains(err, "line 12: --txn cannot be given to one change"));
  CHECK(Contains(err, "line 16: a transaction is already open"));
  CHECK(Contains(s.out.text(), "1 change(s) pending"));
  auto store = OpenStore(tmp.path());
  CHECK(BalanceOf(store.get(), 2) == 0);
}

TEST_CASE("shell transaction: begin --txn makes the commit idempotent", "[shell][txn]") {
  TempDir tmp;
  Seed(tmp.path());
  for (int run = 0; run < 2; ++run) {
    TestSession s(tmp.path());
    ScriptSource src({"begin --txn pay-1", "transfer 1 2 10", "deposit 2 1", "commit"},
                     /*interactive=*/false);
    CHECK(s.Run(src) == 0);
    if (run == 1) CHECK(Contains(s.out.text(), "already committed earlier with this key"));
  }
  auto store = OpenStore(tmp.path());
  CHECK(BalanceOf(store.get(), 1) == 9000);
  CHECK(BalanceOf(store.get(), 2) == 1600);
}

TEST_CASE("shell --json: every command prints one JSON value", "[shell][json]") {
  TempDir tmp;
  Seed(tmp.path());
  TestSession s(tmp.path(), /*json=*/true);
  ScriptSource src({"show 1", "begin", "deposit 1 1", "show", "commit", "bogus"},
                   /*interactive=*/false);
  CHECK(s.Run(src) == 2);
  std::istringstream lines(s.out.text());
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK_NOTHROW(nlohmann::json::parse(line));
    ++n;
  }
  CHECK(n == 6);
  CHECK(Contains(s.out.text(), "\"committed\":true"));
  CHECK(Contains(s.out.text(), "\"pending\":true"));
}

TEST_CASE("shell completion: account ids by prefix, command names and options",
          "[shell][complete]") {
  TempDir tmp;
  auto store = OpenStore(tmp.path());
  std::vector<Event> opens;
  for (int i = 0; i < 120; ++i) {
    Op op;
    op.kind = OpKind::kOpen;
    op.first = "P";
    op.last = std::to_string(i);
    opens.push_back(Event{{op}, ""});
  }
  REQUIRE(store->CommitGroup(opens).ok());
  auto expect = [](const std::string& prefix) {
    std::vector<std::string> ids;
    for (int id = 1; id <= 120; ++id) {
      std::string s = std::to_string(id);
      if (s.compare(0, prefix.size(), prefix) == 0) ids.push_back(s);
    }
    return ids;
  };
  std::vector<std::string> prefixes = {"", "0", "00", "x", "1a", "121", "999999999"};
  for (int p = 0; p <= 130; ++p) prefixes.push_back(std::to_string(p));
  for (const std::string& prefix : prefixes) {
    INFO("prefix '" << prefix << "'");
    bool valid = prefix.find_first_not_of("0123456789") == std::string::npos &&
                 (prefix.empty() || prefix[0] != '0') && prefix.size() <= 8;
    CHECK(AccountIdsWithPrefix(store.get(), prefix, 1000) ==
          (valid ? expect(prefix) : std::vector<std::string>{}));
  }
  CHECK(AccountIdsWithPrefix(store.get(), "", 7).size() == 7);

  CliContext ctx;
  auto names = CommandNames(ctx);
  for (const char* n : {"deposit", "history", "begin", "commit", "next", "quit"}) {
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  }
  auto opts = CommandOptions(ctx, "list");
  CHECK(std::find(opts.begin(), opts.end(), "--page") != opts.end());
  CHECK(CommandOptions(ctx, "nonsense").empty());
}

}  // namespace drovebank

namespace drovebank {

TEST_CASE("shell completion: the values of -O and export --format, file names after -o, "
          "every option of a prefix",
          "[shell][complete]") {
  TempDir tmp;
  CliContext ctx;
  ctx.data_dir = tmp / "data";
  using Words = std::vector<std::string>;
  auto words = [&](Words before, const std::string& prefix) {
    Completion c = CompletionFor(ctx, before, prefix);
    CHECK_FALSE(c.files);
    return c.words;
  };
  CHECK(words({"list", "-O"}, "") == Words{"csv", "json", "text", "tsv"});
  CHECK(words({"-O"}, "j") == Words{"json"});  // the global option, before the command
  CHECK(words({"history", "1", "--output"}, "t") == Words{"text", "tsv"});
  CHECK(words({"export", "--format"}, "") == Words{"beancount", "csv", "hledger", "ledger"});
  CHECK(words({"-O", "json", "export", "--format"}, "l") == Words{"ledger"});
  CHECK(CompletionFor(ctx, {"export", "--format", "csv", "-o"}, "ba").files);
  CHECK(CompletionFor(ctx, {"export", "--output-file"}, "").files);
  CHECK(words({"list"}, "--p") == Words{"--page", "--page-size"});
  CHECK(words({"history", "1"}, "--p") == Words{"--page", "--page-size"});
  CHECK(words({"-O", "csv"}, "li") == Words{"list"});
  CHECK(words({}, "ren") == Words{"rename"});
  CHECK(words({"help"}, "ren") == Words{"rename"});
  CHECK(words({"help", "list"}, "").empty());
  // No store there: no ids, and none is made by asking.
  CHECK(words({"show"}, "1").empty());
  CHECK_FALSE(testing::PathExists(tmp / "data"));
}

}  // namespace drovebank
