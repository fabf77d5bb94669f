#include "drovebank/journal.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "drovebank/process_info.h"

namespace drovebank {

namespace {

constexpr std::uint64_t kShmMagic = 0x64726f7665736d31ULL;  // "drovesm1"
constexpr size_t kShmSize = 4096;
constexpr std::uint64_t kAppendLockByte = 100;
constexpr std::uint64_t kSyncLockByte = 101;
constexpr std::uint64_t kCheckpointLockByte = 102;

template <typename T>
T Load(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}
template <typename T>
void Store(T& v, T x) {
  __atomic_store_n(&v, x, __ATOMIC_RELEASE);
}

// Holds an OFD lock byte for a scope.
class ByteLock {
 public:
  ByteLock(Env* env, int fd, std::uint64_t byte) : env_(env), fd_(fd), byte_(byte) {}
  Status Lock(bool wait) {
    Status s = env_->LockByte(fd_, byte_, wait);
    held_ = s.ok();
    return s;
  }
  ~ByteLock() {
    if (held_) (void)env_->UnlockByte(fd_, byte_);
  }

 private:
  Env* env_;
  int fd_;
  std::uint64_t byte_;
  bool held_ = false;
};

}  // namespace

// Shared by every process of this boot through mmap. Fields change only under the append
// mutex, bracketed by `gen` (odd while changing), so a process that died mid-update
// leaves an odd gen and the next one rebuilds the state from disk.
struct Journal::Shm {
  std::uint64_t magic;
  std::uint64_t gen;
  char boot_id[64];
  std::uint64_t next_txn;
  std::uint64_t seg;
  std::uint64_t end;
  std::uint64_t synced_seg;
  std::uint64_t synced_end;
  std::uint64_t max_id;
  std::uint64_t account_count;
  std::uint64_t sync_failed;
};

Journal::Journal(Env* env, const Layout& layout, ReplayFn replay, std::uint64_t segment_bytes)
    : env_(env), layout_(layout), replay_(std::move(replay)), segment_bytes_(segment_bytes) {}

Journal::~Journal() {
  if (shm_ != nullptr) env_->Unmap(shm_, kShmSize);
  if (shm_fd_ >= 0) (void)env_->Close(shm_fd_);
  if (seg_fd_ >= 0) (void)env_->Close(seg_fd_);
}

Result<std::unique_ptr<Journal>> Journal::Open(Env* env, const Layout& layout, ReplayFn replay,
                                               std::uint64_t segment_bytes) {
  std::unique_ptr<Journal> j(new Journal(env, layout, std::move(replay), segment_bytes));
  DB_RETURN_IF_ERROR(j->Attach());
  return j;
}

Result<std::unique_ptr<Journal>> Journal::OpenReadOnly(Env* env, const Layout& layout) {
  return std::unique_ptr<Journal>(new Journal(env, layout, nullptr, kSegmentBytes));
}

Status Journal::Reinitialize() {
  ByteLock mutex(env_, shm_fd_, kAppendLockByte);
  DB_RETURN_IF_ERROR(mutex.Lock(true));
  if (seg_fd_ >= 0) (void)env_->Close(seg_fd_);
  seg_fd_ = -1;
  return Initialize();
}

std::string Journal::SegmentPath(std::uint64_t seg) const {
  return fmt::format("{}/{:016}.log", layout_.journal(), seg);
}

Status Journal::Attach() {
  DB_ASSIGN_OR_RETURN(shm_fd_, env_->Open(layout_.journal() + "/shm", O_RDWR | O_CREAT, 0600));
  DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(shm_fd_));
  if (info.size < kShmSize) {
    ByteLock mutex(env_, shm_fd_, kAppendLockByte);
    DB_RETURN_IF_ERROR(mutex.Lock(true));
    DB_ASSIGN_OR_RETURN(info, env_->StatFd(shm_fd_));
    if (info.size < kShmSize) DB_RETURN_IF_ERROR(env_->Truncate(shm_fd_, kShmSize));
  }
  DB_ASSIGN_OR_RETURN(void* p, env_->MapShared(shm_fd_, kShmSize));
  shm_ = static_cast<Shm*>(p);
  if (ShmValid()) return Status::Ok();
  ByteLock mutex(env_, shm_fd_, kAppendLockByte);
  DB_RETURN_IF_ERROR(mutex.Lock(true));
  if (ShmValid()) return Status::Ok();
  return Initialize();
}

bool Journal::ShmValid() const {
  return Load(shm_->magic) == kShmMagic && Load(shm_->gen) % 2 == 0 &&
         std::strncmp(shm_->boot_id, Self().boot_id.c_str(), sizeof shm_->boot_id) == 0;
}

void Journal::BeginUpdate() { Store(shm_->gen, Load(shm_->gen) | 1); }
void Journal::EndUpdate() { Store(shm_->gen, Load(shm_->gen) + 1); }

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
  return c;
}

Status Journal::WriteCheckpoint(const CheckpointInfo& c) {
  std::string body = fmt::format("seg={} offset={} last_txn={} max_id={} accounts={}", c.pos.seg,
                                 c.pos.offset, c.last_txn, c.max_id, c.account_count);
  return WriteFileDurably(env_, layout_.journal() + "/CHECKPOINT",
                          fmt::format("{} {}\n", Crc32Hex(body), body));
}

Status Journal::MarkNeedsRecovery(std::string_view why) {
  return WriteRecoveryMarker(env_, layout_, why);
}

// Runs with the append mutex held and no valid shared state: after a reboot (power loss
// or not), or when a process died while updating the shared state.
Status Journal::Initialize() {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  if (segs.empty()) {
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(1), O_WRONLY | O_CREAT, 0600));
    (void)env_->Close(fd);
    DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
    segs.push_back(1);
  }
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
      return Status::Corruption(
          fmt::format("journal segment {} is shorter than the checkpoint says", seg));
    }
    ScanResult scan = ScanRecords(std::string_view(bytes).substr(start));
    if (scan.corrupt_middle || (scan.torn_tail && seg != last_seg)) {
      (void)MarkNeedsRecovery(fmt::format("journal segment {} is corrupt", SegmentPath(seg)));
      return Status::Corruption(
          fmt::format("journal segment {} is corrupt; run recover", SegmentPath(seg)));
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

  BeginUpdate();
  shm_->next_txn = next_txn;
  shm_->seg = last_seg;
  shm_->end = last_end;
  shm_->synced_seg = last_seg;
  shm_->synced_end = last_end;
  shm_->max_id = max_id;
  shm_->account_count = count;
  shm_->sync_failed = 0;
  std::memset(shm_->boot_id, 0, sizeof shm_->boot_id);
  std::strncpy(shm_->boot_id, Self().boot_id.c_str(), sizeof shm_->boot_id - 1);
  shm_->magic = kShmMagic;
  EndUpdate();
  return Status::Ok();
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
  std::string buf(size - shm_->end, '\0');
  DB_ASSIGN_OR_RETURN(int rfd, env_->Open(SegmentPath(shm_->seg), O_RDONLY));
  auto n = env_->PRead(rfd, buf.data(), buf.size(), shm_->end);
  (void)env_->Close(rfd);
  if (!n.ok()) return n.status();
  buf.resize(*n);
  ScanResult scan = ScanRecords(buf);
  BeginUpdate();
  for (const Record& r : scan.records) {
    if (r.txn != shm_->next_txn) break;
    shm_->next_txn = r.txn + 1;
    shm_->account_count += AccountsOpened(r);
    shm_->max_id = std::max<std::uint64_t>(shm_->max_id, LargestIdUsed(r));
  }
  std::uint64_t keep = shm_->end + scan.good_bytes;
  shm_->end = keep;
  EndUpdate();
  if (keep < size) return env_->Truncate(seg_fd_, keep);
  return Status::Ok();
}

Status Journal::AdoptUnpublished() {
  if (shm_ == nullptr) return Status::Ok();
  ByteLock mutex(env_, shm_fd_, kAppendLockByte);
  DB_RETURN_IF_ERROR(mutex.Lock(true));
  if (!ShmValid()) return Initialize();  // a rebuild from disk adopts or cuts the tail
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(shm_->seg));
  DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(seg_fd_));
  if (info.size > shm_->end) return AdoptTail(info.size);
  return Status::Ok();
}

Result<AccountId> Journal::AllocateId() {
  ByteLock mutex(env_, shm_fd_, kAppendLockByte);
  DB_RETURN_IF_ERROR(mutex.Lock(true));
  if (!ShmValid()) DB_RETURN_IF_ERROR(Initialize());
  if (shm_->max_id >= kMaxAccountId) {
    return Status::Limit(fmt::format("all account ids up to {} are used", kMaxAccountId));
  }
  BeginUpdate();
  AccountId id = static_cast<AccountId>(++shm_->max_id);
  EndUpdate();
  return id;
}

Result<JournalPos> Journal::Append(std::vector<Record>* records, std::string_view fault_path) {
  ByteLock mutex(env_, shm_fd_, kAppendLockByte);
  DB_RETURN_IF_ERROR(mutex.Lock(true));
  if (!ShmValid()) DB_RETURN_IF_ERROR(Initialize());
  if (shm_->sync_failed) {
    return Status::NeedsRecovery("an earlier journal sync failed; run recover");
  }
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(shm_->seg));
  DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(seg_fd_));
  if (info.size > shm_->end) DB_RETURN_IF_ERROR(AdoptTail(info.size));
  if (info.size < shm_->end) {
    (void)MarkNeedsRecovery("journal segment shrank below its published end");
    return Status::Corruption("the journal is shorter than expected; run recover");
  }

  std::string bytes;
  std::int64_t now = NowMillis();
  std::uint64_t txn = shm_->next_txn;
  for (Record& r : *records) {
    r.txn = txn++;
    r.time_ms = now;
    for (RecordAccount& ra : r.accounts) {
      ra.state.last_txn = r.txn;
      if (ra.prev_txn & kPrevInGroup) {
        std::uint64_t idx = ra.prev_txn & ~kPrevInGroup;
        if (idx >= records->size() || &(*records)[idx] >= &r) {
          return Status::Internal("bad in-group reference");
        }
        ra.prev_txn = (*records)[idx].txn;
      }
    }
    bytes += EncodeRecord(r);
  }
  env_->FaultPoint(fault_path, "before_journal_write");
  Status ws = env_->Write(seg_fd_, bytes);
  if (!ws.ok()) {
    // Cut off whatever part was written, so the next append starts on a record boundary.
    Status ts = env_->Truncate(seg_fd_, shm_->end);
    if (!ts.ok()) {
      (void)MarkNeedsRecovery("a failed journal write could not be cut off");
      return ws.Annotate("writing the journal (and cutting it back failed; run recover)");
    }
    return ws.Annotate("writing the journal; nothing changed");
  }
  env_->FaultPoint(fault_path, "before_journal_publish");
  BeginUpdate();
  shm_->next_txn = txn;
  shm_->end += bytes.size();
  for (const Record& r : *records) {
    shm_->account_count += AccountsOpened(r);
    shm_->max_id = std::max<std::uint64_t>(shm_->max_id, LargestIdUsed(r));
  }
  EndUpdate();
  JournalPos pos{shm_->seg, shm_->end};
  env_->FaultPoint(fault_path, "after_journal_write");
  // Rotation is housekeeping: the records are written whatever it does. A failed rotation
  // is tried again by the next append; a failed sync inside it is recorded in the shared
  // state and the marker, so this caller's Sync reports it.
  if (shm_->end >= segment_bytes_) (void)Rotate(fault_path);
  return pos;
}

// Runs under the append mutex. The old segment is synced whole before the new one is
// published, so "synced" never has to span two segments.
Status Journal::Rotate(std::string_view fault_path) {
  Status s = env_->DataSync(seg_fd_);
  if (!s.ok()) {
    Store(shm_->sync_failed, std::uint64_t{1});
    (void)MarkNeedsRecovery("journal sync failed during segment rotation");
    return s.Annotate("syncing the journal");
  }
  std::uint64_t next = shm_->next_txn;
  DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(next), O_WRONLY | O_CREAT, 0600));
  // The file's own fsync as well as the directory's: a FUSE file system (GlusterFS)
  // ignores a directory fsync but passes a file's on, and no record may go into a segment
  // whose existence is not durable.
  Status synced = env_->Sync(fd);
  (void)env_->Close(fd);
  DB_RETURN_IF_ERROR(synced);
  env_->FaultPoint(fault_path, "after_segment_create");
  DB_RETURN_IF_ERROR(env_->SyncDir(layout_.journal()));
  BeginUpdate();
  shm_->seg = next;
  shm_->end = 0;
  shm_->synced_seg = next;
  shm_->synced_end = 0;
  EndUpdate();
  rotated_ = true;
  return Status::Ok();
}

Status Journal::Sync(JournalPos pos, std::string_view fault_path) {
  auto synced = [&] { return JournalPos{Load(shm_->synced_seg), Load(shm_->synced_end)} >= pos; };
  if (synced()) return Status::Ok();
  ByteLock leader(env_, shm_fd_, kSyncLockByte);
  DB_RETURN_IF_ERROR(leader.Lock(true));
  if (Load(shm_->sync_failed)) {
    return Status::IOError("the journal sync failed; run recover").set_maybe_applied();
  }
  if (synced()) return Status::Ok();
  // Everything published up to now goes into this one fdatasync, for all waiters.
  JournalPos target{Load(shm_->seg), Load(shm_->end)};
  // A rotation syncs the old segment whole before it publishes the new one, so seeing a
  // newer segment means `pos` is already durable.
  if (target.seg != pos.seg) return Status::Ok();
  DB_RETURN_IF_ERROR(EnsureSegmentOpen(target.seg));
  env_->FaultPoint(fault_path, "before_journal_sync");
  Status s = env_->DataSync(seg_fd_);
  if (!s.ok()) {
    // Never retried: after a failed fsync Linux may have dropped the dirty pages, so a
    // second success would prove nothing. Recovery re-reads what the disk really holds.
    Store(shm_->sync_failed, std::uint64_t{1});
    (void)MarkNeedsRecovery(fmt::format("journal fdatasync failed: {}", s.message()));
    (void)env_->Close(seg_fd_);
    seg_fd_ = -1;
    return s.Annotate("syncing the journal").set_maybe_applied();
  }
  // Publishing needs the mutex so it cannot interleave with a rotation's reset.
  ByteLock mutex(env_, shm_fd_, kAppendLockByte);
  DB_RETURN_IF_ERROR(mutex.Lock(true));
  if (JournalPos{shm_->synced_seg, shm_->synced_end} < target) {
    BeginUpdate();
    shm_->synced_seg = target.seg;
    shm_->synced_end = target.offset;
    EndUpdate();
  }
  return Status::Ok();
}

JournalPos Journal::End() const {
  if (shm_ != nullptr) return JournalPos{Load(shm_->seg), Load(shm_->end)};
  auto segs = Segments();
  if (!segs.ok() || segs->empty()) return JournalPos{};
  auto info = env_->Stat(SegmentPath(segs->back()));
  return JournalPos{segs->back(), info.ok() ? info->size : 0};
}

AccountId Journal::max_id() const {
  return shm_ != nullptr ? static_cast<AccountId>(Load(shm_->max_id)) : 0;
}

std::uint64_t Journal::account_count() const {
  return shm_ != nullptr ? Load(shm_->account_count) : 0;
}

Status Journal::ForEach(JournalPos from, JournalPos to, const RecordFn& fn) const {
  // Read in chunks rather than whole segments: a whole-history pass (recover --full) then
  // holds one chunk, not one segment, whatever DROVEBANK_SEGMENT_BYTES is.
  constexpr size_t kChunk = 1 << 20;
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  for (std::uint64_t seg : segs) {
    if (seg < from.seg || seg > to.seg) continue;
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(seg), O_RDONLY));
    struct Closer {
      Env* env;
      int fd;
      ~Closer() { (void)env->Close(fd); }
    } closer{env_, fd};
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
                                    [&](Record&& r, std::uint64_t begin, std::uint64_t) {
                                      if (failed.ok()) failed = fn(r, {seg, buf_at + begin});
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
  auto cached = segment_cache_.find(seg);
  if (cached != segment_cache_.end() &&
      !(active && (cached->second.index.empty() || cached->second.index.back().txn < want))) {
    return &cached->second;
  }
  // At most two segments are held (each is a few MiB): a history walk goes newest first,
  // so the lowest-numbered one is the one done with, and a long chain over a large journal
  // stays within bounded memory.
  constexpr size_t kMaxCachedSegments = 1;
  if (cached != segment_cache_.end()) segment_cache_.erase(cached);
  while (segment_cache_.size() >= kMaxCachedSegments) segment_cache_.erase(segment_cache_.begin());
  auto bytes = ReadSegment(seg);
  if (!bytes.ok()) return nullptr;
  SegmentIndex idx;
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
  return env_->LockByte(shm_fd_, kCheckpointLockByte, wait);
}

void Journal::UnlockCheckpoint() { (void)env_->UnlockByte(shm_fd_, kCheckpointLockByte); }

}  // namespace drovebank
