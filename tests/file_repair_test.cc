// One repair's report as a module (include/drovebank/file_repair.h): the line recover
// prints for each kind of file it found, and the name of each kind in its JSON. What
// recover repairs is recovery_test.cc and corruption_test.cc.
#include "drovebank/file_repair.h"

#include <catch2/catch.hpp>
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
  FileRepair r;
  r.id = 2;
  r.file = "accounts/00/00/00/02.csv";
  r.found = FileRepair::Found::kEdited;
  r.file_said = State(500000, 3);
  r.journal = State(5000, 3);
  r.kept_as = "quarantine/account-00000002-1764650000000.csv";
  // The header's own example.
  CHECK(DescribeFileRepair(r) ==
        "account 2: file said 5000.00, journal says 50.00; restored, the edited file kept as "
        "quarantine/account-00000002-1764650000000.csv");

  // Balances alike: the change numbers tell the states apart.
  FileRepair behind;
  behind.id = 2;
  behind.found = FileRepair::Found::kBehind;
  behind.file_said = State(5000, 2);
  behind.journal = State(5000, 3);
  CHECK(DescribeFileRepair(behind) ==
        "account 2: file said 50.00 at change 2, journal says 50.00 at change 3; restored");

  FileRepair missing;
  missing.id = 7;
  missing.found = FileRepair::Found::kMissing;
  missing.journal = State(0, 4, /*closed=*/true);
  CHECK(DescribeFileRepair(missing) ==
        "account 7: file was missing, journal says 0.00 (closed); restored");

  FileRepair corrupt;
  corrupt.id = 7;
  corrupt.found = FileRepair::Found::kCorrupt;
  corrupt.problem = "no header line";
  corrupt.journal = State(123, 1);
  corrupt.kept_as = "quarantine/x.csv";
  CHECK(DescribeFileRepair(corrupt) ==
        "account 7: file was corrupt (no header line), journal says 1.23; restored, the corrupt "
        "file kept as quarantine/x.csv");

  FileRepair edited_unparsed;
  edited_unparsed.id = 7;
  edited_unparsed.found = FileRepair::Found::kEdited;
  edited_unparsed.journal = State(100, 1);
  CHECK(DescribeFileRepair(edited_unparsed) ==
        "account 7: file was changed outside drovebank (checksum mismatch), journal says 1.00; "
        "restored");

  FileRepair differs;
  differs.id = 2;
  differs.found = FileRepair::Found::kDiffers;
  differs.file_said = State(900, 5);
  differs.journal = State(800, 5);
  differs.kept_as = "quarantine/y.csv";
  CHECK(DescribeFileRepair(differs) ==
        "account 2: file said 9.00, journal says 8.00; restored, the differing file kept as "
        "quarantine/y.csv");

  FileRepair slot;
  slot.found = FileRepair::Found::kKeySlot;
  slot.file = "keys/index";
  slot.key = "pay-1";
  slot.txn = 42;
  CHECK(DescribeFileRepair(slot) ==
        "keys/index: the slot of key 'pay-1' did not reach its newest record; restored to name "
        "transaction 42");
}

}  // namespace
}  // namespace drovebank
