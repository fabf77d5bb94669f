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
#include <string_view>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/env.h"
#include "drovebank/file_repair.h"
#include "drovebank/lock_wait.h"
#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

struct StoreOptions {
  std::string data_dir = "data";
  Env* env = nullptr;  // nullptr: DefaultEnv()
  LockWait lock_wait;  // timeout, wait notice and cancellation for every lock wait
  // Journal segment size; 0: the default (4 MiB). Tests use small ones.
  std::uint64_t segment_bytes = 0;
  // A commit of a few accounts warms their files on a thread (Env::WarmForReplace) once
  // the store holds this many accounts; tests use 0 to warm in any store.
  std::uint64_t warm_from_accounts = 100'000;
  // How many records a checkpoint lets journal/SNAPSHOT fall behind before it writes it
  // anew; 0: the default (the larger of 4,096 and a 32nd of the accounts). Tests use 1.
  std::uint64_t snapshot_every = 0;
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
  // Told, once a process, of what a user should know that is no failure: on a shared file
  // system, three commits in a row that each took 0.5-5 s (another host's AFR eager lock
  // on the files both write; the message names the GlusterFS option that removes the wait,
  // docs/DESIGN.md "Scaling out").
  std::function<void(std::string_view)> on_notice;
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
  // Record::snapshot_at and snapshot_hash: only the store's own checkpoint sets them, on
  // an event with no ops.
  std::uint64_t snapshot_at = 0;
  std::string snapshot_hash{};
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
  // A rename: the names it gave and the names before; "" for every other kind.
  std::string first, last, was_first, was_last;
};

// The store's contract. Store::Open gives the one implementation (src/store/store_impl.h);
// every method may be called from one thread at a time, and any number of processes (and
// hosts sharing the directory's file system) may hold stores on one data directory at once.
class Store {
 public:
  virtual ~Store();
  // Prepares the data directory (creating it, 0700, when missing) and opens the journal,
  // replaying committed records after a crash before anything is read. With
  // options.read_only, see StoreOptions::read_only.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // The account as committed. An account whose repair flag a dead writer left (flag set,
  // lock free) is repaired from the journal first; a live writer's is read as it stands.
  // NotFound; Corruption (the store is then marked as needing recovery, and the message
  // names the file).
  virtual Result<Account> Get(AccountId id) = 0;

  // Commits `event` atomically as one record. An open op with id 0 gets the next free id;
  // one with an id given (legacy import) is refused with RuleFailed if that id exists.
  // Success: durable and visible. Rule failures
  // (NotFound, Closed, InsufficientFunds, Limit, RuleFailed, KeyReused) and Busy change
  // nothing. IOError with maybe_applied() means the record may be committed: recover
  // settles it. Its fault points are on the write path DB_FAULT_PATH named (fault_path.h).
  virtual Result<EventResult> Commit(Event event) = 0;

  // Commits events in one group: their accounts locked once, each event checked in
  // order against the state the earlier ones left, each success its own record, all
  // records written with one append and one sync. A refused event does not stop the
  // others; its EventResult carries the reason. A failed write fails the whole call.
  virtual Result<std::vector<EventResult>> CommitGroup(std::vector<Event> events) = 0;

  // Accounts by id (closed ones too), `page_size` a page; page past the end is empty.
  virtual Result<Page<Account>> List(size_t page, size_t page_size) = 0;
  // Accounts AccountQuery::Parse(text) matches (drovebank/search.h: the name folded by
  // Unicode rules, and the id of an all-digit text), by id. InvalidArgument for a text
  // it refuses.
  virtual Result<Page<Account>> Search(std::string_view text, size_t page,
                                       size_t page_size) = 0;
  // The account's committed changes, newest first, with each op's memo and the reversal
  // links: `reverses` from the record, `reversed_by` looked up (ReversedBy) for the
  // entries of the page only, one key look-up each.
  virtual Result<Page<HistoryEntry>> History(AccountId id, size_t page, size_t page_size) = 0;
  // Every account by id (closed ones too), each read as Get reads it and handed to `fn`,
  // which returns false to stop: one account in memory at a time, for reports over the
  // whole store. Dead writers' repair flags are settled first, as List does.
  virtual Status ForEachAccount(const std::function<Result<bool>(const Account&)>& fn) = 0;
  // The ids of the accounts whose files exist, ascending, without reading a file (tab
  // completion on a store of millions); only ids whose zero-padded 8 digits start with
  // `padded_prefix` ("" for all). `fn` returns false to stop.
  virtual Status ForEachAccountId(std::string_view padded_prefix,
                                  const std::function<bool(AccountId)>& fn) = 0;
  // The account's committed changes, newest first, one at a time (its history chain
  // through the journal); `fn` returns false to stop. NotFound for no such account.
  virtual Status ForEachChange(AccountId id,
                               const std::function<Result<bool>(const HistoryEntry&)>& fn) = 0;
  // Every committed record, oldest first, as committed when the call began; `fn` returns
  // false to stop. `progress`, when given, is told before each record how many bytes of
  // the journal are read of how many.
  virtual Status ForEachRecord(
      const std::function<Result<bool>(const Record&)>& fn,
      const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {}) = 0;
  // One committed transaction.
  virtual Result<Record> FindTxn(std::uint64_t txn) = 0;
  // The txn that reversed `txn` (the record committed under the key ReversalKey(txn)), 0
  // when none has. Looked up without the key slot's lock, and again under it only when that
  // read fails (an entry of keys/index read while being rewritten). So a reversal whose
  // writer died before it set keys/index is seen once someone repairs the slot (the next
  // keyed writer of the slot, `recover`); `reverse` itself always looks under the lock.
  virtual Result<std::uint64_t> ReversedBy(std::uint64_t txn) = 0;
  // The record committed under the idempotency key `key`, or none; looked up as
  // ReversedBy looks (`batch` asks whether an earlier run of its input got to its end).
  virtual Result<std::optional<Record>> FindKey(std::string_view key) = 0;
  // The largest account id any committed record opened or reserved (0 for none).
  virtual AccountId MaxAccountId() const = 0;

  // Makes sure no account opened with id 0 is ever given an id in 1..last (legacy
  // import: the original handed them out, and an account deleted there keeps its id
  // used). When the largest id the committed records use (opens and reservations) is
  // below `last`, commits one record that reserves them (Event::reserve_ids) and returns
  // its txn; otherwise commits nothing and returns 0, so calling it again changes nothing.
  // `last` is in 1..kMaxAccountId (else InvalidArgument). Errors as for Commit.
  virtual Result<std::uint64_t> ReserveIds(AccountId last) = 0;

  // Makes every committed change durable in the account files and records how far the
  // journal is applied. With wait=false it returns Ok at once if another process is
  // checkpointing.
  virtual Status Checkpoint(bool wait) = 0;

  // Writes the recovery marker (a line saying why); every session then refuses writes.
  virtual Status MarkNeedsRecovery(std::string_view why) = 0;
  virtual bool NeedsRecovery() = 0;

  // While the process waits for its user (a shell at its prompt, or reading a script whose
  // next line is not there yet), lets go of its
  // attachment to the store (src/store/own_links.h): a writer alone on the store may then
  // give its in-place files inodes of their own after a hard-link backup, which no process
  // holding the store open would allow. Does nothing while a lock is held. No other method
  // may be called until Resume().
  virtual void Pause() = 0;
  // Attaches again (waiting, as Open does, for a writer that is making copies); when the
  // in-place files were given new inodes meanwhile, opens them anew. Does nothing when not
  // paused.
  [[nodiscard]] virtual Status Resume() = 0;
  // A check point, for a process that keeps a store open across commands (a shell between
  // two lines of a script): one look at whether a hard-link copy of the store appeared, and
  // if so, the in-place files given inodes of their own, or way made for the writer doing
  // it (src/store/own_links.h). Commits and long reads make their own. Resumes first when
  // paused; does nothing while a lock is held.
  [[nodiscard]] virtual Status CheckPoint() = 0;

  // How later lock waits behave (the shell changes it per command).
  virtual void set_lock_wait(LockWait w) = 0;
  virtual Env* env() = 0;
  // True when Open created the lock tables of a format 1 store (StoreOptions::upgrade).
  virtual bool upgraded() const = 0;
  virtual bool read_only() const = 0;
  // Why the store is read-only when read-only was not asked for ("" otherwise): on a
  // shared file system, a hard-link copy shares its files (Store::Open says so here
  // instead of failing, so that reads still work).
  virtual const std::string& read_only_why() const = 0;
};

// The data directory: `flag` if non-empty, else $DROVEBANK_DATA, else "./data".
std::string ResolveDataDir(const std::string& flag);

// Whether `dir` holds a store (its lock tables or its journal), of any format.
bool StoreExistsAt(Env* env, const std::string& dir);

// Whether this process may write the store at `dir`: its directory, its journal directory
// and its account lock table (Env::Access W_OK). A caller that finds it may not opens the
// store read-only, so that a read creates nothing in a store it cannot write.
bool StoreWritableAt(Env* env, const std::string& dir);

}  // namespace drovebank
