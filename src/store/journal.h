// The journal: segment files of records (record.h), the store-wide transaction counter,
// and group commit. docs/DESIGN.md walks through the protocol and its crash reasoning.
//
// Files in DATA/journal/:
//   NNNNNNNNNNNNNNNN.log  segments, named by the first transaction number they may hold
//   CHECKPOINT            how far the account files are known durable (record.h framing)
//   state                 this boot's summary of the journal (never fsync'd, read and written
//                         with pread/pwrite under the append mutex): next txn, the active
//                         segment and how far it is written and synced. The segment file
//                         is checked against it at every append. Its bytes 100..102 carry
//                         OFD locks: the append mutex, the sync leader, and the checkpointer.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/lock_wait.h"
#include "chain.h"
#include "journal_steps.h"
#include "layout.h"
#include "storage_mode.h"
#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

struct JournalPos {
  std::uint64_t seg = 0;     // segment name (its first txn)
  std::uint64_t offset = 0;  // byte offset within it
  auto operator<=>(const JournalPos&) const = default;
};

struct CheckpointInfo {
  JournalPos pos;                  // records before pos are durable in the account files
  std::uint64_t last_txn = 0;      // the last txn before pos
  AccountId max_id = 0;            // the largest id opened or reserved before pos
  std::uint64_t account_count = 0;  // accounts opened before pos
  // The hash chain's head at pos (format 3); absent in checkpoints of format 2.
  std::optional<ChainHead> head;
};

// Why a bad record at the end of the journal (`tail`, from `at` to the segment's end, the
// record expected to be txn `txn`) cannot be a torn write, or nullopt when it may be one:
// the previous boot's state had synced past it (`synced_before`), or an account file names
// txn `txn` or a later one (the files it names are looked at first, then every file, when
// the line is whole). A torn write was never synced, so no file can name it.
Result<std::optional<std::string>> TailEvidence(Env* env, const Layout& layout,
                                                std::string_view tail, JournalPos at,
                                                std::optional<JournalPos> synced_before,
                                                std::uint64_t txn);

// The JSON of a whole record line (CRC, space, JSON, LF), what the hash chain covers; and
// the same for record i of `scan`, a scan of `bytes`.
inline std::string_view RecordLineJson(std::string_view line) {
  return line.substr(9, line.size() - 10);
}
std::string_view RecordJsonAt(std::string_view bytes, const ScanResult& scan, size_t i);

// Segments grow to about this size before a new one starts and a checkpoint runs.
inline constexpr std::uint64_t kSegmentBytes = 4 << 20;

// The most a pass over a segment reads at once (ForEachLine, the look-up index): one
// buffer of this size, reused. Every page of a fresh buffer is a page fault when first
// written (~11 us each on this project's VM), so a 1 MiB chunk cost a report that read a
// short tail 256 faults, ~3 ms, for bytes it never used (BENCHMARKS-HISTORY.md, "Page
// faults of a one-shot report").
inline constexpr size_t kReadChunk = 64 << 10;

class Journal {
 public:
  // Called while the journal is (re)initialised after a crash or power loss, with every
  // record after the checkpoint, before any other process may commit. It must bring the
  // account files up to date (records carry full states, so applying is idempotent).
  using ReplayFn = std::function<Status(const std::vector<Record>&)>;

  // Opens the journal of an existing data directory, initialising the shared state
  // (and replaying) when this boot has not done so yet. Every wait for one of
  // journal/state's lock bytes (the append mutex, the sync leader, the checkpointer) is
  // bounded by `lock_wait` (timeout and cancel), as the account locks are: before the
  // append a wait that ends is Busy/Cancelled with nothing changed; in Sync, after it, the
  // commit goes on without the lock. `state_fd`, when not -1, is journal/state already
  // open and attached (src/store/own_links.h); the journal owns it from then on.
  static Result<std::unique_ptr<Journal>> Open(Env* env, const Layout& layout, StorageMode mode,
                                               ReplayFn replay,
                                               std::uint64_t segment_bytes = kSegmentBytes,
                                               LockWait lock_wait = {}, int state_fd = -1);
  ~Journal();

  // Opens without touching the shared state or any file: for `recover --check`. Append,
  // Sync and AllocateId must not be called; End() is the end of the last segment once it
  // ends on a whole record (a live writer's record still being copied in is waited for;
  // a tail that stays torn for a second is returned as it is).
  static Result<std::unique_ptr<Journal>> OpenReadOnly(Env* env, const Layout& layout,
                                                       StorageMode mode);

  // Rebuilds the shared state from disk now (replaying), as after a reboot: `recover` uses
  // it so a failed sync or a torn tail is settled from what the disk really holds.
  Status Reinitialize();
  // The chain's head as journal/state last wrote it down (txn and hash) and the published
  // end it is the head at, when the file is whole (its checksum intact, of this boot or
  // another that had synced up to that end: HeadDurable): evidence of what the newest
  // record was when it was published, read before Reinitialize rebuilds the state from the
  // segments, and by `recover --check`. Reads the file only: nothing is caught up or cut
  // (a read-only journal opens it for the read, and closes it). nullopt when the file is
  // damaged or missing.
  struct WrittenDown {
    ChainHead head;
    JournalPos end;
  };
  Result<std::optional<WrittenDown>> HeadWrittenDown() const;

  // journal/state's descriptor, attached (src/store/own_links.h), and its replacement by
  // a copy's, attached too; the old one is closed then, and must not be used elsewhere.
  int state_fd() const { return state_fd_; }
  // The old descriptor is not closed here: OwnLinkedFiles closed it when it copied.
  void ReplaceStateFd(int fd) { state_fd_ = fd; }

  // Reserves a new account id (the next after the largest ever allocated or used by a
  // record, reservations included). An id whose open never commits is skipped, never
  // reused within this boot.
  Result<AccountId> AllocateId();

  // Commit step 1. Under the append mutex: assigns consecutive txn numbers and the time to
  // `records`, writes them with one write(2), and publishes the new end. Success: the
  // records are in the journal (not yet durable); returns the end position. Failure:
  // nothing of them remains in the journal (a partial write is cut off), unless the cut
  // itself failed, in which case the store is marked as needing recovery.
  //
  // With `only_if_unchanged`, the records are written only when no record has joined the
  // journal since this Journal's own last append (nor its open or Reinitialize): otherwise
  // nothing is written and nullopt returned, so the caller, whose states of its accounts
  // came from its own last commit rather than the files, reads them and tries again.
  // `steps`, when given, is told of each JournalStep as it is reached.
  Result<std::optional<JournalPos>> Append(std::vector<Record>* records,
                                           bool only_if_unchanged, JournalSteps* steps);
  // Whether, at this Journal's last successful Append, no other record had joined the
  // journal since the one before it: the condition Append(..., true) demands.
  bool unchanged_at_last_append() const { return unchanged_at_last_append_; }

  // Adopts, under the append mutex, the whole records that a dead appender wrote past the
  // published end (it was killed between its write(2) and publishing it), as the next
  // Append would, and cuts off any torn bytes after them. Afterwards End() covers them.
  // Whoever repairs files from the journal calls this first: such a record's writer held
  // the locks the repairer now holds, and the record joins the journal at the next
  // Append whatever happens, so a repair that missed it would let the next write build on
  // a state the journal has already replaced. A no-op on a read-only journal.
  Status AdoptUnpublished();

  // Commit step 2, the commit point: returns once everything up to `pos` is durable. One
  // process syncs for all that are waiting (group commit). An fdatasync failure is never
  // retried: the store is marked as needing recovery and IOError (maybe applied) returned.
  Status Sync(JournalPos pos, JournalSteps* steps);

  // True once an Append started a new segment since the last checkpoint by this process.
  bool rotated() const { return rotated_; }
  void clear_rotated() { rotated_ = false; }

  JournalPos End() const;
  // The largest account id used so far (opens and reservations, see LargestIdUsed):
  // AllocateId hands out the next one. A snapshot; another process may raise it.
  AccountId max_id() const;
  std::uint64_t account_count() const;
  // The count as this process last read it under the mutex (at open or at its last
  // append): no file system call, and possibly behind other processes' opens. For
  // heuristics only.
  std::uint64_t account_count_seen() const;
  // The chain head's txn as this process last read it under the mutex (as above; 0 for a
  // read-only journal, which keeps no state).
  std::uint64_t head_txn_seen() const;

  Result<CheckpointInfo> ReadCheckpoint() const;
  Status WriteCheckpoint(const CheckpointInfo& info);

  // Records in [from, to), across segments, in order; Corruption on a bad record.
  Result<std::vector<Record>> ReadRange(JournalPos from, JournalPos to) const;
  // The same records handed one at a time to `fn` with the position each starts at, one
  // segment in memory at a time (for whole-history passes). Stops at the first error,
  // which is returned; Corruption on a bad record.
  using RecordFn = std::function<Status(Record&, JournalPos at)>;
  Status ForEach(JournalPos from, JournalPos to, const RecordFn& fn) const;
  // ForEach that also hands over each record's JSON exactly as the segment holds it (what
  // the hash chain covers).
  using LineFn = std::function<Status(Record&, JournalPos at, std::string_view json)>;
  Status ForEachLine(JournalPos from, JournalPos to, const LineFn& fn) const;

  // The hash chain's head at `end` (a record boundary): the last record before it, when
  // it carries prev_hash; otherwise (records of format 2) the chain followed from the
  // first record. Corruption where the chain breaks before `end`.
  Result<ChainHead> HeadAt(JournalPos end) const;
  // The head as this writable journal last published it, read under the append mutex
  // (the head at End()).
  Result<ChainHead> Head() const;
  // The published head's txn, read without the append mutex: one `pread` of journal/state,
  // whose checksum tells a read torn by a writer's (nullopt then, as on a shared file
  // system, whose client may answer from its cache: there only the mutex's cache drop
  // makes the read fresh, so Head() is the way). Every record published before the read
  // is at or below it.
  Result<std::optional<std::uint64_t>> PeekHeadTxn() const;
  // The published head's txn: PeekHeadTxn, or, where that cannot answer, journal/state read
  // under the append mutex (three calls on a shared file system), and only when that is not
  // this boot's whole state, Head(). Unlike Head() it adopts no unpublished tail: a
  // caller that only needs what was published leaves a dead writer's bytes to the next
  // append or recover.
  Result<std::uint64_t> PublishedHeadTxn() const;
  // One committed record by its number; NotFound if there is none.
  Result<Record> FindTxn(std::uint64_t txn) const;
  // The same record found by bisecting its segment with a few small reads, not reading it
  // whole (journal_lookup.cc): for one look-up, as the proof of an account file makes.
  // Uses the cache when FindTxn has the segment already.
  Result<Record> LookUpTxn(std::uint64_t txn) const;
  // The record whose line starts at `at`, a position ForEach or ForEachLine handed out:
  // one pread of a small window (more for a longer record), through LookUpTxn's
  // descriptors. Corruption when no whole record line starts there.
  Result<Record> RecordAt(JournalPos at) const;
  // How many segments FindTxn keeps read and indexed: 0 (the default) keeps every one it
  // reads; n keeps the n most recently read, dropping the lowest-numbered first. A walk
  // down a long history chain (Store::ForEachChange) sets 1 for its length: it goes
  // newest first and never comes back to a segment, so it holds one whatever the journal.
  void set_max_cached_segments(size_t n) const { max_cached_segments_ = n; }
  size_t max_cached_segments() const { return max_cached_segments_; }
  size_t cached_segments() const { return segment_cache_.size(); }

  // Lets go of what FindTxn and LookUpTxn keep (segments read, open segments and their
  // line indexes); they read again on demand. For a long pass that is done with them.
  void DropCaches() const {
    CloseLookups();
    segment_cache_.clear();
  }

  // OFD lock serialising checkpoints.
  Status LockCheckpoint(bool wait);
  void UnlockCheckpoint();

  // Segment names in ascending order.
  Result<std::vector<std::uint64_t>> Segments() const;
  std::string SegmentPath(std::uint64_t seg) const;
  // Opens a segment, proven a regular file (one fstat): a FIFO or a directory put in
  // its place is Corruption naming it (store_files.h), not a read error without a name.
  // `info`: the fstat, when the caller wants it.
  Result<int> OpenSegment(std::uint64_t seg, int flags, FileInfo* info = nullptr) const;

 private:
  struct State;
  // Whether the byte before `at` is a record's closing newline (true if unreadable).
  bool EndsOnRecord(JournalPos at) const;
  Journal(Env* env, const Layout& layout, StorageMode mode, ReplayFn replay,
          std::uint64_t segment_bytes);
  Status Attach();
  // Each needs the append mutex held.
  Status LoadState() const;  // reads journal/state into st_, rebuilding it if not this boot's
  // Reads journal/state into `st` and says what it is: this boot's (whole, checksum intact,
  // its boot id this session's: what LoadState and PeekHeadTxn trust), whole but another
  // boot's (its synced position is still evidence), or damaged (short, not a state, or its
  // checksum failed).
  enum class StateRead { kThisBoot, kOtherBoot, kDamaged };
  Result<StateRead> ReadState(State* st) const;
  Result<StateRead> ReadStateFrom(int fd, State* st) const;
  Status SaveState();
  Status CatchUp();  // adopts records past st_->end; Corruption if the segment shrank
  Status LockedSnapshot() const;
  // `synced_before`: how far the previous boot's state (checksum intact) said it had
  // synced, evidence that a bad record up to there rotted rather than tore.
  // `head_before`: the chain's head the previous state wrote down (txn and hash), checked
  // against the segments' before anything is replayed.
  Status Initialize(std::optional<JournalPos> synced_before,
                    std::optional<ChainHead> head_before = std::nullopt);
  // Initialize's parts. The segments to read (segment 1 made when there is none;
  // Corruption when the checkpoint's is missing). One segment's records from `start` on
  // (`last`: the newest segment, where a torn tail is cut off), each checked to follow from
  // the one before it (CheckKeptRecords), made durable (RewriteKept) and added to `tail`:
  // returns where the kept records end.
  Result<std::vector<std::uint64_t>> SegmentsToInitialize(const CheckpointInfo& ckpt);
  Result<std::uint64_t> KeepSegmentTail(std::uint64_t seg, std::uint64_t start, bool last,
                                        std::optional<JournalPos> synced_before,
                                        ChainFollower* chain, std::vector<Record>* tail);
  Status CheckKeptRecords(std::uint64_t seg, std::uint64_t start, std::string_view bytes,
                          const ScanResult& scan, std::optional<JournalPos> synced_before,
                          ChainFollower* chain);
  Status RewriteKept(std::uint64_t seg, std::uint64_t start, std::string_view bytes,
                     const ScanResult& scan);
  // The chain head in st_ (valid under the append mutex after LoadState).
  void SetHead(const ChainHead& head);
  ChainHead StateHead() const;
  static ChainHead HeadIn(const State& st);  // the head a state holds
  // Whether the head `st` holds is evidence of what the newest record was: this boot's,
  // or another's that had synced up to it (journal_state.cc says why).
  static bool HeadDurable(const State& st, StateRead read);
  Status EnsureSegmentOpen(std::uint64_t seg);
  Status AdoptTail(std::uint64_t size);
  Status Rotate(JournalSteps* steps);
  // Append's publishing, under the append mutex: `records`, `written` bytes ending in
  // chain head `head`, become part of the state, which is saved.
  Status Publish(const std::vector<Record>& records, std::uint64_t written,
                 const ChainHead& head);
  // Sync's end, with the leader lock held (or its wait ended): the outcome `s` of the
  // fdatasync that covered up to `target`, recorded in the state under the append mutex.
  Status PublishSynced(Status s, JournalPos target);
  // The sync itself, with the leader lock held (or its wait ended) and the segment of
  // `target` open: the kSyncing step, one fdatasync, PublishSynced.
  Status SyncTo(JournalPos target, JournalSteps* steps);
  Status MarkNeedsRecovery(std::string_view why);
  Result<std::string> ReadSegment(std::uint64_t seg) const;

  Env* env_;
  Layout layout_;
  StorageMode mode_;
  ReplayFn replay_;
  std::uint64_t segment_bytes_;
  // What journal/state is stamped with and must match: this boot's id, or kSharedSession
  // in shared mode (StorageMode).
  std::string session_;
  static constexpr std::string_view kSharedSession = "shared-volume";
  // On a shared file system every write is O_DSYNC, so an append is durable when its
  // write returns: Append publishes it as synced, and Sync of a position up to durable_
  // (this process's last such append) costs nothing.
  bool write_through_ = false;
  JournalPos durable_{};
  LockWait lock_wait_;
  int state_fd_ = -1;
  std::unique_ptr<State> st_;  // valid while the append mutex is held, after LoadState
  int seg_fd_ = -1;
  std::uint64_t seg_open_ = 0;
  bool rotated_ = false;
  // next_txn right after this Journal's last append (0: none since open or Reinitialize),
  // and whether the journal stood there at the append after it (see Append).
  std::uint64_t own_next_txn_ = 0;
  bool unchanged_at_last_append_ = false;
  // Whether this Journal holds the sync-leader lock, taken by its last Append for the end
  // it published (leads_to_), for the Sync that follows (see Append).
  bool leading_ = false;
  JournalPos leads_to_{};
  void StopLeading();
  struct SegmentIndex {
    struct Entry {
      std::uint64_t txn;
      size_t offset, length;
    };
    std::string bytes;
    std::vector<Entry> index;
    // Read while it was the newest segment: records may have been appended after the read.
    bool read_active = false;
  };
  mutable std::map<std::uint64_t, SegmentIndex> segment_cache_;
  // LookUpTxn's: the segment names as last listed (segments are only ever added, with
  // higher names), and one read-only descriptor of the segment it read last.
  mutable std::vector<std::uint64_t> lookup_segs_;
  // LookUpIn's open segments, a few at once: a report proves files that name records
  // all over the journal, and reopening a segment for each switch was a third of its
  // opens. Each keeps the window of its end that LookUpIn read last, valid while the
  // segment has the size it had then.
  struct LookupSegment {
    int fd = -1;
    std::uint64_t used = 0;  // lookup_tick_ at the last use: the least recent is closed
    std::uint64_t tail_size = 0;  // the segment's size when `tail` was read; 0: none kept
    std::uint64_t tail_from = 0;
    size_t tail_pos = 0;  // where the window's first whole line starts
    std::uint64_t tail_first_txn = 0;
    std::string tail;
    // After kIndexAfter look-ups, where each line before the end window starts: a walk
    // proving many files then reads each record with one pread instead of a bisection.
    struct Line {
      std::uint64_t txn;
      std::uint32_t offset;
      std::uint32_t length;
    };
    std::uint32_t lookups = 0;
    bool indexed = false;
    std::uint64_t indexed_end = 0;  // the index holds every whole line before it
    std::vector<Line> index;        // by txn
  };
  // Whether the segment's line index already holds `txn`, before the tail window.
  static bool IndexHolds(const LookupSegment& ls, std::uint64_t txn);
  static constexpr size_t kLookupSegments = 8;
  static constexpr std::uint32_t kIndexAfter = 32;
  Status IndexLookupSegment(LookupSegment* ls, std::uint64_t end) const;
  Result<std::optional<Record>> LookUpIndexed(const LookupSegment& ls, std::uint64_t txn) const;
  Result<LookupSegment*> LookupOpen(std::uint64_t seg) const;
  Status ReadLookupTail(LookupSegment* ls, std::uint64_t size, std::uint64_t want) const;
  void CloseLookups() const;
  mutable std::map<std::uint64_t, LookupSegment> lookup_open_;
  mutable std::uint64_t lookup_tick_ = 0;
  Result<Record> LookUpIn(std::uint64_t seg, std::uint64_t txn) const;
  mutable size_t max_cached_segments_ = 0;
  const SegmentIndex* IndexOf(std::uint64_t seg, bool active, std::uint64_t want) const;
};

}  // namespace drovebank
