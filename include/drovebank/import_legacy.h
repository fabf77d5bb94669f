// The engine of `drovebank import-legacy DIR` (the command: src/cli/import_cmd.h): moves
// the accounts of an original (Python) drovebank data directory into this store, keeping
// their ids.
//
// The plan (which file is each account, what each crash leftover means) comes from
// PlanLegacyImport (legacy_import.h); this commits it. Each planned account becomes one
// open op with the legacy id, in its own event with idempotency key "legacy-<id>", and
// events are committed in groups (one journal append and one fsync per group). So:
//   - a crash at any point leaves whole accounts or none, and running the import again
//     finishes it exactly: a committed account's key replays and is "already imported";
//   - running it again after success changes nothing;
//   - an id that already exists here without that key counts as already imported when
//     first name, last name and balance match the legacy account (and it is open), and is
//     a conflict otherwise; an id whose key was used for other data is a conflict too.
//     Conflicts are never changed.
// Ids are never reused: after the accounts, when the last id the original used
// (LegacyPlan::LastIdUsed: index.idx's last id, or a larger id named by any legacy file,
// one in error included) is above the largest id used here, one more record reserves the
// ids up to it (Store::ReserveIds). So new accounts are numbered past both the largest
// imported id and index.idx (the original may have handed out ids whose files were
// deleted since), and a file fixed after an error still finds its id free. A re-run finds
// them reserved and commits nothing.
// The legacy directory is only read, never modified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/legacy_import.h"
#include "drovebank/store.h"

namespace drovebank {

enum class ImportOutcome {
  kImported,         // committed by this run
  kAlreadyImported,  // committed by an earlier run (or present with the same data)
  kConflict,         // the id exists here with other data; left unchanged
  kError,            // refused for another reason (the message says why)
};
std::string_view ImportOutcomeName(ImportOutcome o);  // "imported", "already-imported", ...

struct ImportedAccount {
  LegacyAccount account;
  ImportOutcome outcome = ImportOutcome::kError;
  std::string message;    // for conflicts and errors: why; else empty
  std::uint64_t txn = 0;  // the open's transaction (0 when not known)
};

struct ImportOptions {
  size_t group_size = 500;  // accounts per commit group (>= 1)
  // Called after each group with accounts settled so far and the total.
  std::function<void(size_t done, size_t total)> progress;
};

struct ImportReport {
  LegacyPlan plan;
  std::vector<ImportedAccount> accounts;  // one per plan.accounts entry, same order
  std::uint64_t reserve_txn = 0;  // the record reserving the original's ids; 0 if not needed
  AccountId next_id = 0;  // the id the next account opened here gets; 0 when none is left
  size_t Count(ImportOutcome o) const;
  // 0 when every importable account is here and no file was in error; else 3.
  int ExitCode() const;
};

// The key of the legacy account `id`: "legacy-<id>".
std::string LegacyImportKey(AccountId id);

// Plans `dir` (read through store->env()) and commits the plan as described above.
// Fails without committing anything when DIR is not a readable directory
// (InvalidArgument). A failed group write or reservation (IOError, Busy, NeedsRecovery,
// ...) stops the import: earlier groups stay committed, the Status says how far it got and
// keeps maybe_applied; running the import again completes it.
Result<ImportReport> ImportLegacy(Store* store, const std::string& dir,
                                  const ImportOptions& options);

}  // namespace drovebank
