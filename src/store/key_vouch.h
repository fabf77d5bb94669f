// keys/index vouched for by the journal (key_vouch.cc; KeyIndex::Vouched is the mark).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "drovebank/status.h"
#include "journal.h"

namespace drovebank {

// Keys of records this process committed, by txn (empty: no key), so a check need not
// look those records up in the journal again (StoreImpl::own_keys_).
using KnownKeys = std::map<std::uint64_t, std::string>;

// Calls `fn` with each keyed record whose txn is in (after, upto], in txn order: taken
// from `known` (only its txn and key are set then), else looked up one by one when they are
// few, else streamed from the segment that holds the first. Corruption when the journal
// cannot give a txn of the range.
Status ForEachKeyedAfter(const Journal& journal, std::uint64_t after, std::uint64_t upto,
                         const std::function<Status(const Record&)>& fn,
                         const KnownKeys* known = nullptr);

// The txn after which keyed records are checked against keys/index, given its mark
// (`vouched`), the journal's newest txn and FORMAT's chained-from:
// - a mark past the newest txn (a power loss took an unsynced tail a writer had checked,
//   or the file is not this journal's: a copy from elsewhere, a forged mark) tells
//   nothing, so every record is checked;
// - records before chained-from are an earlier build's, whose keys are in key files.
inline std::uint64_t KeysCheckedAfter(std::uint64_t vouched, std::uint64_t newest,
                                      std::uint64_t chained_from) {
  std::uint64_t checked = vouched > newest ? 0 : vouched;
  return checked > chained_from - 1 ? checked : chained_from - 1;
}

}  // namespace drovebank
