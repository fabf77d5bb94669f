// keys/index vouched for by the journal (key_vouch.cc; KeyIndex::Vouched is the mark).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/status.h"
#include "journal.h"

namespace drovebank {

// What the mark's check needs of a record this process committed: its key (empty: none)
// and the accounts it changed, so the check need not look it up in the journal again.
struct KnownRecord {
  std::string key;
  std::vector<AccountId> accounts;
};
// This process's records, by txn (StoreImpl::own_records_).
using KnownRecords = std::map<std::uint64_t, KnownRecord>;

// Calls `fn` with each record whose txn is in (after, upto] and that has a key or changes
// an account, in txn order: taken from `known` (only its txn, key and accounts' ids and
// last_txn are set then), else looked up one by one when they are few, else streamed from
// the segment that holds the first. Corruption when the journal cannot give a txn of the
// range.
Status ForEachRecordAfter(const Journal& journal, std::uint64_t after, std::uint64_t upto,
                          const std::function<Status(const Record&)>& fn,
                          const KnownRecords* known = nullptr);

// The txn after which records are checked against keys/index, given its mark
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
