// A session's own states (StoreImpl::own_states_, CommitProtocol::ReadAccounts): a store
// that commits to an account again, with no other record in the journal since its own
// last, reads neither the account's file nor its flag; any other writer's record in
// between, live or dead, makes it read (and repair) first.
#include <fcntl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "drovebank/store.h"
#include "drovebank/env_wrapper.h"
#include "store_ops.h"
#include "store/layout.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::TempDir;

// Counts the reads of each account file and of the account lock table (the flags).
class ReadCountingEnv final : public EnvWrapper {
 public:
  ReadCountingEnv() : EnvWrapper(PosixEnv()) {}
  Result<int> Open(const std::string& p, int f, unsigned m) override {
    auto fd = target()->Open(p, f, m);
    std::lock_guard<std::mutex> g(mu_);
    if (fd.ok()) paths_[*fd] = p;
    if (fd.ok() && p.size() > 4 && p.substr(p.size() - 4) == ".csv" && (f & O_ACCMODE) != O_WRONLY) {
      ++file_reads[p];
    }
    return fd;
  }
  Status Close(int fd) override {
    std::lock_guard<std::mutex> g(mu_);
    paths_.erase(fd);
    return target()->Close(fd);
  }
  Result<std::string> ReadFile(const std::string& p, size_t at_most = kAnySize) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      ++file_reads[p];
    }
    return target()->ReadFile(p, at_most);
  }
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t o) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = paths_.find(fd);
      if (it != paths_.end() && it->second.find("locks/accounts") != std::string::npos) {
        ++flag_reads;
      }
    }
    return target()->PRead(fd, buf, n, o);
  }
  void Reset() {
    std::lock_guard<std::mutex> g(mu_);
    file_reads.clear();
    flag_reads = 0;
  }
  int ReadsOf(const std::string& p) {
    std::lock_guard<std::mutex> g(mu_);
    return file_reads[p];
  }

  std::map<std::string, int> file_reads;
  int flag_reads = 0;

 private:
  std::mutex mu_;
  std::map<int, std::string> paths_;
};

std::unique_ptr<Store> OpenAt(const std::string& data, Env* env = nullptr) {
  StoreOptions o;
  o.data_dir = data;
  o.lock_wait.timeout_seconds = 10;
  if (env != nullptr) o.env = env;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

using testing::Money;
using testing::MustOpen;

// The balance as a store opened afresh reads it from the file.
Cents FileBalance(const std::string& data, AccountId id) {
  auto s = OpenAt(data);
  auto a = s->Get(id);
  REQUIRE(a.ok());
  return a->balance;
}

Code Run(Store& s, const Op& op, const std::string& key = "") {
  auto r = s.Commit(Event{{op}, key});
  return r.ok() ? Code::kOk : r.status().code();
}

TEST_CASE("own states: a session's third and later commits to its accounts read neither file "
          "nor flag",
          "[store]") {
  TempDir dir;
  std::string data = dir / "data";
  ReadCountingEnv env;
  auto s = OpenAt(data, &env);
  AccountId a = MustOpen(*s, 100);
  AccountId b = MustOpen(*s, 100);
  Layout layout(data);
  // The first commits read: the journal had records this store's appends did not make.
  REQUIRE(Run(*s, Money(OpKind::kTransfer, a, 1, b)) == Code::kOk);
  REQUIRE(Run(*s, Money(OpKind::kTransfer, a, 1, b)) == Code::kOk);
  env.Reset();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(Run(*s, Money(OpKind::kDeposit, a, 10)) == Code::kOk);
    REQUIRE(Run(*s, Money(OpKind::kTransfer, a, 3, b)) == Code::kOk);
    REQUIRE(Run(*s, Money(OpKind::kDeposit, b, 1), "key-" + std::to_string(i)) == Code::kOk);
  }
  CHECK(env.ReadsOf(layout.AccountPath(a)) == 0);
  CHECK(env.ReadsOf(layout.AccountPath(b)) == 0);
  CHECK(env.flag_reads == 0);
  CHECK(FileBalance(data, a) == 100 - 2 + 5 * (10 - 3));
  CHECK(FileBalance(data, b) == 100 + 2 + 5 * (3 + 1));
  // A refusal is judged on the file, and changes nothing.
  env.Reset();
  CHECK(Run(*s, Money(OpKind::kWithdraw, a, 1000000)) == Code::kInsufficientFunds);
  CHECK(env.ReadsOf(layout.AccountPath(a)) >= 1);
  CHECK(FileBalance(data, a) == 100 - 2 + 5 * (10 - 3));
}

// What another writer does between two of the session's commits, and the session's next.
struct Interloper {
  const char* name;
  OpKind kind;
  int from;  // 0: account a, 1: account b
  int to;
  Cents amount;
};

TEST_CASE("own states: another writer's commit between two of a session's is never built on",
          "[store]") {
  const std::vector<Interloper> interlopers = {
      {"deposit a", OpKind::kDeposit, 0, 0, 1000},
      {"withdraw a to 0", OpKind::kWithdraw, 0, 0, 102},
      {"transfer a to b", OpKind::kTransfer, 0, 1, 60},
      {"transfer b to a", OpKind::kTransfer, 1, 0, 60},
      {"deposit b", OpKind::kDeposit, 1, 1, 7},
      {"refused withdraw a", OpKind::kWithdraw, 0, 0, 99999},
  };
  const std::vector<Interloper> nexts = {
      {"deposit a", OpKind::kDeposit, 0, 0, 1},
      {"withdraw a 50", OpKind::kWithdraw, 0, 0, 50},
      {"withdraw a 150", OpKind::kWithdraw, 0, 0, 150},
      {"transfer a to b 50", OpKind::kTransfer, 0, 1, 50},
      // c has no own state: its working copy, read from the file, must not be moved twice
      // when the events are evaluated again.
      {"transfer a to c 50", OpKind::kTransfer, 0, 2, 50},
      {"transfer c to a 50", OpKind::kTransfer, 2, 0, 50},
  };
  for (const Interloper& w : interlopers) {
    for (const Interloper& n : nexts) {
      DYNAMIC_SECTION(w.name << ", then the session: " << n.name) {
        TempDir dir;
        std::string data = dir / "data";
        auto s = OpenAt(data);
        AccountId ids[3] = {MustOpen(*s, 100), MustOpen(*s, 100), MustOpen(*OpenAt(data), 100)};
        std::map<AccountId, Cents> model = {{ids[0], 100}, {ids[1], 100}, {ids[2], 100}};
        // The model: the rules that matter here (no overdraft).
        auto apply = [&](const Interloper& op) {
          AccountId from = ids[op.from], to = ids[op.to];
          if (op.kind == OpKind::kDeposit) {
            model[from] += op.amount;
            return Code::kOk;
          }
          if (model[from] < op.amount) return Code::kInsufficientFunds;
          model[from] -= op.amount;
          if (op.kind == OpKind::kTransfer) model[to] += op.amount;
          return Code::kOk;
        };
        auto as_op = [&](const Interloper& op) {
          return Money(op.kind, ids[op.from], op.amount,
                       op.kind == OpKind::kTransfer ? ids[op.to] : 0);
        };
        for (int i = 0; i < 2; ++i) {  // the session's own states are current now
          REQUIRE(Run(*s, Money(OpKind::kDeposit, ids[0], 1)) == Code::kOk);
          model[ids[0]] += 1;
        }
        {
          auto other = OpenAt(data);
          CHECK(Run(*other, as_op(w)) == apply(w));
        }
        CHECK(Run(*s, as_op(n)) == apply(n));
        CHECK(FileBalance(data, ids[0]) == model[ids[0]]);
        CHECK(FileBalance(data, ids[1]) == model[ids[1]]);
        CHECK(FileBalance(data, ids[2]) == model[ids[2]]);
        // And the session goes on from there, its own states kept again.
        for (int i = 0; i < 3; ++i) {
          REQUIRE(Run(*s, Money(OpKind::kDeposit, ids[0], 1)) == Code::kOk);
          model[ids[0]] += 1;
        }
        CHECK(FileBalance(data, ids[0]) == model[ids[0]]);
        CHECK(testing::Recover(data, {"--check"}).exit_code == 0);
      }
    }
  }
}

// A copy of an account file taken between two of a session's commits (a backup made while
// a shell session works, one file restored from it later) is newer than the session's first
// commit on the account. keys/index's entry must name the session's newest install, or the
// copy proves against its own record and another process builds on it: the money moved
// since the copy is lost, exit 0 (so it was before 2026-12-07, when a session on its own
// states left the entry at its first commit). Swept: the copy taken after each of the
// session's commits, one event a commit and groups of three.
TEST_CASE("set back: a copy of an account file taken while a session commits to it on its own "
          "states is caught, never built on",
          "[store][integrity]") {
  constexpr int kCommits = 6;
  for (int group : {1, 3}) {
    for (int copied_after = 1; copied_after < kCommits; ++copied_after) {
      DYNAMIC_SECTION("groups of " << group << ", copied after commit " << copied_after) {
        TempDir dir;
        std::string data = dir / "data";
        auto s = OpenAt(data);
        AccountId a = MustOpen(*s, 10000);
        AccountId b = MustOpen(*s, 10000);
        const std::string file = Layout(data).AccountPath(a);
        Cents model = 10000;
        std::string copy;
        for (int c = 1; c <= kCommits; ++c) {
          std::vector<Event> events;
          for (int e = 0; e < group; ++e) {
            events.push_back(Event{{Money(OpKind::kTransfer, a, 10, b)}, ""});
            model -= 10;
          }
          auto done = s->CommitGroup(std::move(events));
          REQUIRE(done.ok());
          for (const EventResult& r : *done) REQUIRE(r.status.ok());
          if (c == copied_after) copy = testing::Slurp(file);
        }
        const std::string newest = testing::Slurp(file);
        REQUIRE(copy != newest);
        testing::Spit(file, copy);
        // Another process: refused, the journal untouched; a read is refused as well.
        const std::string segment = testing::Slurp(Layout(data).journal() + "/0000000000000001.log");
        {
          auto other = OpenAt(data);
          auto spent = other->Commit(Event{{Money(OpKind::kWithdraw, a, 1)}, ""});
          INFO(spent.status().message());
          CHECK(spent.status().code() == Code::kCorruption);
          CHECK(spent.status().message().find("set back") != std::string::npos);
          CHECK(other->Get(a).status().code() == Code::kCorruption);
        }
        CHECK(testing::Slurp(Layout(data).journal() + "/0000000000000001.log") == segment);
        s.reset();  // the session ends; recover rebuilds the file from the journal
        REQUIRE(testing::Recover(data).exit_code == 0);
        CHECK(testing::Slurp(file) == newest);
        CHECK(FileBalance(data, a) == model);
        CHECK(testing::Recover(data, {"--check"}).exit_code == 0);
      }
    }
  }
}

TEST_CASE("own states: a writer killed at any step between two of a session's commits is "
          "repaired or settled before the session builds on the account",
          "[store][e2e]") {
  const std::vector<std::string> steps = {"locks_held",          "flags_set",
                                          "before_journal_write", "before_journal_publish",
                                          "after_journal_write",  "after_journal_sync",
                                          "after_temp_write",     "after_rename"};
  for (const std::string& step : steps) {
    for (const char* kind : {"deposit", "withdraw"}) {
      DYNAMIC_SECTION(kind << " killed at " << step) {
        TempDir dir;
        std::string data = dir / "data";
        auto s = OpenAt(data);
        AccountId a = MustOpen(*s, 100);
        for (int i = 0; i < 2; ++i) REQUIRE(Run(*s, Money(OpKind::kDeposit, a, 1)) == Code::kOk);
        auto killed = testing::Drovebank(
            data, {kind, std::to_string(a), "0.30"},
            {{"DROVEBANK_FAULT", std::string(kind) + ":" + step + ":crash"}});
        REQUIRE(killed.exit_code == 86);
        // The session's next commit, then its next with its own states again.
        REQUIRE(Run(*s, Money(OpKind::kDeposit, a, 5)) == Code::kOk);
        REQUIRE(Run(*s, Money(OpKind::kDeposit, a, 5)) == Code::kOk);
        REQUIRE(Run(*s, Money(OpKind::kDeposit, a, 5)) == Code::kOk);
        s.reset();
        REQUIRE(testing::Recover(data).exit_code == 0);
        // The killed change is whole or absent; which one, the journal decides: a record
        // that reached the segment is adopted by the next append.
        Cents after = FileBalance(data, a);
        bool reached = step != "locks_held" && step != "flags_set" &&
                       step != "before_journal_write";
        Cents killed_effect = std::string(kind) == "deposit" ? 30 : -30;
        CHECK(after == 102 + 15 + (reached ? killed_effect : 0));
        CHECK(testing::Recover(data, {"--check"}).exit_code == 0);
      }
    }
  }
}

// Four stores, as four sessions, each in bursts on three accounts: own states are kept in
// a burst and refused when another's record came between. Every acknowledged change must
// be in the files exactly once.
TEST_CASE("own states: four sessions in bursts on three accounts lose and invent nothing",
          "[store]") {
  TempDir dir;
  std::string data = dir / "data";
  std::vector<AccountId> ids;
  {
    auto s = OpenAt(data);
    for (int i = 0; i < 3; ++i) ids.push_back(MustOpen(*s, 1000));
  }
  std::mutex mu;
  std::map<AccountId, Cents> acked;  // account -> net acknowledged change
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto s = OpenAt(data);
      std::mt19937 rng(1234 + t);
      for (int burst = 0; burst < 12; ++burst) {
        for (int k = 0; k < 6; ++k) {
          AccountId from = ids[rng() % 3], to = ids[rng() % 3];
          Cents amount = 1 + rng() % 400;
          int kind = rng() % 3;
          if (to == from) to = ids[(std::find(ids.begin(), ids.end(), from) - ids.begin() + 1) % 3];
          Op op = kind == 0   ? Money(OpKind::kDeposit, from, amount)
                  : kind == 1 ? Money(OpKind::kWithdraw, from, amount)
                              : Money(OpKind::kTransfer, from, amount, to);
          auto r = s->Commit(Event{{op}, ""});
          if (!r.ok()) {
            CHECK(r.status().code() == Code::kInsufficientFunds);
            continue;
          }
          std::lock_guard<std::mutex> g(mu);
          if (kind == 0) acked[op.id] += amount;
          if (kind == 1) acked[op.id] -= amount;
          if (kind == 2) {
            acked[op.id] -= amount;
            acked[op.to] += amount;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 8));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (AccountId id : ids) CHECK(FileBalance(data, id) == 1000 + acked[id]);
  CHECK(testing::Recover(data, {"--check"}).exit_code == 0);
}

}  // namespace
}  // namespace drovebank
