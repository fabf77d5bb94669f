#include "batch_runs.h"

#include <fmt/format.h>

#include <optional>

#include "drovebank/fault_path.h"
#include "drovebank/clock.h"

namespace drovebank {

namespace {

std::string Root(const std::string& hash, int number) {
  return number == 1 ? hash : fmt::format("{}.{}", hash, number);
}

// The txn of the first change the run of `root` committed under an automatic key of a
// line of `input` (JSON Lines or CSV: keys by line number; the customer format: its
// account's open), 0 when none is found among the first lines.
Result<std::uint64_t> FirstChange(Store& store, const std::string& root, BatchInput* input) {
  constexpr size_t kMostLines = 10000;  // a refusal looks at most this far
  auto txn_of = [&](std::string_view position) -> Result<std::uint64_t> {
    DB_ASSIGN_OR_RETURN(std::optional<Record> r, store.FindKey(AutoKey(root, position)));
    return r.has_value() ? r->txn : 0;
  };
  if (input->format() == BatchFormat::kCustomers) return txn_of("open");
  std::string text;
  for (size_t line = 1; line <= kMostLines && input->NextLine(&text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    DB_ASSIGN_OR_RETURN(std::uint64_t txn, txn_of(std::to_string(line)));
    if (txn != 0) return txn;
  }
  return std::uint64_t{0};
}

}  // namespace

std::string RunEndKey(const std::string& key_root) { return AutoKey(key_root, "end"); }

Result<BatchRun> ChooseBatchRun(Store& store, const std::string& hash, bool again,
                                const std::string& name, BatchInput* input) {
  BatchRun run;
  std::optional<Record> last_end;  // the end of the last run that got to its end
  for (;; ++run.number) {
    run.key_root = Root(hash, run.number);
    DB_ASSIGN_OR_RETURN(std::optional<Record> end, store.FindKey(RunEndKey(run.key_root)));
    if (!end.has_value()) break;
    last_end = std::move(end);
  }
  if (!last_end.has_value() || again) return run;
  int done = run.number - 1;
  DB_ASSIGN_OR_RETURN(std::uint64_t first, FirstChange(store, Root(hash, done), input));
  std::string changes =
      first == 0 ? "no change of its own found" : fmt::format("its changes from txn {}", first);
  return Status::RuleFailed(fmt::format(
      "{} was already run to its end: run {} of this input ({}), ended by txn {} at {}; "
      "nothing changed. To apply it again as a new run, add --again",
      name, done, changes, last_end->txn, FormatTime(last_end->time_ms)));
}

Status MarkRunEnd(Store& store, const BatchRun& run) {
  Event end;
  end.key = RunEndKey(run.key_root);
  DB_FAULT_PATH("batch-end");
  return store.Commit(std::move(end)).status();
}

}  // namespace drovebank
