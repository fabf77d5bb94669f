#include "drovebank/rules.h"
#include "history_check.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "drovebank/store.h"

namespace drovebank {

namespace {

std::uint64_t NamesHash(const std::string& first, const std::string& last) {
  return std::hash<std::string>{}(first + '\n' + last);
}

Status Bad(const Record& r, AccountId id, const std::string& what) {
  return Status::Corruption(
      fmt::format("txn {} does not follow from account {}'s history: {}", r.txn, id, what));
}

}  // namespace

AccountHistoryFollower::AccountHistoryFollower(RecordSource source, size_t recent_slots)
    : recent_(std::max<size_t>(recent_slots, 1)), source_(std::move(source)) {}

AccountHistoryFollower::~AccountHistoryFollower() = default;

Status AccountHistoryFollower::Feed(const Record& r, std::uint64_t where) {
  if (!started_) {
    started_ = true;
    whole_ = r.txn == 1;
  }
  Before before;
  DB_RETURN_IF_ERROR(Gather(r, &before));
  Accounts trial;
  if (!StartingStates(r, before, &trial)) {
    // A cut journal, and an account whose first state is this record's: nothing to follow
    // from, so the record's states are taken as the accounts' first.
    for (const RecordAccount& ra : r.accounts) {
      const Account& a = ra.state;
      Remember(a.id, Seen{a.balance, a.version, r.txn, NamesHash(a.first, a.last), a.closed},
               where);
    }
    return Status::Ok();
  }
  std::set<AccountId> touched;
  DB_RETURN_IF_ERROR(ReplayOps(r, before, &trial, &touched));
  return CheckCarried(r, where, before, trial, touched);
}

Status AccountHistoryFollower::Gather(const Record& r, Before* before) {
  auto add = [&](AccountId id) -> Status {
    if (id == 0 || before->count(id)) return Status::Ok();
    DB_ASSIGN_OR_RETURN(std::optional<Seen> seen, Find(id));
    if (seen) before->emplace(id, *seen);
    return Status::Ok();
  };
  for (const Op& op : r.ops) {
    DB_RETURN_IF_ERROR(add(op.id));
    DB_RETURN_IF_ERROR(add(op.to));
  }
  for (const RecordAccount& ra : r.accounts) DB_RETURN_IF_ERROR(add(ra.state.id));
  return Status::Ok();
}

Result<std::optional<AccountHistoryFollower::Seen>> AccountHistoryFollower::Find(AccountId id) {
  size_t page = id / kPage;
  std::uint64_t where = page < newest_.size() && newest_[page] ? newest_[page][id % kPage] : 0;
  if (where == 0) return std::optional<Seen>();
  const Slot& slot = recent_[id % recent_.size()];
  if (slot.id == id) return std::optional<Seen>(slot.seen);
  ++reads_back_;
  auto rec = source_(where);
  if (!rec.ok()) {
    return Status::Corruption(fmt::format(
        "account {}'s newest record so far cannot be read again: {}", id,
        rec.status().message()));
  }
  std::optional<Seen> seen;
  for (const RecordAccount& ra : rec->accounts) {  // the last one counts, as when it was fed
    const Account& a = ra.state;
    if (a.id == id) {
      seen = Seen{a.balance, a.version, rec->txn, NamesHash(a.first, a.last), a.closed};
    }
  }
  if (!seen) {
    return Status::Corruption(fmt::format(
        "txn {} no longer carries account {}: the journal changed while it was checked",
        rec->txn, id));
  }
  recent_[id % recent_.size()] = Slot{id, *seen};
  return seen;
}

void AccountHistoryFollower::Remember(AccountId id, const Seen& seen, std::uint64_t where) {
  size_t page = id / kPage;
  if (page >= newest_.size()) newest_.resize(page + 1);
  if (!newest_[page]) newest_[page] = std::make_unique<std::uint64_t[]>(kPage);  // zeroed
  newest_[page][id % kPage] = where;
  recent_[id % recent_.size()] = Slot{id, seen};
}

// The states the ops start from. Names are not carried (a hash stands for them): an op
// that sets them (open) leaves them non-empty in `trial`.
bool AccountHistoryFollower::StartingStates(const Record& r, const Before& before,
                                            Accounts* trial) const {
  bool known = true;
  for (const Op& op : r.ops) {
    for (AccountId id : {op.id, op.to}) {
      if (id == 0 || trial->count(id)) continue;
      if (auto s = before.find(id); s != before.end()) {
        Account a;
        a.id = id;
        a.balance = s->second.balance;
        a.closed = s->second.closed;
        a.version = s->second.version;
        (*trial)[id] = a;
      } else if (!whole_ && op.kind != OpKind::kOpen) {
        known = false;
      }
    }
  }
  return known;
}

// Each op again, on `trial`; its results must be the record's.
Status AccountHistoryFollower::ReplayOps(const Record& r, const Before& before,
                                         Accounts* trial, std::set<AccountId>* touched) const {
  for (size_t i = 0; i < r.ops.size(); ++i) {
    Op op = r.ops[i];
    if (op.kind == OpKind::kOpen) {
      // Not ApplyOp: it would judge an old record's names by today's rules.
      if (trial->count(op.id)) return Bad(r, op.id, "it is opened a second time");
      Account a;
      a.id = op.id;
      a.first = op.first;
      a.last = op.last;
      a.balance = op.amount;
      (*trial)[op.id] = a;
      op.after = op.amount;
    } else if (op.kind == OpKind::kRename) {
      DB_RETURN_IF_ERROR(ReplayRename(r, before, i, &op, trial));
    } else {
      for (AccountId id : {op.id, op.to}) {
        if (id != 0 && !trial->count(id)) return Bad(r, id, "no earlier record opens it");
      }
      Status s = ApplyOp(&op, trial);
      if (!s.ok()) {
        return Bad(r, op.id, fmt::format("op {} breaks a rule: {}", i + 1, s.message()));
      }
    }
    if (op.after != r.ops[i].after) {
      return Bad(r, op.id, fmt::format("op {} says balance {} after it, the rules give {}", i + 1,
                                       FormatCents(r.ops[i].after), FormatCents(op.after)));
    }
    if (op.to_after != r.ops[i].to_after) {
      return Bad(r, op.to, fmt::format("op {} says balance {} after it, the rules give {}", i + 1,
                                       FormatCents(r.ops[i].to_after), FormatCents(op.to_after)));
    }
    touched->insert(op.id);
    if (op.kind == OpKind::kTransfer) touched->insert(op.to);
  }
  return Status::Ok();
}

// Not ApplyOp either, for the same reason as an open; the names it had must be the ones
// given.
Status AccountHistoryFollower::ReplayRename(const Record& r, const Before& before, size_t i,
                                            Op* op, Accounts* trial) const {
  auto at = trial->find(op->id);
  if (at == trial->end()) return Bad(r, op->id, "no earlier record opens it");
  if (at->second.closed) {
    return Bad(r, op->id, fmt::format("op {} renames a closed account", i + 1));
  }
  auto was = before.find(op->id);
  if (was != before.end() && was->second.names != NamesHash(op->was_first, op->was_last)) {
    return Bad(r, op->id, fmt::format("op {} says it was named otherwise before", i + 1));
  }
  at->second.first = op->first;
  at->second.last = op->last;
  op->after = at->second.balance;
  return Status::Ok();
}

// The record carries exactly the accounts its ops touch, each as the rules left it.
Status AccountHistoryFollower::CheckCarried(const Record& r, std::uint64_t where,
                                            const Before& before, const Accounts& trial,
                                            const std::set<AccountId>& touched) {
  std::set<AccountId> carried;
  for (const RecordAccount& ra : r.accounts) {
    const Account& got = ra.state;
    if (!touched.count(got.id)) {
      return Bad(r, got.id, "the record carries it, but no op touches it");
    }
    if (!carried.insert(got.id).second) {
      return Bad(r, got.id, "the record carries it twice");
    }
    const Account& want = trial.at(got.id);
    auto was = before.find(got.id);
    std::uint64_t names = want.first.empty() && want.last.empty()
                              ? (was != before.end() ? was->second.names : 0)
                              : NamesHash(want.first, want.last);
    std::uint64_t prev_txn = was != before.end() ? was->second.last_txn : 0;
    DB_RETURN_IF_ERROR(CheckState(r, ra, want, prev_txn, names));
    Remember(got.id, Seen{got.balance, got.version, r.txn, names, got.closed}, where);
  }
  for (AccountId id : touched) {
    if (!carried.count(id)) {
      return Bad(r, id, "an op touches it, but the record does not carry its state");
    }
  }
  return Status::Ok();
}

Status AccountHistoryFollower::CheckState(const Record& r, const RecordAccount& ra,
                                          const Account& want, std::uint64_t prev_txn,
                                          std::uint64_t names) {
  const Account& got = ra.state;
  if (got.balance != want.balance) {
    return Bad(r, got.id, fmt::format("balance {} in the record, the rules give {}",
                                      FormatCents(got.balance), FormatCents(want.balance)));
  }
  if (got.closed != want.closed) {
    return Bad(r, got.id,
               fmt::format("status {} in the record, the rules give {}",
                           got.closed ? "closed" : "open", want.closed ? "closed" : "open"));
  }
  if (got.version != want.version + 1) {
    return Bad(r, got.id, fmt::format("version {} in the record, {} expected", got.version,
                                      want.version + 1));
  }
  if (got.last_txn != r.txn) {
    return Bad(r, got.id,
               fmt::format("last_txn {} in the record, which is txn {}", got.last_txn, r.txn));
  }
  if (ra.prev_txn != prev_txn) {
    return Bad(r, got.id,
               fmt::format("prev_txn {} in the record, but its previous record is txn {}",
                           ra.prev_txn, prev_txn));
  }
  if (NamesHash(got.first, got.last) != names) {
    return Bad(r, got.id, "its name in the record is not the name it was given");
  }
  return Status::Ok();
}

}  // namespace drovebank
