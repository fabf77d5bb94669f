// The steps of the journal's write path that its caller may want to see (the commit
// protocol turns each into a state of its own, and so into a fault point: commit_state.h).
// The journal names its steps and reports them; it has no fault points of its own.
#pragma once

#include <string>
#include <string_view>

#include "drovebank/env.h"

namespace drovebank {

enum class JournalStep {
  kEncoded,         // Append: under the append mutex, the records numbered and encoded
  kWritten,         // Append: the bytes written(2) past the published end, not published
  kPublished,       // Append: the new end published in journal/state
  kSegmentCreated,  // Append's rotation: the next segment created and synced, not published
  kSyncing,         // Sync: about to fdatasync (or, write-through, already durable)
};

// Told of each step as it is reached, on the thread that runs it, with the journal's
// locks held as the step says. Must not call back into the journal.
class JournalSteps {
 public:
  virtual ~JournalSteps() = default;
  virtual void Reached(JournalStep step) = 0;
};

// The fault-point step each JournalStep is known by ("before_journal_sync", ...): the
// commit protocol's states (commit_state.h) use the same names.
std::string_view JournalStepName(JournalStep step);

// For the journal's callers that are not the commit protocol (a repair's or checkpoint's
// sync, a report's): each step is the fault point PATH:STEP, and nothing more.
class FaultPointSteps final : public JournalSteps {
 public:
  FaultPointSteps(Env* env, std::string_view path) : env_(env), path_(path) {}
  void Reached(JournalStep step) override { env_->FaultPoint(path_, JournalStepName(step)); }

 private:
  Env* env_;
  std::string path_;
};

}  // namespace drovebank
