// The original drovebank's menu: one letter, then one question per value. Each answer is
// checked as it is given (a bad one is refused with the reason and asked again), using the
// same rules as the command (ApplyOp on the working balances, so a withdrawal the account
// cannot cover is refused at the Amount question). The collected values then run as the
// named command, so output, --json and transactions behave exactly as for commands.
#include <fmt/format.h>

#include "drovebank/rules.h"
#include "exit_codes.h"
#include "shell.h"
#include "shell_internal.h"
#include "shell_txn.h"

namespace drovebank {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

// One question. Returns false when the action is cancelled (q, Ctrl-C, end of input, or
// --bail after a bad answer in a script); *answer holds the accepted text otherwise.
bool Shell::Ask(const std::string& question, const std::function<Status(const std::string&)>& check,
                std::string* answer) {
  for (;;) {
    InputLine l = ReadLine(question + ": ");
    if (l.kind == InputLine::kInterrupted) {
      ctx_.Print({{"cancelled", true}}, "Cancelled; nothing changed.");
      return false;
    }
    if (l.kind == InputLine::kEnd) {
      if (!in_.interactive()) {
        NoteFailure(Fail(Status::InvalidArgument(
            fmt::format("the input ended at the question \"{}\"; nothing changed", question))));
      } else {
        Say("");
      }
      return false;
    }
    std::string text = Trim(l.text);
    if (text == "q") {
      ctx_.Print({{"cancelled", true}}, "Cancelled; nothing changed.");
      return false;
    }
    Status s = check(text);
    if (s.ok()) {
      *answer = text;
      return true;
    }
    if (in_.interactive()) {
      fmt::print(ctx_.err, "{}; try again (q cancels)\n", s.message());
      std::fflush(ctx_.err);
    } else {
      NoteFailure(Fail(Status(s.code(), s.message() + "; asking again")));
      if (stop_) return false;
    }
  }
}

Result<std::map<AccountId, Account>> Shell::WorkingStates(const std::vector<AccountId>& ids) {
  DB_ASSIGN_OR_RETURN(Store * store, ctx_.GetStore());
  std::map<AccountId, Account> accounts;
  if (txn_) {
    DB_RETURN_IF_ERROR(txn_->WorkingStates(store, ids, &accounts));
    return accounts;
  }
  for (AccountId id : ids) {
    auto a = store->Get(id);
    if (a.ok()) {
      accounts[id] = *a;
    } else if (a.status().code() != Code::kNotFound) {
      return a.status();
    }
  }
  return accounts;
}

Status Shell::CheckAccountAnswer(const std::string& text, AccountId other, AccountId* id) {
  DB_ASSIGN_OR_RETURN(*id, ParseAccountId(text));
  if (*id == other) return Status::InvalidArgument("a transfer needs two different accounts");
  DB_ASSIGN_OR_RETURN(auto accounts, WorkingStates({*id}));
  auto it = accounts.find(*id);
  if (it == accounts.end()) return Status::NotFound(fmt::format("no account {}", *id));
  if (it->second.closed) return Status::Closed(fmt::format("account {} is closed", *id));
  return Status::Ok();
}

Status Shell::CheckAmountAnswer(const std::string& text, Op op) {
  DB_ASSIGN_OR_RETURN(op.amount, ParseAmount(text));
  if (op.amount == 0) return Status::InvalidArgument("the amount must be above 0.00");
  std::vector<AccountId> ids = {op.id};
  if (op.kind == OpKind::kTransfer) ids.push_back(op.to);
  DB_ASSIGN_OR_RETURN(auto accounts, WorkingStates(ids));
  return ApplyOp(&op, &accounts);
}

int Shell::RunMenu(char letter, bool* quit) {
  ctx_.exit_code = kExitOk;
  switch (letter) {
    case 'q':
    case 'e':
      *quit = true;
      return kExitOk;
    case 'h':
      Say(MenuText() + "\nNamed commands work too: type help for them.");
      return kExitOk;
    case 'l':
      return RunCommand({"list"}, quit);
    case 'c': {
      if (txn_) {
        return Fail(Status::InvalidArgument(
            "creating an account cannot be part of a transaction; commit or abort first"));
      }
      std::string first, last, balance;
      if (!Ask(
              "First Name", [](const std::string& t) { return ValidateNewName(TrimName(t), "first name"); },
              &first) ||
          !Ask(
              "Last Name", [](const std::string& t) { return ValidateNewName(TrimName(t), "last name"); },
              &last) ||
          !Ask(
              "Starting Balance", [](const std::string& t) { return ParseAmount(t).status(); },
              &balance)) {
        return kExitOk;
      }
      return RunCommand({"open", first, last, balance}, quit);
    }
    default:
      break;
  }
  // d, w, t: accounts first, then the amount checked against them.
  Op op;
  op.kind = letter == 'd'   ? OpKind::kDeposit
            : letter == 'w' ? OpKind::kWithdraw
                            : OpKind::kTransfer;
  std::string from, to, amount;
  bool transfer = op.kind == OpKind::kTransfer;
  if (!Ask(
          transfer ? "From Account ID" : "Account ID",
          [&](const std::string& t) { return CheckAccountAnswer(t, 0, &op.id); }, &from)) {
    return kExitOk;
  }
  if (transfer &&
      !Ask(
          "To Account ID",
          [&](const std::string& t) { return CheckAccountAnswer(t, op.id, &op.to); }, &to)) {
    return kExitOk;
  }
  if (!Ask(
          "Amount", [&](const std::string& t) { return CheckAmountAnswer(t, op); }, &amount)) {
    return kExitOk;
  }
  std::vector<std::string> args = {std::string(OpKindName(op.kind)), from};
  if (transfer) args.push_back(to);
  args.push_back(amount);
  return RunCommand(std::move(args), quit);
}

}  // namespace drovebank
