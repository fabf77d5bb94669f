// One repair's report as a module (include/drovebank/file_repair.h): the line recover
// prints for each kind of file it found, and the name of each kind in its JSON. What
// recover repairs is recovery_test.cc and corruption_test.cc.
#include "drovebank/file_repair.h"

#include <catch2/catch.hpp>
#include <optional>
#include <set>
#include <string>

namespace drovebank {
namespace {

Account State(Cents balance, std::uint64_t version, bool closed = false) {
  Account a;
  a.id = 2;
  a.first = "Mary";
  a.last = "Somerville";
  a.balance = balance;
  a.version = version;
  a.closed = closed;
  return a;
}

// Account `id`'s repair: found `found`, what the file said (if it parsed), the journal's
// state, and where the old file is kept ("": not kept).
FileRepair Repair(FileRepair::Found found, AccountId id, std::optional<Account> file_said,
                  Account journal, std::string kept_as = "") {
  FileRepair r;
  r.found = found;
  r.id = id;
  r.file_said = std::move(file_said);
  r.journal = std::move(journal);
  r.kept_as = std::move(kept_as);
  return r;
}

TEST_CASE("file repair: each kind of file found has its own JSON name", "[file_repair]") {
  using F = FileRepair::Found;
  std::set<std::string> names;
  for (F f : {F::kMissing, F::kBehind, F::kEdited, F::kCorrupt, F::kDiffers, F::kKeySlot}) {
    names.insert(std::string(FoundName(f)));
  }
  CHECK(names == std::set<std::string>{"missing", "behind", "edited", "corrupt", "differs",
                                       "key_slot"});
}

TEST_CASE("file repair: the line says what the file held, what the journal says, and where "
          "the old file is kept",
          "[file_repair]") {
  using F = FileRepair::Found;
  // The header's own example.
  FileRepair example = Repair(F::kEdited, 2, State(500000, 3), State(5000, 3),
                              "quarantine/account-00000002-1764650000000.csv");
  example.file = "accounts/00/00/00/02.csv";
  FileRepair corrupt = Repair(F::kCorrupt, 7, std::nullopt, State(123, 1), "quarantine/x.csv");
  corrupt.problem = "no header line";
  FileRepair slot;
  slot.found = F::kKeySlot;
  slot.file = "keys/index";
  slot.key = "pay-1";
  slot.txn = 42;
  struct Case {
    FileRepair repair;
    std::string line;
  };
  const Case cases[] = {
      {example,
       "account 2: file said 5000.00, journal says 50.00; restored, the edited file kept as "
       "quarantine/account-00000002-1764650000000.csv"},
      // Balances alike: the change numbers tell the states apart.
      {Repair(F::kBehind, 2, State(5000, 2), State(5000, 3)),
       "account 2: file said 50.00 at change 2, journal says 50.00 at change 3; restored"},
      {Repair(F::kMissing, 7, std::nullopt, State(0, 4, /*closed=*/true)),
       "account 7: file was missing, journal says 0.00 (closed); restored"},
      {corrupt,
       "account 7: file was corrupt (no header line), journal says 1.23; restored, the corrupt "
       "file kept as quarantine/x.csv"},
      {Repair(F::kEdited, 7, std::nullopt, State(100, 1)),
       "account 7: file was changed outside drovebank (checksum mismatch), journal says 1.00; "
       "restored"},
      {Repair(F::kDiffers, 2, State(900, 5), State(800, 5), "quarantine/y.csv"),
       "account 2: file said 9.00, journal says 8.00; restored, the differing file kept as "
       "quarantine/y.csv"},
      {slot,
       "keys/index: the slot of key 'pay-1' did not reach its newest record; restored to name "
       "transaction 42"},
  };
  for (const Case& c : cases) {
    INFO("found " << FoundName(c.repair.found));
    CHECK(DescribeFileRepair(c.repair) == c.line);
  }
}

}  // namespace
}  // namespace drovebank
