// Each account's records follow one from another: recover's check of what the hash chain
// cannot see. The chain proves that no record changed since it was written, but whoever can
// write the directory can write a whole new chain; these checks prove that each record is
// what the bank's rules make of the one before it, so a forged record is found even with
// its chain rebuilt (only a head kept elsewhere, --expect-head, finds a forgery that obeys
// the rules too).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>

#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

// Fed the records in journal order, from the first. For each record it re-applies the
// record's ops to the accounts' states as the records before left them (the rules of
// src/store/rules.cc, ApplyOp) and checks that:
//  - every op's result (`after`, `to_after`) is what the rules give;
//  - the record carries exactly the accounts its ops touch, each with the balance, status
//    and names the rules give, version one more than before (1 at open), last_txn its own
//    txn, and prev_txn the account's previous record (0 at open);
//  - an account is opened once, and named by no record before it is opened.
// The first failure is Corruption naming the txn, the account and what differs.
// A journal whose first record is not txn 1 (its head cut away) is followed from the
// first state each account shows, and those states are taken as they are.
class AccountHistoryFollower {
 public:
  Status Feed(const Record& r);

 private:
  using Accounts = std::map<AccountId, Account>;
  // Fills `trial` with the states the record's ops start from; false when an account's
  // earlier states are cut away (a journal that does not start at txn 1).
  bool StartingStates(const Record& r, Accounts* trial) const;
  Status ReplayOps(const Record& r, Accounts* trial, std::set<AccountId>* touched) const;
  Status ReplayRename(const Record& r, size_t i, Op* op, Accounts* trial) const;
  Status CheckCarried(const Record& r, const Accounts& trial, const std::set<AccountId>& touched);
  static Status CheckState(const Record& r, const RecordAccount& ra, const Account& want,
                           std::uint64_t prev_txn, std::uint64_t names);

  struct Seen {
    Cents balance = 0;
    std::uint64_t version = 0;
    std::uint64_t last_txn = 0;
    std::uint64_t names = 0;  // a hash of first and last
    bool closed = false;
  };
  std::unordered_map<AccountId, Seen> seen_;
  bool started_ = false;
  bool whole_ = false;  // the journal starts at txn 1
};

}  // namespace drovebank
