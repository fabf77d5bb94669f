// The store's read-only queries as a module (src/store/store_read.cc): an account's history
// newest first, from its side of each transfer, in pages; list and search in pages by id;
// a keyed record found by its key and a reversal by the txn it reverses. Reports through
// the real program are reports_test.cc; list and search on the store are also in
// store_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/record.h"
#include "store/store_impl.h"
#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Money;
using testing::MustOpenStore;
using testing::OpenOp;
using testing::TempDir;

AccountId Open(Store& s, std::string first, std::string last, Cents amount) {
  auto r = s.Commit(Event{{OpenOp(std::move(first), std::move(last), amount)}, ""});
  REQUIRE(r.ok());
  return r->record.ops[0].id;
}

std::uint64_t MustCommit(Store& s, Op op, std::string key = "") {
  auto r = s.Commit(Event{{std::move(op)}, std::move(key)});
  REQUIRE(r.ok());
  REQUIRE(r->status.ok());
  return r->record.txn;
}

// `page` is one of `pages` pages of `total` accounts, and holds accounts `ids` in order.
void CheckPage(const Result<Page<Account>>& page, size_t total, size_t pages,
               const std::vector<AccountId>& ids) {
  REQUIRE(page.ok());
  CHECK(page->total == total);
  CHECK(page->pages == pages);
  REQUIRE(page->items.size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) CHECK(page->items[i].id == ids[i]);
}

TEST_CASE("store read: history is newest first, from the account's side, in pages",
          "[store_read]") {
  TempDir dir;
  auto s = MustOpenStore(dir / "data", DefaultEnv());
  AccountId a = Open(*s, "Ada", "Lovelace", 10000);
  AccountId b = Open(*s, "Mary", "Somerville", 5000);
  std::uint64_t dep = MustCommit(*s, Money(OpKind::kDeposit, a, 500));
  std::uint64_t tr = MustCommit(*s, Money(OpKind::kTransfer, a, 1000, b));
  std::uint64_t wd = MustCommit(*s, Money(OpKind::kWithdraw, a, 1));

  auto h = s->History(a, 1, 10);
  REQUIRE(h.ok());
  CHECK(h->total == 4);
  CHECK(h->pages == 1);
  REQUIRE(h->items.size() == 4);
  CHECK(h->items[0].txn == wd);
  CHECK(h->items[0].kind == OpKind::kWithdraw);
  CHECK(h->items[0].balance_after == 9499);
  CHECK(h->items[1].txn == tr);
  CHECK(h->items[1].outgoing);
  CHECK(h->items[1].counterpart == b);
  CHECK(h->items[1].balance_after == 9500);
  CHECK(h->items[2].txn == dep);
  CHECK(h->items[2].balance_after == 10500);
  CHECK(h->items[3].kind == OpKind::kOpen);
  CHECK(h->items[3].balance_after == 10000);

  auto hb = s->History(b, 1, 10);
  REQUIRE(hb.ok());
  REQUIRE(hb->items.size() == 2);
  CHECK(hb->items[0].txn == tr);
  CHECK_FALSE(hb->items[0].outgoing);
  CHECK(hb->items[0].counterpart == a);
  CHECK(hb->items[0].balance_after == 6000);

  auto p2 = s->History(a, 2, 3);
  REQUIRE(p2.ok());
  CHECK(p2->pages == 2);
  CHECK(p2->total == 4);
  REQUIRE(p2->items.size() == 1);
  CHECK(p2->items[0].kind == OpKind::kOpen);
  auto past = s->History(a, 3, 3);
  REQUIRE(past.ok());
  CHECK(past->items.empty());
  CHECK(s->History(a, 0, 3).status().code() == Code::kInvalidArgument);
  CHECK(s->History(99, 1, 3).status().code() == Code::kNotFound);
}

TEST_CASE("store read: list and search page by id", "[store_read]") {
  TempDir dir;
  auto s = MustOpenStore(dir / "data", DefaultEnv());
  const char* names[] = {"Ada", "Mary", "ada", "Grace", "ADA"};
  for (const char* n : names) Open(*s, n, "Test", 100);

  CheckPage(s->List(2, 2), 5, 3, {3, 4});
  auto p3 = s->List(3, 2);
  REQUIRE(p3.ok());
  REQUIRE(p3->items.size() == 1);
  CHECK(p3->items[0].first == "ADA");
  CHECK(s->List(4, 2)->items.empty());
  CHECK(s->List(0, 2).status().code() == Code::kInvalidArgument);

  CheckPage(s->Search("ada", 1, 2), 3, 2, {1, 3});
  auto next = s->Search("ada", 2, 2);
  REQUIRE(next.ok());
  REQUIRE(next->items.size() == 1);
  CHECK(next->items[0].id == 5);
  CHECK(s->Search("   ", 1, 2).status().code() == Code::kInvalidArgument);
}

TEST_CASE("store read: a keyed record by its key, a reversal by the txn it reverses",
          "[store_read]") {
  TempDir dir;
  auto s = MustOpenStore(dir / "data", DefaultEnv());
  AccountId a = Open(*s, "Ada", "Lovelace", 10000);
  std::uint64_t paid = MustCommit(*s, Money(OpKind::kDeposit, a, 500), "pay-1");
  std::uint64_t plain = MustCommit(*s, Money(OpKind::kDeposit, a, 7));

  auto byKey = s->FindKey("pay-1");
  REQUIRE(byKey.ok());
  REQUIRE(byKey->has_value());
  CHECK((*byKey)->txn == paid);
  auto none = s->FindKey("pay-2");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  CHECK(*s->ReversedBy(paid) == 0);
  Event reversal{{Money(OpKind::kWithdraw, a, 500)}, ReversalKey(paid)};
  reversal.reverses = paid;
  auto rev = s->Commit(reversal);
  REQUIRE(rev.ok());
  REQUIRE(rev->status.ok());
  CHECK(*s->ReversedBy(paid) == rev->record.txn);
  CHECK(*s->ReversedBy(plain) == 0);

  auto h = s->History(a, 1, 10);
  REQUIRE(h.ok());
  REQUIRE(h->items.size() == 4);
  CHECK(h->items[0].reverses == paid);   // the reversal itself
  CHECK(h->items[2].txn == paid);
  CHECK(h->items[2].reversed_by == rev->record.txn);
  CHECK(h->items[1].reversed_by == 0);  // the plain deposit
  auto txn = s->FindTxn(plain);
  REQUIRE(txn.ok());
  CHECK(txn->ops[0].amount == 7);
}

// A batch checks each automatic key against the journal: the record a key names must be
// looked up (a window of its segment) and never read into the whole-segment cache, which
// would keep every segment a long run touches (a batch of 100k events over 200k records
// held 98 MB).
TEST_CASE("store read: a key's record is found without keeping its segment whole",
          "[store_read]") {
  TempDir dir;
  std::uint64_t paid = 0;
  {
    auto s = MustOpenStore(dir / "data", DefaultEnv());
    AccountId a = Open(*s, "Ada", "Lovelace", 10000);
    paid = MustCommit(*s, Money(OpKind::kDeposit, a, 500), "pay-1");
    MustCommit(*s, Money(OpKind::kDeposit, a, 7), "pay-2");
  }
  auto s = MustOpenStore(dir / "data", DefaultEnv());
  auto found = s->FindKey("pay-1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->txn == paid);
  CHECK(Impl(*s).journal().cached_segments() == 0);
}

}  // namespace
}  // namespace drovebank
