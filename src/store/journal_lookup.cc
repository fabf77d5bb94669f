// One record by its txn without reading its segment whole (Journal::LookUpTxn): the proof
// of an account file (StoreImpl::ProveAccount) asks for one record per file it reads, and a
// one-shot command would otherwise read and index up to 4 MiB of segment for it.
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "store/journal.h"

namespace drovebank {

namespace {

constexpr size_t kWindow = 4096;

// The txn a record line names ("txn" sorts last among its keys, and no string in it can
// hold an unescaped quote), or 0 when it names none.
std::uint64_t TxnOf(std::string_view line) {
  auto at = line.rfind("\"txn\":");
  if (at == std::string_view::npos) return 0;
  return std::strtoull(std::string(line.substr(at + 6, 20)).c_str(), nullptr, 10);
}

// Reads the segment open at `fd` through pread windows.
class SegmentReader {
 public:
  SegmentReader(Env* env, int fd, std::uint64_t size) : env_(env), fd_(fd), size_(size) {}

  // The first whole line that starts at or after `from` and before `below`: its start and
  // bytes (without the LF). nullopt when none starts there.
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
    DB_ASSIGN_OR_RETURN(std::optional<std::uint64_t> end, NewlineFrom(start, size_));
    if (!end) return Found();  // a tail being written: not a record yet
    std::string line(*end - start, '\0');
    DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, line.data(), line.size(), start));
    if (n != line.size()) return Found();
    return Found(std::in_place, start, std::move(line));
  }

 private:
  Result<std::optional<std::uint64_t>> NewlineFrom(std::uint64_t at, std::uint64_t below) {
    std::string buf(kWindow, '\0');
    while (at < below) {
      size_t want = static_cast<size_t>(std::min<std::uint64_t>(kWindow, size_ - at));
      DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, buf.data(), want, at));
      if (n == 0) break;
      auto nl = std::string_view(buf.data(), n).find('\n');
      if (nl != std::string_view::npos) return std::optional<std::uint64_t>(at + nl);
      at += n;
    }
    return std::optional<std::uint64_t>();
  }

  Env* env_;
  int fd_;
  std::uint64_t size_;
};

}  // namespace

Result<Record> Journal::LookUpTxn(std::uint64_t txn) const {
  DB_ASSIGN_OR_RETURN(auto segs, Segments());
  auto it = std::upper_bound(segs.begin(), segs.end(), txn);
  // As FindTxn: a crash between creating a segment and publishing it can leave one whose
  // name overstates its first txn, so earlier segments are tried too.
  for (int tries = 0; txn != 0 && it != segs.begin() && tries < 3; ++tries) {
    --it;
    if (segment_cache_.count(*it) != 0) return FindTxn(txn);
    DB_ASSIGN_OR_RETURN(int fd, env_->Open(SegmentPath(*it), O_RDONLY));
    EnvFdCloser closer{env_, fd};
    DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(fd));
    SegmentReader reader(env_, fd, info.size);
    // Bisect on line starts: lo is a line start at or before the record, hi past it.
    std::uint64_t lo = 0, hi = info.size;
    while (hi - lo > 2 * kWindow) {
      std::uint64_t mid = lo + (hi - lo) / 2;
      DB_ASSIGN_OR_RETURN(auto line, reader.LineFrom(mid, hi));
      if (!line) {
        hi = mid;
        continue;
      }
      std::uint64_t t = TxnOf(line->second);
      if (t == txn) return DecodeRecordLine(line->second);
      if (t != 0 && t < txn) {
        lo = line->first + line->second.size() + 1;
      } else {
        hi = line->first;
      }
    }
    for (std::uint64_t at = lo; at < hi;) {
      DB_ASSIGN_OR_RETURN(auto line, reader.LineFrom(at, hi));
      if (!line) break;
      std::uint64_t t = TxnOf(line->second);
      if (t == txn) return DecodeRecordLine(line->second);
      if (t > txn) break;
      at = line->first + line->second.size() + 1;
    }
  }
  return Status::NotFound(fmt::format("no transaction {}", txn));
}

}  // namespace drovebank
