// The bank's rules, evaluated on working copies so a refused op changes nothing.
#include <fmt/format.h>

#include "drovebank/rules.h"
#include "store_impl.h"

namespace drovebank {

namespace {

Result<Account*> Live(std::map<AccountId, Account>* accounts, AccountId id) {
  auto it = accounts->find(id);
  if (it == accounts->end()) return Status::NotFound(fmt::format("no account {}", id));
  if (it->second.closed) return Status::Closed(fmt::format("account {} is closed", id));
  return &it->second;
}

Status Positive(const Op& op) {
  if (op.amount <= 0) {
    return Status::InvalidArgument(fmt::format("a {} needs an amount above 0.00",
                                               OpKindName(op.kind)));
  }
  return Status::Ok();
}

Status ApplyOpen(Op* op, std::map<AccountId, Account>* accounts) {
  DB_RETURN_IF_ERROR(ValidateName(op->first, "first name"));
  DB_RETURN_IF_ERROR(ValidateName(op->last, "last name"));
  if (op->amount < 0 || op->amount > kMaxCents) {
    return Status::InvalidArgument("opening balance out of range");
  }
  if (accounts->count(op->id)) {
    return Status::Internal(fmt::format("account {} already exists", op->id));
  }
  Account a;
  a.id = op->id;
  a.first = op->first;
  a.last = op->last;
  a.balance = op->amount;
  (*accounts)[op->id] = a;
  op->after = op->amount;
  return Status::Ok();
}

Status ApplyDeposit(Op* op, std::map<AccountId, Account>* accounts) {
  DB_RETURN_IF_ERROR(Positive(*op));
  DB_ASSIGN_OR_RETURN(Account * a, Live(accounts, op->id));
  DB_ASSIGN_OR_RETURN(Cents nb, AddCents(a->balance, op->amount));
  a->balance = nb;
  op->after = nb;
  return Status::Ok();
}

Status ApplyWithdraw(Op* op, std::map<AccountId, Account>* accounts) {
  DB_RETURN_IF_ERROR(Positive(*op));
  DB_ASSIGN_OR_RETURN(Account * a, Live(accounts, op->id));
  if (a->balance < op->amount) {
    return Status::InsufficientFunds(
        fmt::format("account {} has {}, not enough to withdraw {}", op->id,
                    FormatCents(a->balance), FormatCents(op->amount)));
  }
  a->balance -= op->amount;
  op->after = a->balance;
  return Status::Ok();
}

Status ApplyTransfer(Op* op, std::map<AccountId, Account>* accounts) {
  DB_RETURN_IF_ERROR(Positive(*op));
  if (op->id == op->to) {
    return Status::InvalidArgument("a transfer needs two different accounts");
  }
  DB_ASSIGN_OR_RETURN(Account * from, Live(accounts, op->id));
  DB_ASSIGN_OR_RETURN(Account * to, Live(accounts, op->to));
  if (from->balance < op->amount) {
    return Status::InsufficientFunds(
        fmt::format("account {} has {}, not enough to transfer {}", op->id,
                    FormatCents(from->balance), FormatCents(op->amount)));
  }
  DB_ASSIGN_OR_RETURN(Cents nb, AddCents(to->balance, op->amount));
  from->balance -= op->amount;
  to->balance = nb;
  op->after = from->balance;
  op->to_after = nb;
  return Status::Ok();
}

Status ApplyClose(Op* op, std::map<AccountId, Account>* accounts) {
  if (auto it = accounts->find(op->id); it != accounts->end() && it->second.closed) {
    return Status::Closed(fmt::format("account {} is already closed", op->id));
  }
  DB_ASSIGN_OR_RETURN(Account * a, Live(accounts, op->id));
  if (a->balance != 0) {
    return Status::RuleFailed(fmt::format(
        "account {} still holds {}; only an account at 0.00 can be closed", op->id,
        FormatCents(a->balance)));
  }
  a->closed = true;
  op->after = 0;
  return Status::Ok();
}

Status ApplyRename(Op* op, std::map<AccountId, Account>* accounts) {
  DB_RETURN_IF_ERROR(ValidateName(op->first, "first name"));
  DB_RETURN_IF_ERROR(ValidateName(op->last, "last name"));
  DB_ASSIGN_OR_RETURN(Account * a, Live(accounts, op->id));
  if (a->first == op->first && a->last == op->last) {
    return Status::RuleFailed(fmt::format("account {} is already named {} {}", op->id,
                                          a->first, a->last));
  }
  op->was_first = a->first;
  op->was_last = a->last;
  a->first = op->first;
  a->last = op->last;
  op->after = a->balance;
  return Status::Ok();
}

}  // namespace

Status ApplyOp(Op* op, std::map<AccountId, Account>* accounts) {
  switch (op->kind) {
    case OpKind::kOpen:
      return ApplyOpen(op, accounts);
    case OpKind::kDeposit:
      return ApplyDeposit(op, accounts);
    case OpKind::kWithdraw:
      return ApplyWithdraw(op, accounts);
    case OpKind::kTransfer:
      return ApplyTransfer(op, accounts);
    case OpKind::kClose:
      return ApplyClose(op, accounts);
    case OpKind::kRename:
      return ApplyRename(op, accounts);
  }
  return Status::Internal("unknown op");
}

}  // namespace drovebank
