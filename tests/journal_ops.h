// The journal for in-process tests of its modules and of recovery's parts: a store made in
// a scratch directory (empty, or with three or five records), the journal of a data
// directory opened read-write or read-only, a deposit record, and where each record starts.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/journal.h"
#include "store_ops.h"
#include "temp_dir.h"

namespace drovebank::testing {

// The journal of the store in `data`, read-write, the tail its open finds unapplied handed
// to `replay` (by default: to nothing); the test stops if it fails.
inline std::unique_ptr<Journal> OpenJournal(
    const std::string& data, std::uint64_t segment_bytes = kSegmentBytes,
    Journal::ReplayFn replay =
        [](const std::vector<Record>&) { return Status::Ok(); }) {
  auto j = Journal::Open(DefaultEnv(), Layout(data), StorageMode{}, std::move(replay),
                         segment_bytes);
  REQUIRE(j.ok());
  return std::move(j).value();
}

// The journal of the store in `data`, read-only; the test stops if it fails.
inline std::unique_ptr<Journal> OpenJournalReadOnly(const std::string& data) {
  auto j = Journal::OpenReadOnly(DefaultEnv(), Layout(data), StorageMode{});
  REQUIRE(j.ok());
  return std::move(j).value();
}

// A deposit record of account `id` (the journal checks no rule: it numbers, chains and
// stores what it is given).
inline Record Deposit(AccountId id, Cents amount, std::string request = "deposit") {
  Record r;
  r.ops.push_back(Money(OpKind::kDeposit, id, amount));
  r.request = std::move(request);
  return r;
}

// A store made in `dir`/data with no account, closed; its data directory.
inline std::string NewStore(const TempDir& dir) {
  std::string data = dir / "data";
  MustOpenStore(data, DefaultEnv());
  return data;
}

// A store in `dir`/data of two accounts (1: 100.00, 2: 50.00) and a deposit of 5.00 to
// account 1 (txns 1-3), closed; its data directory.
inline std::string ThreeRecords(const TempDir& dir) {
  std::string data = dir / "data";
  auto s = MustOpenStore(data, DefaultEnv());
  AccountId a = MustOpen(*s, 10000);
  MustOpen(*s, 5000);
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 500)}, ""}).ok());
  return data;
}

// ThreeRecords and two more: a transfer of 10.00 from account 2 to 1 and a withdrawal of
// 0.01 from account 1 (txns 1-5; the deposit keyed `deposit_key` unless that is empty),
// closed; its data directory.
inline std::string FiveRecords(const TempDir& dir, const std::string& deposit_key = "") {
  std::string data = dir / "data";
  auto s = MustOpenStore(data, DefaultEnv());
  AccountId a = MustOpen(*s, 10000);
  AccountId b = MustOpen(*s, 5000);
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 500)}, deposit_key}).ok());
  REQUIRE(s->Commit(Event{{Money(OpKind::kTransfer, b, 1000, a)}, ""}).ok());
  REQUIRE(s->Commit(Event{{Money(OpKind::kWithdraw, a, 1)}, ""}).ok());
  return data;
}

// Where each record of `j` starts, in order (txn i+1 at [i] in a journal from txn 1), as
// ForEach hands them; the test stops if the walk fails.
inline std::vector<JournalPos> RecordStarts(const Journal& j) {
  std::vector<JournalPos> starts;
  REQUIRE(j.ForEach(JournalPos{}, j.End(), [&](Record&, JournalPos at) {
             starts.push_back(at);
             return Status::Ok();
           }).ok());
  return starts;
}

}  // namespace drovebank::testing
