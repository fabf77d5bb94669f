// Reading the journal: its segments by name, where it ends (for a read-only journal, the
// last segment's size once it ends on a whole record), its records in order, the hash
// chain's head at a position, and one record by its txn through a cache of indexed segments.
// journal_lookup.cc looks one up without reading its segment whole.
#include <fcntl.h>
#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "journal.h"
#include "journal_state.h"
#include "record_lines.h"
#include "store_files.h"

namespace drovebank {

std::string_view RecordJsonAt(std::string_view bytes, const ScanResult& scan, size_t i) {
  size_t begin = i == 0 ? 0 : scan.ends[i - 1];
  return RecordLineJson(bytes.substr(begin, scan.ends[i] - begin));
}

std::string Journal::SegmentPath(std::uint64_t seg) const {
  return fmt::format(FMT_COMPILE("{}/{:016}.log"), layout_.journal(), seg);
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

Result<int> Journal::OpenSegment(std::uint64_t seg, int flags, FileInfo* info) const {
  return OpenStoreFile(env_, SegmentPath(seg), flags, StoreFileKind::kJournal, info);
}

bool Journal::EndsOnRecord(JournalPos at) const {
  auto fd = env_->Open(SegmentPath(at.seg), O_RDONLY);
  if (!fd.ok()) return true;  // gone (checkpointed away): the caller's read says what is there
  char last = 0;
  auto n = env_->PRead(*fd, &last, 1, at.offset - 1);
  (void)env_->Close(*fd);
  return !n.ok() || (*n == 1 && last == '\n');
}

Status Journal::ForEach(JournalPos from, JournalPos to, const RecordFn& fn) const {
  return ForEachLine(from, to, [&](Record& r, JournalPos at, std::string_view) { return fn(r, at); });
}

Status Journal::ForEachLine(JournalPos from, JournalPos to, const LineFn& fn) const {
  // Read in chunks rather than whole segments: a whole-history pass (recover --full) then
  // holds one chunk, not one segment, whatever DROVEBANK_SEGMENT_BYTES is. kReadChunk,
  // not more: the buffer is reused chunk after chunk, and each page of it is a page fault
  // the first time (journal.h).
  constexpr size_t kChunk = kReadChunk;
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  for (std::uint64_t seg : segs) {
    if (seg < from.seg || seg > to.seg) continue;
    FileInfo info;
    DB_ASSIGN_OR_RETURN(int fd, OpenSegment(seg, O_RDONLY, &info));
    EnvFdCloser closer{env_, fd};
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
    DB_ASSIGN_OR_RETURN(int fd, OpenSegment(end.seg, O_RDONLY));
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
  ForEachRecordLine(idx.bytes, [&](std::uint64_t txn, size_t offset, size_t length) {
    idx.index.push_back({txn, offset, length});
  });
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

}  // namespace drovebank
