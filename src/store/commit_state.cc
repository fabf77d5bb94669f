#include "commit_state.h"

#include <array>
#include <cstdlib>

namespace drovebank {

namespace {

using S = CommitState;

// By state, in enum order (checked below). The fault points are the names the fault
// matrix (tests/fault_matrix_test.cc), scripts/fault-injection and docs/RELIABILITY.md use.
constexpr std::array<CommitStateInfo, 17> kStates{{
    {S::kStart, "kStart", "", 1},
    {S::kLocked, "kLocked", "locks_held", 2},
    {S::kEvaluated, "kEvaluated", "", 3},
    {S::kInFlight, "kInFlight", "flags_set", 4},
    {S::kEncoded, "kEncoded", "before_journal_write", 5},
    {S::kWritten, "kWritten", "before_journal_publish", 5},
    {S::kAppended, "kAppended", "after_journal_write", 5},
    {S::kSegmentCreated, "kSegmentCreated", "after_segment_create", 5},
    {S::kSyncing, "kSyncing", "before_journal_sync", 6},
    {S::kCommitted, "kCommitted", "after_journal_sync", 6},
    {S::kTempWritten, "kTempWritten", "after_temp_write", 7},
    {S::kFileInstalled, "kFileInstalled", "after_rename", 7},
    {S::kKeyIndexed, "kKeyIndexed", "after_key_index", 7},
    {S::kInstalled, "kInstalled", "", 7},
    {S::kDone, "kDone", "done", 8},
    {S::kUnchanged, "kUnchanged", "", 3},
    {S::kFailed, "kFailed", "", 0},
}};

constexpr bool InEnumOrder() {
  for (size_t i = 0; i < kStates.size(); ++i) {
    if (static_cast<size_t>(kStates[i].state) != i) return false;
  }
  return true;
}
static_assert(InEnumOrder(), "kStates must list every CommitState in enum order");

struct Transition {
  CommitState from;
  CommitState to;
  std::string_view name;
};

// Every transition a commit may make, besides "any -> kFailed".
constexpr Transition kTransitions[] = {
    {S::kStart, S::kLocked, "lock the slots"},
    {S::kLocked, S::kEvaluated, "evaluate"},
    {S::kEvaluated, S::kEvaluated, "judge a refusal on the files"},
    {S::kEvaluated, S::kUnchanged, "nothing to write"},
    {S::kEvaluated, S::kInFlight, "set the flags"},
    {S::kInFlight, S::kEvaluated, "own states stale: evaluate on the files"},
    {S::kInFlight, S::kEncoded, "encode under the append mutex"},
    {S::kEncoded, S::kWritten, "write"},
    {S::kWritten, S::kAppended, "publish"},
    {S::kAppended, S::kSegmentCreated, "rotate"},
    {S::kAppended, S::kSyncing, "sync"},
    {S::kSegmentCreated, S::kSyncing, "sync"},
    // Group commit: another writer's fdatasync covered this commit's records.
    {S::kAppended, S::kCommitted, "synced by another writer"},
    {S::kSegmentCreated, S::kCommitted, "synced by the rotation"},
    {S::kSyncing, S::kCommitted, "synced"},
    {S::kCommitted, S::kTempWritten, "write a file"},
    {S::kCommitted, S::kKeyIndexed, "index a key"},
    {S::kCommitted, S::kInstalled, "nothing to install"},
    {S::kTempWritten, S::kFileInstalled, "install the file"},
    {S::kFileInstalled, S::kTempWritten, "write the next file"},
    {S::kFileInstalled, S::kKeyIndexed, "index a key"},
    {S::kFileInstalled, S::kInstalled, "clear the key flags"},
    {S::kKeyIndexed, S::kKeyIndexed, "index the next key"},
    {S::kKeyIndexed, S::kInstalled, "clear the key flags"},
    {S::kInstalled, S::kDone, "release"},
};

}  // namespace

const CommitStateInfo& InfoOf(CommitState state) {
  return kStates[static_cast<size_t>(state)];
}

std::string_view TransitionName(CommitState from, CommitState to) {
  if (to == S::kFailed && from != S::kFailed && from != S::kDone && from != S::kUnchanged) {
    return "fail";
  }
  for (const Transition& t : kTransitions) {
    if (t.from == from && t.to == to) return t.name;
  }
  return {};
}

}  // namespace drovebank
