// The lock tables as a module (src/store/lock_table.h): two tables exclude each other like
// two processes, the repair flags and their listing, the holder's note, the spare slot.
// LockFile's calling sequence on top of it is lockfile_test.cc; kernel release at a
// holder's death is there too.
#include "store/lock_table.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lock_test_util.h"

namespace drovebank {
namespace {

using testing::NewLayout;
using testing::Table;
using testing::TempDir;

TEST_CASE("lockfile: owner notes parse back and never name another slot", "[lockfile]") {
  LockOwner o{4242, "ledger-host", 1795317641962};
  std::string line = FormatLockOwner(o, 17);
  CHECK(line.size() == kOwnerLineBytes);
  auto back = ParseLockOwner(line, 17);
  REQUIRE(back);
  CHECK(back->pid == 4242);
  CHECK(back->host == "ledger-host");
  CHECK(back->since_ms == 1795317641962);
  CHECK_FALSE(ParseLockOwner(line, 18));
  CHECK_FALSE(ParseLockOwner("", 17));
  CHECK_FALSE(ParseLockOwner("17 x y z", 17));
  LockOwner longhost{1, std::string(300, 'h'), 2};
  CHECK(FormatLockOwner(longhost, 3).size() == kOwnerLineBytes);
}


TEST_CASE("lock table: a slot held through one table is Busy through another until unlocked",
          "[lock_table]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto a = Table(layout);
  auto b = Table(layout);
  LockSlot acct = AccountSlot(7);
  LockSlot key = KeySlot("pay-1");
  CHECK(key.table == LockTableKind::kKeys);
  CHECK(key.offset < kKeySlots);

  CHECK_FALSE(a->HoldsAny());
  REQUIRE(a->TryLock(acct).ok());
  CHECK(a->HoldsAny());
  CHECK(b->TryLock(acct).code() == Code::kBusy);
  CHECK(*b->HeldElsewhere(acct));
  CHECK_FALSE(*b->HeldElsewhere(AccountSlot(8)));
  CHECK(b->TryLock(AccountSlot(8)).ok());  // one byte each: a neighbour is free
  CHECK(b->TryHoldShared(acct).code() == Code::kBusy);

  // The holder's note names this process and the slot, for a waiter's message.
  auto owner = b->OwnerOf(acct);
  REQUIRE(owner);
  CHECK(owner->pid == ::getpid());

  LockWait cancelled;
  cancelled.cancelled = [] { return true; };
  std::vector<std::string> told;
  cancelled.on_wait = [&](std::string_view what, const std::optional<LockOwner>&) {
    told.emplace_back(what);
  };
  CHECK(b->Lock(acct, "account 7", cancelled).code() == Code::kCancelled);
  CHECK(told == std::vector<std::string>{"account 7"});

  a->Unlock(acct);
  CHECK_FALSE(a->HoldsAny());
  CHECK(b->TryLock(acct).ok());
  CHECK(a->TryLock(acct).code() == Code::kBusy);
}

TEST_CASE("lock table: repair flags are set and cleared per slot and listed in order",
          "[lock_table]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto t = Table(layout);
  LockSlot key = KeySlot("pay-1");
  CHECK_FALSE(*t->NeedsRepair(AccountSlot(3)));
  REQUIRE(t->SetNeedsRepair(AccountSlot(9), true).ok());
  REQUIRE(t->SetNeedsRepair(AccountSlot(3), true).ok());
  REQUIRE(t->SetNeedsRepair(key, true).ok());
  REQUIRE(t->SetNeedsRepair(AccountSlot(5), true).ok());
  REQUIRE(t->SetNeedsRepair(AccountSlot(5), false).ok());
  CHECK(*t->NeedsRepair(AccountSlot(3)));
  CHECK_FALSE(*t->NeedsRepair(AccountSlot(5)));

  // Another table of the same store sees the flags: they are the file's bytes.
  auto other = Table(layout);
  auto flagged = other->Flagged();
  REQUIRE(flagged.ok());
  CHECK(*flagged == std::vector<LockSlot>{AccountSlot(3), AccountSlot(9), key});
}

// Flagged reads each table in chunks of kFlagSpan bytes: a flag on either side of a
// chunk's edge, and one in the last chunk of a long table, are listed as any other.
TEST_CASE("lock table: flags on both sides of a read chunk's edge and far past it are listed",
          "[lock_table]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto t = Table(layout);
  const AccountId edge = static_cast<AccountId>(LockTable::kFlagSpan);
  std::vector<LockSlot> want = {AccountSlot(1),        AccountSlot(edge - 1), AccountSlot(edge),
                                AccountSlot(edge + 1), AccountSlot(3 * edge + 7)};
  for (const LockSlot& s : want) REQUIRE(t->SetNeedsRepair(s, true).ok());
  REQUIRE(t->SetNeedsRepair(AccountSlot(2 * edge), true).ok());
  REQUIRE(t->SetNeedsRepair(AccountSlot(2 * edge), false).ok());
  auto flagged = Table(layout)->Flagged();
  REQUIRE(flagged.ok());
  CHECK(*flagged == want);
}

TEST_CASE("lock table: each table claims a spare of its own and keeps it", "[lock_table]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto a = Table(layout);
  auto b = Table(layout);
  auto pa = a->SparePath();
  auto pb = b->SparePath();
  REQUIRE(pa.ok());
  REQUIRE(pb.ok());
  CHECK(*pa == layout.tmp() + "/spare-0");
  CHECK(*pb == layout.tmp() + "/spare-1");
  CHECK(*a->SparePath() == *pa);
  a.reset();  // its spare slot is free again
  auto c = Table(layout);
  CHECK(*c->SparePath() == layout.tmp() + "/spare-0");
}

}  // namespace
}  // namespace drovebank
