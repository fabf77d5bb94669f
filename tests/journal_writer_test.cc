// The journal's write path as a module (src/store/journal_writer.cc): a group is numbered
// from the next txn; whole records a dead appender wrote past the published end are
// adopted (AdoptUnpublished), and anything after them that is not a record following the
// chain is cut; ids stop at the maximum. Append's steps, the own-states condition and
// rotation are journal_test.cc.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "journal_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using namespace testing;

TEST_CASE("journal writer: a group is numbered from the next txn and read back in order",
          "[journal_writer]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto j = OpenJournal(data);
  std::vector<Record> group = {Deposit(1, 1), Deposit(2, 2), Deposit(3, 3)};
  auto pos = j->Append(&group, false, nullptr);
  REQUIRE(pos.ok());
  REQUIRE(pos->has_value());
  CHECK(**pos == j->End());
  CHECK(group[0].txn == 1);
  CHECK(group[1].txn == 2);
  CHECK(group[2].txn == 3);
  std::vector<Record> next = {Deposit(1, 4)};
  REQUIRE(j->Append(&next, false, nullptr).ok());
  CHECK(next[0].txn == 4);
  auto all = j->ReadRange(JournalPos{}, j->End());
  REQUIRE(all.ok());
  REQUIRE(all->size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK((*all)[i].ops[0].amount == static_cast<Cents>(i + 1));
}

TEST_CASE("journal writer: a dead appender's whole records are adopted, the torn rest is cut",
          "[journal_writer]") {
  TempDir dir;
  std::string data = NewStore(dir);
  Layout layout(data);
  std::string state_after_two;
  std::string segment;
  JournalPos end_after_two;
  {
    auto j = OpenJournal(data);
    std::vector<Record> two = {Deposit(1, 1), Deposit(1, 2)};
    REQUIRE(j->Append(&two, false, nullptr).ok());
    end_after_two = j->End();
    state_after_two = Slurp(layout.JournalStatePath());
    std::vector<Record> third = {Deposit(1, 3)};
    REQUIRE(j->Append(&third, false, nullptr).ok());
    segment = j->SegmentPath(j->End().seg);
  }
  // As if the appender of txn 3 died between its write and publishing it, and a write
  // after it was cut short: the state says the journal ends after txn 2.
  const std::string whole = Slurp(segment);
  Spit(layout.JournalStatePath(), state_after_two);
  Spit(segment, whole + "1234abcd {\"txn\":4,\"ops\":[");

  auto j = OpenJournal(data);
  REQUIRE(j->AdoptUnpublished().ok());
  CHECK(j->End() == JournalPos{end_after_two.seg, whole.size()});
  CHECK(Slurp(segment) == whole);
  auto third = j->FindTxn(3);
  REQUIRE(third.ok());
  CHECK(third->ops[0].amount == 3);
  std::vector<Record> next = {Deposit(1, 4)};
  REQUIRE(j->Append(&next, false, nullptr).ok());
  CHECK(next[0].txn == 4);

  // A whole record that does not follow (txn 3 again, after txn 4) is not adopted: it is
  // cut.
  std::string now = Slurp(segment);
  std::string again = whole.substr(end_after_two.offset);
  REQUIRE(again.back() == '\n');
  Spit(segment, now + again);
  REQUIRE(j->AdoptUnpublished().ok());
  CHECK(Slurp(segment) == now);
  CHECK(j->End().offset == now.size());
}

TEST_CASE("journal writer: ids stop at the maximum account id", "[journal_writer]") {
  TempDir dir;
  std::string data = NewStore(dir);
  auto j = OpenJournal(data);
  Record reserve;
  reserve.reserve_ids = kMaxAccountId - 1;
  reserve.request = "reserve-ids";
  std::vector<Record> records = {reserve};
  REQUIRE(j->Append(&records, false, nullptr).ok());
  auto last = j->AllocateId();
  REQUIRE(last.ok());
  CHECK(*last == kMaxAccountId);
  auto none = j->AllocateId();
  CHECK(none.status().code() == Code::kLimit);
  CHECK(j->max_id() == kMaxAccountId);
}

}  // namespace
}  // namespace drovebank
