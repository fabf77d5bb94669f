// Group commit in a shell reading a script: the deposits, withdrawals and transfers whose
// next line is already there wait for it, and the waiting lines are committed together
// (shell.h says when). Why: each commit's fdatasync is most of a line's time, and the
// lines of a script are there long before the disk has synced the one before; committed
// as one group they share one append and one sync (Store::CommitGroup), as `batch` does.
// Why it changes nothing a user can tell but the time: a line's report is printed only
// once its group is durable, so what was reported stands as before; the group's events
// are checked in line order against the state the earlier ones left, each refused alone
// as it would have been; any line that is not a plain money line, and any output at all,
// commits the group first, so every later line (a `show`, a report, an error) sees it.
// A crash before the group's sync loses only lines nobody was told of, and the group's
// records are one append: after `recover` a prefix of them stands.
#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "drovebank/record.h"
#include "exit_codes.h"
#include "shell.h"

namespace drovebank {

bool Shell::MayJoinGroup(const std::string& word) const {
  return !txn_ && MoneyCommand(word).has_value();
}

bool Shell::DeferMoney(Event& event, OpKind kind) {
  // Why a key kept for `reverse` commits alone: CommitGroup refuses a whole group for one
  // such key (InvalidArgument), and alone the line gets the refusal that names it.
  bool may_wait = !in_.interactive() && !txn_ && !options_.bail && options_.group_size > 1 &&
                  !event.key.starts_with(kReversalKeyPrefix) && !committing_;
  if (!may_wait) {
    CommitWaiting();
    return false;
  }
  // Why a key already waiting starts a new group: CommitGroup refuses a key repeated within
  // one group as reused, where line by line the second line finds the first's record and
  // is replayed. Committed first, the earlier line is in the journal when this one looks.
  if (!event.key.empty()) {
    for (const Event& e : waiting_events_) {
      if (e.key == event.key) {
        CommitWaiting();
        break;
      }
    }
  }
  waiting_events_.push_back(std::move(event));
  waiting_lines_.push_back({in_.line_number(), kind});
  return true;
}

void Shell::CommitWaiting() {
  if (waiting_events_.empty() || committing_) return;
  committing_ = true;
  std::vector<Event> events = std::move(waiting_events_);
  std::vector<WaitingLine> lines = std::move(waiting_lines_);
  waiting_events_.clear();
  waiting_lines_.clear();
  const int saved_code = ctx_.exit_code;
  const std::string saved_program = ctx_.program;
  auto commit = [this](std::vector<Event> group) -> Result<std::vector<EventResult>> {
    if (!ctx_.store) return Status::Internal("a waiting line without its store");
    DB_FAULT_PATH("shell");
    return ctx_.store->CommitGroup(std::move(group));
  };
  // Reports line `i` of `lines` from `res`, the answer to a group whose event `k` is its.
  auto report = [&](size_t i, const Result<std::vector<EventResult>>& res, size_t k) {
    reporting_ = fmt::format("line {}", lines[i].line);
    if (!res.ok()) {
      NoteFailure(Fail(res.status()));
    } else if (!(*res)[k].status.ok()) {
      NoteFailure(Fail((*res)[k].status));
    } else {
      ReportMoneyOp(ctx_, lines[i].kind, (*res)[k]);
    }
  };
  std::vector<Event> again;
  if (lines.size() > 1) again = events;  // for the lines alone, should the group fail whole
  Result<std::vector<EventResult>> results = commit(std::move(events));
  if (!results.ok() && !results.status().maybe_applied() && lines.size() > 1) {
    // Why each line again, alone: a group fails whole, nothing changed, when one account of
    // one line is busy past --lock-timeout; line by line, the other lines would have
    // committed, and the failing one alone is refused. The cost is one wait more than line
    // by line, for the group's own attempt. (A file found changed by hand marks the store,
    // so there the retries are refused too: docs/SHELL.md says so.)
    for (size_t i = 0; i < lines.size(); ++i) {
      std::vector<Event> one;
      one.push_back(std::move(again[i]));
      report(i, commit(std::move(one)), 0);
    }
  } else {
    // A group that may have been applied is answered on each of its lines: they were one
    // append, and `recover` settles how much of it stands (a prefix, in line order).
    for (size_t i = 0; i < lines.size(); ++i) report(i, results, i);
  }
  reporting_.clear();
  ctx_.exit_code = saved_code;
  ctx_.program = saved_program;
  committing_ = false;
}

}  // namespace drovebank
