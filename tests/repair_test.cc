// Bringing files up to the journal as a module (src/store/repair.cc): a checkpoint records
// how far the files are durable (and one already running elsewhere is not waited for);
// an open that rebuilds the journal's state replays its tail onto files behind it; a
// dead writer's flag is settled before a list reads the tree. Crashes at each step are
// recovery_test.cc and fault_matrix_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/file_repair.h"
#include "lock_test_util.h"
#include "journal_ops.h"
#include "store/key_index.h"

namespace drovebank {
namespace {

using namespace testing;

// A store whose on_repair reports land in `repairs`.
std::unique_ptr<Store> OpenReporting(const std::string& data, std::vector<FileRepair>* repairs) {
  StoreOptions o;
  o.data_dir = data;
  o.on_repair = [repairs](const FileRepair& r) { repairs->push_back(r); };
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

TEST_CASE("repair: a checkpoint records the journal's end, and one running elsewhere is not "
          "waited for",
          "[repair]") {
  TempDir dir;
  std::string data = dir / "data";
  auto s = MustOpenStore(data, DefaultEnv());
  AccountId a = MustOpen(*s, 100);
  MustOpen(*s, 200);
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 5)}, "pay-1"}).ok());
  REQUIRE(s->Checkpoint(true).ok());

  auto j = OpenJournal(data);
  auto c = j->ReadCheckpoint();
  REQUIRE(c.ok());
  CHECK(c->pos == j->End());
  CHECK(c->last_txn == 3);
  CHECK(c->max_id == 2);
  CHECK(c->account_count == 2);
  REQUIRE(c->head);
  CHECK(*c->head == *j->HeadAt(j->End()));

  REQUIRE(j->LockCheckpoint(false).ok());  // another checkpointer is at work
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 5)}, ""}).ok());
  REQUIRE(s->Checkpoint(false).ok());
  CHECK(j->ReadCheckpoint()->last_txn == 3);  // not moved, not waited for
  j->UnlockCheckpoint();
  REQUIRE(s->Checkpoint(false).ok());
  CHECK(j->ReadCheckpoint()->last_txn == 4);
  CHECK(j->ReadCheckpoint()->pos == j->End());
}

TEST_CASE("repair: an open that rebuilds the journal's state replays its tail onto a file "
          "behind it",
          "[repair]") {
  TempDir dir;
  std::string data = dir / "data";
  std::string behind;  // account 1's file before the deposit
  Layout layout(data);
  {
    auto s = MustOpenStore(data, DefaultEnv());
    AccountId a = MustOpen(*s, 100);
    behind = Slurp(layout.AccountPath(a));
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 5)}, ""}).ok());
  }
  const std::string now = Slurp(layout.AccountPath(1));
  Spit(layout.AccountPath(1), behind);  // as if the install never reached the disk
  REQUIRE(::unlink(layout.JournalStatePath().c_str()) == 0);  // as after a reboot

  std::vector<FileRepair> repairs;
  auto s = OpenReporting(data, &repairs);
  REQUIRE(repairs.size() == 1);
  CHECK(repairs[0].id == 1);
  CHECK(repairs[0].found == FileRepair::Found::kBehind);
  CHECK(Slurp(layout.AccountPath(1)) == now);
  CHECK(s->Get(1)->balance == 105);
}

TEST_CASE("repair: a dead writer's flag is settled before a list reads the tree", "[repair]") {
  TempDir dir;
  std::string data = dir / "data";
  Layout layout(data);
  {
    auto s = MustOpenStore(data, DefaultEnv());
    MustOpen(*s, 100);
    MustOpen(*s, 200);
  }
  const std::string two = Slurp(layout.AccountPath(2));
  std::vector<FileRepair> repairs;
  auto s = OpenReporting(data, &repairs);
  // A writer died after committing account 2's open and before its file was there.
  REQUIRE(::unlink(layout.AccountPath(2).c_str()) == 0);
  {
    auto t = Table(layout);
    REQUIRE(t->SetNeedsRepair(AccountSlot(2), true).ok());
  }
  auto page = s->List(1, 10);
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 2);
  CHECK(page->items[1].id == 2);
  CHECK(page->items[1].balance == 200);
  REQUIRE(repairs.size() == 1);
  CHECK(repairs[0].found == FileRepair::Found::kMissing);
  CHECK(Slurp(layout.AccountPath(2)) == two);
  CHECK_FALSE(*Table(layout)->NeedsRepair(AccountSlot(2)));
}

// A writer that died after replacing an account's file and before setting its keys/index
// entry left the file current, the entry one state behind and the flag set. The slot's
// next holder sets the entry too, so that state's file, put back later, is told as set
// back and never built on.
TEST_CASE("repair: a dead writer's flag with the account's entry behind: the entry is set, "
          "and the older file put back is told",
          "[repair][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  Layout layout(data);
  std::string older;
  std::uint64_t newest = 0;
  {
    auto s = MustOpenStore(data, DefaultEnv());
    MustOpen(*s, 100);
    MustOpen(*s, 100);
    older = Slurp(layout.AccountPath(1));
    auto done = s->Commit(Event{{Money(OpKind::kDeposit, 1, 5)}, ""});
    REQUIRE(done.ok());
    newest = done->record.txn;
  }
  {
    // The moment the writer died: file replaced, entry not yet moved, flag still set.
    KeyIndex index(DefaultEnv(), layout.KeyIndexPath());
    REQUIRE(index.SetAccountHead(1, newest - 1).ok());
    REQUIRE(Table(layout)->SetNeedsRepair(AccountSlot(1), true).ok());
  }
  {
    auto s = MustOpenStore(data, DefaultEnv());
    auto page = s->List(1, 10);  // settles every dead writer's flag first
    REQUIRE(page.ok());
    REQUIRE(page->items.size() == 2);
    CHECK(page->items[0].balance == 105);
  }
  CHECK_FALSE(*Table(layout)->NeedsRepair(AccountSlot(1)));
  {
    KeyIndex index(DefaultEnv(), layout.KeyIndexPath());
    auto entry = index.AccountHead(1);
    REQUIRE(entry.ok());
    CHECK(*entry == newest);
  }
  Spit(layout.AccountPath(1), older);
  auto s = MustOpenStore(data, DefaultEnv());
  auto spent = s->Commit(Event{{Money(OpKind::kWithdraw, 1, 101)}, ""});
  INFO(spent.status().message());
  CHECK(spent.status().code() == Code::kCorruption);
  CHECK(spent.status().message().find("set back") != std::string::npos);
}

}  // namespace
}  // namespace drovebank
