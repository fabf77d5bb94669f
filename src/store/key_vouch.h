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

}  // namespace drovebank
