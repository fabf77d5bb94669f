#include "store/newest_index.h"

#include <map>
#include <random>

#include <catch2/catch.hpp>

#include "drovebank/store.h"
#include "store/store_impl.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::TempDir;

std::unique_ptr<Store> SmallSegmentStore(const TempDir& dir) {
  StoreOptions o;
  o.data_dir = dir / "data";
  o.lock_wait.timeout_seconds = 1;
  o.segment_bytes = 2048;  // a few records a segment: positions span many segments
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

Op MakeOp(OpKind kind, AccountId id, Cents amount, AccountId to = 0) {
  Op op;
  op.kind = kind;
  op.id = id;
  op.to = to;
  op.amount = amount;
  if (kind == OpKind::kOpen) op.first = "Ada", op.last = "Lovelace";
  return op;
}

// Random deposits, withdrawals and transfers over `accounts` accounts; returns their ids.
std::vector<AccountId> RandomHistory(Store& s, int accounts, int ops, unsigned seed) {
  std::vector<AccountId> ids;
  for (int i = 0; i < accounts; ++i) {
    auto r = s.Commit(Event{{MakeOp(OpKind::kOpen, 0, 1000)}, ""});
    REQUIRE(r.ok());
    ids.push_back(r->record.ops[0].id);
  }
  std::mt19937 rng(seed);
  for (int i = 0; i < ops; ++i) {
    AccountId a = ids[rng() % ids.size()], b = ids[rng() % ids.size()];
    Cents amount = 1 + rng() % 300;
    Op op = rng() % 3 == 0   ? MakeOp(OpKind::kDeposit, a, amount)
            : rng() % 2 == 0 ? MakeOp(OpKind::kWithdraw, a, amount)
                             : MakeOp(OpKind::kTransfer, a, amount, b);
    if (op.kind == OpKind::kTransfer && a == b) continue;
    (void)s.Commit(Event{{op}, i % 5 == 0 ? "k" + std::to_string(i) : ""});
  }
  return ids;
}

TEST_CASE("newest index: every account's newest state, once, across many segments",
          "[newest_index]") {
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    DYNAMIC_SECTION("seed " << seed) {
      TempDir dir;
      auto s = SmallSegmentStore(dir);
      std::vector<AccountId> ids = RandomHistory(*s, 3 + seed * 4, 150, seed);
      REQUIRE(Impl(*s).journal().Segments()->size() > 5);

      auto index = NewestIndex::Build(Impl(*s).journal(), Impl(*s).journal().max_id());
      REQUIRE(index.ok());
      CHECK(index->accounts() == ids.size());
      CHECK_FALSE(index->Has(0));
      CHECK_FALSE(index->Has(ids.back() + 1));
      CHECK_FALSE(index->Has(ids.back() + 1000000));
      std::map<AccountId, int> calls;
      Status st = index->ForEachNewest(Impl(*s).journal(), [&](const Account& state, const Record& r) {
        ++calls[state.id];
        auto file = s->Get(state.id);
        REQUIRE(file.ok());
        CHECK(*file == state);  // the files are current, so the newest state is the file's
        CHECK(r.txn == file->last_txn);
        return Status::Ok();
      });
      REQUIRE(st.ok());
      CHECK(calls.size() == ids.size());
      for (AccountId id : ids) {
        CHECK(index->Has(id));
        CHECK(calls[id] == 1);
      }

      // Commits after the build: Latest sees them, the build's pass does not.
      REQUIRE(s->Commit(Event{{MakeOp(OpKind::kDeposit, ids[0], 7)}, ""}).ok());
      auto latest = index->Latest(Impl(*s).journal(), ids[0]);
      REQUIRE(latest.ok());
      CHECK(*latest == *s->Get(ids[0]));
      CHECK(index->Latest(Impl(*s).journal(), ids.back() + 1).status().code() == Code::kNotFound);
    }
  }
}

TEST_CASE("newest index: a callback's error stops the pass and is returned",
          "[newest_index]") {
  TempDir dir;
  auto s = SmallSegmentStore(dir);
  RandomHistory(*s, 5, 40, 9);
  auto index = NewestIndex::Build(Impl(*s).journal(), 0);  // an estimate too low: the table grows
  REQUIRE(index.ok());
  int calls = 0;
  Status st = index->ForEachNewest(Impl(*s).journal(), [&](const Account&, const Record&) {
    ++calls;
    return Status::IOError("stop");
  });
  CHECK(st.code() == Code::kIOError);
  CHECK(calls == 1);
}

}  // namespace
}  // namespace drovebank
