// The store: accounts in files, changes committed through the journal.
//
// Every write goes through the commit protocol (src/store/commit.cc, class CommitProtocol): key
// locks, then account locks in ascending id order -> rules checked -> repair flags set ->
// journal append -> journal sync (the commit point) -> each file replaced through this
// process's spare file -> flags cleared, locks released. docs/DESIGN.md has the crash
// reasoning for each step; each step is a fault point PATH:STEP (docs/RELIABILITY.md lists
// them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/env.h"
#include "drovebank/file_repair.h"
#include "drovebank/internal/journal.h"
#include "drovebank/internal/layout.h"
#include "drovebank/internal/lockfile.h"
#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

struct StoreOptions {
  std::string data_dir = "data";
  Env* env = nullptr;  // nullptr: DefaultEnv()
  LockWait lock_wait;  // timeout, wait notice and cancellation for every lock wait
  std::uint64_t segment_bytes = kSegmentBytes;  // tests use small segments
  // A commit of a few accounts warms their files on a thread (Env::WarmForReplace) once
  // the store holds this many accounts; tests use 0 to warm in any store.
  std::uint64_t warm_from_accounts = 100'000;
  // Create the lock tables of a store written by format 1 (which has none) instead of
  // refusing it: only `recover`, which then carries its old lock files over.
  bool upgrade = false;
  // Open an existing store only to read it (a backup, a snapshot, files this user cannot
  // write, or --read-only): nothing is created or written, journal/state included (the
  // journal is opened with Journal::OpenReadOnly, the lock tables O_RDONLY). Commits are
  // refused. Open fails with NeedsRecovery when a read could not be exact without a
  // replay (a file behind the journal, a dead writer's repair flag).
  bool read_only = false;
  // Told of every file this store rewrites from the journal (replay, repair, recover),
  // once each, after the file is replaced; `recover` reports from it. Called with the
  // file's lock held: it must not take a lock or call into the store.
  std::function<void(const FileRepair&)> on_repair;
};

// One all-or-nothing unit: its ops become one journal record, or nothing.
struct Event {
  std::vector<Op> ops;
  std::string key;  // idempotency key, optional
  // Ids 1..reserve_ids are used up from this record on (Record::reserve_ids); 0: none.
  // An event may carry only a reservation (no ops).
  AccountId reserve_ids = 0;
  // The txn this event reverses (Record::reverses); 0: none. Only with the key
  // ReversalKey(reverses), and a key with that prefix only with it (else InvalidArgument).
  std::uint64_t reverses = 0;
};

struct EventResult {
  Status status;          // Ok, or the rule/input error that refused this event alone
  Record record;          // the committed record (ops carry resulting balances and ids)
  bool replayed = false;  // the key was seen before: this is the original result
};

template <typename T>
struct Page {
  std::vector<T> items;
  size_t page = 1;   // 1-based
  size_t pages = 1;  // at least 1
  size_t total = 0;
};

struct HistoryEntry {
  std::uint64_t txn = 0;
  std::int64_t time_ms = 0;
  OpKind kind = OpKind::kDeposit;
  Cents amount = 0;
  AccountId counterpart = 0;  // the other account of a transfer, else 0
  bool outgoing = false;      // transfer from this account
  Cents balance_after = 0;
  std::string memo;             // the op's memo, "" for none
  std::uint64_t reverses = 0;   // this txn reverses that one (0: not a reversal)
  std::uint64_t reversed_by = 0;  // the txn that reversed this one (0: not reversed)
};

class KeyIndex;

class Store {
 public:
  ~Store();
  // Prepares the data directory (creating it, 0700, when missing) and opens the journal,
  // replaying committed records after a crash before anything is read. With
  // options.read_only, see StoreOptions::read_only.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // The account as committed. An account whose repair flag a dead writer left (flag set,
  // lock free) is repaired from the journal first; a live writer's is read as it stands. NotFound; Corruption (the store is then
  // marked as needing recovery, and the message names the file).
  Result<Account> Get(AccountId id);

  // Commits `ops` atomically as one record. An open op with id 0 gets the next free id;
  // one with an id given (legacy import) is refused with RuleFailed if that id exists.
  // Success: durable and visible. Rule failures
  // (NotFound, Closed, InsufficientFunds, Limit, RuleFailed, KeyReused) and Busy change
  // nothing. IOError with maybe_applied() means the record may be committed: recover
  // settles it. `fault_path` names the write path for fault points ("deposit", "commit").
  Result<EventResult> Commit(Event event, std::string_view fault_path);

  // Commits events in one group: their accounts locked once, each event checked in
  // order against the state the earlier ones left, each success its own record, all
  // records written with one append and one sync. A refused event does not stop the
  // others; its EventResult carries the reason. A failed write fails the whole call.
  Result<std::vector<EventResult>> CommitGroup(std::vector<Event> events,
                                               std::string_view fault_path);

  // Accounts by id (closed ones too), `page_size` a page; page past the end is empty.
  Result<Page<Account>> List(size_t page, size_t page_size);
  // Accounts whose first or last name contains `text`, ignoring ASCII case.
  Result<Page<Account>> Search(std::string_view text, size_t page, size_t page_size);
  // The account's committed changes, newest first, with each op's memo and the reversal
  // links: `reverses` from the record, `reversed_by` looked up (ReversedBy) for the
  // entries of the page only, one key look-up each.
  Result<Page<HistoryEntry>> History(AccountId id, size_t page, size_t page_size);
  // Every account by id (closed ones too), each read as Get reads it and handed to `fn`,
  // which returns false to stop: one account in memory at a time, for reports over the
  // whole store. Dead writers' repair flags are settled first, as List does.
  Status ForEachAccount(const std::function<Result<bool>(const Account&)>& fn);
  // The account's committed changes, newest first, one at a time (its history chain
  // through the journal); `fn` returns false to stop. NotFound for no such account.
  Status ForEachChange(AccountId id, const std::function<Result<bool>(const HistoryEntry&)>& fn);
  // One committed transaction.
  Result<Record> FindTxn(std::uint64_t txn);
  // The txn that reversed `txn` (the record committed under the key ReversalKey(txn)), 0
  // when none has. Looked up without the key slot's lock, and again under it only when that
  // read fails (an entry of keys/index read while being rewritten). So a reversal whose
  // writer died before it set keys/index is seen once someone repairs the slot (the next
  // keyed writer of the slot, `recover`); `reverse` itself always looks under the lock.
  Result<std::uint64_t> ReversedBy(std::uint64_t txn);

  // Makes sure no account opened with id 0 is ever given an id in 1..last (legacy
  // import: the original handed them out, and an account deleted there keeps its id
  // used). When the largest id the committed records use (opens and reservations) is
  // below `last`, commits one record that reserves them (Event::reserve_ids) and returns
  // its txn; otherwise commits nothing and returns 0, so calling it again changes nothing.
  // `last` is in 1..kMaxAccountId (else InvalidArgument). Errors as for Commit;
  // `fault_path` names the write path.
  Result<std::uint64_t> ReserveIds(AccountId last, std::string_view fault_path);

  // Makes every committed change durable in the account files and records how far the
  // journal is applied. With wait=false it returns Ok at once if another process is
  // checkpointing.
  Status Checkpoint(bool wait);

  // Brings the account and key files up to date with `records` (full states: applying is
  // idempotent). With wait=false, accounts locked by a live process are skipped (their
  // holder is applying them). Repair flags are left as they are (RepairFlagged and the
  // next holder clear them). Returns how many files were rewritten.
  Result<size_t> ApplyRecords(const std::vector<Record>& records, bool wait);
  // One account of ApplyRecords: rewrites its file, under its lock, when the file is
  // missing, corrupt or at an older version than `state`. Returns whether it rewrote it
  // (false also when wait=false and a live writer holds the lock).
  Result<bool> ApplyState(const Account& state, bool wait);
  // One key of ApplyRecords: under the key slot's lock, points the slot of keys/index at
  // `record` (which has a key and is durable) unless it already names it or a newer one.
  Result<bool> ApplyKey(const Record& record, bool wait);

  // Every record after the checkpoint (what a crash may have left unapplied), made
  // durable first. For tests and small tails: the others stream.
  Result<std::vector<Record>> RecordsSinceCheckpoint();
  // Streams the records in [from, to) and brings the files up to date with them, as
  // ApplyRecords, holding only each account's newest state. `seen` is shown each record
  // first. With `warm_files`, the Env warms the accounts' files all at once before they are
  // checked (Env::WarmForReplace), for a tail whose accounts may be cold. Returns how many
  // files were rewritten; stops at the first error.
  Result<size_t> ApplyRange(JournalPos from, JournalPos to, bool wait,
                            const std::function<void(const Record&)>& seen = {},
                            bool warm_files = false);
  // Makes the records after the checkpoint durable and applies them (recover's replay);
  // `records_seen` is incremented once per record.
  Result<size_t> ReplaySinceCheckpoint(size_t* records_seen);

  // Repairs every account and key slot whose repair flag a dead writer left (a live
  // writer's is left to it), waiting for each lock when `wait`; returns how many slots it
  // settled (the flag cleared). Lists, searches and `recover` call it.
  Result<size_t> RepairFlagged(bool wait);

  // With `held` holding the account: replaces its file with `state`, the journal's state
  // of it. A file that is not merely behind (edited, corrupt, or holding a state the
  // journal never committed) is first copied, durably, to quarantine/; nothing it held is
  // lost. Reports the repair to StoreOptions::on_repair. Leaves the repair flag as it is.
  Status RestoreAccountFile(LockFile* held, const Account& state);

  // Writes the recovery marker (a line saying why); every session then refuses writes.
  Status MarkNeedsRecovery(std::string_view why);
  bool NeedsRecovery();

  void set_lock_wait(LockWait w) { lock_wait_ = std::move(w); }
  Env* env() { return env_; }
  const Layout& layout() const { return layout_; }
  Journal& journal() { return *journal_; }
  LockTable& locks() { return *locks_; }
  // True when Open created the lock tables of a format 1 store (StoreOptions::upgrade).
  bool upgraded() const { return upgraded_; }
  bool read_only() const { return read_only_; }

 private:
  friend class CommitProtocol;
  Store(Env* env, Layout layout, LockWait wait);
  // The record committed under `key`, if any: the slot's chain in keys/index, then the
  // key file an older build wrote. Call with the key's slot held (and repaired).
  Result<std::optional<Record>> FindKeyed(std::string_view key);
  // The account file, decoded; a corrupt one is Corruption, and marks the store when
  // `mark` (pass false only for a read without the account's lock, which may be torn).
  // `file_size`, when given, gets the size of the file decoded.
  Result<Account> ReadAccount(AccountId id, bool mark = true, std::uint64_t* file_size = nullptr);

  // The read-only store (store_read_only.cc): Open's path for StoreOptions::read_only,
  // the check that every file is at least at the journal's newest state, and Get without
  // taking a lock or marking anything.
  static Result<std::unique_ptr<Store>> OpenReadOnly(const StoreOptions& options);
  Status CheckExactForReading();
  Result<Account> GetReadOnly(AccountId id);
  // Accounts opened: the journal's shared count, or (read-only) the one counted at open.
  std::uint64_t AccountCount() const;

  // Makes every record after the checkpoint durable, then streams them to `fn`.
  Status ForEachSinceCheckpoint(const Journal::RecordFn& fn);
  // With `held` holding the slot: brings the file(s) up to the journal's newest state
  // (adopting a dead appender's record and syncing the journal first), then clears the
  // slot's repair flag. The flag stays on any failure. Returns whether a file was rewritten.
  Result<bool> RepairAccount(AccountId id, LockFile* held);
  Result<bool> RepairKeySlot(LockFile* held);
  // Copies `content`, the old file of account `id`, to a new file in quarantine/ and
  // makes it durable; returns its path relative to the data directory.
  Result<std::string> KeepInQuarantine(AccountId id, std::string_view content);
  // Tells on_repair_ that a slot of keys/index now names `newest`.
  void ReportKeySlot(const Record& newest);
  // Makes the named files and their directories durable with per-file fdatasync and
  // directory fsync, on a few threads (the checkpoint's, in place of syncfs).
  Status SyncFiles(const std::vector<std::string>& paths);
  Status EnsureAccountDirs(AccountId id);

  Env* env_;
  Layout layout_;
  LockWait lock_wait_;
  std::uint64_t warm_from_accounts_ = 0;
  bool in_place_ = false;  // a shared file system: account files are rewritten in place
  std::unique_ptr<LockTable> locks_;
  std::unique_ptr<KeyIndex> key_index_;
  std::unique_ptr<Journal> journal_;
  bool upgraded_ = false;
  bool read_only_ = false;
  std::uint64_t read_only_accounts_ = 0;
  std::function<void(const FileRepair&)> on_repair_;
};

// Whether the account's first or last name contains `text`, ignoring ASCII case (the
// test of Search).
bool NameContains(const Account& a, std::string_view text);

// Rules: applies one op to `accounts` (the working states, by id). Fails with the rule
// that refuses it and leaves `accounts` unchanged; fills op->after / op->to_after.
Status ApplyOp(Op* op, std::map<AccountId, Account>* accounts);

}  // namespace drovebank
