// The one implementation of Store (include/drovebank/store.h), and what the store's own
// parts (the commit protocol, recover, the journal's replay) and its tests use beyond the
// contract: the journal, the lock tables, and the routines that bring files up to date
// with the journal.
//
// Every routine here that rewrites a file does so with the file's lock held, from a
// durable record (the write-ahead rule: docs/DESIGN.md), and reports it to
// StoreOptions::on_repair once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drovebank/store.h"
#include "journal.h"
#include "key_vouch.h"
#include "layout.h"
#include "lockfile.h"
#include "own_links.h"
#include "snapshot.h"

namespace drovebank {

class KeyIndex;

class StoreImpl final : public Store {
 public:
  ~StoreImpl() override;
  // Store::Open without the read-only case.
  // `linked_shared`, when given, is set when the refusal is RefuseLinkedOnSharedFs (a hard-link
  // copy of a store on a shared file system): Store::Open then opens it read-only.
  static Result<std::unique_ptr<StoreImpl>> OpenWritable(const StoreOptions& options,
                                                         bool* linked_shared = nullptr);
  // The read-only store (store_read_only.cc): Open's path for StoreOptions::read_only.
  static Result<std::unique_ptr<StoreImpl>> OpenReadOnly(const StoreOptions& options);

  // The contract (store.h).
  Result<Account> Get(AccountId id) override;
  Result<EventResult> Commit(Event event) override;
  Result<std::vector<EventResult>> CommitGroup(std::vector<Event> events) override;
  Result<Page<Account>> List(size_t page, size_t page_size) override;
  Result<Page<Account>> Search(std::string_view text, size_t page, size_t page_size) override;
  Result<Page<HistoryEntry>> History(AccountId id, size_t page, size_t page_size) override;
  Status ForEachAccount(const std::function<Result<bool>(const Account&)>& fn) override;
  Status ForEachAccountId(std::string_view padded_prefix,
                          const std::function<bool(AccountId)>& fn) override;
  Status ForEachChange(AccountId id,
                       const std::function<Result<bool>(const HistoryEntry&)>& fn) override;
  Status ForEachRecord(
      const std::function<Result<bool>(const Record&)>& fn,
      const std::function<void(std::uint64_t, std::uint64_t)>& progress) override;
  Result<Record> FindTxn(std::uint64_t txn) override;
  Result<std::uint64_t> ReversedBy(std::uint64_t txn) override;
  Result<std::optional<Record>> FindKey(std::string_view key) override;
  AccountId MaxAccountId() const override;
  Result<std::uint64_t> ReserveIds(AccountId last) override;
  Status Checkpoint(bool wait) override;
  Status MarkNeedsRecovery(std::string_view why) override;
  bool NeedsRecovery() override;
  void Pause() override;
  Status Resume() override;
  Status CheckPoint() override;
  void set_lock_wait(LockWait w) override { lock_wait_ = std::move(w); }
  Env* env() override { return env_; }
  bool upgraded() const override { return upgraded_; }
  bool read_only() const override { return read_only_; }
  const std::string& read_only_why() const override { return read_only_why_; }
  void set_read_only_why(std::string why) { read_only_why_ = std::move(why); }

  // Beyond the contract: for recover, the journal's replay and tests.
  // Proves a decoded account file against the journal's record it names (last_txn): Ok
  // when the record holds exactly this state of the account, Corruption naming the file
  // and what differs otherwise. One record look-up (Journal::FindTxn).
  Status ProveAccount(const Account& file);
  // ProveAccount, and then, for a file that names a txn below `installed` (keys/index's
  // AccountHead, read before the file), ProveNotSetBack.
  Status ProveFile(const Account& file, std::uint64_t installed);
  // The txn after which journal/SNAPSHOT holds every account, when a journal record
  // vouches for it; nullopt when there is none (reports then walk the files). For
  // `recover --check` and tests.
  Result<std::optional<std::uint64_t>> ProvenSnapshotAt();
  // recover --full, with every file proven and brought up to the journal: whether the
  // proven journal/SNAPSHOT holds exactly the states the files give as of its txn (the
  // bytes a snapshot written from them would hold, hashed). A forger who rebuilt the chain
  // after changing the file and its record is caught here and nowhere else. nullopt when
  // it does, or there is none; else the txn it claims to be at.
  Result<std::optional<std::uint64_t>> SnapshotDiffersFromFiles();
  // recover: removes journal/SNAPSHOT.tmp when a refreshing checkpoint died and left it
  // (under the checkpoint lock, which every refresh holds while its temp file exists, so
  // a live one's is never touched). Whether there was one.
  Result<bool> RemoveDeadSnapshotTemp();
  KeyIndex& key_index() { return *key_index_; }
  const Layout& layout() const { return layout_; }
  Journal& journal() { return *journal_; }
  LockTable& locks() { return *locks_; }

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

  // For the commit protocol (commit.h), which gets the store's parts as one struct rather
  // than by friendship, and calls the routines below.
  // An own state (see own_states_): an account's state as this store's commit installed
  // it, with its file's size.
  struct OwnState {
    Account state;
    std::uint64_t size = 0;
  };
  struct CommitParts {
    Env* env;
    const Layout* layout;
    const LockWait* lock_wait;
    bool in_place;  // a shared file system: account files are rewritten in place
    std::uint64_t warm_from_accounts;
    Journal* journal;
    LockTable* locks;
    KeyIndex* key_index;
    std::map<AccountId, OwnState>* own_states;
  };
  CommitParts ForCommit() {
    return CommitParts{env_,           &layout_,     &lock_wait_,      in_place_,  warm_from_accounts_,
                       journal_.get(), locks_.get(), key_index_.get(), &own_states_};
  }

  // The record committed under `key`, if any: the slot's chain in keys/index, then the
  // key file an older build wrote. Call with the key's slot held (and repaired). `head`,
  // when given, is the slot's keys/index entry as read under that same hold (a commit has
  // just read it), so it is not read again.
  Result<std::optional<Record>> FindKeyed(std::string_view key,
                                          std::optional<std::uint64_t> head = std::nullopt);
  // Whether keys/ holds anything but keys/index (an older build's key directories), or
  // could not be listed: then FindKeyed looks for a key file.
  bool HasLegacyKeyDirs();
  // The account file, decoded; a corrupt one is Corruption, and marks the store when
  // `mark` (pass false only for a read without the account's lock, which may be torn).
  // `file_size`, when given, gets the size of the file decoded.
  // `prove`: the file is proven against the journal (ProveAccount) before it is returned.
  Result<Account> ReadAccount(AccountId id, bool mark = true, std::uint64_t* file_size = nullptr,
                              bool prove = true);
  // With `held` holding the slot: brings the file(s) up to the journal's newest state
  // (adopting a dead appender's record and syncing the journal first), then clears the
  // slot's repair flag. The flag stays on any failure. Returns whether a file was rewritten.
  Result<bool> RepairAccount(AccountId id, LockFile* held);
  Result<bool> RepairKeySlot(LockFile* held);
  Status EnsureAccountDirs(AccountId id);

  // key_vouch.cc. keys/index's mark (KeyIndex::Vouched) vouches that every record up to it
  // is in its key slot's entry and in each of its accounts' entries (or that slot or
  // account is flagged: a writer in flight or dead). A commit, holding its slots (`held`,
  // repaired), checks the records past the mark up to the journal's newest before it
  // reads any file or looks any key up: an account entry behind a finished record is
  // raised to it (under the account's lock), so a file put back together with an older
  // copy of keys/index fails its proof; a key slot behind is Corruption, naming the file
  // and the key, when `looks_up_keys` (a key already used would read as unused), and
  // otherwise keeps the mark below it. Then the mark moves. `trusted`: accounts held whose
  // flags the caller knows are not another writer's (repaired, or set by the caller), so
  // they are not read.
  // `later`, when given, gets the move instead of the file (MoveMark writes it): a commit
  // writes nothing before its append, which refuses a store with a hard-link copy on a
  // shared file system, whose copy shares keys/index.
  struct MarkMove {
    std::uint64_t from = 0;   // the mark as read
    std::uint64_t reach = 0;  // what it may move to
  };
  Status VouchKeyIndex(const std::set<LockSlot>& held, const std::set<AccountId>& trusted,
                       bool looks_up_keys, MarkMove* later = nullptr);
  Status MoveMark(const MarkMove& move);
  // The key check for a reader's look-up of a key (FindKey: a reversal shown by `txn` and
  // `history`, a batch's runs), once a process, moving nothing (a read-only store too).
  Status CheckKeyIndexForReading();
  // The account check for a reader, at each look from outside (a read of one account, a
  // walk): each account whose entry is behind a finished record past the mark gets that
  // record as its floor (Floor), which its file's proof then uses as the entry.
  // Writes nothing (a read-only store too).
  Status CheckEntriesForReading();
  std::uint64_t Floor(AccountId id) const;
  // The commit, once `records` are durable: their txns, keys and accounts, so this
  // process's next check of the mark takes them from memory rather than the journal (the
  // entries are still read from the file: a copy put back meanwhile is still told).
  void NoteOwnRecords(const std::vector<Record>& records);
  // recover: every slot behind a keyed record past the mark is pointed at it (under its
  // lock, reported as a repair), every account's file and entry brought up to each record
  // past the mark (the accounts so set go into `accounts_set`), then the mark moves to the
  // journal's newest. Returns how many key slots it set.
  Result<size_t> RepairKeyVouch(std::set<AccountId>* accounts_set);

 private:
  // For a file that proves but names a txn below `installed`: Corruption saying the file
  // was set back, or, when that txn did not change the account, that the index entry is
  // wrong. Ok when the journal does not have that txn (no evidence: see there).
  Status ProveNotSetBack(const Account& file, std::uint64_t installed);
  StoreImpl(Env* env, Layout layout, LockWait wait);

  // Get, with the proof only when `prove` (reports prove what they show through the view
  // of the journal's tail instead: TailView).
  Result<Account> GetAccount(AccountId id, bool prove);
  // One committed state of every account for a report that reads many (list, search,
  // balance): the journal's newest state of each account its tail (checkpoint to a synced
  // end E) changed. A file read during the walk may be older than E (a commit not yet
  // installed) or newer (one since): StateAt gives the account as of E either way, so
  // every report adds up to one journal position while writers run.
  struct TailView {
    std::uint64_t end_txn = 0;  // the last txn at or before E
    std::map<AccountId, Account> newest;
  };
  Result<TailView> TakeTailView();
  // The journal's end, synced first (a writable store), so that a view to it is committed.
  Result<JournalPos> SyncedEnd();
  // The view from `from` (where the chain's head is `head`, after txn `from_txn`) to
  // `end`, the chain checked on the way; `seen` is shown each record too.
  Result<TailView> TailBetween(JournalPos from, std::optional<ChainHead> head,
                               std::uint64_t from_txn, JournalPos end,
                               const std::function<void(const Record&)>& seen = {});
  // journal/SNAPSHOT when a record vouches for it (snapshot.h): the file, its hash, and the
  // view of the journal from its position to `end` (nullopt: the journal's synced end).
  // nullopt when there is no such snapshot: the caller walks the account files.
  struct SnapshotView {
    std::unique_ptr<SnapshotReader> reader;
    ChainHash hash;
    TailView tail;
  };
  Result<std::optional<SnapshotView>> TakeSnapshotView(std::optional<JournalPos> end = {});
  // Every account as of the view's end, ascending ids, until fn returns false: the
  // snapshot's lines, each replaced by the tail's state where the tail changed it, and the
  // accounts the tail opened.
  Status ForEachInSnapshot(SnapshotView& view,
                           const std::function<Result<bool>(const Account&)>& fn);
  // The walk of every account file, as of the view's end (StateAt), ascending ids.
  Status ForEachInFiles(const TailView& view,
                        const std::function<Result<bool>(const Account&)>& fn);
  // Every account as of one committed end: through the snapshot when one is proven, else
  // the files.
  Status ForEachCommitted(const std::function<Result<bool>(const Account&)>& fn);
  // At a checkpoint, with its lock held: writes journal/SNAPSHOT anew at the checkpoint's
  // position when there is no proven one or it is snapshot_every_ records (default: the
  // larger of kSnapshotMinRecords and a 32nd of the accounts) behind. Steps and crash
  // reasoning in store_snapshot.cc. True when its record joined the journal (after the
  // checkpoint, which Checkpoint then moves past it).
  Result<bool> RefreshSnapshot();
  // Checkpoint's first part, with its lock held: the files up to the journal's end made
  // durable, then journal/CHECKPOINT (DESIGN.md "Checkpoints").
  Status CheckpointFiles();
  std::uint64_t snapshot_every_ = 0;
  // Checkpoint runs: a checkpoint its snapshot record's commit starts returns at once.
  bool checkpointing_ = false;
  static constexpr std::uint64_t kSnapshotMinRecords = 4096;
  // The account as of the view's end, from its file's state; nullopt when it did not
  // exist then (opened since).
  Result<std::optional<Account>> StateAt(const TailView& view, const Account& file);

  // The read-only store: the check that every file is at least at the journal's newest
  // state, and Get without taking a lock or marking anything. `chained_from`: FORMAT's
  // first chained txn (a journal that reaches it has a keys/index: set_required).
  Status CheckExactForReading(std::uint64_t chained_from);
  Result<Account> GetReadOnly(AccountId id, bool prove = true);
  // Accounts opened: the journal's shared count, or (read-only) the one counted at open.
  std::uint64_t AccountCount() const;

  // Makes every record after the checkpoint durable, then streams them to `fn`.
  Status ForEachSinceCheckpoint(const Journal::RecordFn& fn);

  // The two installs every path that brings a target up to the journal ends in (replay,
  // repair, checkpoint, recover). With `held` holding the account: rewrites its file with
  // `state` when the file is missing, corrupt or at an older version (read once).
  Result<bool> InstallAccountIfBehind(LockFile* held, const Account& state);
  // With `held` holding the record's key slot: points the slot at `record` unless it
  // already names it or a newer one.
  Result<bool> InstallKeyIfBehind(LockFile* held, const Record& record);
  // Takes `lock` for ApplyState / ApplyKey: waiting with the store's LockWait, or, with
  // wait=false, not at all when a live writer holds it (false: its holder applies it).
  Result<bool> HoldToApply(LockFile* lock, bool wait);
  // RestoreAccountFile with the file's content already read (`text`: NotFound when none).
  Status ReplaceAccountFile(LockFile* held, const Account& state,
                            const Result<std::string>& text);

  // Copies `content`, the old file of account `id`, to a new file in quarantine/ and
  // makes it durable; returns its path relative to the data directory.
  Result<std::string> KeepInQuarantine(AccountId id, std::string_view content);
  // A name in quarantine/ (made if need be) for something of account `id`, ending in
  // `ext`, that nothing there holds yet: never one that would replace an earlier keep.
  Result<std::string> FreeQuarantinePath(AccountId id, std::string_view ext);
  // Tells on_repair_ that a slot of keys/index now names `newest`.
  void ReportKeySlot(const Record& newest);
  // Makes the named files and their directories durable with per-file fdatasync and
  // directory fsync, on a few threads (the checkpoint's, in place of syncfs).
  Status SyncFiles(const std::vector<std::string>& paths);
  // A check point (store_links.cc): journal/state's link count, from `fresh_state_` or one
  // fstat, and when linked, CooperateOnLinks. `keep_fresh`: an unlinked count found is kept
  // for the next check point (the command's first commit).
  Status CheckLinks(bool keep_fresh);
  // With journal/state (attached through `fd`) linked: a writer gives the in-place files
  // inodes of their own; a reader, or a writer another is ahead of, makes way for it.
  Status CooperateOnLinks(int fd);
  // Every kCheckPointEvery steps (accounts, records) of a long read: CheckLinks.
  Status WalkCheckPoint();
  // The descriptor that carries this process's attachment: journal/state's.
  int AttachFd() const;
  // After the in-place files were given new inodes: `state_fd` (attached to the new
  // journal/state) takes the old one's place, and the lock tables and keys/index are
  // opened anew. A lock table that cannot be opened marks the store.
  void ReopenInPlaceFiles(int state_fd);

  Env* env_;
  Layout layout_;
  LockWait lock_wait_;
  std::uint64_t warm_from_accounts_ = 0;
  bool in_place_ = false;  // a shared file system: account files are rewritten in place
  std::unique_ptr<LockTable> locks_;
  std::unique_ptr<KeyIndex> key_index_;
  std::unique_ptr<Journal> journal_;
  bool upgraded_ = false;
  // FORMAT's chained-from: the first txn a writer of this format committed. Records before
  // it are an earlier build's, whose keys have key files and need no keys/index entry
  // (key_vouch.cc checks only the records from it on).
  std::uint64_t chained_from_ = 1;
  bool keys_checked_for_reading_ = false;  // CheckKeyIndexForReading passed
  // NoteOwnRecords: this process's durable records past the mark it last wrote.
  KnownRecords own_records_;
  static constexpr size_t kOwnRecordsAtMost = 1 << 14;
  // CheckEntriesForReading: account -> a finished record its file must be at or past.
  std::map<AccountId, std::uint64_t> floors_;
  // CheckPastMark's answer: the mark as read, how far it may move, the first key slot
  // found behind (Ok: none), and the accounts whose entries are behind a finished record.
  struct PastMark {
    std::uint64_t vouched = 0;
    std::uint64_t reach = 0;
    Status keys;
    struct Behind {
      AccountId id = 0;
      std::uint64_t newest = 0;  // the newest record past the mark that changed it
      std::uint64_t stop = 0;    // how far the mark may move while its entry stays behind
    };
    std::vector<Behind> accounts;
  };
  // VouchKeyIndex's check, moving nothing.
  Result<PastMark> CheckPastMark(const std::set<LockSlot>& held, const std::set<AccountId>& trusted);
  // Sets the account's entry to `txn` unless at or past it: directly when this commit holds
  // the account (`held`), else under a try of its lock. False when the lock is busy or
  // flagged (the mark then stays below the record).
  Result<bool> RaiseAccountEntry(AccountId id, std::uint64_t txn, bool held);
  int attach_fd_ = -1;        // a read-only store's attachment (a writable one's is the journal's)
  bool read_only_ = false;
  bool paused_ = false;       // Pause: the attachment let go of until Resume
  // journal/state's FileInfo as the last check point (or Resume) saw it, kept for the next
  // check point when nothing ran in between (CheckLinks).
  std::optional<FileInfo> fresh_state_;
  // Whether keys/ holds a key directory an older build wrote (keys/XX/): unknown until
  // FindKeyed first needs it, then listed once. No build since keys/index writes one, and
  // a store written by one before it opens only after recover upgraded it, so the answer
  // holds for the life of the process.
  std::optional<bool> legacy_key_dirs_;
  bool copier_wait_ = true;  // false once a copier's wait was given up on: tries only, after
  bool make_way_ = true;     // false once a copier was waited for in vain: never again
  std::uint64_t walk_steps_ = 0;  // steps of long reads, for WalkCheckPoint
  std::string read_only_why_;  // why read-only when not asked to be (Store::read_only_why)
  std::uint64_t read_only_accounts_ = 0;
  std::function<void(const FileRepair&)> on_repair_;
  // StoreOptions::on_notice, and the commits that took a second-long kind of time in a row
  // on a shared file system (NoteCommitTime: told at kStallsToNotice, once a process).
  std::function<void(std::string_view)> on_notice_;
  int stalls_in_a_row_ = 0;
  static constexpr int kStallsToNotice = 3;
  static constexpr double kStallSeconds = 0.5;
  static constexpr double kHungSeconds = 5.0;
  void NoteCommitTime(double seconds);
  // The states this store's own commits installed, kept only while no other writer's
  // record has joined the journal since (see CommitProtocol::ReadAccounts): a session that
  // commits again to an account reads nothing of it. Emptied by any commit that does not
  // end in success.
  std::map<AccountId, OwnState> own_states_;
};

// The implementation behind a Store from Store::Open, for the store's own parts and tests.
inline StoreImpl& Impl(Store& store) { return static_cast<StoreImpl&>(store); }

}  // namespace drovebank
