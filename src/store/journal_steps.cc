#include "journal_steps.h"

namespace drovebank {

std::string_view JournalStepName(JournalStep step) {
  switch (step) {
    case JournalStep::kEncoded: return "before_journal_write";
    case JournalStep::kWritten: return "before_journal_publish";
    case JournalStep::kPublished: return "after_journal_write";
    case JournalStep::kSegmentCreated: return "after_segment_create";
    case JournalStep::kSyncing: return "before_journal_sync";
  }
  return "?";
}

}  // namespace drovebank
