// End-to-end: many real processes on one data directory, and crashes at the commit point.
#include <fmt/format.h>

#include <atomic>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "drovebank/money.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Drovebank;
using testing::RunResult;
using testing::TempDir;

nlohmann::json Json(const RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

Cents BalanceOf(const std::string& dir, int id) {
  auto j = Json(Drovebank(dir, {"--json", "show", std::to_string(id)}));
  return *ParseAmount(j["balance"].get<std::string>());
}

TEST_CASE("concurrency: 8 processes x 200 deposits on one account give the exact balance",
          "[e2e][concurrency]") {
  TempDir d;
  std::string dir = d / "data";
  Json(Drovebank(dir, {"--json", "open", "Hot", "Account"}));
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 200; ++i) {
        // Amounts differ per worker so a lost or doubled update shows in the sum.
        auto r = Drovebank(dir, {"deposit", "1", fmt::format("{}.{:02}", w + 1, i % 100)});
        if (r.exit_code != 0) ++failures;
      }
    });
  }
  for (auto& t : workers) t.join();
  CHECK(failures == 0);
  Cents want = 0;
  for (int w = 0; w < 8; ++w) {
    for (int i = 0; i < 200; ++i) want += (w + 1) * 100 + i % 100;
  }
  CHECK(BalanceOf(dir, 1) == want);
  auto show = Json(Drovebank(dir, {"--json", "show", "1"}));
  CHECK(show["version"] == 1601);
}

TEST_CASE("concurrency: 8 processes doing random transfers among 10 accounts conserve money",
          "[e2e][concurrency]") {
  TempDir d;
  std::string dir = d / "data";
  // Small segments make rotations and checkpoints race with the transfers too.
  std::map<std::string, std::string> env;
  SECTION("default segments") {}
  SECTION("4 KiB segments") { env["DROVEBANK_SEGMENT_BYTES"] = "4096"; }
  for (int i = 0; i < 10; ++i) Json(Drovebank(dir, {"--json", "open", "A", "B", "100.00"}));
  std::vector<std::thread> workers;
  std::atomic<int> done{0}, refused{0}, other{0};
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(w * 7919 + 1);
      for (int i = 0; i < 60; ++i) {
        int from = static_cast<int>(rng() % 10) + 1;
        int to = static_cast<int>(rng() % 9) + 1;
        if (to >= from) ++to;
        auto r = Drovebank(dir,
                           {"transfer", std::to_string(from), std::to_string(to),
                            fmt::format("{}.{:02}", rng() % 40, rng() % 100)},
                           env);
        if (r.exit_code == 0) {
          ++done;
        } else if (r.exit_code == 3) {
          ++refused;  // insufficient funds: allowed, changes nothing
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  CHECK(other == 0);
  CHECK(done > 0);
  Cents total = 0;
  for (int i = 1; i <= 10; ++i) total += BalanceOf(dir, i);
  CHECK(total == 10 * 10000);
  CHECK(testing::Recover(dir, {"--check"}).exit_code == 0);
  // Every change is in the history: the chains across segments add up to the balances.
  for (int i = 1; i <= 10; ++i) {
    auto h = Json(Drovebank(dir, {"--json", "history", std::to_string(i), "--page-size", "1000"}));
    Cents sum = 0;
    for (auto& e : h["entries"]) {
      Cents amt = *ParseAmount(e["amount"].get<std::string>());
      std::string dir_s = e["direction"].is_null() ? "" : e["direction"].get<std::string>();
      sum += dir_s == "out" ? -amt : amt;
    }
    CHECK(sum == BalanceOf(dir, i));
  }
}

TEST_CASE("transfer: crash after the journal sync rolls forward, before and after recover",
          "[e2e][crash]") {
  TempDir d;
  std::string dir = d / "data";
  Json(Drovebank(dir, {"--json", "open", "A", "B", "100.00"}));
  Json(Drovebank(dir, {"--json", "open", "C", "D", "0"}));
  for (const char* step : {"after_journal_sync", "after_temp_write", "after_rename"}) {
    INFO(step);
    Cents a = BalanceOf(dir, 1), b = BalanceOf(dir, 2);
    auto crashed = Drovebank(dir, {"transfer", "1", "2", "10.00"},
                             {{"DROVEBANK_FAULT", fmt::format("transfer:{}:crash", step)}});
    REQUIRE(crashed.exit_code == 86);
    // The next access takes over the dead process's locks and repairs from the journal.
    CHECK(BalanceOf(dir, 1) == a - 1000);
    CHECK(BalanceOf(dir, 2) == b + 1000);
    auto rec = testing::Recover(dir);
    INFO(rec.out << rec.err);
    CHECK(rec.exit_code == 0);
    CHECK(testing::Recover(dir, {"--check"}).exit_code == 0);
    CHECK(BalanceOf(dir, 1) + BalanceOf(dir, 2) == 10000);
  }
}

TEST_CASE("transfer: crash before the journal sync leaves it wholly absent or present",
          "[e2e][crash]") {
  TempDir d;
  std::string dir = d / "data";
  Json(Drovebank(dir, {"--json", "open", "A", "B", "100.00"}));
  Json(Drovebank(dir, {"--json", "open", "C", "D", "0"}));
  for (const char* step : {"locks_held", "before_journal_write", "after_journal_write"}) {
    INFO(step);
    Cents a = BalanceOf(dir, 1);
    auto crashed = Drovebank(dir, {"transfer", "1", "2", "10.00"},
                             {{"DROVEBANK_FAULT", fmt::format("transfer:{}:crash", step)}});
    REQUIRE(crashed.exit_code == 86);
    REQUIRE(testing::Recover(dir).exit_code == 0);
    Cents a2 = BalanceOf(dir, 1), b2 = BalanceOf(dir, 2);
    // Before the write nothing of it exists; once written (in the page cache, which a
    // killed process does not lose) recover adopts it, syncs it and rolls it forward.
    bool written = std::string_view(step) == "after_journal_write";
    CHECK(a2 == (written ? a - 1000 : a));
    CHECK(a2 + b2 == 10000);
    CHECK(testing::Recover(dir, {"--check"}).exit_code == 0);
  }
}

TEST_CASE("deposit: an fdatasync failure is not acknowledged and recover settles it",
          "[e2e][fdatasync][crash]") {
  TempDir d;
  std::string dir = d / "data";
  Json(Drovebank(dir, {"--json", "open", "A", "B", "1.00"}));
  auto r = Drovebank(dir, {"deposit", "1", "2.00"},
                     {{"DROVEBANK_FAULT", "deposit:before_journal_sync:eio"}});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("may have been applied") != std::string::npos);
  // The store refuses writes until recover has run.
  CHECK(Drovebank(dir, {"deposit", "1", "1.00"}).exit_code == 5);
  REQUIRE(testing::Recover(dir).exit_code == 0);
  // The record is in the file (only the injected fdatasync failed): recover rebuilds the
  // journal's state from what the file holds, syncs it anew, and so keeps it.
  CHECK(BalanceOf(dir, 1) == 300);
  CHECK(Drovebank(dir, {"deposit", "1", "1.00"}).exit_code == 0);
  CHECK(testing::Recover(dir, {"--check"}).exit_code == 0);
}

}  // namespace
}  // namespace drovebank
