// The states of a commit (CommitProtocol, commit.h) and the one table that names each:
// its fault point (PATH:STEP, what the fault matrix and the crash sweeps kill at) and its
// step of docs/DESIGN.md's write path. One set of names: a state is known by its fault
// point everywhere outside this file.
//
// A successful commit passes, in order:
//
//   kStart -> kLocked -> kEvaluated -> kInFlight -> kEncoded -> kWritten -> kAppended
//     [-> kSegmentCreated] -> kSyncing -> kCommitted
//     -> (kTempWritten -> kFileInstalled)* -> kKeyIndexed* -> kInstalled -> kDone
//
// and the other transitions, each named in kTransitions (commit_state.cc):
//   kEvaluated -> kEvaluated   a refusal is judged on the files, not on own states
//   kInFlight  -> kEvaluated   the own states were stale (a record joined the journal):
//                              evaluated again on the files, nothing yet appended
//   kEvaluated -> kUnchanged   every event refused or replayed: nothing written
//   any        -> kFailed      a failure; before kInFlight nothing changed, from kInFlight
//                              on the flags stay for the next holder to repair
#pragma once

#include <cstdint>
#include <string_view>

namespace drovebank {

enum class CommitState : std::uint8_t {
  kStart,           // nothing held
  kLocked,          // key slots, then account slots ascending, held; dead writers' flags
                    // repaired
  kEvaluated,       // events checked on working copies, records built
  kInFlight,        // a repair flag on every slot the records touch
  kEncoded,         // under the append mutex: records numbered, chained and encoded
  kWritten,         // their bytes written past the published end, not published
  kAppended,        // the new end published: in the journal, not yet durable
  kSegmentCreated,  // the append filled its segment: the next one created, not published
  kSyncing,         // about to fdatasync (write-through: durable already)
  kCommitted,       // durable: the commit point
  kTempWritten,     // one account's new file written to the spare (or kept, in place)
  kFileInstalled,   // that file installed, its keys/index entry set, its flag cleared
  kKeyIndexed,      // one key slot of keys/index pointed at its newest record
  kInstalled,       // every file installed and every flag this commit set cleared
  kDone,            // everything released; success may be reported
  kUnchanged,       // ended with nothing written (every event refused or replayed)
  kFailed,          // ended by a failure (see the failure policy in commit.h)
};

struct CommitStateInfo {
  CommitState state;
  std::string_view name;         // "kLocked"
  std::string_view fault_point;  // "locks_held"; empty where a crash adds nothing new
  int design_step;               // docs/DESIGN.md, "The write path, step by step"; 0: none
};

const CommitStateInfo& InfoOf(CommitState state);

// The name of the transition from -> to, or empty when it is not one a commit may make.
std::string_view TransitionName(CommitState from, CommitState to);

}  // namespace drovebank
