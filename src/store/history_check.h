// Each account's records follow one from another: recover's check of what the hash chain
// cannot see. The chain proves that no record changed since it was written, but whoever can
// write the directory can write a whole new chain; these checks prove that each record is
// what the bank's rules make of the one before it, so a forged record is found even with
// its chain rebuilt (only a head kept elsewhere, --expect-head, finds a forgery that obeys
// the rules too).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

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
//
// Memory is bounded by the accounts, not the journal, and small per account: for each
// account only where its newest record so far is (8 bytes, in pages of ids), and the whole
// state of the most recently touched few thousand. An account's state that has left that
// cache is read back from its newest record through `source` (Journal::RecordAt), which the
// walk has already checked; were that record changed meanwhile, the next walk's hash chain
// finds it, and a record that no longer carries the account is Corruption here.
class AccountHistoryFollower {
 public:
  // The record the follower was fed earlier with `where`.
  using RecordSource = std::function<Result<Record>(std::uint64_t where)>;
  // `recent_slots`: how many whole states the cache holds (tests make it 1, so that every
  // state is read back).
  explicit AccountHistoryFollower(RecordSource source, size_t recent_slots = size_t{1} << 14);
  ~AccountHistoryFollower();

  // `where`: the record's place, never 0, as `source` takes it back (a packed journal
  // position; tests use the txn).
  Status Feed(const Record& r, std::uint64_t where);

  // How many times a state was read back through `source` (tests count them).
  std::uint64_t reads_back() const { return reads_back_; }

 private:
  struct Seen {
    Cents balance = 0;
    std::uint64_t version = 0;
    std::uint64_t last_txn = 0;
    std::uint64_t names = 0;  // a hash of first and last
    bool closed = false;
  };
  using Accounts = std::map<AccountId, Account>;
  using Before = std::map<AccountId, Seen>;  // the record's accounts as the records before left them

  // The states of every account `r` names, as the records before it left them.
  Status Gather(const Record& r, Before* before);
  Result<std::optional<Seen>> Find(AccountId id);
  void Remember(AccountId id, const Seen& seen, std::uint64_t where);
  // Fills `trial` with the states the record's ops start from; false when an account's
  // earlier states are cut away (a journal that does not start at txn 1).
  bool StartingStates(const Record& r, const Before& before, Accounts* trial) const;
  Status ReplayOps(const Record& r, const Before& before, Accounts* trial,
                   std::set<AccountId>* touched) const;
  Status ReplayRename(const Record& r, const Before& before, size_t i, Op* op,
                      Accounts* trial) const;
  Status CheckCarried(const Record& r, std::uint64_t where, const Before& before,
                      const Accounts& trial, const std::set<AccountId>& touched);
  static Status CheckState(const Record& r, const RecordAccount& ra, const Account& want,
                           std::uint64_t prev_txn, std::uint64_t names);

  // Where each account's newest record so far is, 0 for none: pages of kPage ids, each
  // made at its first account. A page is 512 KiB, above malloc's threshold for mapping
  // memory of its own, so the pages go back to the system with the follower (32 KiB pages
  // stayed in the heap: recover --check --full at 1M accounts peaked 4 MB higher, with
  // the index of the next pass built beside them).
  static constexpr AccountId kPage = 65536;
  std::vector<std::unique_ptr<std::uint64_t[]>> newest_;
  // The whole state of recently touched accounts, one slot per id modulo its size.
  struct Slot {
    AccountId id = 0;
    Seen seen;
  };
  std::vector<Slot> recent_;
  RecordSource source_;
  std::uint64_t reads_back_ = 0;
  bool started_ = false;
  bool whole_ = false;  // the journal starts at txn 1
};

}  // namespace drovebank
