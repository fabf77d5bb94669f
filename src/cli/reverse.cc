#include "reverse.h"

#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "exit_codes.h"

namespace drovebank {

namespace {

Status AlreadyReversed(Store* store, std::uint64_t txn) {
  auto by = store->ReversedBy(txn);
  std::string which = by.ok() && *by != 0 ? fmt::format(" by txn {}", *by) : "";
  return Status::RuleFailed(
      fmt::format("txn {} was already reversed{}; nothing changed", txn, which));
}

}  // namespace

Result<Event> ReversalOf(const Record& r, const std::string& memo) {
  auto refuse = [&](std::string_view why) {
    return Status::RuleFailed(fmt::format(
        "txn {} {}: only deposits, withdrawals and transfers can be reversed; nothing changed",
        r.txn, why));
  };
  if (r.reverses != 0) return refuse(fmt::format("is itself the reversal of txn {}", r.reverses));
  if (r.ops.empty()) return refuse("changes no balance");
  Event e;
  e.key = ReversalKey(r.txn);
  e.reverses = r.txn;
  for (auto it = r.ops.rbegin(); it != r.ops.rend(); ++it) {
    Op op;
    op.amount = it->amount;
    op.memo = memo;
    switch (it->kind) {
      case OpKind::kDeposit:
        op.kind = OpKind::kWithdraw;
        op.id = it->id;
        break;
      case OpKind::kWithdraw:
        op.kind = OpKind::kDeposit;
        op.id = it->id;
        break;
      case OpKind::kTransfer:
        op.kind = OpKind::kTransfer;
        op.id = it->to;
        op.to = it->id;
        break;
      case OpKind::kOpen:
        return refuse(fmt::format("opens account {}", it->id));
      case OpKind::kClose:
        return refuse(fmt::format("closes account {}", it->id));
      case OpKind::kRename:
        return refuse(fmt::format("renames account {} (rename it back instead)", it->id));
    }
    e.ops.push_back(std::move(op));
  }
  return e;
}

Result<EventResult> Reverse(Store* store, std::uint64_t txn, const std::string& memo) {
  DB_RETURN_IF_ERROR(ValidateMemo(memo));
  DB_ASSIGN_OR_RETURN(Record original, store->FindTxn(txn));
  DB_ASSIGN_OR_RETURN(Event event, ReversalOf(original, memo));
  DB_FAULT_PATH("reverse");
  auto res = store->Commit(std::move(event));
  // The key says it: replayed (the same reversal again) or reused (another memo).
  if (res.ok() && res->replayed) return AlreadyReversed(store, txn);
  if (!res.ok() && res.status().code() == Code::kKeyReused) return AlreadyReversed(store, txn);
  if (!res.ok() && !res.status().maybe_applied() && ExitCodeFor(res.status().code()) == kExitRefused) {
    return Status(res.status().code(),
                  fmt::format("cannot reverse txn {}: {}", txn, res.status().message()));
  }
  return res;
}

}  // namespace drovebank
