// One record by its txn without reading its segment whole (Journal::LookUpTxn): the proof
// of an account file (StoreImpl::ProveAccount) asks for one record per file it reads, and a
// one-shot command would otherwise read and index up to 4 MiB of segment for it.
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "journal.h"
#include "record_lines.h"

namespace drovebank {

namespace {

constexpr size_t kWindow = 8192;

// Reads the segment open at `fd` through pread windows.
class SegmentReader {
 public:
  SegmentReader(Env* env, int fd, std::uint64_t size) : env_(env), fd_(fd), size_(size) {}

  // The first whole line that starts at or after `from` and before `below`: its start and
  // bytes (without the LF). nullopt when none starts there. Usually one read: the window
  // at `from - 1` holds the newline before the line and the line itself (a record is a
  // few hundred bytes); a longer one is read on to its end.
  Result<std::optional<std::pair<std::uint64_t, std::string>>> LineFrom(std::uint64_t from,
                                                                        std::uint64_t below) {
    using Found = std::optional<std::pair<std::uint64_t, std::string>>;
    std::uint64_t start = from;
    if (from > 0) {  // skip to just past the newline at or after from - 1
      DB_ASSIGN_OR_RETURN(std::optional<std::uint64_t> nl, NewlineFrom(from - 1, below));
      if (!nl) return Found();
      start = *nl + 1;
    }
    if (start >= below) return Found();
    std::string line;
    for (std::uint64_t pos = start;;) {
      if (pos >= size_) return Found();  // a tail being written: not a record yet
      if (!Holds(pos)) DB_RETURN_IF_ERROR(Fill(pos));
      if (!Holds(pos)) return Found();
      std::string_view rest = std::string_view(buf_).substr(static_cast<size_t>(pos - buf_at_));
      auto nl = rest.find('\n');
      line.append(rest.substr(0, nl));
      if (nl != std::string_view::npos) return Found(std::in_place, start, std::move(line));
      pos += rest.size();
    }
  }

 private:
  bool Holds(std::uint64_t pos) const { return pos >= buf_at_ && pos < buf_at_ + buf_.size(); }

  // buf_ = the window of the file at `at`.
  Status Fill(std::uint64_t at) {
    buf_.resize(static_cast<size_t>(std::min<std::uint64_t>(kWindow, size_ - at)));
    DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, buf_.data(), buf_.size(), at));
    buf_.resize(n);
    buf_at_ = at;
    return Status::Ok();
  }

  Result<std::optional<std::uint64_t>> NewlineFrom(std::uint64_t at, std::uint64_t below) {
    while (at < below && at < size_) {
      if (!Holds(at)) DB_RETURN_IF_ERROR(Fill(at));
      if (!Holds(at)) break;
      std::string_view rest = std::string_view(buf_).substr(static_cast<size_t>(at - buf_at_));
      auto nl = rest.find('\n');
      if (nl != std::string_view::npos) return std::optional<std::uint64_t>(at + nl);
      at += rest.size();
    }
    return std::optional<std::uint64_t>();
  }

  Env* env_;
  int fd_;
  std::uint64_t size_;
  std::string buf_;           // the last window read
  std::uint64_t buf_at_ = 0;  // its offset in the file
};

}  // namespace

Result<Record> Journal::LookUpTxn(std::uint64_t txn) const {
  if (txn == 0) return Status::NotFound("no transaction 0");
  // The names as last listed serve any txn below the newest of them; a txn at or past
  // it may be in a segment made since, so the directory is listed again only when the
  // newest known one does not hold it.
  for (int listing = 0; listing < 2; ++listing) {
    if (listing == 1 || lookup_segs_.empty()) {
      DB_ASSIGN_OR_RETURN(lookup_segs_, Segments());
    }
    // And the descriptors afresh: a name's inode may have been replaced (a linked empty
    // segment).
    if (listing == 1) CloseLookups();
    auto it = std::upper_bound(lookup_segs_.begin(), lookup_segs_.end(), txn);
    bool newest = it == lookup_segs_.end();
    // As FindTxn: a crash between creating a segment and publishing it can leave one whose
    // name overstates its first txn, so earlier segments are tried too.
    for (int tries = 0; it != lookup_segs_.begin() && tries < 3; ++tries) {
      --it;
      if (segment_cache_.count(*it) != 0) return FindTxn(txn);
      auto found = LookUpIn(*it, txn);
      if (found.ok() || found.status().code() != Code::kNotFound) return found;
    }
    if (!newest) break;
  }
  return Status::NotFound(fmt::format("no transaction {}", txn));
}

Result<Record> Journal::RecordAt(JournalPos at) const {
  DB_ASSIGN_OR_RETURN(LookupSegment * ls, LookupOpen(at.seg));
  // The size bounds nothing here: a read past the end returns short, and a line cut by the
  // end is no line.
  SegmentReader reader(env_, ls->fd, UINT64_MAX);
  DB_ASSIGN_OR_RETURN(auto line, reader.LineFrom(at.offset, UINT64_MAX));
  if (!line || line->first != at.offset) {
    return Status::Corruption(fmt::format("no record starts at byte {} of {}", at.offset,
                                          SegmentPath(at.seg)));
  }
  return DecodeRecordLine(line->second);
}

// Its line is where the index says, whatever the segment has grown by since (records are
// only appended), so a walk proving many files skips the segment's fstat too (one pread a
// file, not two calls).
bool Journal::IndexHolds(const LookupSegment& ls, std::uint64_t txn) {
  return ls.indexed && !ls.index.empty() && txn <= ls.index.back().txn &&
         (ls.tail_first_txn == 0 || txn < ls.tail_first_txn);
}

Result<Record> Journal::LookUpIn(std::uint64_t seg, std::uint64_t txn) const {
  DB_ASSIGN_OR_RETURN(LookupSegment * ls, LookupOpen(seg));
  if (IndexHolds(*ls, txn)) {  // a failure here is met again on the way below
    if (auto found = LookUpIndexed(*ls, txn); found.ok() && *found) return std::move(**found);
  }
  DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(ls->fd));
  // The last records first, in one read: a file names the record that last changed its
  // account, which in a busy store is nearly always among the newest. The window is kept
  // while the segment does not grow, so a walk over many files (a report proves each one)
  // reads it once and skips it for every txn before its first.
  constexpr std::uint64_t kTail = 64 << 10;
  std::uint64_t hi = info.size;
  if (info.size > 0) {
    if (ls->tail_size != info.size) {
      DB_RETURN_IF_ERROR(ReadLookupTail(ls, info.size, kTail));
    }
    std::string_view view = ls->tail;
    if (ls->tail_first_txn != 0 && ls->tail_first_txn <= txn) {
      for (size_t at = ls->tail_pos; at < view.size();) {
        size_t nl = view.find('\n', at);
        if (nl == std::string_view::npos) break;  // a record being written
        std::string_view line = view.substr(at, nl - at);
        std::uint64_t t = TxnOfLine(line);
        if (t == txn) return DecodeRecordLine(line);
        if (t > txn) break;
        at = nl + 1;
      }
      return Status::NotFound(fmt::format("no transaction {}", txn));
    }
    hi = ls->tail_from + ls->tail_pos;  // the record, if here, starts before the window
  }
  // Bisect on line starts: lo is a line start at or before the record, hi past it.
  std::uint64_t lo = 0;
  if (hi <= UINT32_MAX) {
    if (!ls->indexed && ++ls->lookups > kIndexAfter) {
      DB_RETURN_IF_ERROR(IndexLookupSegment(ls, hi));
    } else if (ls->indexed && hi > ls->indexed_end &&
               (ls->index.empty() || txn > ls->index.back().txn)) {
      // The segment grew past the index (a batch appends a group a time): index the new
      // lines, one sequential read of what was appended, rather than bisect them for every
      // file (5.7 reads of 8 KiB a proof in a batch of 1,000-event groups, measured).
      DB_RETURN_IF_ERROR(IndexLookupSegment(ls, hi));
    }
  }
  if (ls->indexed) {
    DB_ASSIGN_OR_RETURN(std::optional<Record> found, LookUpIndexed(*ls, txn));
    if (found) return std::move(*found);
    if (!ls->index.empty() && ls->index.back().txn > txn) {
      return Status::NotFound(fmt::format("no transaction {}", txn));
    }
    lo = std::min(ls->indexed_end, hi);  // past the index: the lines after it
  }
  SegmentReader reader(env_, ls->fd, info.size);
  // Walks whole lines from *from, below *to, at most `lines` of them: the record whose txn
  // is `txn`, or nullopt with *from past every line before it and, when a line past it
  // was met, *to at that line's start. A line without a txn is stepped over.
  auto scan = [&](std::uint64_t* from, std::uint64_t* to,
                  size_t lines) -> Result<std::optional<Record>> {
    for (size_t k = 0; k < lines && *from < *to; ++k) {
      DB_ASSIGN_OR_RETURN(auto line, reader.LineFrom(*from, *to));
      if (!line) break;
      std::uint64_t t = TxnOfLine(line->second);
      if (t == txn) {
        DB_ASSIGN_OR_RETURN(Record r, DecodeRecordLine(line->second));
        return std::optional<Record>(std::move(r));
      }
      if (t > txn) {
        *to = line->first;
        break;
      }
      *from = line->first + line->second.size() + 1;
    }
    return std::optional<Record>();
  };
  // The txns known at the bounds, for an interpolated first guess (0: not known). A
  // segment is named by its first txn (a name may overstate it after a crash: the guess
  // is then off, never the answer); hi, when the tail window was read, is where the
  // window's first whole record starts.
  std::uint64_t lo_txn = lo == 0 ? seg : 0;
  std::uint64_t hi_txn = hi < info.size ? ls->tail_first_txn : 0;
  bool guess = true;
  while (hi - lo > 2 * kWindow) {
    std::uint64_t mid = lo + (hi - lo) / 2;
    if (guess && lo_txn != 0 && lo_txn <= txn && txn < hi_txn) {
      // Why: the records of a segment are much of a size, so the record sits about where
      // its txn falls between the bounds' txns. At a million accounts a proof bisected a
      // cold 8 MB segment in 11 reads; the guess lands within a window or two of it. Aimed
      // half a window early, so that the window read holds the record, and taken once: a
      // wrong guess leaves bisection to finish in its usual steps.
      guess = false;
      double share = static_cast<double>(txn - lo_txn) / static_cast<double>(hi_txn - lo_txn);
      std::uint64_t at = lo + static_cast<std::uint64_t>(share * static_cast<double>(hi - lo));
      at = at > lo + kWindow / 2 ? at - kWindow / 2 : lo;
      DB_ASSIGN_OR_RETURN(auto line, reader.LineFrom(std::min(at, hi - 1), hi));
      if (line) {
        std::uint64_t t = TxnOfLine(line->second);
        if (t == txn) return DecodeRecordLine(line->second);
        if (t != 0 && t < txn) {
          lo = line->first + line->second.size() + 1;
          // Likely a few records on: scan on from here (the window already read holds
          // them) before bisecting what remains.
          DB_ASSIGN_OR_RETURN(std::optional<Record> found, scan(&lo, &hi, 64));
          if (found) return std::move(*found);
        } else {
          hi = line->first;
        }
      }
      continue;
    }
    DB_ASSIGN_OR_RETURN(auto line, reader.LineFrom(mid, hi));
    if (!line) {
      hi = mid;
      continue;
    }
    std::uint64_t t = TxnOfLine(line->second);
    if (t == txn) return DecodeRecordLine(line->second);
    if (t != 0 && t < txn) {
      lo = line->first + line->second.size() + 1;
    } else {
      hi = line->first;
    }
  }
  DB_ASSIGN_OR_RETURN(std::optional<Record> found, scan(&lo, &hi, SIZE_MAX));
  if (found) return std::move(*found);
  return Status::NotFound(fmt::format("no transaction {}", txn));
}

Status Journal::IndexLookupSegment(LookupSegment* ls, std::uint64_t end) const {
  // From where the index ends (a whole line starts there: records are only appended), or
  // from the start the first time.
  std::uint64_t at = ls->indexed ? ls->indexed_end : 0;
  if (!ls->indexed) ls->index.clear();
  ls->indexed = false;  // until read to `end`: a failed read leaves no half index in use
  constexpr size_t kChunk = kReadChunk;  // reused: few pages to fault in (journal.h)
  std::string buf;  // the bytes from `at`: a line cut by the chunk's end stays for the next
  while (at + buf.size() < end) {
    size_t keep = buf.size();
    size_t want = static_cast<size_t>(std::min<std::uint64_t>(kChunk, end - at - keep));
    buf.resize(keep + want);
    DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(ls->fd, buf.data() + keep, want, at + keep));
    buf.resize(keep + n);
    if (n == 0) break;
    size_t pos = ForEachRecordLine(buf, [&](std::uint64_t t, size_t offset, size_t length) {
      if (!ls->index.empty() && t <= ls->index.back().txn) return;  // kept sorted by txn
      ls->index.push_back({t, static_cast<std::uint32_t>(at + offset),
                           static_cast<std::uint32_t>(length)});
    });
    buf.erase(0, pos);
    at += pos;
  }
  ls->indexed_end = at;
  ls->indexed = true;
  return Status::Ok();
}

Result<std::optional<Record>> Journal::LookUpIndexed(const LookupSegment& ls,
                                                     std::uint64_t txn) const {
  auto it = std::lower_bound(ls.index.begin(), ls.index.end(), txn,
                             [](const LookupSegment::Line& l, std::uint64_t t) { return l.txn < t; });
  if (it == ls.index.end() || it->txn != txn) return std::optional<Record>();
  std::string line(it->length, '\0');
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(ls.fd, line.data(), line.size(), it->offset));
  if (n != line.size() || TxnOfLine(line) != txn) {
    return Status::Corruption(fmt::format("txn {}'s record changed under its index", txn));
  }
  DB_ASSIGN_OR_RETURN(Record r, DecodeRecordLine(line));
  return std::optional<Record>(std::move(r));
}

Result<Journal::LookupSegment*> Journal::LookupOpen(std::uint64_t seg) const {
  ++lookup_tick_;
  auto it = lookup_open_.find(seg);
  if (it == lookup_open_.end()) {
    if (lookup_open_.size() >= kLookupSegments) {
      auto oldest = std::min_element(lookup_open_.begin(), lookup_open_.end(),
                                     [](const auto& a, const auto& b) {
                                       return a.second.used < b.second.used;
                                     });
      (void)env_->Close(oldest->second.fd);
      lookup_open_.erase(oldest);
    }
    DB_ASSIGN_OR_RETURN(int fd, OpenSegment(seg, O_RDONLY));
    it = lookup_open_.emplace(seg, LookupSegment{}).first;
    it->second.fd = fd;
  }
  it->second.used = lookup_tick_;
  return &it->second;
}

void Journal::CloseLookups() const {
  for (auto& [seg, ls] : lookup_open_) (void)env_->Close(ls.fd);
  lookup_open_.clear();
}

Status Journal::ReadLookupTail(LookupSegment* ls, std::uint64_t size, std::uint64_t want) const {
  ls->tail_size = 0;  // none kept until read whole
  std::uint64_t from = size > want ? size - want : 0;
  ls->tail.resize(static_cast<size_t>(size - from));
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(ls->fd, ls->tail.data(), ls->tail.size(), from));
  ls->tail.resize(n);
  std::string_view view = ls->tail;
  size_t pos = 0;
  if (from > 0) {  // the first whole line starts after the first newline
    pos = view.find('\n');
    pos = pos == std::string_view::npos ? view.size() : pos + 1;
  }
  size_t nl = view.find('\n', pos);
  ls->tail_first_txn = nl == std::string_view::npos ? 0 : TxnOfLine(view.substr(pos, nl - pos));
  ls->tail_from = from;
  ls->tail_pos = pos;
  ls->tail_size = size;
  return Status::Ok();
}

}  // namespace drovebank
