// Looking one record up without reading its segment whole, as a module
// (src/store/journal_lookup.cc, Journal::LookUpTxn): in a segment far bigger than its
// tail window, so the bisection runs, every txn asked for is the record the segment holds,
// and a txn not there is NotFound. Look-ups across rotated segments are journal_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

// One group of 3000 deposits with long requests appended to the journal of the store in
// `data` and synced: about 1 MiB in one segment, 16 times the 64 KiB read from its end.
void BigSegment(const std::string& data) {
  auto j = OpenJournal(data);
  std::vector<Record> records;
  for (int i = 0; i < 3000; ++i) {
    records.push_back(
        Deposit(1 + i % 7, i + 1, "deposit " + std::to_string(i) + " " + std::string(200, 'x')));
  }
  auto pos = j->Append(&records, false, nullptr);
  REQUIRE(pos.ok());
  REQUIRE(j->Sync(**pos, nullptr).ok());
  REQUIRE(j->Segments()->size() == 1);
}

TEST_CASE("journal lookup: every txn of a big segment is found by bisection, others are "
          "NotFound",
          "[journal_lookup]") {
  TempDir dir;
  std::string data = NewStore(dir);
  BigSegment(data);
  auto reader = OpenJournal(data);
  auto all = reader->ReadRange(JournalPos{}, reader->End());  // the truth, read in order
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3000);

  auto j = OpenJournal(data);  // nothing cached: each look-up reads pieces
  for (size_t i = 0; i < all->size(); i += (i < 10 || i > 2990) ? 1 : 97) {
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

}  // namespace
}  // namespace drovebank
