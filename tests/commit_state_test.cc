// The commit's states (src/store/commit_state.h): one table of names, and the path a real
// commit takes through it, seen from the fault points it emits.
#include "store/commit_state.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "drovebank/env_wrapper.h"
#include "drovebank/fault_path.h"
#include "drovebank/store.h"
#include "store/journal_steps.h"
#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Money;
using testing::OpenOp;
using testing::TempDir;

constexpr CommitState kAll[] = {
    CommitState::kStart,       CommitState::kLocked,        CommitState::kEvaluated,
    CommitState::kInFlight,    CommitState::kEncoded,       CommitState::kWritten,
    CommitState::kAppended,    CommitState::kSegmentCreated, CommitState::kSyncing,
    CommitState::kCommitted,   CommitState::kTempWritten,   CommitState::kFileInstalled,
    CommitState::kKeyIndexed,  CommitState::kInstalled,     CommitState::kDone,
    CommitState::kUnchanged,   CommitState::kFailed,
};

// The state whose fault point is `point`; kFailed (which has none) when no state's is.
CommitState StateOfPoint(std::string_view point) {
  for (CommitState s : kAll) {
    if (InfoOf(s).fault_point == point) return s;
  }
  return CommitState::kFailed;
}

// Records the commit path's fault points, and passes every call on.
class PointRecorder final : public EnvWrapper {
 public:
  PointRecorder() : EnvWrapper(DefaultEnv()) {}
  void FaultPoint(std::string_view path, std::string_view step) override {
    if (path == "test") points.emplace_back(step);
    EnvWrapper::FaultPoint(path, step);
  }
  std::vector<std::string> points;
};

// The states a commit went through, from kStart, as its fault points show them (the states
// without a fault point are not seen), checking that each follows the one before along
// some path of the transition table.
bool Reachable(CommitState from, CommitState to, int depth = 0) {
  if (!TransitionName(from, to).empty()) return true;
  if (depth > 4) return false;
  for (CommitState mid : kAll) {
    if (InfoOf(mid).fault_point.empty() && mid != CommitState::kFailed &&
        !TransitionName(from, mid).empty() && Reachable(mid, to, depth + 1)) {
      return true;
    }
  }
  return false;
}

TEST_CASE("commit_state: one table names every state, each fault point once", "[protocol]") {
  std::set<std::string_view> names, points;
  for (CommitState s : kAll) {
    const CommitStateInfo& info = InfoOf(s);
    CHECK(info.state == s);
    CHECK(names.insert(info.name).second);
    if (!info.fault_point.empty()) CHECK(points.insert(info.fault_point).second);
  }
  // The journal knows its steps by the same names: one set of names, not two.
  CHECK(JournalStepName(JournalStep::kEncoded) == InfoOf(CommitState::kEncoded).fault_point);
  CHECK(JournalStepName(JournalStep::kWritten) == InfoOf(CommitState::kWritten).fault_point);
  CHECK(JournalStepName(JournalStep::kPublished) == InfoOf(CommitState::kAppended).fault_point);
  CHECK(JournalStepName(JournalStep::kSegmentCreated) ==
        InfoOf(CommitState::kSegmentCreated).fault_point);
  CHECK(JournalStepName(JournalStep::kSyncing) == InfoOf(CommitState::kSyncing).fault_point);
}

TEST_CASE("commit_state: past the commit point no transition leads back", "[protocol]") {
  // Every state a commit can be in after kCommitted, and every state before it.
  const std::vector<CommitState> after = {CommitState::kCommitted, CommitState::kTempWritten,
                                          CommitState::kFileInstalled, CommitState::kKeyIndexed,
                                          CommitState::kInstalled, CommitState::kDone};
  const std::vector<CommitState> before = {CommitState::kStart,   CommitState::kLocked,
                                           CommitState::kEvaluated, CommitState::kInFlight,
                                           CommitState::kEncoded, CommitState::kWritten,
                                           CommitState::kAppended, CommitState::kSyncing,
                                           CommitState::kUnchanged};
  for (CommitState a : after) {
    for (CommitState b : before) {
      INFO(InfoOf(a).name << " -> " << InfoOf(b).name);
      CHECK(TransitionName(a, b).empty());
    }
  }
  // Nothing is written without flags, and nothing ends unchanged once appended.
  CHECK(TransitionName(CommitState::kEvaluated, CommitState::kEncoded).empty());
  CHECK(TransitionName(CommitState::kAppended, CommitState::kUnchanged).empty());
  // An ended commit stays ended.
  for (CommitState end : {CommitState::kDone, CommitState::kUnchanged, CommitState::kFailed}) {
    for (CommitState s : kAll) CHECK(TransitionName(end, s).empty());
  }
  // The own-states retry is a transition of its own, before anything is appended.
  CHECK(!TransitionName(CommitState::kInFlight, CommitState::kEvaluated).empty());
}

TEST_CASE("commit_state: deposits, transfers and keyed commits take the table's path",
          "[protocol]") {
  DB_FAULT_PATH("test");  // the path the recorder listens to
  TempDir dir;
  PointRecorder env;
  auto opened = testing::MustOpenStore(dir / "data", &env);
  Store& s = *opened;
  REQUIRE(s.Commit(Event{{OpenOp("Ada", "Lovelace", 100)}, ""}).ok());
  REQUIRE(s.Commit(Event{{OpenOp("Mary", "Somerville", 0)}, ""}).ok());

  struct Case {
    const char* what;
    Event event;
    size_t files;  // account files the commit installs
    size_t keys;   // key slots it indexes
  };
  std::vector<Case> cases = {
      {"a deposit", Event{{Money(OpKind::kDeposit, 1, 5)}, ""}, 1, 0},
      {"a transfer", Event{{Money(OpKind::kTransfer, 1, 5, 2)}, ""}, 2, 0},
      {"a keyed withdrawal", Event{{Money(OpKind::kWithdraw, 2, 1)}, "k-1"}, 1, 1},
  };
  for (Case& c : cases) {
    INFO(c.what);
    env.points.clear();
    REQUIRE(s.Commit(std::move(c.event)).ok());
    std::vector<std::string> want = {"locks_held", "flags_set", "before_journal_write",
                                     "before_journal_publish", "after_journal_write",
                                     "before_journal_sync", "after_journal_sync"};
    for (size_t f = 0; f < c.files; ++f) {
      want.push_back("after_temp_write");
      want.push_back("after_rename");
    }
    for (size_t k = 0; k < c.keys; ++k) want.push_back("after_key_index");
    want.push_back("done");
    CHECK(env.points == want);
    CommitState at = CommitState::kStart;
    for (const std::string& p : env.points) {
      CommitState next = StateOfPoint(p);
      INFO(InfoOf(at).name << " -> " << p);
      CHECK(next != CommitState::kFailed);
      CHECK(Reachable(at, next));
      at = next;
    }
  }

  SECTION("a refused commit ends unchanged, past no flag") {
    env.points.clear();
    auto r = s.Commit(Event{{Money(OpKind::kWithdraw, 2, 1'000'000)}, ""});
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kInsufficientFunds);
    CHECK(env.points == std::vector<std::string>{"locks_held"});
  }
}

}  // namespace
}  // namespace drovebank
