// Looking one record up without reading its segment whole, as a module
// (src/store/journal_lookup.cc, Journal::LookUpTxn): in a segment far bigger than its
// tail window, so the bisection runs, every txn asked for is the record the segment holds,
// and a txn not there is NotFound. Look-ups across rotated segments are journal_test.cc.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "drovebank/env_wrapper.h"
#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

// One group of `count` deposits with long requests appended to the journal of the store in
// `data` and synced (3000 make about 1 MiB, 16 times the 64 KiB read from a segment's end);
// returns every record the journal then holds, read in order: the truth to compare with.
std::vector<Record> AppendDeposits(const std::string& data, int count, const std::string& tag) {
  {
    auto j = OpenJournal(data);
    std::vector<Record> records;
    for (int i = 0; i < count; ++i) {
      records.push_back(
          Deposit(1 + i % 7, i + 1, tag + " " + std::to_string(i) + " " + std::string(200, 'x')));
    }
    auto pos = j->Append(&records, false, nullptr);
    REQUIRE(pos.ok());
    REQUIRE(j->Sync(**pos, nullptr).ok());
    REQUIRE(j->Segments()->size() == 1);
  }
  auto reader = OpenJournal(data);
  auto all = reader->ReadRange(JournalPos{}, reader->End());
  REQUIRE(all.ok());
  return std::move(all).value();
}

// A new store whose journal is one segment of 3000 records; returns them.
std::vector<Record> BigSegment(const TempDir& dir, std::string* data) {
  *data = NewStore(dir);
  std::vector<Record> all = AppendDeposits(*data, 3000, "deposit");
  REQUIRE(all.size() == 3000);
  return all;
}

TEST_CASE("journal lookup: every txn of a big segment is found by bisection, others are "
          "NotFound",
          "[journal_lookup]") {
  TempDir dir;
  std::string data;
  const std::vector<Record> truth = BigSegment(dir, &data), *all = &truth;

  // Nothing cached, and fewer look-ups than make the segment indexed (32): each one
  // bisects, reading pieces.
  auto j = OpenJournal(data);
  for (size_t i = 0; i < all->size(); i += (i < 5 || i > 2994) ? 1 : 199) {
    const Record& want = (*all)[i];
    INFO("txn " << want.txn);
    auto got = j->LookUpTxn(want.txn);
    REQUIRE(got.ok());
    CHECK(*got == want);
    CHECK(j->cached_segments() == 0);  // never read whole
  }
  CHECK(j->LookUpTxn(0).status().code() == Code::kNotFound);
  CHECK(j->LookUpTxn(all->back().txn + 1).status().code() == Code::kNotFound);
  CHECK(j->LookUpTxn(all->back().txn + 1000).status().code() == Code::kNotFound);
}

// Counts the reads that reach the file system.
class CountingReads final : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) override {
    ++preads;
    return EnvWrapper::PRead(fd, buf, n, offset);
  }
  int preads = 0;
};

// The journal of the store in `data`, opened through `env` (nothing read yet is kept).
std::unique_ptr<Journal> OpenCounted(const std::string& data, CountingReads* env) {
  auto opened = Journal::Open(env, Layout(data), StorageMode{},
                              [](const std::vector<Record>&) { return Status::Ok(); });
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

// A report proves every account file it reads, each naming a record anywhere in the
// journal: after a few look-ups in one segment, the segment's lines are indexed once and
// each record is then one read (a bisection is about ten). Records appended after the
// index was made, before and inside the new end window, are still found.
TEST_CASE("journal lookup: many look-ups in one segment read each record once, and records "
          "appended since are found",
          "[journal_lookup]") {
  TempDir dir;
  std::string data;
  const std::vector<Record> truth = BigSegment(dir, &data), *all = &truth;
  const size_t n = all->size();

  CountingReads env(DefaultEnv());
  auto j = OpenCounted(data, &env);
  int before = env.preads;
  for (size_t k = 0; k < n; ++k) {
    const Record& want = (*all)[(k * 7) % n];  // every record, out of order
    auto got = j->LookUpTxn(want.txn);
    REQUIRE(got.ok());
    REQUIRE(*got == want);
  }
  INFO("reads for " << n << " look-ups: " << env.preads - before);
  CHECK(env.preads - before < static_cast<int>(2 * n));
  CHECK(j->cached_segments() == 0);  // not the whole-segment cache of FindTxn

  // 600 more records, about 150 KiB: past the index and past the old end window, and
  // more than the new end window holds.
  const std::vector<Record> grown_truth = AppendDeposits(data, 600, "more");
  const std::vector<Record>* grown = &grown_truth;
  REQUIRE(grown->size() == n + 600);
  // The lines appended before the new end window are indexed in one sequential read on the
  // first look-up past the index, not bisected for each (a batch proves ~630 files after
  // each group of 1,000 it appends): one read a look-up, plus the new end window's and
  // the index's own.
  before = env.preads;
  int lookups = 0;
  for (size_t i = n; i < grown->size(); i += 13) {
    INFO("txn " << (*grown)[i].txn);
    auto got = j->LookUpTxn((*grown)[i].txn);
    REQUIRE(got.ok());
    CHECK(*got == (*grown)[i]);
    ++lookups;
  }
  INFO("reads for " << lookups << " look-ups of appended records: " << env.preads - before);
  CHECK(env.preads - before <= lookups + 2);
  CHECK(j->LookUpTxn(grown->back().txn + 1).status().code() == Code::kNotFound);
}

// One look-up in a segment of records much of a size, by a process that has looked up
// nothing there before (a one-shot command proving one file): the record's place is
// guessed from its txn between the segment's first and the end window's, so the look-up
// reads the end window and one or two windows more, not the ten of a bisection (at a
// million accounts each was a read of a cold page of an 8 MB segment).
TEST_CASE("journal lookup: a first look-up in a segment of like records reads about two "
          "windows beyond its end window",
          "[journal_lookup]") {
  TempDir dir;
  std::string data;
  const std::vector<Record> truth = BigSegment(dir, &data);
  int most = 0;
  for (size_t i = 0; i < truth.size() - 300; i += 97) {  // before the 64 KiB end window
    CountingReads env(DefaultEnv());
    auto j = OpenCounted(data, &env);
    int before = env.preads;
    auto got = j->LookUpTxn(truth[i].txn);
    REQUIRE(got.ok());
    CHECK(*got == truth[i]);
    INFO("txn " << truth[i].txn << ": " << env.preads - before << " reads");
    CHECK(env.preads - before <= 4);  // the end window, the guess, at most two more
    most = std::max(most, env.preads - before);
  }
  INFO("the most reads of a look-up: " << most);
  CHECK(most >= 2);  // the end window and the guess: the count sees the reads at all
}

// Records of very different sizes (a run of short ones, then long ones, then short again)
// make the guess land far from the record: every txn is still found, none invented.
TEST_CASE("journal lookup: every txn of a segment of very uneven records is found",
          "[journal_lookup]") {
  TempDir dir;
  std::string data = NewStore(dir);
  {
    auto j = OpenJournal(data);
    std::vector<Record> records;
    for (int i = 0; i < 2400; ++i) {
      size_t memo = (i >= 800 && i < 1400) ? 2000 : 10;
      records.push_back(Deposit(1 + i % 7, i + 1, std::string(memo, 'm')));
    }
    auto pos = j->Append(&records, false, nullptr);
    REQUIRE(pos.ok());
    REQUIRE(j->Sync(**pos, nullptr).ok());
  }
  auto reader = OpenJournal(data);
  auto all = reader->ReadRange(JournalPos{}, reader->End());
  REQUIRE(all.ok());
  for (size_t i = 0; i < all->size(); i += 7) {
    auto j = OpenJournal(data);  // each a first look-up: no index, no window kept
    auto got = j->LookUpTxn((*all)[i].txn);
    INFO("txn " << (*all)[i].txn);
    REQUIRE(got.ok());
    CHECK(*got == (*all)[i]);
  }
}

}  // namespace
}  // namespace drovebank
