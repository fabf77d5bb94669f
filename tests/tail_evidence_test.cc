// Telling a rotten last record from a torn write, as a module (TailEvidence,
// src/store/journal.h, tail_evidence.cc): evidence is the previous boot's synced end past
// the whole line, or an account file naming the record's txn or a later one (the accounts
// the line names first; every file only for a whole line). Without it the tail may be
// torn. The recoveries built on it are corruption_test.cc and chain_test.cc.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

struct LastRecord {
  std::string line;  // the whole line, newline included
  JournalPos at;
};

// The last record of ThreeRecords' store in `dir`/data (txn 3, a deposit; account 1 was
// last changed by txn 3, account 2 by txn 2).
LastRecord LastOfThree(const TempDir& dir) {
  auto j = OpenJournalReadOnly(ThreeRecords(dir));
  std::vector<JournalPos> starts = RecordStarts(*j);
  REQUIRE(starts.size() == 3);
  LastRecord last;
  last.at = starts[2];
  std::string seg = Slurp(j->SegmentPath(last.at.seg));
  last.line = seg.substr(last.at.offset);
  REQUIRE(last.line.back() == '\n');
  REQUIRE(std::count(last.line.begin(), last.line.end(), '\n') == 1);
  return last;
}

TEST_CASE("tail evidence: an account file naming the txn or a later one, else a possible tear",
          "[tail_evidence]") {
  TempDir dir;
  LastRecord last = LastOfThree(dir);
  std::string data = dir / "data";
  Layout layout(data);
  Env* env = DefaultEnv();

  auto named = TailEvidence(env, layout, last.line, last.at, std::nullopt, 3);
  REQUIRE(named.ok());
  REQUIRE(named->has_value());
  CHECK(**named == "accounts/00/00/00/01.csv names txn 3 or a later one");

  auto none = TailEvidence(env, layout, last.line, last.at, std::nullopt, 4);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());  // no file names txn 4: it may have torn

  auto empty = TailEvidence(env, layout, "", last.at, std::nullopt, 3);
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->has_value());

  // A whole line that does not parse: every file is looked at (account 2 names txn 2).
  std::string garbage = std::string(last.line.size() - 1, 'x') + "\n";
  auto walked = TailEvidence(env, layout, garbage, last.at, std::nullopt, 2);
  REQUIRE(walked.ok());
  REQUIRE(walked->has_value());
  CHECK((*walked)->find("names txn 2 or a later one") != std::string::npos);
  // A line cut short (no newline) names no account: no file is looked at.
  auto cut = TailEvidence(env, layout, last.line.substr(0, last.line.size() - 10), last.at,
                          std::nullopt, 2);
  REQUIRE(cut.ok());
  CHECK_FALSE(cut->has_value());
}

TEST_CASE("tail evidence: the previous boot synced past the whole line", "[tail_evidence]") {
  TempDir dir;
  LastRecord last = LastOfThree(dir);
  std::string data = dir / "data";
  Layout layout(data);
  Env* env = DefaultEnv();
  std::uint64_t line_end = last.at.offset + last.line.size();

  auto synced = TailEvidence(env, layout, last.line, last.at, JournalPos{last.at.seg, line_end}, 4);
  REQUIRE(synced.ok());
  REQUIRE(synced->has_value());
  CHECK(**synced == "the previous boot's journal state says it was synced (to byte " +
                        std::to_string(line_end) + ")");

  // Synced only into the line, or in another segment: no evidence (txn 4: no file either).
  for (JournalPos before : {JournalPos{last.at.seg, line_end - 1},
                            JournalPos{last.at.seg, last.at.offset},
                            JournalPos{last.at.seg + 1, line_end}}) {
    INFO(before.seg << ":" << before.offset);
    auto r = TailEvidence(env, layout, last.line, last.at, before, 4);
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }
}

}  // namespace
}  // namespace drovebank
