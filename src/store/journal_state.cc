// The journal's shared state, journal/state (journal_state.h): opening the journal, loading
// and saving the state under the append mutex, and rebuilding it from the segments when it
// is not this boot's (Initialize: after a reboot or a crash, replaying the tail).
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "crc32.h"
#include "journal.h"
#include "journal_state.h"
#include "process_info.h"

namespace drovebank {

using journal_internal::ByteLock;
using journal_internal::kAppendLockByte;
using journal_internal::NothingChanged;

namespace {

constexpr std::uint64_t kStateMagic = 0x64726f7665737433ULL;  // "drovest3"

std::uint32_t StateCrc(const void* st, size_t n) {
  return Crc32(std::string_view(static_cast<const char*>(st), n));
}

}  // namespace

Journal::Journal(Env* env, const Layout& layout, StorageMode mode, ReplayFn replay,
                 std::uint64_t segment_bytes)
    : env_(env),
      layout_(layout),
      mode_(mode),
      replay_(std::move(replay)),
      segment_bytes_(segment_bytes),
      // Why no boot id on a shared file system: every host has its own, so each would take
      // the others' state for a stale one and rebuild it (replaying) under their running
      // writers. There the state needs none: every write is O_DSYNC, so the segment bytes
      // it publishes are durable before the state names them, and no reboot of a client can
      // leave the state ahead of the servers' disks.
      session_(mode.shared ? std::string(kSharedSession) : Self().boot_id),
      write_through_(mode.shared),
      st_(std::make_unique<State>()) {}

Journal::~Journal() {
  CloseLookups();
  if (state_fd_ >= 0) (void)env_->Close(state_fd_);
  if (seg_fd_ >= 0) (void)env_->Close(seg_fd_);
}

Result<std::unique_ptr<Journal>> Journal::Open(Env* env, const Layout& layout, StorageMode mode,
                                               ReplayFn replay,
                                               std::uint64_t segment_bytes, LockWait lock_wait,
                                               int state_fd) {
  std::unique_ptr<Journal> j(new Journal(env, layout, mode, std::move(replay), segment_bytes));
  j->lock_wait_ = std::move(lock_wait);
  j->state_fd_ = state_fd;
  DB_RETURN_IF_ERROR(j->Attach());
  return j;
}

Result<std::unique_ptr<Journal>> Journal::OpenReadOnly(Env* env, const Layout& layout,
                                                       StorageMode mode) {
  return std::unique_ptr<Journal>(new Journal(env, layout, mode, nullptr, kSegmentBytes));
}

Status Journal::Reinitialize() {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  if (seg_fd_ >= 0) (void)env_->Close(seg_fd_);
  seg_fd_ = -1;
  own_next_txn_ = 0;
  DB_ASSIGN_OR_RETURN(std::optional<WrittenDown> written, HeadWrittenDown());
  std::optional<ChainHead> head;
  if (written) head = written->head;
  return Initialize(std::nullopt, head);
}

Status Journal::Attach() {
  if (state_fd_ < 0) {
    DB_ASSIGN_OR_RETURN(state_fd_, env_->OpenBootFile(layout_.JournalStatePath()));
  }
  // Read under the mutex at every append: see KeepUncached. Only its first bytes mean
  // anything (docs/FORMAT.md).
  KeepUncached(env_, mode_, state_fd_, /*writable=*/true);
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  return LoadState();
}

// Under the append mutex. A state another boot wrote (or none, or a damaged one) is
// rebuilt from the segments, replaying their tail: the one place where the journal
// decides what the disk really holds.
Status Journal::LoadState() const {
  State st{};
  DB_ASSIGN_OR_RETURN(StateRead read, ReadState(&st));
  if (read != StateRead::kThisBoot) {
    // Another boot's state with its checksum intact still says how far that boot synced:
    // evidence, when a record up to there fails its check, that it rotted (Initialize).
    std::optional<JournalPos> synced;
    std::optional<ChainHead> written;
    if (read == StateRead::kOtherBoot) {
      synced = JournalPos{st.synced_seg, st.synced_end};
      if (HeadDurable(st, read)) written = HeadIn(st);
    }
    return const_cast<Journal*>(this)->Initialize(synced, written);
  }
  *st_ = st;
  return Status::Ok();
}

Result<Journal::StateRead> Journal::ReadState(State* st) const { return ReadStateFrom(state_fd_, st); }

Result<Journal::StateRead> Journal::ReadStateFrom(int fd, State* st) const {
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd, reinterpret_cast<char*>(st), sizeof *st, 0));
  bool whole = n == sizeof *st && st->magic == kStateMagic &&
               st->crc == StateCrc(st, offsetof(State, crc));
  if (!whole) return StateRead::kDamaged;
  return std::strncmp(st->boot_id, session_.c_str(), sizeof st->boot_id) == 0 ? StateRead::kThisBoot
                                                                             : StateRead::kOtherBoot;
}

Result<std::optional<std::uint64_t>> Journal::PeekHeadTxn() const {
  if (state_fd_ < 0 || mode_.shared) return std::optional<std::uint64_t>();
  State st{};
  DB_ASSIGN_OR_RETURN(StateRead read, ReadState(&st));
  if (read != StateRead::kThisBoot) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(st.head_txn);
}

Result<std::optional<Journal::WrittenDown>> Journal::HeadWrittenDown() const {
  // A journal opened read-only (`recover --check`) has no descriptor of the file: it opens
  // one to read and closes it. Read without the append mutex, a write in progress reads as
  // damaged (its checksum), which is no evidence either way.
  int fd = state_fd_;
  if (fd < 0) {
    auto opened = env_->Open(layout_.JournalStatePath(), O_RDONLY);
    if (!opened.ok()) return std::optional<WrittenDown>();
    fd = *opened;
  }
  State st{};
  Result<StateRead> read = ReadStateFrom(fd, &st);
  if (fd != state_fd_) (void)env_->Close(fd);
  if (!read.ok()) return read.status();
  if (*read == StateRead::kDamaged || !HeadDurable(st, *read)) return std::optional<WrittenDown>();
  return std::optional<WrittenDown>(WrittenDown{HeadIn(st), JournalPos{st.seg, st.end}});
}

// Why another boot's head counts only once that boot had synced it: the state is written
// at the append, before the record's fdatasync, and the kernel may write the state back
// and not the record. A power loss then takes the record; the next boot appends its own
// record with the same txn, and when that one's length is the same and a second power
// loss takes the new boot's state (never fsynced) but not its synced record, the old head
// names the very byte where a genuine, acknowledged record ends, with another hash.
// Judged a forgery, that record would be refused, and `recover --accept-loss` would cut it.
bool Journal::HeadDurable(const State& st, StateRead read) {
  return read == StateRead::kThisBoot ||
         JournalPos{st.synced_seg, st.synced_end} >= JournalPos{st.seg, st.end};
}

Result<std::uint64_t> Journal::PublishedHeadTxn() const {
  DB_ASSIGN_OR_RETURN(std::optional<std::uint64_t> peeked, PeekHeadTxn());
  if (peeked) return *peeked;
  if (state_fd_ >= 0) {
    ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
    DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
    State st{};
    DB_ASSIGN_OR_RETURN(StateRead read, ReadState(&st));
    if (read == StateRead::kThisBoot) return st.head_txn;
  }
  DB_ASSIGN_OR_RETURN(ChainHead head, Head());
  return head.txn;
}

Status Journal::SaveState() {
  static_assert(sizeof(State) == 192, "docs/FORMAT.md describes 192 bytes");
  st_->magic = kStateMagic;
  std::memset(st_->boot_id, 0, sizeof st_->boot_id);
  std::strncpy(st_->boot_id, session_.c_str(), sizeof st_->boot_id - 1);
  st_->pad = 0;
  st_->crc = StateCrc(st_.get(), offsetof(State, crc));
  return env_->PWrite(state_fd_, std::string_view(reinterpret_cast<const char*>(st_.get()), sizeof(State)), 0);
}

Status Journal::MarkNeedsRecovery(std::string_view why) {
  return WriteRecoveryMarker(env_, layout_, why);
}

// Runs with the append mutex held and no valid shared state: after a reboot (power loss
// or not), or when a process died while updating the shared state.
Status Journal::Initialize(std::optional<JournalPos> synced_before,
                           std::optional<ChainHead> head_before) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env_, layout_));
  DB_ASSIGN_OR_RETURN(auto segs, SegmentsToInitialize(ckpt));
  // The chain's head at the checkpoint: written there since format 3; for an older
  // checkpoint, followed from the first record (once: the next checkpoint writes it).
  ChainHead head;
  if (ckpt.head) {
    head = *ckpt.head;
  } else if (ckpt.last_txn != 0) {
    DB_ASSIGN_OR_RETURN(head, HeadAt(ckpt.pos));
  }
  ChainFollower chain(head, format.chained_from);
  std::uint64_t last_seg = segs.back();
  std::uint64_t last_end = 0;
  std::vector<Record> tail;
  for (std::uint64_t seg : segs) {
    if (seg < ckpt.pos.seg) continue;
    std::uint64_t start = seg == ckpt.pos.seg ? ckpt.pos.offset : 0;
    DB_ASSIGN_OR_RETURN(std::uint64_t end, KeepSegmentTail(seg, start, seg == last_seg,
                                                           synced_before, &chain, &tail));
    if (seg == last_seg) last_end = end;
  }
  // The newest record as the state wrote it down, when the chain reaches exactly it: a
  // record whose checksum was fixed after it was changed follows the one before it on the
  // chain (its prev_hash is untouched), and only that head tells it was changed. Never
  // replayed into the files then.
  if (head_before) DB_RETURN_IF_ERROR(CheckHeadWrittenDown(*head_before, chain.head()));
  if (replay_ && !tail.empty()) DB_RETURN_IF_ERROR(replay_(tail));

  *st_ = State{};
  st_->next_txn = ckpt.last_txn + 1;
  st_->max_id = ckpt.max_id;
  st_->account_count = ckpt.account_count;
  for (const Record& r : tail) {
    st_->next_txn = r.txn + 1;
    st_->account_count += AccountsOpened(r);
    st_->max_id = std::max<std::uint64_t>(st_->max_id, LargestIdUsed(r));
  }
  st_->seg = last_seg;
  st_->end = last_end;
  st_->synced_seg = last_seg;
  st_->synced_end = last_end;
  SetHead(chain.head());
  st_->chained_from = format.chained_from;
  return SaveState();
}

Result<std::vector<std::uint64_t>> Journal::SegmentsToInitialize(const CheckpointInfo& ckpt) {
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  if (segs.empty()) {
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(1), O_WRONLY | O_CREAT, 0600));
    (void)env_->Close(fd);
    DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
    segs.push_back(1);
  }
  if (ckpt.pos.seg != 0 &&
      std::find(segs.begin(), segs.end(), ckpt.pos.seg) == segs.end()) {
    std::string why = fmt::format(
        "journal/CHECKPOINT names segment {}, which is missing; restore it from a backup, or "
        "rebuild from the records left with `recover --accept-loss`",
        SegmentPath(ckpt.pos.seg));
    (void)MarkNeedsRecovery(why);
    return Status::Corruption(why);
  }
  return segs;
}

Result<std::uint64_t> Journal::KeepSegmentTail(std::uint64_t seg, std::uint64_t start, bool last,
                                               std::optional<JournalPos> synced_before,
                                               ChainFollower* chain, std::vector<Record>* tail) {
  DB_ASSIGN_OR_RETURN(std::string bytes, ReadSegment(seg));
  if (start > bytes.size()) {
    (void)MarkNeedsRecovery(fmt::format("journal segment {} is shorter than the checkpoint says",
                                        SegmentPath(seg)));
    return Status::Corruption(fmt::format(
        "journal segment {} is shorter than journal/CHECKPOINT says ({} < {} bytes): records "
        "the account files were built from are gone; restore the segment from a backup, or "
        "rebuild from the records left with `recover --accept-loss` (recover --check names "
        "what is missing)",
        SegmentPath(seg), bytes.size(), start));
  }
  ScanResult scan = ScanRecords(std::string_view(bytes).substr(start));
  if (scan.corrupt_middle || (scan.torn_tail && !last)) {
    (void)MarkNeedsRecovery(fmt::format("journal segment {} is corrupt", SegmentPath(seg)));
    return Status::Corruption(
        fmt::format("journal segment {} is corrupt; run recover", SegmentPath(seg)));
  }
  DB_RETURN_IF_ERROR(CheckKeptRecords(seg, start, bytes, scan, synced_before, chain));
  DB_RETURN_IF_ERROR(RewriteKept(seg, start, bytes, scan));
  for (Record& r : scan.records) tail->push_back(std::move(r));
  return start + scan.good_bytes;
}

Status Journal::CheckKeptRecords(std::uint64_t seg, std::uint64_t start, std::string_view bytes,
                                 const ScanResult& scan, std::optional<JournalPos> synced_before,
                                 ChainFollower* chain) {
  // Every record kept must follow from the one before it: a record changed by hand
  // (its CRC recomputed) breaks the chain here, before anyone builds on it.
  std::string_view scanned = bytes.substr(start);
  for (size_t i = 0; i < scan.records.size(); ++i) {
    if (Status c = chain->Feed(scan.records[i], RecordJsonAt(scanned, scan, i)); !c.ok()) {
      std::string why = fmt::format("{} (segment {}, byte {})", c.message(), SegmentPath(seg),
                                    start + (i == 0 ? 0 : scan.ends[i - 1]));
      (void)MarkNeedsRecovery(why);
      return Status::Corruption(why + "; run recover --check");
    }
  }
  // Rot is never mistaken for a torn write: a bad record that this boot's predecessor
  // had synced, or that an account file already names, was acknowledged. Cutting it
  // would lose it and hand its txn out again, so the store is marked instead.
  if (!scan.torn_tail) return Status::Ok();
  std::uint64_t bad_at = start + scan.good_bytes;
  DB_ASSIGN_OR_RETURN(std::optional<std::string> evidence,
                      TailEvidence(env_, layout_, bytes.substr(bad_at), JournalPos{seg, bad_at},
                                   synced_before, chain->head().txn + 1));
  if (!evidence) return Status::Ok();
  std::string why = fmt::format(
      "journal record txn {} at byte {} of {} fails its checksum, but {}: the record "
      "was acknowledged and has rotted; restore the segment from a backup, or cut the "
      "journal back to the record before it with `recover --accept-loss` (recover "
      "--check explains)",
      chain->head().txn + 1, bad_at, SegmentPath(seg), *evidence);
  (void)MarkNeedsRecovery(why);
  return Status::Corruption(why);
}

// What is kept must be durable before anyone builds on it: the previous boot may have
// written it without syncing. An incomplete last record (a torn tail) was never
// synced as a whole, so never acknowledged: it is cut off. Why write the kept bytes
// again rather than only fdatasync: after a failed fdatasync Linux may mark the
// unwritten pages clean, so a later fdatasync of the same file succeeds without
// writing them, and KeepSegmentTail's read may have come from those pages. Writing them anew
// makes them dirty, so this sync really writes what every reader from now on builds
// on (at most the tail since the checkpoint).
Status Journal::RewriteKept(std::uint64_t seg, std::uint64_t start, std::string_view bytes,
                            const ScanResult& scan) {
  DB_ASSIGN_OR_RETURN(int fd, OpenSegment(seg, O_WRONLY));
  Status s = scan.torn_tail ? env_->Truncate(fd, start + scan.good_bytes) : Status::Ok();
  if (s.ok() && scan.good_bytes > 0) {
    s = env_->PWrite(fd, bytes.substr(start, scan.good_bytes), start);
  }
  if (s.ok()) s = env_->DataSync(fd);
  (void)env_->Close(fd);
  return s;
}
void Journal::SetHead(const ChainHead& head) {
  st_->head_txn = head.txn;
  std::memcpy(st_->head_hash, head.hash.data(), sizeof st_->head_hash);
}

ChainHead Journal::HeadIn(const State& st) {
  ChainHead head;
  head.txn = st.head_txn;
  std::memcpy(head.hash.data(), st.head_hash, head.hash.size());
  return head;
}

ChainHead Journal::StateHead() const { return HeadIn(*st_); }

Status Journal::LockedSnapshot() const {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  DB_RETURN_IF_ERROR(LoadState());
  return const_cast<Journal*>(this)->CatchUp();
}

std::uint64_t Journal::account_count_seen() const { return st_->account_count; }

std::uint64_t Journal::head_txn_seen() const { return state_fd_ < 0 ? 0 : st_->head_txn; }

AccountId Journal::max_id() const {
  if (state_fd_ < 0 || !LockedSnapshot().ok()) return 0;
  return static_cast<AccountId>(st_->max_id);
}

std::uint64_t Journal::account_count() const {
  if (state_fd_ < 0 || !LockedSnapshot().ok()) return 0;
  return st_->account_count;
}

}  // namespace drovebank
