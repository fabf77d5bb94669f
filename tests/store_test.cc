#include "drovebank/store.h"
#include "store/store_impl.h"

#include <fcntl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "store/layout.h"
#include "drovebank/env_wrapper.h"
#include "store_ops.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::TempDir;

std::unique_ptr<Store> OpenStore(const TempDir& dir) {
  StoreOptions o;
  o.data_dir = dir / "data";
  o.lock_wait.timeout_seconds = 1;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

using testing::Money;
using testing::MustOpen;
using testing::OpenOp;

Cents Balance(Store& s, AccountId id) {
  auto a = s.Get(id);
  REQUIRE(a.ok());
  return a->balance;
}

TEST_CASE("store: a group opening thousands of accounts keeps a bounded number of descriptors",
          "[store]") {
  // Each new account's install finds no file to exchange with (ENOENT) and no spare to
  // reuse; neither may cost a descriptor (it once cost two, and a batch of 10,000 opens
  // in one group failed with EMFILE after its commit point).
  TempDir dir;
  auto s = OpenStore(dir);
  MustOpen(*s, 100);
  size_t before = testing::OpenFdCount();
  std::vector<Event> group;
  for (int i = 0; i < 3000; ++i) group.push_back(Event{{OpenOp("Ada", "Lovelace", 1)}, ""});
  auto r = s->CommitGroup(std::move(group));
  REQUIRE(r.ok());
  size_t after = testing::OpenFdCount();
  // The env keeps up to 128 parent directories open; 3000 accounts span 31 of them.
  CHECK(after <= before + 128);
  CHECK(Balance(*s, 3001) == 1);
}

TEST_CASE("store: open allocates consecutive ids and keeps names exactly", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  for (AccountId want = 1; want <= 5; ++want) CHECK(MustOpen(*s, 100) == want);
  auto r = s->Commit(Event{{OpenOp("Mary Ann", "O'Brien, Jr. \"Ziggy\"", 0)}, ""});
  REQUIRE(r.ok());
  auto a = s->Get(r->record.ops[0].id);
  REQUIRE(a.ok());
  CHECK(a->last == "O'Brien, Jr. \"Ziggy\"");
  CHECK(a->version == 1);
  CHECK(a->last_txn == r->record.txn);
}

TEST_CASE("store: reserved ids are never allocated, across a restart and a checkpoint", "[store]") {
  TempDir dir;
  {
    auto s = OpenStore(dir);
    CHECK(MustOpen(*s, 100) == 1);
    auto txn = s->ReserveIds(9);
    REQUIRE(txn.ok());
    CHECK(*txn != 0);
    auto again = s->ReserveIds(5);  // below what is used: nothing to commit
    REQUIRE(again.ok());
    CHECK(*again == 0);
    CHECK(MustOpen(*s, 100) == 10);
    CHECK(!s->ReserveIds(0).ok());
    REQUIRE(s->ReserveIds(15).ok());
  }
  // A reboot: the shared state is rebuilt from the journal alone.
  std::filesystem::remove(dir / "data/journal/state");
  {
    auto s = OpenStore(dir);
    CHECK(MustOpen(*s, 100) == 16);
    REQUIRE(s->ReserveIds(20).ok());
    REQUIRE(s->Checkpoint(/*wait=*/true).ok());
  }
  // After a checkpoint the reservation lives on in CHECKPOINT's max_id.
  std::filesystem::remove(dir / "data/journal/state");
  auto s = OpenStore(dir);
  CHECK(MustOpen(*s, 100) == 21);
}

TEST_CASE("store: each rule refuses and changes nothing", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 1000);
  AccountId b = MustOpen(*s, 0);
  struct Case {
    Op op;
    Code code;
  };
  Op close_a;
  close_a.kind = OpKind::kClose;
  close_a.id = a;
  std::vector<Case> cases = {
      {Money(OpKind::kWithdraw, a, 1001), Code::kInsufficientFunds},
      {Money(OpKind::kTransfer, a, 1001, b), Code::kInsufficientFunds},
      {Money(OpKind::kTransfer, a, 1, a), Code::kInvalidArgument},
      {Money(OpKind::kDeposit, 99, 1), Code::kNotFound},
      {Money(OpKind::kTransfer, a, 1, 99), Code::kNotFound},
      {Money(OpKind::kDeposit, a, 0), Code::kInvalidArgument},
      {Money(OpKind::kDeposit, a, kMaxCents), Code::kLimit},
      {close_a, Code::kRuleFailed},
  };
  for (const Case& c : cases) {
    auto r = s->Commit(Event{{c.op}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
    CHECK(Balance(*s, a) == 1000);
    CHECK(Balance(*s, b) == 0);
  }
  CHECK(s->Get(a)->version == 1);
}

TEST_CASE("store: a closed account refuses everything but reads", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 0);
  AccountId b = MustOpen(*s, 500);
  Op close;
  close.kind = OpKind::kClose;
  close.id = a;
  REQUIRE(s->Commit(Event{{close}, ""}).ok());
  for (const Op& op :
       {Money(OpKind::kDeposit, a, 1), Money(OpKind::kWithdraw, a, 1),
        Money(OpKind::kTransfer, b, 1, a), Money(OpKind::kTransfer, a, 1, b), close}) {
    auto r = s->Commit(Event{{op}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kClosed);
  }
  CHECK(s->Get(a)->closed);
  CHECK(s->History(a, 1, 20).ok());
}

TEST_CASE("store: a multi-op event is all or nothing", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 1000);
  AccountId b = MustOpen(*s, 0);
  // The third op fails: the first two must not apply.
  auto bad = s->Commit(Event{{Money(OpKind::kDeposit, a, 50), Money(OpKind::kTransfer, a, 500, b),
                              Money(OpKind::kWithdraw, b, 501)},
                             ""});
  REQUIRE_FALSE(bad.ok());
  CHECK(Balance(*s, a) == 1000);
  CHECK(Balance(*s, b) == 0);
  auto good = s->Commit(Event{{Money(OpKind::kDeposit, a, 50), Money(OpKind::kTransfer, a, 500, b),
                               Money(OpKind::kWithdraw, b, 500)},
                              ""});
  REQUIRE(good.ok());
  CHECK(Balance(*s, a) == 550);
  CHECK(Balance(*s, b) == 0);
  // One record, one version step per account.
  CHECK(s->Get(a)->version == 2);
  CHECK(s->Get(a)->last_txn == good->record.txn);
}

TEST_CASE("store: a group commits each event on its own and chains history", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 100);
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) events.push_back(Event{{Money(OpKind::kWithdraw, a, 30)}, ""});
  auto r = s->CommitGroup(events);
  REQUIRE(r.ok());
  int ok = 0;
  for (auto& e : *r) ok += e.status.ok();
  CHECK(ok == 3);  // 100 -> 70 -> 40 -> 10, then two refusals
  CHECK((*r)[3].status.code() == Code::kInsufficientFunds);
  CHECK(Balance(*s, a) == 10);
  auto h = s->History(a, 1, 20);
  REQUIRE(h.ok());
  REQUIRE(h->total == 4);
  std::vector<Cents> after;
  for (auto& e : h->items) after.push_back(e.balance_after);
  CHECK(after == std::vector<Cents>{10, 40, 70, 100});
}

TEST_CASE("store: an idempotency key replays the original and refuses another request", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 0);
  auto first = s->Commit(Event{{Money(OpKind::kDeposit, a, 700)}, "k-1"});
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  auto again = s->Commit(Event{{Money(OpKind::kDeposit, a, 700)}, "k-1"});
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->record.txn == first->record.txn);
  CHECK(Balance(*s, a) == 700);
  auto other = s->Commit(Event{{Money(OpKind::kDeposit, a, 701)}, "k-1"});
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().code() == Code::kKeyReused);
  CHECK(Balance(*s, a) == 700);
}

// Keys whose CRC-32 falls in one key slot: they share the slot's lock and its chain.
std::vector<std::string> KeysOfOneSlot(size_t n) {
  std::map<std::uint64_t, std::vector<std::string>> by_slot;
  for (int i = 0;; ++i) {
    std::string k = "k" + std::to_string(i);
    auto& same = by_slot[KeySlot(k).offset];
    same.push_back(k);
    if (same.size() == n) return same;
  }
}

void ZeroIndexSlot(const TempDir& dir, const std::string& key) {
  std::fstream f(dir / "data/keys/index", std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekp(static_cast<std::streamoff>(KeySlot(key).offset * 8));
  f.write("\0\0\0\0\0\0\0\0", 8);
}

TEST_CASE("store: keys that share a slot each find their own record through the journal",
          "[store][keys]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 0);
  std::vector<std::string> keys = KeysOfOneSlot(3);
  std::vector<std::uint64_t> txns;
  // One key alone, then two in one group: the group chains its second to its first.
  auto one = s->Commit(Event{{Money(OpKind::kDeposit, a, 1)}, keys[0]});
  REQUIRE(one.ok());
  txns.push_back(one->record.txn);
  auto group = s->CommitGroup({Event{{Money(OpKind::kDeposit, a, 2)}, keys[1]},
                               Event{{Money(OpKind::kDeposit, a, 3)}, keys[2]}});
  REQUIRE(group.ok());
  for (const EventResult& r : *group) txns.push_back(r.record.txn);
  for (int reopen = 0; reopen < 2; ++reopen) {
    for (size_t i = 0; i < keys.size(); ++i) {
      CAPTURE(reopen, i);
      auto again =
          s->Commit(Event{{Money(OpKind::kDeposit, a, static_cast<Cents>(i + 1))}, keys[i]});
      REQUIRE(again.ok());
      CHECK(again->replayed);
      CHECK(again->record.txn == txns[i]);
      auto other = s->Commit(Event{{Money(OpKind::kDeposit, a, 9)}, keys[i]});
      CHECK(other.status().code() == Code::kKeyReused);
    }
    s.reset();
    s = OpenStore(dir);
  }
  CHECK(Balance(*s, a) == 6);
}

TEST_CASE("store: a key whose index update was lost is found again by the slot's repair",
          "[store][keys]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 0);
  auto first = s->Commit(Event{{Money(OpKind::kDeposit, a, 700)}, "k-lost"});
  REQUIRE(first.ok());
  s.reset();
  // What a writer killed between its journal sync and its index update leaves: the slot
  // flagged, the index not pointing at the record.
  ZeroIndexSlot(dir, "k-lost");
  {
    auto locks = LockTable::Open(DefaultEnv(), Layout(dir / "data"), StorageMode{}, false);
    REQUIRE(locks.ok());
    REQUIRE((*locks)->SetNeedsRepair(KeySlot("k-lost"), true).ok());
  }
  s = OpenStore(dir);
  auto again = s->Commit(Event{{Money(OpKind::kDeposit, a, 700)}, "k-lost"});
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->record.txn == first->record.txn);
  CHECK(Balance(*s, a) == 700);
}

TEST_CASE("store: a key file written by an earlier build still replays its record",
          "[store][keys]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 0);
  auto first = s->Commit(Event{{Money(OpKind::kDeposit, a, 700)}, "k-old"});
  REQUIRE(first.ok());
  s.reset();
  // The earlier build kept the record in keys/XX/KEY.json and had no keys/index.
  Layout layout(dir / "data");
  std::filesystem::create_directories(layout.KeyDir("k-old"));
  Record old = first->record;
  old.key_prev = 0;
  {
    std::ofstream f(layout.KeyPath("k-old"));
    f << EncodeRecord(old);
  }
  std::filesystem::remove(layout.KeyIndexPath());
  // ... and its records come before the upgrade's first chained txn: a store of this
  // format with records past it has a keys/index from its start (KeyIndex::set_required).
  REQUIRE(WriteStoreFormat(DefaultEnv(), layout, first->record.txn + 1).ok());
  s = OpenStore(dir);
  auto again = s->Commit(Event{{Money(OpKind::kDeposit, a, 700)}, "k-old"});
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->record.txn == first->record.txn);
  CHECK(Balance(*s, a) == 700);
}

// The spare a commit writes holds the version before last of some account: it is cut to
// the new version's length only when it was longer. Balances that swing between a long
// and a short text make every case happen (longer, shorter, the same); after each commit
// the file is exactly its header and one row (no old bytes past the end), and a store
// opened anew proves it against the journal.
TEST_CASE("store: an account file whose text gets shorter or longer holds no old bytes",
          "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 1000000000);  // 10,000,000.00
  AccountId b = MustOpen(*s, 100);
  Layout layout(dir / "data");
  const Cents swings[] = {999999900, 999999900, 999999999, 99999, 99990, 999999990};
  for (size_t i = 0; i < std::size(swings); ++i) {
    Cents amount = swings[i];
    OpKind kind = i % 2 == 0 ? OpKind::kWithdraw : OpKind::kDeposit;
    REQUIRE(s->Commit(Event{{Money(kind, a, amount)}, ""}).ok());
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, b, 1)}, ""}).ok());  // the spare moves on
    for (AccountId id : {a, b}) {
      std::string text = testing::Slurp(layout.AccountPath(id));
      INFO("commit " << i << ", account " << id << ": " << text);
      CHECK(std::count(text.begin(), text.end(), '\n') == 2);
      CHECK(text.back() == '\n');
    }
  }
  Cents want = Balance(*s, a);
  s.reset();
  s = OpenStore(dir);
  CHECK(Balance(*s, a) == want);
}

TEST_CASE("store: list pages by id and search ignores case", "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  for (int i = 0; i < 45; ++i) {
    REQUIRE(s->Commit(Event{{OpenOp(i % 2 ? "Grace" : "Alan", i % 3 ? "Hopper" : "Turing", i)}, ""})
                .ok());
  }
  auto p3 = s->List(3, 20);
  REQUIRE(p3.ok());
  CHECK(p3->pages == 3);
  CHECK(p3->total == 45);
  REQUIRE(p3->items.size() == 5);
  CHECK(p3->items.front().id == 41);
  CHECK(s->List(4, 20)->items.empty());
  auto found = s->Search("tURiNg", 1, 100);
  REQUIRE(found.ok());
  CHECK(found->total == 15);
  for (auto& a : found->items) CHECK(a.last == "Turing");
}

TEST_CASE("store: a repair flag left by a dead writer is repaired before the account is read",
          "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 100);
  std::string path = Impl(*s).layout().AccountPath(a);
  auto before = s->env()->ReadFile(path);
  REQUIRE(before.ok());
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 5)}, ""}).ok());
  // A writer that committed to the journal and died before its file was replaced: the
  // old file is back in place and the account's flag is still set; its lock, released by
  // the kernel when it died, is free.
  REQUIRE(WriteFileDurably(s->env(), path, *before).ok());
  REQUIRE(Impl(*s).locks().SetNeedsRepair(AccountSlot(a), true).ok());
  CHECK(Balance(*s, a) == 105);
  auto flag = Impl(*s).locks().NeedsRepair(AccountSlot(a));
  REQUIRE(flag.ok());
  CHECK_FALSE(*flag);
}

TEST_CASE("store: a flag whose writer is alive is left to it; the file read as it stands",
          "[store]") {
  TempDir dir;
  auto s = OpenStore(dir);
  AccountId a = MustOpen(*s, 100);
  // Another session (its own lock table: another open file description) holds the lock
  // mid-commit, flag set.
  auto other = LockTable::Open(PosixEnv(), Impl(*s).layout(), StorageMode{}, false);
  REQUIRE(other.ok());
  LockFile held(other->get(), AccountSlot(a), Impl(*s).layout().AccountLock(a));
  REQUIRE(held.TryHold().ok());
  REQUIRE(held.MarkInFlight().ok());
  CHECK(Balance(*s, a) == 100);
  auto flag = Impl(*s).locks().NeedsRepair(AccountSlot(a));
  REQUIRE(flag.ok());
  CHECK(*flag);
}

}  // namespace
}  // namespace drovebank

namespace drovebank {
namespace {

TEST_CASE("store: a history walk holds one journal segment at a time, however many it spans",
          "[store][reports]") {
  TempDir dir;
  StoreOptions o;
  o.data_dir = dir / "data";
  o.segment_bytes = 2048;  // a few records a segment
  auto opened = Store::Open(o);
  REQUIRE(opened.ok());
  auto& s = *opened;
  AccountId a = MustOpen(*s, 0);
  for (int i = 1; i <= 60; ++i) {
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, i)}, ""}).ok());
  }
  auto segs = Impl(*s).journal().Segments();
  REQUIRE(segs.ok());
  REQUIRE(segs->size() > 5);
  size_t most = 0, seen = 0;
  REQUIRE(s->ForEachChange(a, [&](const HistoryEntry&) -> Result<bool> {
               most = std::max(most, Impl(*s).journal().cached_segments());
               ++seen;
               return true;
             }).ok());
  CHECK(seen == 61);
  CHECK(most == 1);
  // Outside a walk the cache keeps what it reads (key chains look up the same ones).
  CHECK(Impl(*s).journal().max_cached_segments() == 0);
  for (std::uint64_t t = 1; t <= 61; ++t) REQUIRE(s->FindTxn(t).ok());
  CHECK(Impl(*s).journal().cached_segments() > 5);
}

TEST_CASE("store: segments rotate, checkpoints advance, history spans segments", "[store]") {
  TempDir dir;
  StoreOptions o;
  o.data_dir = dir / "data";
  o.segment_bytes = 2048;  // a few records a segment
  auto opened = Store::Open(o);
  REQUIRE(opened.ok());
  auto& s = *opened;
  AccountId a = MustOpen(*s, 0);
  for (int i = 1; i <= 60; ++i) {
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, i)}, ""}).ok());
  }
  auto segs = Impl(*s).journal().Segments();
  REQUIRE(segs.ok());
  CHECK(segs->size() > 5);
  auto ckpt = Impl(*s).journal().ReadCheckpoint();
  REQUIRE(ckpt.ok());
  CHECK(ckpt->last_txn > 1);
  CHECK(ckpt->account_count == 1);
  CHECK(ckpt->max_id == a);
  auto h = s->History(a, 1, 100);
  REQUIRE(h.ok());
  REQUIRE(h->total == 61);
  for (int i = 0; i < 60; ++i) CHECK(h->items[static_cast<size_t>(i)].amount == 60 - i);
  for (std::uint64_t t = 1; t <= 61; ++t) {
    auto r = s->FindTxn(t);
    REQUIRE(r.ok());
    CHECK(r->txn == t);
  }
  CHECK(s->FindTxn(62).status().code() == Code::kNotFound);
  CHECK(s->Checkpoint(true).ok());
  CHECK(Impl(*s).RecordsSinceCheckpoint()->empty());
}

TEST_CASE("store: files proven right after a segment rotation find their records in the one "
          "before it, when a look-up cached that segment while it was active",
          "[store][journal]") {
  // What scripts/bench's batch of keyed deposits on 1,000 accounts hit: a key chain's
  // look-up (FindKeyed -> FindTxn) cached the active segment; records went on into it up
  // to the rotation; after it, the proof of an account file found the segment cached,
  // took the stale copy as whole, said the file's txn was not in the journal and marked
  // the store as needing recovery.
  TempDir dir;
  StoreOptions o;
  o.data_dir = dir / "data";
  o.lock_wait.timeout_seconds = 1;
  // About 100 records a segment, 25 a group: most groups go into a segment that a look-up
  // after the group before cached, and a rotation follows one of them.
  o.segment_bytes = 32 << 10;
  auto opened = Store::Open(o);
  REQUIRE(opened.ok());
  auto& s = *opened;
  constexpr AccountId kAccounts = 300;
  constexpr AccountId kGroup = 25;
  std::vector<Event> opens;
  for (AccountId i = 0; i < kAccounts; ++i) opens.push_back(Event{{OpenOp("F", "L", 1000)}, ""});
  auto made = s->CommitGroup(std::move(opens));
  REQUIRE(made.ok());
  std::map<AccountId, Cents> want;
  for (AccountId id = 1; id <= kAccounts; ++id) want[id] = 1000;
  size_t rotations_seen = 0;
  for (int round = 0; round < 3; ++round) {
    for (AccountId from = 1; from <= kAccounts; from += kGroup) {
      auto before = Impl(*s).journal().Segments();
      REQUIRE(before.ok());
      std::vector<Event> group;
      for (AccountId id = from; id < from + kGroup; ++id) {
        Cents amount = round * 7 + static_cast<Cents>(id % 13) + 1;
        want[id] += amount;
        group.push_back(Event{{Money(OpKind::kDeposit, id, amount)},
                              "r" + std::to_string(round) + "-" + std::to_string(id)});
      }
      auto r = s->CommitGroup(std::move(group));
      REQUIRE(r.ok());
      for (const EventResult& e : *r) REQUIRE(e.status.ok());
      auto after = Impl(*s).journal().Segments();
      REQUIRE(after.ok());
      if (after->size() > before->size()) ++rotations_seen;
      // Every file this group wrote, proven against the journal (the next group's reads
      // and a reader's Get prove the same way), then its first record looked up: what a
      // key chain's look-up does, caching the (active) segment it is in.
      for (AccountId id = from; id < from + kGroup; ++id) {
        CAPTURE(round, id);
        auto a = s->Get(id);
        INFO(a.status().message());
        REQUIRE(a.ok());
        CHECK(a->balance == want[id]);
      }
      REQUIRE(s->FindTxn(r->front().record.txn).ok());
    }
  }
  CHECK(rotations_seen > 5);
  CHECK_FALSE(std::filesystem::exists(dir / "data/NEEDS_RECOVERY"));
  for (AccountId id = 1; id <= kAccounts; ++id) {
    CAPTURE(id);
    auto a = s->Get(id);
    REQUIRE(a.ok());
    CHECK(a->balance == want[id]);
  }
}

// PosixEnv with every path WarmForReplace is given recorded.
class WarmRecordingEnv final : public EnvWrapper {
 public:
  WarmRecordingEnv() : EnvWrapper(PosixEnv()) {}
  void WarmForReplace(const std::vector<std::string>& paths) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      warmed_.insert(warmed_.end(), paths.begin(), paths.end());
    }
    target()->WarmForReplace(paths);
  }

  std::vector<std::string> TakeWarmed() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(warmed_, {});
  }

 private:
  std::mutex mu_;
  std::vector<std::string> warmed_;
};

std::unique_ptr<Store> OpenWarmStore(const TempDir& dir, Env* env, std::uint64_t warm_from) {
  StoreOptions o;
  o.data_dir = dir / "data";
  o.env = env;
  o.lock_wait.timeout_seconds = 1;
  o.warm_from_accounts = warm_from;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

TEST_CASE("store: a commit warms the files it will replace only in a store big enough", "[store]") {
  TempDir dir;
  WarmRecordingEnv env;
  Layout layout(dir / "data");
  {
    // 3 accounts, below a threshold of 4: nothing is warmed.
    auto s = OpenWarmStore(dir, &env, 4);
    for (int i = 0; i < 3; ++i) MustOpen(*s, 1000);
    REQUIRE(s->Commit(Event{{Money(OpKind::kTransfer, 1, 100, 2)}, ""}).ok());
    CHECK(env.TakeWarmed().empty());
  }
  // From the threshold on, each commit warms exactly the accounts it replaces, and the
  // result is the same as without.
  auto s = OpenWarmStore(dir, &env, 3);
  REQUIRE(s->Commit(Event{{Money(OpKind::kTransfer, 2, 50, 3)}, ""}).ok());
  std::vector<std::string> warmed = env.TakeWarmed();
  std::sort(warmed.begin(), warmed.end());
  CHECK(warmed == std::vector<std::string>{layout.AccountPath(2), layout.AccountPath(3)});
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, 1, 7)}, ""}).ok());
  CHECK(env.TakeWarmed() == std::vector<std::string>{layout.AccountPath(1)});
  CHECK(Balance(*s, 1) == 907);
  CHECK(Balance(*s, 2) == 1050);
  CHECK(Balance(*s, 3) == 1050);
  // A refused event warms too (the check needs the locks first) and changes nothing.
  auto refused = s->Commit(Event{{Money(OpKind::kWithdraw, 3, 5000)}, ""});
  CHECK(refused.status().code() == Code::kInsufficientFunds);
  CHECK(env.TakeWarmed() == std::vector<std::string>{layout.AccountPath(3)});
  CHECK(Balance(*s, 3) == 1050);
}

}  // namespace
}  // namespace drovebank

namespace drovebank {
namespace {

// Counts the calls that allocate or free an inode or a name: creates (Open with O_CREAT
// of a name that did not exist), renames onto a new name, unlinks, directory changes.
class InodeCountingEnv final : public EnvWrapper {
 public:
  InodeCountingEnv() : EnvWrapper(PosixEnv()) {}
  Result<int> Open(const std::string& p, int f, unsigned m) override {
    if ((f & O_CREAT) != 0 && !target()->Stat(p).ok()) ++creates;
    return target()->Open(p, f, m);
  }
  Status Rename(const std::string& a, const std::string& b) override {
    ++renames;
    return target()->Rename(a, b);
  }
  Result<bool> ReplaceFile(const std::string& a, const std::string& b) override {
    auto kept = target()->ReplaceFile(a, b);
    if (kept.ok() && !*kept) ++renames;  // a plain rename frees the replaced inode
    if (kept.ok() && *kept) ++exchanges;
    return kept;
  }
  Status Unlink(const std::string& p) override {
    ++unlinks;
    return target()->Unlink(p);
  }
  Status MakeDir(const std::string& p, unsigned m) override {
    if (!target()->Stat(p).ok()) ++creates;
    return target()->MakeDir(p, m);
  }
  Status RemoveDir(const std::string& p) override {
    ++unlinks;
    return target()->RemoveDir(p);
  }
  int creates = 0, renames = 0, unlinks = 0, exchanges = 0;
};

TEST_CASE("store: a steady-state deposit, transfer or keyed deposit allocates and frees no inode",
          "[store]") {
  TempDir dir;
  InodeCountingEnv env;
  auto s = testing::MustOpenStore(dir / "data", &env);
  AccountId a = MustOpen(*s, 100);
  AccountId b = MustOpen(*s, 100);
  // The first write after an open makes this process's spare once, the first keyed one
  // keys/index.
  REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 1)}, "key-first"}).ok());
  for (int round = 0; round < 3; ++round) {
    env.creates = env.renames = env.unlinks = env.exchanges = 0;
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 5)}, ""}).ok());
    CHECK(env.creates == 0);
    CHECK(env.renames == 0);
    CHECK(env.unlinks == 0);
    CHECK(env.exchanges == 1);
    env.creates = env.renames = env.unlinks = env.exchanges = 0;
    REQUIRE(s->Commit(Event{{Money(OpKind::kTransfer, a, 2, b)}, ""}).ok());
    CHECK(env.creates == 0);
    CHECK(env.renames == 0);
    CHECK(env.unlinks == 0);
    CHECK(env.exchanges == 2);
    // A keyed commit: the key is found, and kept, through the journal and keys/index.
    env.creates = env.renames = env.unlinks = env.exchanges = 0;
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, a, 1)}, "key-" + std::to_string(round)})
                .ok());
    CHECK(env.creates == 0);
    CHECK(env.renames == 0);
    CHECK(env.unlinks == 0);
    CHECK(env.exchanges == 1);
  }
  CHECK(Balance(*s, a) == 100 + 1 + 3 * 5 - 3 * 2 + 3);
}

}  // namespace
}  // namespace drovebank
