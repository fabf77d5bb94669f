// The batch subcommand: reads the input, runs it through batch.h, and reports a summary
// on stderr (stdout carries only the results, so it can be piped).
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include <fmt/format.h>

#include "drovebank/batch.h"
#include "batch_cmd.h"
#include "batch_runs.h"
#include "cli_usage.h"
#include "exit_codes.h"
#include "own_args.h"

namespace drovebank {

namespace {

struct BatchArgs {
  std::string file;
  std::string account;
  size_t group_size = 1000;
  bool parallel = false;
  bool no_auto_keys = false;
  bool again = false;        // a new run of an input an earlier run applied to its end
  bool csv_only = false;  // import-csv: the input must be CSV
};

void PrintSummary(CliContext& ctx, BatchFormat format, const BatchSummary& s,
                  std::string_view name) {
  std::string resumed =
      s.replayed == 0 ? ""
                      : fmt::format("; resumed after {} applied event(s) (replayed)", s.replayed);
  if (format == BatchFormat::kCustomers) {
    fmt::print(ctx.err, "{}: account {}{}: {} event(s), {} applied, {} failed{}\n",
               name, s.account, s.opened ? " (opened)" : "", s.events, s.applied, s.refused, resumed);
  } else {
    fmt::print(ctx.err,
               "{}: {} event(s): {} applied in {} group commit(s), {} refused, {} invalid{}\n",
               name, s.events, s.applied, s.groups, s.refused, s.invalid, resumed);
  }
  std::fflush(ctx.err);
}

// Whether `file` is the standard input: "-", or a path to the same file (/dev/stdin).
bool IsStdin(const std::string& file) {
  if (file == "-") return true;
  struct stat path {}, in {};
  return ::stat(file.c_str(), &path) == 0 && ::fstat(STDIN_FILENO, &in) == 0 &&
         path.st_dev == in.st_dev && path.st_ino == in.st_ino;
}

// The input, checked against the options that apply to its format only.
Result<BatchInput> OpenInput(const BatchArgs& a, const BatchOptions& options) {
  auto opened = BatchInput::Open(a.file);
  // A missing input file is a mistake in the command line (exit 2), not a bank rule.
  if (!opened.ok() && opened.status().code() == Code::kNotFound) {
    return Status::InvalidArgument(opened.status().message());
  }
  DB_ASSIGN_OR_RETURN(BatchInput input, std::move(opened));
  if (a.csv_only && input.format() != BatchFormat::kCsv) {
    return Status::InvalidArgument(fmt::format(
        "{} is not CSV: its first line must be a header row such as "
        "op,id,from,to,amount,memo,key (`drovebank batch` reads JSON)",
        a.file == "-" ? "standard input" : a.file));
  }
  if (input.format() != BatchFormat::kCustomers && (options.parallel || options.account)) {
    return Status::InvalidArgument(
        "--parallel and --account apply to the branch/customer format only");
  }
  if (a.again && a.no_auto_keys) {
    return Status::InvalidArgument(
        "--again starts a new run of automatic keys, which --no-auto-keys turns off");
  }
  return input;
}

// A run that failed after `done` changes: never "nothing was changed" after changes; they
// stand, and a run again finishes.
Status SayWhatStands(const Status& s, size_t done) {
  if (done == 0 || s.maybe_applied() ||
      (s.code() != Code::kIOError && s.code() != Code::kInternal)) {
    return s;
  }
  return Status(s.code(), fmt::format("{}; {} change{} of this run {} committed and stand{}",
                                      s.message(), done, done == 1 ? "" : "s",
                                      done == 1 ? "was" : "were", done == 1 ? "s" : ""));
}

Status RunBatch(CliContext& ctx, const BatchArgs& a) {
  if (ctx.stdin_is_script && IsStdin(a.file)) {
    return Status::InvalidArgument(fmt::format(
        "{} would read this script's following lines as its input: in a script, give it "
        "a file ({} FILE), or run `drovebank {} -` outside the shell; nothing changed",
        a.csv_only ? "import-csv -" : "batch -", a.csv_only ? "import-csv" : "batch",
        a.csv_only ? "import-csv" : "batch"));
  }
  BatchOptions options;
  options.group_size = a.group_size;
  options.parallel = a.parallel;
  options.auto_keys = !a.no_auto_keys;
  if (!a.account.empty()) {
    DB_ASSIGN_OR_RETURN(AccountId id, ParseAccountId(a.account));
    options.account = id;
  }
  options.open_store = [&ctx]() { return ctx.GetStore(); };
  options.close_store = [&ctx]() { ctx.store.reset(); };

  DB_ASSIGN_OR_RETURN(BatchInput input, OpenInput(a, options));
  // Which run of this input: a new one, an interrupted one to resume, or (without
  // --again) none, when an earlier run got to its end.
  std::optional<BatchRun> run;
  if (options.auto_keys) {
    DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
    DB_ASSIGN_OR_RETURN(
        run, ChooseBatchRun(*store, input.hash(), a.again,
                            a.file == "-" ? "standard input" : a.file, &input));
    options.key_root = run->key_root;
  }
  BatchSummary summary;
  Status s;
  if (input.format() == BatchFormat::kCustomers) {
    DB_ASSIGN_OR_RETURN(std::string text, input.ReadAll());
    DB_ASSIGN_OR_RETURN(CustomerBatch batch, ParseCustomerBatch(text));
    s = RunCustomerBatch(batch, options.key_root.empty() ? input.hash() : options.key_root,
                         options, ctx.out, &summary);
  } else {
    s = RunOpsBatch(&input, options, ctx.out, &summary);
  }
  // The run's end is marked only when some of its changes are in the store: an input
  // whose every event was invalid or refused changed nothing, so it commits nothing
  // either (not even a txn of its own), and running it again is not refused.
  bool changed = summary.applied + summary.replayed > 0 || summary.opened;
  if (s.ok() && run.has_value() && changed) {
    Result<Store*> store = ctx.GetStore();
    s = store.ok() ? MarkRunEnd(**store, *run) : store.status();
  }
  // The summary on stderr counts them; a failed write of the results must not hide them.
  ctx.Committed(0, summary.applied + (summary.opened ? 1 : 0));
  if (!s.ok()) {
    if (summary.applied + summary.replayed > 0) {
      PrintSummary(ctx, input.format(), summary, a.csv_only ? "import-csv" : "batch");
    }
    return SayWhatStands(s, summary.applied + (summary.opened ? 1 : 0));
  }
  PrintSummary(ctx, input.format(), summary, a.csv_only ? "import-csv" : "batch");
  ctx.exit_code = summary.first_failure.ok() ? kExitOk : ExitCodeFor(summary.first_failure.code());
  return Status::Ok();
}

}  // namespace

void AddBatchCommand(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<BatchArgs>();
  auto* c = app.add_subcommand("batch", "Run many events from FILE, committed in groups");
  OwnArgs(c, a);
  c->add_option("FILE", a->file, "Input file, or - for standard input")->required();
  c->add_option("--account", a->account,
                "Branch/customer format: the account every customer acts on (default: a new "
                "account opened with the branches' balance)")
      ->type_name("ID");
  c->add_flag("--parallel", a->parallel,
              "Branch/customer format: run every customer as its own process, up to 64 at "
              "once (fewer when the open-file limit is low)");
  c->add_option("--group-size", a->group_size,
                "Events per group commit (one journal write and fsync each; default 1000)")
      ->type_name("N")
      ->check(WholeNumber("group size", 1000000));
  c->add_flag("--no-auto-keys", a->no_auto_keys,
              "Give events without a key none: faster, but re-running the same input after a "
              "crash applies its applied prefix again");
  c->add_flag("--again", a->again,
              "Apply an input that an earlier run applied to its end once more, as a new "
              "run (with keys of its own); without it such a run is refused");
  c->footer(
      "\nThe first non-space character picks the format: '[' a JSON array of branches and "
      "customers (output: one JSON array, one entry per customer); '{' JSON Lines of "
      "operations (output: one JSON object per line); a letter, CSV of the same operations "
      "after a header row (as import-csv). A JSON Lines operation is one object: \"op\" "
      "(open, deposit, withdraw, transfer, close); \"id\" (deposit, withdraw, close); "
      "\"from\" and \"to\" (transfer); \"amount\" (deposit, withdraw, transfer; optional "
      "for open); \"first\" and \"last\" (open); \"memo\" (optional: deposit, withdraw, "
      "transfer); \"key\" (optional idempotency key). Every event without a key gets the "
      "automatic key batch-<hash of the input>-<line>, so running the same input again "
      "after a crash skips what was applied and finishes the rest exactly once. A run that "
      "gets to its end commits a record saying so (key batch-<hash>-end); the same input "
      "run again is then refused (exit 3, naming that run) unless --again makes it a new "
      "run (keys batch-<hash>.2-<line>, and so on).\n"
      "Exit codes: as for every command; for JSON Lines, the code of the first line that "
      "failed (after running every line).\n\n"
      "Examples:\n  drovebank batch events.json\n  drovebank batch --parallel events.json\n"
      "  drovebank batch --group-size 100 ops.jsonl\n  generate-ops | drovebank batch -");
  // The App owns `a` through this capture, like BuildApp's own arguments.
  c->callback([&ctx, a]() {
    Status s = RunBatch(ctx, *a);
    if (!s.ok()) ctx.Fail(s);
  });
}

void AddImportCsvCommand(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<BatchArgs>();
  a->csv_only = true;
  auto* c = app.add_subcommand(
      "import-csv", "Run the operations of a CSV file (a header row, then one per row)");
  OwnArgs(c, a);
  c->add_option("FILE", a->file, "Input file, or - for standard input")->required();
  c->add_option("--group-size", a->group_size,
                "Rows per group commit (one journal write and fsync each; default 1000)")
      ->type_name("N")
      ->check(WholeNumber("group size", 1000000));
  c->add_flag("--no-auto-keys", a->no_auto_keys,
              "Give rows without a key none: faster, but re-running the same file after a "
              "crash applies its applied prefix again");
  c->add_flag("--again", a->again,
              "Apply a file that an earlier run applied to its end once more, as a new run "
              "(with keys of its own); without it such a run is refused");
  c->footer(
      "\nThe first line is a header row naming the columns, in any order, from op, id, from, "
      "to, amount, memo, key, first, last (op is required). Each row is one operation, run "
      "exactly like a line of `drovebank batch` JSON Lines: an empty cell is a field left "
      "out; op is open, deposit, withdraw, transfer or close; cells are RFC 4180 (quote a "
      "cell with a comma, double a quote inside). Each row is all-or-nothing; a bad row is "
      "reported with its line number and the others still run. Output: one JSON object per "
      "row, as batch. Rows without a key get the key batch-<hash of the file>-<line>, so "
      "running the same file again after a crash finishes it exactly once. Once a run got "
      "to its end, the same file again is refused (exit 3, naming that run), unless "
      "--again applies it as a new run (a rent file each month).\n"
      "Exit codes: as for every command; the code of the first row that failed (after "
      "running every row); 2 for a bad header row (nothing run).\n\n"
      "Example file:\n  op,id,from,to,amount,memo,key\n  deposit,1,,,25.00,salary,pay-11\n"
      "  transfer,,1,2,10.00,\"rent, November\",\n\n"
      "Examples:\n  drovebank import-csv ops.csv\n  drovebank import-csv --again rent.csv\n"
      "  export-ops | drovebank import-csv -");
  c->callback([&ctx, a]() {
    Status s = RunBatch(ctx, *a);
    if (!s.ok()) ctx.Fail(s);
  });
}

}  // namespace drovebank
