// The import engine: commits a LegacyPlan into the store (see import_legacy.h for the
// contract). Printing lives in src/cli/import_legacy_cmd.cc.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "drovebank/fault_path.h"
#include "drovebank/import_legacy.h"

namespace drovebank {

namespace {

std::string Describe(std::string_view first, std::string_view last, Cents balance) {
  return fmt::format("\"{} {}\" with {}", first, last, FormatCents(balance));
}

// An open refused because the id is taken: the account may be this legacy account
// imported by other means (same data: nothing to do) or someone else's (a conflict).
ImportedAccount Compare(Store* store, const LegacyAccount& want, const Status& why) {
  ImportedAccount out{want, ImportOutcome::kError, "", 0};
  Result<Account> have = store->Get(want.id);
  if (!have.ok()) {
    out.message = fmt::format("{}; reading account {} failed: {}", why.message(), want.id,
                              have.status().message());
    return out;
  }
  bool same = have->first == want.first && have->last == want.last &&
              have->balance == want.balance && !have->closed;
  if (same && why.code() == Code::kRuleFailed) {
    out.outcome = ImportOutcome::kAlreadyImported;
    out.message = fmt::format("account {} already exists with the same name and balance", want.id);
    out.txn = have->last_txn;
    return out;
  }
  out.outcome = ImportOutcome::kConflict;
  std::string state = Describe(have->first, have->last, have->balance);
  if (have->closed) state += ", closed";
  if (why.code() == Code::kKeyReused) {
    out.message = fmt::format(
        "key {} was used for other data (did the legacy file change since an earlier "
        "import?); account {} here is {}; the legacy file says {}; left unchanged",
        LegacyImportKey(want.id), want.id, state, Describe(want.first, want.last, want.balance));
  } else {
    out.message = fmt::format("account {} here is {}; the legacy file says {}; left unchanged",
                              want.id, state, Describe(want.first, want.last, want.balance));
  }
  return out;
}

ImportedAccount Settle(Store* store, const LegacyAccount& want, const EventResult& res) {
  if (res.status.ok() && !res.replayed) {
    return {want, ImportOutcome::kImported, "", res.record.txn};
  }
  if (res.status.ok()) {
    // A replayed key says the open is committed, not that its file was written: a run
    // that crashed after the journal sync leaves the account only in the journal, behind
    // a dead lock. Reading it takes the lock over and writes the file, so the store's
    // account tree (list, search) is complete when the re-run ends.
    Result<Account> have = store->Get(want.id);
    if (!have.ok()) {
      return {want, ImportOutcome::kError,
              fmt::format("imported earlier, but reading account {} failed: {}", want.id,
                          have.status().message()),
              res.record.txn};
    }
    return {want, ImportOutcome::kAlreadyImported, "", res.record.txn};
  }
  Code c = res.status.code();
  if (c == Code::kRuleFailed || c == Code::kKeyReused) return Compare(store, want, res.status);
  return {want, ImportOutcome::kError, res.status.message(), 0};
}

}  // namespace

std::string_view ImportOutcomeName(ImportOutcome o) {
  switch (o) {
    case ImportOutcome::kImported:
      return "imported";
    case ImportOutcome::kAlreadyImported:
      return "already-imported";
    case ImportOutcome::kConflict:
      return "conflict";
    case ImportOutcome::kError:
      return "error";
  }
  return "error";
}

std::string LegacyImportKey(AccountId id) { return fmt::format("legacy-{}", id); }

size_t ImportReport::Count(ImportOutcome o) const {
  size_t n = 0;
  for (const ImportedAccount& a : accounts) n += a.outcome == o ? 1 : 0;
  return n;
}

int ImportReport::ExitCode() const {
  bool clean =
      plan.errors == 0 && Count(ImportOutcome::kConflict) == 0 && Count(ImportOutcome::kError) == 0;
  return clean ? 0 : 3;
}

Result<ImportReport> ImportLegacy(Store* store, const std::string& dir,
                                  const ImportOptions& options) {
  DB_FAULT_PATH("import");
  Result<LegacyPlan> plan = PlanLegacyImport(store->env(), dir);
  if (!plan.ok()) {
    const Status& s = plan.status();
    // A wrong DIR is a usage error; anything else (EACCES, EIO) is the system's.
    if (s.code() == Code::kNotFound || s.sys_errno() == ENOTDIR) {
      return Status::InvalidArgument(
          fmt::format("{} is not a legacy data directory ({}); nothing changed", dir, s.message()));
    }
    return Status(s.code(), fmt::format("reading {}: {}; nothing changed", dir, s.message()));
  }
  ImportReport report;
  report.plan = std::move(plan).value();
  const std::vector<LegacyAccount>& todo = report.plan.accounts;
  size_t group = options.group_size == 0 ? 1 : options.group_size;
  report.accounts.reserve(todo.size());
  for (size_t start = 0; start < todo.size(); start += group) {
    size_t end = std::min(todo.size(), start + group);
    std::vector<Event> events;
    events.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      Op op;
      op.kind = OpKind::kOpen;
      op.id = todo[i].id;
      op.first = todo[i].first;
      op.last = todo[i].last;
      op.amount = todo[i].balance;
      events.push_back(Event{{op}, LegacyImportKey(todo[i].id)});
    }
    Result<std::vector<EventResult>> res = store->CommitGroup(std::move(events));
    if (!res.ok()) {
      const Status& s = res.status();
      return Status(s.code(), fmt::format("import stopped after {} of {} account(s): {}; running "
                                          "import-legacy again finishes it",
                                          start, todo.size(), s.message()))
          .set_maybe_applied(s.maybe_applied());
    }
    for (size_t i = start; i < end; ++i) {
      report.accounts.push_back(Settle(store, todo[i], (*res)[i - start]));
    }
    if (options.progress) options.progress(end, todo.size());
  }
  // After the accounts, so a crash before this point is finished by a re-run like any
  // other; the opens above already used up ids to the largest imported one. A file in
  // error keeps its id too: fixed and imported again later, it must not find it taken.
  if (AccountId last = report.plan.LastIdUsed(); last != 0) {
    Result<std::uint64_t> txn = store->ReserveIds(last);
    if (!txn.ok()) {
      const Status& s = txn.status();
      return Status(s.code(),
                    fmt::format("all {} account(s) are settled, but reserving the ids up to "
                                "{}, the last the original used, failed: {}; running "
                                "import-legacy again finishes it",
                                todo.size(), last, s.message()))
          .set_maybe_applied(s.maybe_applied());
    }
    report.reserve_txn = *txn;
  }
  AccountId used = store->MaxAccountId();
  report.next_id = used < kMaxAccountId ? used + 1 : 0;
  return report;
}

}  // namespace drovebank
