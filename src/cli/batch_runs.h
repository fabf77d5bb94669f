// Runs of one batch input (`batch`, `import-csv`). Automatic keys are made from the
// input's hash so that running it again after an interrupted run resumes that run. Once a
// run got to its end, its end is committed as a record of its own key, RunEndKey, and
// running the same input again is refused (naming that run) unless the user asks for a
// new run (`--again`), whose keys have a root of their own: run N > 1 of input H uses
// the root "H.N", so a new run interrupted in its turn resumes the same way.
#pragma once

#include <string>

#include "drovebank/batch.h"
#include "drovebank/status.h"
#include "drovebank/store.h"

namespace drovebank {

struct BatchRun {
  int number = 1;        // 1 for the first run of an input
  std::string key_root;  // the root of its automatic keys (AutoKey)
};

// The key whose record says the run of `key_root` got to its end.
std::string RunEndKey(const std::string& key_root);

// The run to do now: the first run of `hash` whose end is not committed (a new one, or
// an interrupted one to resume). When an earlier run got to its end and `again` is
// false: RuleFailed naming that run (its first change when `input` shows it, its end's
// txn and time) and `--again`; nothing is changed. `name` names the input in messages.
Result<BatchRun> ChooseBatchRun(Store& store, const std::string& hash, bool again,
                                const std::string& name, BatchInput* input);

// Commits the end of `run` (an empty record under RunEndKey): a later run of the same
// input is then refused unless it is asked for as a new one.
Status MarkRunEnd(Store& store, const BatchRun& run);

}  // namespace drovebank
