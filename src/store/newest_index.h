// Where each account's newest state lies in the journal, for whole-history work
// (`recover --full`, `recover --check --full`) in bounded memory: one streaming pass
// builds it, and it keeps 8 bytes per account id up to the largest id seen, never a
// record. Account ids are dense (the journal hands them out in order, and legacy import
// keeps the original's sequential ids), so that is 8 bytes an account.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "journal.h"

namespace drovebank {

// Journal positions in 8 bytes, as the whole-history walks keep one an account: the
// segment's ordinal in a listing taken before the walk, + 1, above 40 bits of offset, so 0
// stands for none. A segment is far below 2^40 bytes, and 2^24 segments of 4 MiB are
// 64 TiB of journal.
class PackedPositions {
 public:
  // Lists the journal's segments now. Internal when there are too many to number.
  static Result<PackedPositions> Of(const Journal& journal);
  // Corruption when the offset does not fit; Internal when the segment was not listed.
  Result<std::uint64_t> Pack(const Journal& journal, JournalPos pos) const;
  std::optional<JournalPos> Unpack(std::uint64_t packed) const;

 private:
  std::vector<std::uint64_t> segs_;  // segment names, ascending
};

class NewestIndex {
 public:
  // Streams the journal from its beginning to its current end once. `max_id` (the largest
  // id the journal allocated, or an estimate) sizes the table up front: growing it past
  // that copies it, briefly holding it twice. Fails with the journal's error (Corruption
  // on a bad record, IOError).
  static Result<NewestIndex> Build(const Journal& journal, AccountId max_id);

  // Whether the journal up to the build's end has any state of `id`.
  bool Has(AccountId id) const { return id < where_.size() && where_[id] != 0; }
  // How many accounts have a state.
  size_t accounts() const { return accounts_; }

  // Streams the journal up to the build's end again and calls `fn` exactly once per
  // account, in journal order, with the account's newest state and the record that holds
  // it. Stops at, and returns, the first error of `fn` or of the journal.
  using StateFn = std::function<Status(const Account& state, const Record& record)>;
  Status ForEachNewest(const Journal& journal, const StateFn& fn) const;

  // The newest state of `id` in the journal now, which may be later than the build's end
  // (other processes commit meanwhile): reads from its indexed record to the end.
  // NotFound when the journal has no state of it.
  Result<Account> Latest(const Journal& journal, AccountId id) const;

 private:
  PackedPositions places_;
  std::vector<std::uint64_t> where_;  // by id: places_.Pack(position of the newest record) or 0
  JournalPos end_;
  size_t accounts_ = 0;
};

// The newest state of `id` in the journal, for one account whose file is lost or corrupt
// (`recover` on a marked store) without a whole-journal pass: reads the segments newest
// first, one at a time, and stops at the first that holds a state of it, so the work is
// the journal written since the account last changed. NotFound when the journal has no
// state of it; the journal's error otherwise.
Result<Account> NewestStateOf(const Journal& journal, AccountId id);

}  // namespace drovebank
