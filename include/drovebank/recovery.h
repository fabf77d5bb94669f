// `recover`: settles everything a crash can leave behind.
//
// In order: (1) the journal is opened, which replays committed records after a reboot and
// cuts a torn tail; (2) a format 1 store (lock files) is upgraded: each lock file becomes
// its slot's repair flag, its wait queue directory is removed; (3) every record after the
// checkpoint is applied to the files under each account's lock, including whole records
// a dead writer wrote but never published (they are adopted first); an account whose
// repair flag is set gets the full repair; (4) every repair flag still set by a writer
// that died is repaired under its lock and only then cleared (a live writer's is waited
// for); (5) temp files in tmp/ other than the reusable spares are removed (they are never
// committed data); (6) with --full, every account file is verified against the journal,
// rebuilt from it when corrupt or stale, and moved to quarantine/ when the journal cannot
// rebuild it; a readable file of an account the journal never had, or one that differs
// from the journal's latest state of its account, is moved to quarantine/ too (and the
// account rebuilt from the journal); without --full, on a store marked as needing
// recovery, every account file that is still corrupt (unchanged since the checkpoint, so
// the tail did not rebuild it) is rebuilt from its account's newest record, found by
// reading the journal's segments newest first (NewestStateOf), and the store stays
// marked, with Corruption naming a file, only for one the journal never had (--full
// quarantines it); (7) a checkpoint makes it all durable with per-file fdatasync and the
// NEEDS_RECOVERY marker is removed. Nothing is ever deleted: a file rewritten that was not
// merely behind (edited, corrupt, differing) is first copied to quarantine/, and each
// rewrite is reported with what the file held and what the journal gives.
// A crash anywhere leaves every flag not yet repaired in place. Its work is proportional
// to the journal tail and the flags in flight, not to the number of accounts (except
// --full, and one read per account file on a marked store). Running it twice changes
// nothing the second time.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/file_repair.h"
#include "drovebank/status.h"

namespace drovebank {

struct RecoverOptions {
  std::string data_dir;
  Env* env = nullptr;
  bool check_only = false;  // change nothing; report what would be done
  bool full = false;        // verify every account file
  double lock_timeout = 10.0;
  // A chain head written down earlier ("TXN:HASH", `recover --check` prints the current
  // one): the run fails with Corruption unless the journal's chain passes through it,
  // proving that the history up to TXN is unchanged.
  std::string expect_head;
  // The way out when the journal lost records the account files were built from (a
  // segment shorter than the checkpoint, an acknowledged record rotted) and no backup of
  // the journal exists: cut the journal back to the last record that follows the chain
  // (the cut bytes kept in quarantine/), then rebuild every account from what is left, as
  // --full does, keeping each newer file in quarantine/. The lost records are lost, and
  // their txn numbers are issued again. Refused for a store whose journal is whole and
  // that is not marked as needing recovery. Every writer should be stopped first.
  bool accept_loss = false;
  std::function<void(size_t done, size_t total)> progress;  // --full walk
};

struct RecoverReport {
  size_t dead_locks = 0;         // repair flags of writers that died, settled (or format 1 locks)
  size_t live_locks = 0;         // flags of live writers in flight, left to them
  size_t temps_removed = 0;
  size_t records_replayed = 0;   // journal records after the checkpoint examined
  size_t files_repaired = 0;     // account files and key slots rewritten from the journal
  size_t accounts_verified = 0;  // --full
  size_t quarantined = 0;        // files moved or copied to quarantine/
  std::vector<FileRepair> repairs;  // each rewrite (not with --check), in order
  bool marker_cleared = false;
  // The journal's hash chain, followed from its first record (--check, --full, or
  // expect_head): its head "TXN:HASH" and how many records it covered ("" when not
  // followed). A break in it is Corruption, the run's error.
  std::string chain_head;
  std::uint64_t chain_records = 0;
  bool head_matched = false;  // expect_head was given and the chain passes through it
  std::vector<std::string> notes;  // one line per decision, for the report
  bool consistent() const {
    return dead_locks == 0 && temps_removed == 0 && files_repaired == 0 && quarantined == 0 &&
           !marker_cleared;
  }
};

// Runs recovery (or, with check_only, the check). IOError/Corruption when it cannot
// finish; the report says what was done up to then.
Status Recover(const RecoverOptions& options, RecoverReport* report);

}  // namespace drovebank
