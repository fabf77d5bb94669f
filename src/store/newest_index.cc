#include "newest_index.h"

#include <algorithm>

#include <fmt/format.h>

namespace drovebank {

namespace {
constexpr int kOffsetBits = 40;
constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << kOffsetBits) - 1;
}  // namespace

Result<PackedPositions> PackedPositions::Of(const Journal& journal) {
  PackedPositions p;
  DB_ASSIGN_OR_RETURN(p.segs_, journal.Segments());
  if (p.segs_.size() >= (std::uint64_t{1} << (64 - kOffsetBits)) - 1) {
    return Status::Internal("the journal has too many segments to index");
  }
  return p;
}

Result<std::uint64_t> PackedPositions::Pack(const Journal& journal, JournalPos pos) const {
  if (pos.offset > kOffsetMask) {
    return Status::Corruption(fmt::format("journal segment {} is larger than 2^40 bytes",
                                          journal.SegmentPath(pos.seg)));
  }
  auto it = std::lower_bound(segs_.begin(), segs_.end(), pos.seg);
  if (it == segs_.end() || *it != pos.seg) {
    return Status::Internal(fmt::format("journal segment {} was made after the walk began",
                                        journal.SegmentPath(pos.seg)));
  }
  return (static_cast<std::uint64_t>(it - segs_.begin()) + 1) << kOffsetBits | pos.offset;
}

std::optional<JournalPos> PackedPositions::Unpack(std::uint64_t packed) const {
  if (packed == 0) return std::nullopt;
  return JournalPos{segs_[(packed >> kOffsetBits) - 1], packed & kOffsetMask};
}

Result<NewestIndex> NewestIndex::Build(const Journal& journal, AccountId max_id) {
  NewestIndex ix;
  ix.where_.reserve(static_cast<size_t>(max_id) + 1);
  DB_ASSIGN_OR_RETURN(ix.places_, PackedPositions::Of(journal));
  ix.end_ = journal.End();
  DB_RETURN_IF_ERROR(journal.ForEach({0, 0}, ix.end_, [&](Record& r, JournalPos at) -> Status {
    DB_ASSIGN_OR_RETURN(std::uint64_t packed, ix.places_.Pack(journal, at));
    for (const RecordAccount& ra : r.accounts) {
      AccountId id = ra.state.id;
      if (id >= ix.where_.size()) {
        // Past the estimate: grow by an eighth, not the vector's doubling, so the brief
        // copy holds 2.1 tables rather than 3.
        size_t cap = ix.where_.capacity();
        if (id >= cap) ix.where_.reserve(std::max<size_t>(id + 1, cap + cap / 8 + 1024));
        ix.where_.resize(id + 1);
      }
      if (ix.where_[id] == 0) ++ix.accounts_;
      ix.where_[id] = packed;
    }
    return Status::Ok();
  }));
  return ix;
}

Status NewestIndex::ForEachNewest(const Journal& journal, const StateFn& fn) const {
  return journal.ForEach({0, 0}, end_, [&](Record& r, JournalPos at) -> Status {
    DB_ASSIGN_OR_RETURN(std::uint64_t packed, places_.Pack(journal, at));
    for (size_t i = 0; i < r.accounts.size(); ++i) {
      AccountId id = r.accounts[i].state.id;
      if (where_[id] != packed) continue;
      // A record names an account once; were it named twice, only the last one counts.
      bool later_in_record = false;
      for (size_t j = i + 1; j < r.accounts.size(); ++j) {
        later_in_record = later_in_record || r.accounts[j].state.id == id;
      }
      if (!later_in_record) DB_RETURN_IF_ERROR(fn(r.accounts[i].state, r));
    }
    return Status::Ok();
  });
}

Result<Account> NewestIndex::Latest(const Journal& journal, AccountId id) const {
  std::optional<JournalPos> from = Has(id) ? places_.Unpack(where_[id]) : JournalPos{0, 0};
  std::optional<Account> newest;
  DB_RETURN_IF_ERROR(journal.ForEach(*from, journal.End(), [&](Record& r, JournalPos) {
    for (const RecordAccount& ra : r.accounts) {
      if (ra.state.id == id) newest = ra.state;
    }
    return Status::Ok();
  }));
  if (!newest) return Status::NotFound(fmt::format("the journal has no account {}", id));
  return *newest;
}

Result<Account> NewestStateOf(const Journal& journal, AccountId id) {
  DB_ASSIGN_OR_RETURN(auto segs, journal.Segments());
  JournalPos end = journal.End();
  for (auto seg = segs.rbegin(); seg != segs.rend(); ++seg) {
    if (*seg > end.seg) continue;  // started after End() was read: nothing published yet
    JournalPos to = *seg == end.seg ? end : JournalPos{*seg, UINT64_MAX};
    std::optional<Account> newest;
    DB_RETURN_IF_ERROR(journal.ForEach({*seg, 0}, to, [&](Record& r, JournalPos) {
      for (RecordAccount& ra : r.accounts) {
        if (ra.state.id == id) newest = std::move(ra.state);
      }
      return Status::Ok();
    }));
    if (newest) return *newest;
  }
  return Status::NotFound(fmt::format("the journal has no account {}", id));
}

}  // namespace drovebank
