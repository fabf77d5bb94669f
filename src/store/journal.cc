#include "journal.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "process_info.h"
#include "byte_wait.h"

namespace drovebank {

namespace {

constexpr std::uint64_t kStateMagic = 0x64726f7665737433ULL;  // "drovest3"
constexpr std::uint64_t kAppendLockByte = 100;
constexpr std::uint64_t kSyncLockByte = 101;
constexpr std::uint64_t kCheckpointLockByte = 102;

// One of journal/state's lock bytes, held for a scope. Lock() waits at most the store's
// --lock-timeout (WaitForByteLock), so a process that holds the byte (a reader's shared
// lock included: fcntl grants one on a read-only descriptor) cannot hold a writer up past
// it. A timeout is Busy: callers before the append say nothing changed; Sync, after it,
// goes on without the lock (see there).
class ByteLock {
 public:
  ByteLock(Env* env, int fd, std::uint64_t byte, const LockWait& wait)
      : env_(env), fd_(fd), byte_(byte), wait_(wait) {}
  [[nodiscard]] Status Lock() {
    Status s = LockByteWithin(env_, fd_, byte_, wait_, What(byte_));
    held_ = s.ok();
    return s;
  }
  void Unlock() {
    if (held_) (void)env_->UnlockByte(fd_, byte_);
    held_ = false;
  }
  ~ByteLock() { Unlock(); }

  static std::string What(std::uint64_t byte) {
    const char* name = byte == kAppendLockByte ? "append"
                       : byte == kSyncLockByte ? "sync-leader"
                                               : "checkpoint";
    return fmt::format("the journal's {} lock (byte {} of journal/state)", name, byte);
  }

 private:
  Env* env_;
  int fd_;
  std::uint64_t byte_;
  const LockWait& wait_;
  bool held_ = false;
};

// A wait for a lock that ended without it: timed out or cancelled.
bool WaitEnded(const Status& s) { return s.code() == Code::kBusy || s.code() == Code::kCancelled; }

// Before the append, a lock not granted changes nothing: say so.
Status NothingChanged(Status s) {
  if (!WaitEnded(s)) return s;
  return s.code() == Code::kBusy ? Status::Busy(fmt::format("{}; nothing changed", s.message()))
                                 : Status::Cancelled(fmt::format("{}; nothing changed", s.message()));
}

}  // namespace

std::string_view RecordJsonAt(std::string_view bytes, const ScanResult& scan, size_t i) {
  size_t begin = i == 0 ? 0 : scan.ends[i - 1];
  return RecordLineJson(bytes.substr(begin, scan.ends[i] - begin));
}

// The first bytes of journal/state. Read (pread) and written (pwrite) only under the
// append mutex, so every reader sees the last whole write: no shared mapping, no memory
// another process or host may not see. The crc catches anything else (a hand edit, a
// partial write the kernel exposed); a bad or missing stamp means "rebuild from disk".
struct Journal::State {
  std::uint64_t magic;
  char boot_id[64];
  std::uint64_t next_txn;
  std::uint64_t seg;
  std::uint64_t end;
  std::uint64_t synced_seg;
  std::uint64_t synced_end;
  std::uint64_t max_id;
  std::uint64_t account_count;
  std::uint64_t sync_failed;
  // Format 3: the hash chain's head at `end` (src/store/chain.h), and the first txn that
  // must carry prev_hash (from the FORMAT marker).
  std::uint64_t head_txn;
  std::uint8_t head_hash[32];
  std::uint64_t chained_from;
  std::uint32_t crc;
  std::uint32_t pad;
};

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
  if (lookup_fd_ >= 0) (void)env_->Close(lookup_fd_);
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
  return Initialize(std::nullopt);
}

std::string Journal::SegmentPath(std::uint64_t seg) const {
  return fmt::format("{}/{:016}.log", layout_.journal(), seg);
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

static std::uint32_t StateCrc(const void* st, size_t n) {
  return static_cast<std::uint32_t>(
      std::strtoul(Crc32Hex(std::string_view(static_cast<const char*>(st), n)).c_str(), nullptr, 16));
}

// Under the append mutex. A state another boot wrote (or none, or a damaged one) is
// rebuilt from the segments, replaying their tail: the one place where the journal
// decides what the disk really holds.
Status Journal::LoadState() const {
  State st{};
  auto n = env_->PRead(state_fd_, reinterpret_cast<char*>(&st), sizeof st, 0);
  if (!n.ok()) return n.status();
  bool valid = *n == sizeof st && st.magic == kStateMagic &&
               st.crc == StateCrc(&st, offsetof(State, crc)) &&
               std::strncmp(st.boot_id, session_.c_str(), sizeof st.boot_id) == 0;
  if (!valid) {
    // Another boot's state with its checksum intact still says how far that boot synced:
    // evidence, when a record up to there fails its check, that it rotted (Initialize).
    bool whole = *n == sizeof st && st.magic == kStateMagic &&
                 st.crc == StateCrc(&st, offsetof(State, crc));
    std::optional<JournalPos> synced;
    if (whole) synced = JournalPos{st.synced_seg, st.synced_end};
    return const_cast<Journal*>(this)->Initialize(synced);
  }
  *st_ = st;
  return Status::Ok();
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

Result<std::vector<std::uint64_t>> Journal::Segments() const {
  DB_ASSIGN_OR_RETURN(auto names, env_->ListDir(layout_.journal()));
  std::vector<std::uint64_t> segs;
  for (const std::string& n : names) {
    if (n.size() == 20 && n.substr(16) == ".log" &&
        std::all_of(n.begin(), n.begin() + 16, [](char c) { return c >= '0' && c <= '9'; })) {
      segs.push_back(std::stoull(n.substr(0, 16)));
    }
  }
  std::sort(segs.begin(), segs.end());
  return segs;
}

Result<std::string> Journal::ReadSegment(std::uint64_t seg) const {
  return env_->ReadFile(SegmentPath(seg));
}

Result<CheckpointInfo> Journal::ReadCheckpoint() const {
  auto text = env_->ReadFile(layout_.journal() + "/CHECKPOINT");
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return CheckpointInfo{};
    return text.status();
  }
  std::string_view t = *text;
  if (t.empty() || t.back() != '\n') return Status::Corruption("journal/CHECKPOINT is truncated");
  t.remove_suffix(1);
  if (t.size() < 10 || Crc32Hex(t.substr(9)) != t.substr(0, 8)) {
    return Status::Corruption("journal/CHECKPOINT checksum mismatch");
  }
  CheckpointInfo c;
  if (std::sscanf(std::string(t.substr(9)).c_str(),
                  "seg=%lu offset=%lu last_txn=%lu max_id=%u accounts=%lu", &c.pos.seg,
                  &c.pos.offset, &c.last_txn, &c.max_id, &c.account_count) != 5) {
    return Status::Corruption("journal/CHECKPOINT is malformed");
  }
  if (auto h = t.find(" head="); h != std::string_view::npos) {
    auto head = ParseHead(t.substr(h + 6));
    if (!head.ok()) return Status::Corruption("journal/CHECKPOINT has a malformed chain head");
    c.head = *head;
  }
  return c;
}

Status Journal::WriteCheckpoint(const CheckpointInfo& c) {
  std::string body = fmt::format("seg={} offset={} last_txn={} max_id={} accounts={}", c.pos.seg,
                                 c.pos.offset, c.last_txn, c.max_id, c.account_count);
  if (c.head) body += fmt::format(" head={}", FormatHead(*c.head));
  return WriteFileDurably(env_, layout_.journal() + "/CHECKPOINT",
                          fmt::format("{} {}\n", Crc32Hex(body), body));
}

Status Journal::MarkNeedsRecovery(std::string_view why) {
  return WriteRecoveryMarker(env_, layout_, why);
}

// Runs with the append mutex held and no valid shared state: after a reboot (power loss
// or not), or when a process died while updating the shared state.
Status Journal::Initialize(std::optional<JournalPos> synced_before) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env_, layout_));
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
  // The chain's head at the checkpoint: written there since format 3; for an older
  // checkpoint, followed from the first record (once: the next checkpoint writes it).
  ChainHead head;
  if (ckpt.head) {
    head = *ckpt.head;
  } else if (ckpt.last_txn != 0) {
    DB_ASSIGN_OR_RETURN(head, HeadAt(ckpt.pos));
  }
  ChainFollower chain(head, format.chained_from);
  std::uint64_t next_txn = ckpt.last_txn + 1;
  std::uint64_t max_id = ckpt.max_id;
  std::uint64_t count = ckpt.account_count;
  std::uint64_t last_seg = segs.back();
  std::uint64_t last_end = 0;
  std::vector<Record> tail;
  for (std::uint64_t seg : segs) {
    if (seg < ckpt.pos.seg) continue;
    DB_ASSIGN_OR_RETURN(std::string bytes, ReadSegment(seg));
    std::uint64_t start = seg == ckpt.pos.seg ? ckpt.pos.offset : 0;
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
    if (scan.corrupt_middle || (scan.torn_tail && seg != last_seg)) {
      (void)MarkNeedsRecovery(fmt::format("journal segment {} is corrupt", SegmentPath(seg)));
      return Status::Corruption(
          fmt::format("journal segment {} is corrupt; run recover", SegmentPath(seg)));
    }
    // Every record kept must follow from the one before it: a record changed by hand
    // (its CRC recomputed) breaks the chain here, before anyone builds on it.
    std::string_view scanned = std::string_view(bytes).substr(start);
    for (size_t i = 0; i < scan.records.size(); ++i) {
      if (Status c = chain.Feed(scan.records[i], RecordJsonAt(scanned, scan, i)); !c.ok()) {
        std::string why = fmt::format("{} (segment {}, byte {})", c.message(), SegmentPath(seg),
                                      start + (i == 0 ? 0 : scan.ends[i - 1]));
        (void)MarkNeedsRecovery(why);
        return Status::Corruption(why + "; run recover --check");
      }
    }
    // Rot is never mistaken for a torn write: a bad record that this boot's predecessor
    // had synced, or that an account file already names, was acknowledged. Cutting it
    // would lose it and hand its txn out again, so the store is marked instead.
    if (scan.torn_tail) {
      std::uint64_t bad_at = start + scan.good_bytes;
      DB_ASSIGN_OR_RETURN(std::optional<std::string> evidence,
                          TailEvidence(env_, layout_, std::string_view(bytes).substr(bad_at),
                                       JournalPos{seg, bad_at}, synced_before,
                                       chain.head().txn + 1));
      if (evidence) {
        std::string why = fmt::format(
            "journal record txn {} at byte {} of {} fails its checksum, but {}: the record "
            "was acknowledged and has rotted; restore the segment from a backup, or cut the "
            "journal back to the record before it with `recover --accept-loss` (recover "
            "--check explains)",
            chain.head().txn + 1, bad_at, SegmentPath(seg), *evidence);
        (void)MarkNeedsRecovery(why);
        return Status::Corruption(why);
      }
    }
    // What is kept must be durable before anyone builds on it: the previous boot may have
    // written it without syncing. An incomplete last record (a torn tail) was never
    // synced as a whole, so never acknowledged: it is cut off. Why write the kept bytes
    // again rather than only fdatasync: after a failed fdatasync Linux may mark the
    // unwritten pages clean, so a later fdatasync of the same file succeeds without
    // writing them, and the read above may have come from those pages. Writing them anew
    // makes them dirty, so this sync really writes what every reader from now on builds
    // on (at most the tail since the checkpoint).
    {
      DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(seg), O_WRONLY));
      Status s = scan.torn_tail ? env_->Truncate(fd, start + scan.good_bytes) : Status::Ok();
      if (s.ok() && scan.good_bytes > 0) {
        s = env_->PWrite(fd, std::string_view(bytes).substr(start, scan.good_bytes), start);
      }
      if (s.ok()) s = env_->DataSync(fd);
      (void)env_->Close(fd);
      DB_RETURN_IF_ERROR(s);
    }
    for (Record& r : scan.records) {
      next_txn = r.txn + 1;
      count += AccountsOpened(r);
      max_id = std::max<std::uint64_t>(max_id, LargestIdUsed(r));
      tail.push_back(std::move(r));
    }
    if (seg == last_seg) last_end = start + scan.good_bytes;
  }
  if (replay_ && !tail.empty()) DB_RETURN_IF_ERROR(replay_(tail));

  *st_ = State{};
  st_->next_txn = next_txn;
  st_->seg = last_seg;
  st_->end = last_end;
  st_->synced_seg = last_seg;
  st_->synced_end = last_end;
  st_->max_id = max_id;
  st_->account_count = count;
  SetHead(chain.head());
  st_->chained_from = format.chained_from;
  return SaveState();
}

void Journal::SetHead(const ChainHead& head) {
  st_->head_txn = head.txn;
  std::memcpy(st_->head_hash, head.hash.data(), sizeof st_->head_hash);
}

ChainHead Journal::StateHead() const {
  ChainHead head;
  head.txn = st_->head_txn;
  std::memcpy(head.hash.data(), st_->head_hash, head.hash.size());
  return head;
}

Status Journal::EnsureSegmentOpen(std::uint64_t seg) {
  if (seg_fd_ >= 0 && seg_open_ == seg) return Status::Ok();
  if (seg_fd_ >= 0) (void)env_->Close(seg_fd_);
  seg_fd_ = -1;
  DB_ASSIGN_OR_RETURN(seg_fd_, env_->Open(SegmentPath(seg), O_WRONLY | O_APPEND));
  seg_open_ = seg;
  return Status::Ok();
}

// Bytes past the published end were written by a process that died before publishing
// them. Whole records are adopted (they may already be durable through someone else's
// sync); anything after them is cut off, since no one can have acknowledged it.
Status Journal::AdoptTail(std::uint64_t size) {
  std::string buf(size - st_->end, '\0');
  DB_ASSIGN_OR_RETURN(int rfd, env_->Open(SegmentPath(st_->seg), O_RDONLY));
  auto n = env_->PRead(rfd, buf.data(), buf.size(), st_->end);
  (void)env_->Close(rfd);
  if (!n.ok()) return n.status();
  buf.resize(*n);
  ScanResult scan = ScanRecords(buf);
  // The dead appender chained its records from the head this state publishes, as Append
  // does: one that does not follow from it (or its txn from next_txn) is not adopted.
  ChainFollower chain(StateHead(), st_->chained_from);
  std::uint64_t adopted = 0;
  for (size_t i = 0; i < scan.records.size(); ++i) {
    const Record& r = scan.records[i];
    if (r.txn != st_->next_txn || !chain.Feed(r, RecordJsonAt(buf, scan, i)).ok()) break;
    st_->next_txn = r.txn + 1;
    st_->account_count += AccountsOpened(r);
    st_->max_id = std::max<std::uint64_t>(st_->max_id, LargestIdUsed(r));
    adopted = scan.ends[i];
  }
  SetHead(chain.head());
  std::uint64_t keep = st_->end + adopted;
  st_->end = keep;
  DB_RETURN_IF_ERROR(SaveState());
  if (keep < size) return env_->Truncate(seg_fd_, keep);
  return Status::Ok();
}

// Under the append mutex, with the state just loaded: the segment file, not the state,
// says where the journal ends.
Status Journal::CatchUp() {
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(st_->seg));
  DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(seg_fd_));
  if (info.size > st_->end) return AdoptTail(info.size);
  if (info.size < st_->end) {
    (void)MarkNeedsRecovery("journal segment shrank below its published end");
    return Status::Corruption("the journal is shorter than expected; run recover");
  }
  // Never append through a link: a hard-link backup (cp -al, rsync --link-dest) holds the
  // same inode, and its copy of the journal must stay as it was taken. The next record
  // goes into a new segment of this store's own; an empty one is made anew.
  if (info.nlink > 1 && !write_through_) {
    if (st_->end > 0) {
      FaultPointSteps steps(env_, "journal");
      DB_RETURN_IF_ERROR(Rotate(&steps));
      return EnsureSegmentOpen(st_->seg);
    }
    (void)env_->Close(seg_fd_);
    seg_fd_ = -1;
    DB_RETURN_IF_ERROR(env_->Unlink(SegmentPath(st_->seg)));
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(st_->seg), O_WRONLY | O_CREAT | O_EXCL, 0600));
    Status synced = env_->Sync(fd);
    (void)env_->Close(fd);
    DB_RETURN_IF_ERROR(synced);
    DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
    return EnsureSegmentOpen(st_->seg);
  }
  return Status::Ok();
}

Status Journal::AdoptUnpublished() {
  if (state_fd_ < 0) return Status::Ok();
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  DB_RETURN_IF_ERROR(LoadState());
  return CatchUp();
}

Result<AccountId> Journal::AllocateId() {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  DB_RETURN_IF_ERROR(LoadState());
  DB_RETURN_IF_ERROR(CatchUp());
  if (st_->max_id >= kMaxAccountId) {
    return Status::Limit(fmt::format("all account ids up to {} are used", kMaxAccountId));
  }
  AccountId id = static_cast<AccountId>(++st_->max_id);
  DB_RETURN_IF_ERROR(SaveState());
  return id;
}

Result<std::optional<JournalPos>> Journal::Append(std::vector<Record>* records,
                                                  bool only_if_unchanged,
                                                  JournalSteps* steps) {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  // Why forgotten first: from here until this append succeeds, a failure may leave records
  // (ours, cut off or not; a dead writer's, adopted) that the caller's states do not show.
  std::uint64_t own_next = std::exchange(own_next_txn_, 0);
  unchanged_at_last_append_ = false;
  DB_RETURN_IF_ERROR(LoadState());
  if (st_->sync_failed) {
    return Status::NeedsRecovery("an earlier journal sync failed; run recover");
  }
  // After CatchUp, so a record a dead writer left unpublished counts as one that joined.
  DB_RETURN_IF_ERROR(CatchUp());
  bool unchanged = own_next != 0 && st_->next_txn == own_next;
  if (only_if_unchanged && !unchanged) return std::optional<JournalPos>();

  std::string bytes;
  std::int64_t now = NowMillis();
  std::uint64_t txn = st_->next_txn;
  ChainHead head = StateHead();
  // A reference to an earlier record of this group (kPrevInGroup | index) becomes its txn.
  auto resolve = [&](std::uint64_t* ref, const Record& r) -> Status {
    if (!(*ref & kPrevInGroup)) return Status::Ok();
    std::uint64_t idx = *ref & ~kPrevInGroup;
    if (idx >= records->size() || &(*records)[idx] >= &r) {
      return Status::Internal("bad in-group reference");
    }
    *ref = (*records)[idx].txn;
    return Status::Ok();
  };
  for (Record& r : *records) {
    r.txn = txn++;
    r.time_ms = now;
    DB_RETURN_IF_ERROR(resolve(&r.key_prev, r));
    for (RecordAccount& ra : r.accounts) {
      ra.state.last_txn = r.txn;
      DB_RETURN_IF_ERROR(resolve(&ra.prev_txn, r));
    }
    // The chain: each record names the one before it (src/store/chain.h).
    r.prev_hash = HashHex(head.hash);
    std::string json = RecordJson(r);
    head = ChainHead{r.txn, ChainStep(head.hash, json)};
    bytes += EncodeRecordJson(json);
  }
  if (steps != nullptr) steps->Reached(JournalStep::kEncoded);
  Status ws = env_->Write(seg_fd_, bytes);
  if (!ws.ok()) {
    // Cut off whatever part was written, so the next append starts on a record boundary.
    Status ts = env_->Truncate(seg_fd_, st_->end);
    if (!ts.ok()) {
      (void)MarkNeedsRecovery("a failed journal write could not be cut off");
      return ws.Annotate("writing the journal (and cutting it back failed; run recover)");
    }
    return ws.Annotate("writing the journal; nothing changed");
  }
  if (steps != nullptr) steps->Reached(JournalStep::kWritten);
  st_->next_txn = txn;
  st_->end += bytes.size();
  SetHead(head);
  // Write-through: every byte up to the new end was written O_DSYNC (ours just now, the
  // others' before they published), so it is durable already.
  if (write_through_) {
    st_->synced_seg = st_->seg;
    st_->synced_end = st_->end;
  }
  for (const Record& r : *records) {
    st_->account_count += AccountsOpened(r);
    st_->max_id = std::max<std::uint64_t>(st_->max_id, LargestIdUsed(r));
  }
  // The records are in the segment whatever this does: unpublished, the next holder of the
  // mutex adopts them from the file (CatchUp), so they may yet commit.
  if (Status ps = SaveState(); !ps.ok()) {
    return ps.Annotate("publishing the journal end").set_maybe_applied();
  }
  JournalPos pos{st_->seg, st_->end};
  if (write_through_) durable_ = pos;
  own_next_txn_ = st_->next_txn;
  unchanged_at_last_append_ = unchanged;
  if (steps != nullptr) steps->Reached(JournalStep::kPublished);
  // Rotation is housekeeping: the records are written whatever it does. A failed rotation
  // is tried again by the next append; a failed sync inside it is recorded in the state
  // and the marker, so this caller's Sync reports it.
  if (st_->end >= segment_bytes_) (void)Rotate(steps);
  return std::optional<JournalPos>(pos);
}

// Runs under the append mutex. The old segment is synced whole before the new one is
// published, so "synced" never has to span two segments.
Status Journal::Rotate(JournalSteps* steps) {
  Status s = env_->DataSync(seg_fd_);
  if (!s.ok()) {
    st_->sync_failed = 1;
    (void)SaveState();
    (void)MarkNeedsRecovery("journal sync failed during segment rotation");
    return s.Annotate("syncing the journal");
  }
  std::uint64_t next = st_->next_txn;
  DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(next), O_WRONLY | O_CREAT, 0600));
  // The file's own fsync as well as the directory's: a FUSE file system (GlusterFS)
  // ignores a directory fsync but passes a file's on, and no record may go into a segment
  // whose existence is not durable.
  Status synced = env_->Sync(fd);
  (void)env_->Close(fd);
  DB_RETURN_IF_ERROR(synced);
  if (steps != nullptr) steps->Reached(JournalStep::kSegmentCreated);
  DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
  st_->seg = next;
  st_->end = 0;
  st_->synced_seg = next;
  st_->synced_end = 0;
  DB_RETURN_IF_ERROR(SaveState());
  rotated_ = true;
  return Status::Ok();
}

Status Journal::Sync(JournalPos pos, JournalSteps* steps) {
  if (write_through_ && pos <= durable_) {
    // The step still exists (a crash here is one after a durable write), so the fault
    // matrix can run in shared mode too.
    if (steps != nullptr) steps->Reached(JournalStep::kSyncing);
    return Status::Ok();
  }
  // The leader lock first, the state after: whoever held the leader lock before us has
  // published how far it synced by the time we get it, so one fdatasync serves everyone
  // who was waiting (group commit).
  //
  // Our records are in the journal already, so from here a lock not granted within the
  // timeout (a reader's shared lock on the byte, a stuck process) must not end the commit:
  // the locks only share the work. Without the leader lock or the mutex we sync our own
  // records alone (fdatasync is safe beside another's: an earlier failure on this file is
  // reported to every descriptor opened before it, ours included) and leave publishing to
  // the next writer who gets the mutex.
  ByteLock leader(env_, state_fd_, kSyncLockByte, lock_wait_);
  if (Status led = leader.Lock(); !led.ok() && !WaitEnded(led)) return led.set_maybe_applied();
  JournalPos target = pos;
  {
    ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
    Status m = mutex.Lock();
    if (m.ok()) {
      DB_RETURN_IF_ERROR(LoadState());
      if (st_->sync_failed) {
        return Status::IOError("the journal sync failed; run recover").set_maybe_applied();
      }
      if (JournalPos{st_->synced_seg, st_->synced_end} >= pos) return Status::Ok();
      // Everything published up to now goes into this one fdatasync, for all waiters.
      target = JournalPos{st_->seg, st_->end};
    } else if (!WaitEnded(m)) {
      return m.set_maybe_applied();
    }
  }
  // A rotation syncs the old segment whole before it publishes the new one, so seeing a
  // newer segment means `pos` is already durable.
  if (target.seg != pos.seg) return Status::Ok();
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(target.seg));
  if (steps != nullptr) steps->Reached(JournalStep::kSyncing);
  Status s = env_->DataSync(seg_fd_);
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  Status m = mutex.Lock();
  if (!m.ok() && !WaitEnded(m)) return m.set_maybe_applied();
  if (m.ok()) DB_RETURN_IF_ERROR(LoadState());
  if (!s.ok()) {
    // Never retried: after a failed fsync Linux may have dropped the dirty pages, so a
    // second success would prove nothing. Recovery re-reads what the disk really holds.
    if (m.ok()) {
      st_->sync_failed = 1;
      (void)SaveState();
    }
    (void)MarkNeedsRecovery(fmt::format("journal fdatasync failed: {}", s.message()));
    (void)env_->Close(seg_fd_);
    seg_fd_ = -1;
    return s.Annotate("syncing the journal").set_maybe_applied();
  }
  if (m.ok() && JournalPos{st_->synced_seg, st_->synced_end} < target) {
    st_->synced_seg = target.seg;
    st_->synced_end = target.offset;
    // Publishing is an optimisation for the other waiters: not publishing only makes them
    // sync again. This caller's records are durable either way.
    (void)SaveState();
  }
  return Status::Ok();
}

JournalPos Journal::End() const {
  if (state_fd_ >= 0) {
    if (Status s = LockedSnapshot(); s.ok()) return JournalPos{st_->seg, st_->end};
  }
  // Without the state there is no published end, only the segment's size, and a live
  // writer's write(2) raises that page by page as it copies: a record that straddles a
  // page boundary can be half there (seen: recover --check reported a live writer's
  // record as bad). So wait for a size that ends on a record's newline. A size that stays
  // torn is a dead writer's tail, returned as it is for the reader to report.
  constexpr auto kSettled = std::chrono::seconds(1);
  JournalPos last{};
  auto since = std::chrono::steady_clock::now();
  for (int look = 0;; ++look) {
    auto segs = Segments();
    if (!segs.ok() || segs->empty()) return JournalPos{};
    auto info = env_->Stat(SegmentPath(segs->back()));
    JournalPos now{segs->back(), info.ok() ? info->size : 0};
    if (now.offset == 0 || EndsOnRecord(now)) return now;
    auto t = std::chrono::steady_clock::now();
    if (now != last) {
      last = now;
      since = t;
    } else if (t - since >= kSettled) {
      return now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(look < 10 ? 1 : 10));
  }
}

bool Journal::EndsOnRecord(JournalPos at) const {
  auto fd = env_->Open(SegmentPath(at.seg), O_RDONLY);
  if (!fd.ok()) return true;  // gone (checkpointed away): the caller's read says what is there
  char last = 0;
  auto n = env_->PRead(*fd, &last, 1, at.offset - 1);
  (void)env_->Close(*fd);
  return !n.ok() || (*n == 1 && last == '\n');
}

Status Journal::LockedSnapshot() const {
  ByteLock mutex(env_, state_fd_, kAppendLockByte, lock_wait_);
  DB_RETURN_IF_ERROR(NothingChanged(mutex.Lock()));
  DB_RETURN_IF_ERROR(LoadState());
  return const_cast<Journal*>(this)->CatchUp();
}

std::uint64_t Journal::account_count_seen() const { return st_->account_count; }

AccountId Journal::max_id() const {
  if (state_fd_ < 0 || !LockedSnapshot().ok()) return 0;
  return static_cast<AccountId>(st_->max_id);
}

std::uint64_t Journal::account_count() const {
  if (state_fd_ < 0 || !LockedSnapshot().ok()) return 0;
  return st_->account_count;
}

Status Journal::ForEach(JournalPos from, JournalPos to, const RecordFn& fn) const {
  return ForEachLine(from, to, [&](Record& r, JournalPos at, std::string_view) { return fn(r, at); });
}

Status Journal::ForEachLine(JournalPos from, JournalPos to, const LineFn& fn) const {
  // Read in chunks rather than whole segments: a whole-history pass (recover --full) then
  // holds one chunk, not one segment, whatever DROVEBANK_SEGMENT_BYTES is.
  constexpr size_t kChunk = 1 << 20;
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  for (std::uint64_t seg : segs) {
    if (seg < from.seg || seg > to.seg) continue;
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(seg), O_RDONLY));
    EnvFdCloser closer{env_, fd};
    DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(fd));
    std::uint64_t start = seg == from.seg ? from.offset : 0;
    std::uint64_t stop = seg == to.seg ? std::min<std::uint64_t>(to.offset, info.size) : info.size;
    std::string buf;
    std::uint64_t buf_at = start, read_at = start;
    auto bad = [&](std::uint64_t at) {
      return Status::Corruption(
          fmt::format("journal segment {} has a bad record at byte {}", SegmentPath(seg), at));
    };
    while (read_at < stop) {
      size_t want = static_cast<size_t>(std::min<std::uint64_t>(kChunk, stop - read_at));
      size_t had = buf.size();
      buf.resize(had + want);
      DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd, buf.data() + had, want, read_at));
      buf.resize(had + n);
      if (n == 0) break;  // shorter than its size said: the tail below is reported
      read_at += n;
      size_t last_nl = buf.rfind('\n');
      if (last_nl == std::string::npos) continue;  // a record longer than a chunk
      Status failed;
      ScanResult scan = ScanRecords(std::string_view(buf).substr(0, last_nl + 1),
                                    [&](Record&& r, std::uint64_t begin, std::uint64_t end) {
                                      if (!failed.ok()) return;
                                      failed = fn(r, {seg, buf_at + begin},
                                                  RecordLineJson(std::string_view(buf).substr(
                                                      begin, end - begin)));
                                    });
      DB_RETURN_IF_ERROR(failed);
      if (scan.corrupt_middle || scan.torn_tail) return bad(buf_at + scan.good_bytes);
      buf.erase(0, last_nl + 1);
      buf_at += last_nl + 1;
    }
    if (!buf.empty()) return bad(buf_at);  // a record cut short at `stop`
  }
  return Status::Ok();
}

Result<ChainHead> Journal::HeadAt(JournalPos end) const {
  if (end.offset == 0 && end.seg <= 1) return ChainHead{};
  if (end.offset == 0) {  // the start of a segment: the end of the one before it
    DB_ASSIGN_OR_RETURN(auto segs, Segments());
    auto it = std::lower_bound(segs.begin(), segs.end(), end.seg);
    if (it == segs.begin()) return ChainHead{};
    --it;
    DB_ASSIGN_OR_RETURN(FileInfo info, env_->Stat(SegmentPath(*it)));
    if (info.size == 0) return HeadAt(JournalPos{*it, 0});
    end = JournalPos{*it, info.size};
  }
  // The last record before `end`: when it carries prev_hash, it gives the head by itself.
  if (end.offset > 0) {
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(end.seg), O_RDONLY));
    std::string tail;
    std::uint64_t from = end.offset;
    Status read;
    while (from > 0) {
      std::uint64_t want = std::min<std::uint64_t>(from, 64 << 10);
      std::string chunk(want, '\0');
      auto n = env_->PRead(fd, chunk.data(), want, from - want);
      if (!n.ok() || *n != want) {
        read = n.ok() ? Status::Corruption("journal segment is shorter than its end") : n.status();
        break;
      }
      tail = chunk + tail;
      from -= want;
      // The line before the closing newline starts after the newline before it.
      if (tail.size() >= 2 && tail.rfind('\n', tail.size() - 2) != std::string::npos) break;
    }
    (void)env_->Close(fd);
    DB_RETURN_IF_ERROR(read);
    if (tail.empty() || tail.back() != '\n') {
      return Status::Corruption(fmt::format("{} does not end on a record at byte {}",
                                            SegmentPath(end.seg), end.offset));
    }
    auto nl = tail.size() >= 2 ? tail.rfind('\n', tail.size() - 2) : std::string::npos;
    std::string_view line = std::string_view(tail).substr(nl == std::string::npos ? 0 : nl + 1);
    line.remove_suffix(1);
    DB_ASSIGN_OR_RETURN(Record last, DecodeRecordLine(line));
    if (!last.prev_hash.empty()) {
      return ChainHead{last.txn, ChainStep(*ParseHashHex(last.prev_hash), line.substr(9))};
    }
  }
  // Records of format 2 name no previous hash: follow the chain from the first record.
  ChainFollower chain(ChainHead{}, ~std::uint64_t{0});
  DB_RETURN_IF_ERROR(ForEachLine(JournalPos{0, 0}, end,
                                 [&](Record& r, JournalPos, std::string_view json) {
                                   return chain.Feed(r, json);
                                 }));
  return chain.head();
}

Result<ChainHead> Journal::Head() const {
  if (state_fd_ < 0) return HeadAt(End());
  DB_RETURN_IF_ERROR(LockedSnapshot());
  return StateHead();
}

Result<std::vector<Record>> Journal::ReadRange(JournalPos from, JournalPos to) const {
  std::vector<Record> out;
  DB_RETURN_IF_ERROR(ForEach(from, to, [&](Record& r, JournalPos) {
    out.push_back(std::move(r));
    return Status::Ok();
  }));
  return out;
}

const Journal::SegmentIndex* Journal::IndexOf(std::uint64_t seg, bool active,
                                              std::uint64_t want) const {
  // A history walk calls this once per change, so a segment is read and indexed
  // (txn -> line) once while it is cached; the active segment is re-read when it has grown.
  //
  // Why a segment read while active is re-read once it no longer is: records went on
  // being appended to it after the read, up to the rotation, and a cache that is now
  // taken as whole would say they are not there. Seen: a batch's key look-ups (FindKeyed)
  // cached segment 1 while it was active; after the rotation the proof of an account file
  // (LookUpTxn, which defers to this cache) did not find the file's txn in it, and the
  // store was marked as needing recovery.
  auto cached = segment_cache_.find(seg);
  if (cached != segment_cache_.end() &&
      !(cached->second.read_active &&
        (!active || cached->second.index.empty() || cached->second.index.back().txn < want))) {
    return &cached->second;
  }
  // Dropped before the read, so a bounded walk never holds one segment more than its limit.
  if (max_cached_segments_ != 0) {
    if (cached != segment_cache_.end()) segment_cache_.erase(cached);
    while (segment_cache_.size() >= max_cached_segments_) {
      segment_cache_.erase(segment_cache_.begin());
    }
  }
  auto bytes = ReadSegment(seg);
  if (!bytes.ok()) return nullptr;
  SegmentIndex idx;
  idx.read_active = active;
  idx.bytes = std::move(bytes).value();
  std::string_view view = idx.bytes;
  size_t pos = 0;
  while (pos < view.size()) {
    size_t nl = view.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::string_view line = view.substr(pos, nl - pos);
    // "txn" sorts last among the record's keys; names cannot hold an unescaped quote.
    auto tpos = line.rfind("\"txn\":");
    if (tpos != std::string_view::npos) {
      idx.index.push_back(
          {std::strtoull(std::string(line.substr(tpos + 6, 20)).c_str(), nullptr, 10), pos,
           nl - pos});
    }
    pos = nl + 1;
  }
  return &segment_cache_.insert_or_assign(seg, std::move(idx)).first->second;
}

Result<Record> Journal::FindTxn(std::uint64_t txn) const {
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  auto it = std::upper_bound(segs.begin(), segs.end(), txn);
  // Usually the segment named at or below txn holds it. A crash between creating a new
  // segment and publishing it can leave a segment whose name overstates its first txn, so
  // earlier segments are tried too.
  for (int tries = 0; txn != 0 && it != segs.begin() && tries < 3; ++tries) {
    --it;
    const SegmentIndex* idx = IndexOf(*it, *it == segs.back(), txn);
    if (idx == nullptr) continue;
    auto hit = std::lower_bound(
        idx->index.begin(), idx->index.end(), txn,
        [](const SegmentIndex::Entry& e, std::uint64_t t) { return e.txn < t; });
    if (hit != idx->index.end() && hit->txn == txn) {
      return DecodeRecordLine(std::string_view(idx->bytes).substr(hit->offset, hit->length));
    }
  }
  return Status::NotFound(fmt::format("no transaction {}", txn));
}

Status Journal::LockCheckpoint(bool wait) {
  if (!wait) return env_->LockByte(state_fd_, kCheckpointLockByte, /*wait=*/false);
  return LockByteWithin(env_, state_fd_, kCheckpointLockByte, lock_wait_,
                        ByteLock::What(kCheckpointLockByte));
}

void Journal::UnlockCheckpoint() { (void)env_->UnlockByte(state_fd_, kCheckpointLockByte); }

}  // namespace drovebank
