// recover: repair and check a drovebank data directory (see include/drovebank/recovery.h):
// RecoverMain, which recover/main.cc calls.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "cli.h"
#include "cli_usage.h"
#include "color.h"
#include "drovebank/env.h"
#include "drovebank/money.h"
#include "drovebank/programs.h"
#include "drovebank/recovery.h"
#include "drovebank/store.h"
#include "exit_codes.h"
#include "progress.h"
#include "version.h"

namespace drovebank {
namespace {

// One entry of the report's "repairs" (docs/FORMAT.md): null for what does not apply.
nlohmann::json RepairJson(const drovebank::FileRepair& f) {
  using drovebank::FormatCents;
  nlohmann::json j = {{"file", f.file}, {"found", drovebank::FoundName(f.found)}};
  if (f.found == drovebank::FileRepair::Found::kKeySlot) {
    j["key"] = f.key;
    j["txn"] = f.txn;
    return j;
  }
  auto state = [](const drovebank::Account& a) {
    return nlohmann::json{{"balance", FormatCents(a.balance)},
                          {"status", a.closed ? "closed" : "open"},
                          {"version", a.version}};
  };
  j["account"] = f.id;
  j["file_said"] = f.file_said ? state(*f.file_said) : nullptr;
  j["problem"] = f.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.problem);
  j["journal_says"] = state(f.journal);
  j["kept_as"] = f.kept_as.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.kept_as);
  return j;
}

// The report of a run that finished: one JSON value, or the notes and a summary line.
void PrintReport(std::FILE* out, const drovebank::RecoverOptions& o,
                 const drovebank::RecoverReport& r, bool json) {
  using namespace drovebank;
  SharedFsMode fs = FileSystemMode(ResolveDataDir(o.data_dir));
  if (json) {
    nlohmann::json j = {
        {"mode", o.check_only ? "check" : "repair"},
        {"file_system",
         {{"type", fs.type}, {"mode", fs.shared ? "shared" : "local"}, {"reason", fs.reason}}},
        {"consistent", r.consistent()},
        {"dead_locks", r.dead_locks},
        {"live_locks", r.live_locks},
        {"temps", r.temps_removed},
        {"journal_records_examined", r.records_replayed},
        {"files_repaired", r.files_repaired},
        {"accounts_verified", r.accounts_verified},
        {"quarantined", r.quarantined},
        {"chain_head",
         r.chain_head.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.chain_head)},
        {"chain_records", r.chain_records},
        {"repairs", nlohmann::json::array()},
        {"notes", r.notes}};
    for (const FileRepair& f : r.repairs) j["repairs"].push_back(RepairJson(f));
    fmt::print(out, "{}\n", j.dump());
  } else {
    for (const std::string& n : r.notes) fmt::print(out, "{}\n", n);
    if (o.check_only) {
      fmt::print(out, "{}\n", FileSystemModeLine(fs));
      fmt::print(out, "{}\n",
                 r.consistent() ? "consistent: nothing to repair" : "needs repair: run recover");
    } else {
      fmt::print(
          "recovered: {} dead lock(s) cleared, {} temp file(s) removed, {} journal record(s) "
          "examined, {} file(s) repaired, {} quarantined{}\n",
          r.dead_locks, r.temps_removed, r.records_replayed, r.files_repaired, r.quarantined,
          o.full ? fmt::format(", {} account(s) verified", r.accounts_verified) : "");
    }
  }
}

// recover's options, into `opts` and `json`; its version flag and its help's footer.
void AddRecoverOptions(CLI::App& app, RecoverOptions& opts, bool& json) {
  app.add_option("-d,--data-dir", opts.data_dir,
                 "Data directory (default: $DROVEBANK_DATA, else ./data)")
      ->type_name("DIR")
      ->check(drovebank::NotEmpty("the data directory (-d)"));
  app.add_flag("--check", opts.check_only,
               "Change nothing; exit 0 when consistent, 1 when it needs repair");
  app.add_flag("--full", opts.full, "Also verify every account file");
  app.add_flag("--accept-loss", opts.accept_loss,
               "The way out when the journal lost records and no backup of it exists: cut it "
               "back to its last whole record, rebuild every account from what is left (as "
               "--full), keep what is cut and every newer file in quarantine/. The lost "
               "records stay lost");
  app.add_flag("--json", json, "Print the report as one JSON value");
  app.add_option("--expect-head", opts.expect_head,
                 "Fail (exit 5) unless the journal's hash chain passes through this head, "
                 "as an earlier --check printed it: proves the history up to TXN unchanged")
      ->type_name("TXN:HASH");
  app.add_option("--lock-timeout", opts.lock_timeout, "Seconds to wait for a live lock")
      ->type_name("SECONDS")
      ->check(drovebank::Seconds("--lock-timeout", 86400));
  app.set_version_flag("-V,--version", drovebank::VersionLine("recover (drovebank)"));
  app.footer(
      "\nExit codes: 0 done (with --check: consistent); 1 with --check: needs repair, "
      "otherwise an I/O error; 2 usage; 4 a live lock did not go away in time; 5 the store "
      "holds corruption recover cannot settle.\n\nExamples:\n  recover -d data\n  recover "
      "--check\n  recover --full --json");
}

// A recovery that failed: the error on stderr (and as JSON on stdout with --json), with
// its exit status.
int ReportFailure(CliContext& ctx, const Status& s, bool json) {
  // The JSON error of docs/FORMAT.md, as drovebank's: with its exit status and whether
  // a change may have been made (recover's own repairs before the failure stand).
  int code = ExitCodeFor(s.code());
  GuardOutput(ctx, [&]() {
    fmt::print(stderr, "{} {}\n", Paint(stderr, Style::kError, "recover:"), s.message());
    std::fflush(stderr);
    if (json) {
      fmt::print(ctx.out, "{}\n",
                 nlohmann::json{{"error",
                                 {{"code", CodeName(s.code())},
                                  {"message", s.message()},
                                  {"exit", code},
                                  {"maybe_applied", s.maybe_applied()}}}}
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return code;
  });
  return FinishOutput(ctx, code);
}

}  // namespace

int RecoverMain(int argc, char** argv) {
  CLI::App app(
      "recover: replays committed journal records missing from the account files, removes "
      "temp files, clears locks of dead processes, and verifies what it touched.",
      "recover");
  RecoverOptions opts;
  bool json = false;
  AddRecoverOptions(app, opts, json);
  // Output goes through drovebank's one checked stream, and a failed write of it is
  // reported by FinishOutput, as drovebank's are.
  CliContext ctx;
  ctx.program = "recover";
  ctx.out = KeepStdoutErrors();
  // A usage error is found before the parser sets --json: so that it too is one JSON value
  // on stdout, the flag is looked for first (as drovebank does).
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    ctx.json = ctx.json || std::string_view(argv[i]) == "--json";
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::ostringstream out, err;
    int code = app.exit(e, out, err);
    GuardOutput(ctx, [&]() {
      fmt::print(ctx.out, "{}", out.str());
      return 0;
    });
    return FinishOutput(ctx, code);
  } catch (const CLI::ParseError& e) {
    // drovebank's usage errors: one sentence with the usage line, exit 2, and with --json
    // one JSON error value on stdout.
    ctx.Fail(UsageError(e, app, "recover "));
    return FinishOutput(ctx, ctx.exit_code);
  }

  // Nothing to recover where there is no directory: a usage error (as drovebank's "no
  // store" for a read), and no store is made there.
  std::string where = ResolveDataDir(opts.data_dir);
  struct stat st;
  if (::stat(where.c_str(), &st) != 0 && errno == ENOENT) {
    ctx.Fail(
        Status::InvalidArgument(fmt::format("no data directory at {}: nothing to recover", where)));
    return FinishOutput(ctx, ctx.exit_code);
  }

  // Draws only when stderr is a terminal; rate-limited.
  ProgressBar bar("verifying accounts", 0);
  if (opts.full && bar.enabled()) {
    opts.progress = [&bar](size_t done, size_t total) {
      bar.set_total(total);
      bar.Update(done);
    };
  }
  RecoverReport report;
  Status s = Recover(opts, &report);
  bar.Done();
  if (!s.ok()) return ReportFailure(ctx, s, json);
  if (!opts.check_only) ctx.stands = "the recovery was done and stands (only its report is lost)";
  int code = GuardOutput(ctx, [&]() {
    PrintReport(ctx.out, opts, report, json);
    return opts.check_only && !report.consistent() ? 1 : 0;
  });
  return FinishOutput(ctx, code);
}

}  // namespace drovebank
