// Reading the journal as a module (src/store/journal_reader.cc): segments listed in order
// and named by their first txn, records read in order across segments from any record
// boundary, each with its JSON exactly as the segment holds it, and a callback's error
// ending the walk. Appends and rotation are journal_test.cc.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/record.h"
#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

// A journal of 30 deposit records (amounts 1..30) in segments of about 600 bytes, of a
// store made in `dir`/data.
std::unique_ptr<Journal> ThirtyRecords(const TempDir& dir) {
  auto j = OpenJournal(NewStore(dir), 600);
  for (int i = 0; i < 30; ++i) {
    std::vector<Record> one = {Deposit(1, i + 1)};
    REQUIRE(j->Append(&one, false, nullptr).ok());
  }
  return j;
}

TEST_CASE("journal reader: segments in order, named by their first txn, records in order "
          "across them",
          "[journal_reader]") {
  TempDir dir;
  auto j = ThirtyRecords(dir);
  auto segs = j->Segments();
  REQUIRE(segs.ok());
  REQUIRE(segs->size() >= 3);
  CHECK(std::is_sorted(segs->begin(), segs->end()));
  CHECK(j->SegmentPath(1) == dir / "data/journal/0000000000000001.log");
  for (std::uint64_t seg : *segs) {
    INFO("segment " << seg);
    CHECK(testing::PathExists(j->SegmentPath(seg)));
    auto first = j->ReadRange(JournalPos{seg, 0}, JournalPos{seg + 1000000, 0});
    REQUIRE(first.ok());
    if (first->empty()) {  // made for the next record: only the newest, named for txn 31
      CHECK(seg == segs->back());
      CHECK(seg == 31);
      continue;
    }
    CHECK(first->front().txn == seg);  // a segment's name is its first txn
  }

  auto all = j->ReadRange(JournalPos{}, j->End());
  REQUIRE(all.ok());
  REQUIRE(all->size() == 30);
  for (size_t i = 0; i < all->size(); ++i) {
    CHECK((*all)[i].txn == i + 1);
    CHECK((*all)[i].ops[0].amount == static_cast<Cents>(i + 1));
  }

  // From any record's start: ForEach hands its position, and reading from there gives the
  // rest.
  std::vector<JournalPos> starts = RecordStarts(*j);
  REQUIRE(starts.size() == 30);
  CHECK(std::is_sorted(starts.begin(), starts.end()));
  auto rest = j->ReadRange(starts[17], j->End());
  REQUIRE(rest.ok());
  REQUIRE(rest->size() == 13);
  CHECK(rest->front().txn == 18);
  auto middle = j->ReadRange(starts[5], starts[9]);
  REQUIRE(middle.ok());
  REQUIRE(middle->size() == 4);
  CHECK(middle->back().txn == 9);
}

TEST_CASE("journal reader: each record's JSON is the segment's bytes, and a callback's error "
          "ends the walk",
          "[journal_reader]") {
  TempDir dir;
  auto j = ThirtyRecords(dir);
  size_t seen = 0;
  REQUIRE(j->ForEachLine(JournalPos{}, j->End(),
                         [&](Record& r, JournalPos at, std::string_view json) {
                           std::string seg = testing::Slurp(j->SegmentPath(at.seg));
                           size_t nl = seg.find('\n', at.offset);
                           REQUIRE(nl != std::string::npos);
                           CHECK(json == RecordLineJson(std::string_view(seg).substr(
                                             at.offset, nl + 1 - at.offset)));
                           auto parsed = ParseRecordJson(json);
                           REQUIRE(parsed.ok());
                           CHECK(parsed->txn == r.txn);
                           ++seen;
                           return Status::Ok();
                         })
              .ok());
  CHECK(seen == 30);

  size_t calls = 0;
  Status s = j->ForEach(JournalPos{}, j->End(), [&](Record& r, JournalPos) {
    ++calls;
    return r.txn == 12 ? Status::RuleFailed("stop here") : Status::Ok();
  });
  CHECK(s.code() == Code::kRuleFailed);
  CHECK(s.message() == "stop here");
  CHECK(calls == 12);
}

}  // namespace
}  // namespace drovebank
