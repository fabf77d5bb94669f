// keys/index vouched for by the journal (key_vouch.cc; KeyIndex::Vouched is the mark).
#pragma once

#include <cstdint>
#include <functional>

#include "drovebank/status.h"
#include "journal.h"

namespace drovebank {

// Calls `fn` with each keyed record whose txn is in (after, upto], in txn order: looked up
// one by one when they are few, else streamed from the segment that holds the first.
// Corruption when the journal cannot give a txn of the range.
Status ForEachKeyedAfter(const Journal& journal, std::uint64_t after, std::uint64_t upto,
                         const std::function<Status(const Record&)>& fn);

}  // namespace drovebank
