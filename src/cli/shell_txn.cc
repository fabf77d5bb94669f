// Shell transactions. Why stage against working copies read without a lock: a person may
// think for minutes between `begin` and `commit`, and no account may stay locked that long.
// The price is that another session can change an account meanwhile; the store re-checks
// every rule at commit against the state it then locks, so a stale plan is refused whole.
#include "drovebank/rules.h"
#include "shell_txn.h"
#include "columns.h"

#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "exit_codes.h"

namespace drovebank {

Status PendingTransaction::Fetch(Store* store, AccountId id) {
  if (id == 0 || working_.count(id)) return Status::Ok();
  auto acct = store->Get(id);
  if (!acct.ok()) {
    // A missing account stays missing in the map: ApplyOp then names it.
    return acct.status().code() == Code::kNotFound ? Status::Ok() : acct.status();
  }
  committed_.emplace(id, *acct);
  working_.emplace(id, *acct);
  return Status::Ok();
}

Status PendingTransaction::Stage(Store* store, Op* op) {
  if (op->kind != OpKind::kDeposit && op->kind != OpKind::kWithdraw &&
      op->kind != OpKind::kTransfer) {
    return Status::InvalidArgument(fmt::format(
        "{} cannot be part of a transaction; commit or abort first", OpKindName(op->kind)));
  }
  DB_RETURN_IF_ERROR(Fetch(store, op->id));
  if (op->kind == OpKind::kTransfer) DB_RETURN_IF_ERROR(Fetch(store, op->to));
  DB_RETURN_IF_ERROR(ApplyOp(op, &working_));
  ops_.push_back(*op);
  return Status::Ok();
}

Result<EventResult> PendingTransaction::Commit(Store* store) {
  Event event;
  event.key = key_;
  for (const Op& staged : ops_) {
    Op op;  // the request only: the store computes the results against current state
    op.kind = staged.kind;
    op.id = staged.id;
    op.to = staged.to;
    op.amount = staged.amount;
    op.memo = staged.memo;
    event.ops.push_back(op);
  }
  DB_FAULT_PATH("commit");
  return store->Commit(std::move(event));
}

Status PendingTransaction::WorkingStates(Store* store, const std::vector<AccountId>& ids,
                                         std::map<AccountId, Account>* accounts) {
  for (AccountId id : ids) {
    if (const Account* p = Pending(id)) {
      (*accounts)[id] = *p;
      continue;
    }
    auto acct = store->Get(id);
    if (acct.ok()) {
      (*accounts)[id] = *acct;
    } else if (acct.status().code() != Code::kNotFound) {
      return acct.status();
    }
  }
  return Status::Ok();
}

const Account* PendingTransaction::Pending(AccountId id) const {
  auto it = working_.find(id);
  return it == working_.end() ? nullptr : &it->second;
}

const Account* PendingTransaction::Committed(AccountId id) const {
  auto it = committed_.find(id);
  return it == committed_.end() ? nullptr : &it->second;
}

std::vector<AccountId> PendingTransaction::Touched() const {
  std::vector<AccountId> ids;
  for (const auto& [id, a] : working_) ids.push_back(id);
  return ids;
}

std::string DescribeOp(const Op& op) {
  std::string memo = op.memo.empty() ? "" : fmt::format(" (memo: {})", op.memo);
  return DescribeRequest(op) + memo;
}

std::string DescribeRequest(const Op& op) {
  switch (op.kind) {
    case OpKind::kDeposit:
      return fmt::format("deposit {} to account {}", FormatCents(op.amount), op.id);
    case OpKind::kWithdraw:
      return fmt::format("withdraw {} from account {}", FormatCents(op.amount), op.id);
    case OpKind::kTransfer:
      return fmt::format("transfer {} from account {} to account {}", FormatCents(op.amount), op.id,
                         op.to);
    default:
      return fmt::format("{} account {}", OpKindName(op.kind), op.id);
  }
}

namespace {

nlohmann::json OpJson(const Op& op) {
  nlohmann::json j = {{"kind", OpKindName(op.kind)},
                      {"id", op.id},
                      {"amount", FormatCents(op.amount)},
                      {"balance_after", FormatCents(op.after)}};
  if (op.kind == OpKind::kTransfer) {
    j["to"] = op.to;
    j["to_balance_after"] = FormatCents(op.to_after);
  }
  if (!op.memo.empty()) j["memo"] = op.memo;
  return j;
}

nlohmann::json PendingAccountJson(const PendingTransaction& txn, AccountId id) {
  nlohmann::json j = AccountJson(*txn.Pending(id));
  j["pending"] = true;
  j["committed_balance"] = FormatCents(txn.Committed(id)->balance);
  return j;
}

std::string PendingLine(const PendingTransaction& txn, AccountId id) {
  const Account& p = *txn.Pending(id);
  return fmt::format("{:>8}  {}  {:>18}  (pending; committed {})", id,
                     FitColumn(fmt::format("{} {}", p.first, p.last), 30), FormatCents(p.balance),
                     FormatCents(txn.Committed(id)->balance));
}

std::string OptionText(CLI::App* sub, const std::string& name) {
  CLI::Option* o = sub->get_option(name);
  return o->count() > 0 ? o->as<std::string>() : std::string();
}

Status StageFromArgs(CliContext& ctx, PendingTransaction& txn, CLI::App* sub, OpKind kind) {
  if (sub->get_option("--txn")->count() > 0) {
    return Status::InvalidArgument(
        "--txn cannot be given to one change inside a transaction; give the key to the whole "
        "transaction with `begin --txn KEY`");
  }
  Op op;
  op.kind = kind;
  DB_ASSIGN_OR_RETURN(op.id,
                      ParseAccountId(OptionText(sub, kind == OpKind::kTransfer ? "FROM" : "ID")));
  if (kind == OpKind::kTransfer) {
    DB_ASSIGN_OR_RETURN(op.to, ParseAccountId(OptionText(sub, "TO")));
  }
  DB_ASSIGN_OR_RETURN(op.amount, ParseAmount(OptionText(sub, "AMOUNT")));
  if (op.amount == 0) return Status::InvalidArgument("the amount must be above 0.00");
  op.memo = OptionText(sub, "--memo");
  DB_RETURN_IF_ERROR(ValidateMemo(op.memo));
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  DB_RETURN_IF_ERROR(txn.Stage(store, &op));
  nlohmann::json accounts = nlohmann::json::array();
  std::string text = fmt::format("Staged: {} ({} change(s) pending; `commit` applies them)",
                                 DescribeOp(op), txn.ops().size());
  for (AccountId id : {op.id, op.to}) {
    if (id == 0) continue;
    accounts.push_back(PendingAccountJson(txn, id));
    text += fmt::format("\n  account {} balance {} (pending)", id,
                        FormatCents(txn.Pending(id)->balance));
  }
  ctx.Print({{"staged", OpJson(op)},
             {"pending", true},
             {"pending_changes", txn.ops().size()},
             {"accounts", accounts}},
            text);
  return Status::Ok();
}

Status ShowPending(CliContext& ctx, PendingTransaction& txn, CLI::App* sub) {
  DB_ASSIGN_OR_RETURN(AccountId id, ParseAccountId(OptionText(sub, "ID")));
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  const Account* p = txn.Pending(id);
  if (p == nullptr) {
    // Untouched by the transaction: the committed state is the pending one.
    DB_ASSIGN_OR_RETURN(Account a, store->Get(id));
    ctx.Print(AccountJson(a),
              fmt::format("Account {}: {} {}\nBalance: {}\nStatus:  {}\nChanges: {} (last txn {})",
                          a.id, a.first, a.last, FormatCents(a.balance),
                          a.closed ? "closed" : "open", a.version, a.last_txn));
    return Status::Ok();
  }
  ctx.Print(PendingAccountJson(txn, id),
            fmt::format("Account {}: {} {}\nBalance: {} (pending; committed {})\nStatus:  {}", id,
                        p->first, p->last, FormatCents(p->balance),
                        FormatCents(txn.Committed(id)->balance), p->closed ? "closed" : "open"));
  return Status::Ok();
}

// The subcommand `name` of `app`, or nullptr when the App was built for another command
// alone (CLI11's get_subcommand throws instead).
CLI::App* SubcommandOrNull(CLI::App& app, std::string_view name) {
  auto found = app.get_subcommands([name](CLI::App* c) { return c->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

void Refuse(CliContext& ctx, CLI::App* sub, std::string_view what) {
  if (sub == nullptr) return;
  sub->callback([&ctx, what = std::string(what)]() {
    ctx.Fail(Status::InvalidArgument(
        fmt::format("{} cannot be part of a transaction; commit or abort first", what)));
  });
}

}  // namespace

void BindTransactionCommands(CLI::App& app, CliContext& ctx, PendingTransaction& txn) {
  for (auto [name, kind] :
       {std::pair{"deposit", OpKind::kDeposit}, std::pair{"withdraw", OpKind::kWithdraw},
        std::pair{"transfer", OpKind::kTransfer}}) {
    CLI::App* sub = SubcommandOrNull(app, name);
    if (sub == nullptr) continue;
    OpKind k = kind;
    sub->callback([&ctx, &txn, sub, k]() {
      Status s = StageFromArgs(ctx, txn, sub, k);
      if (!s.ok()) ctx.Fail(s);
    });
  }
  if (CLI::App* show = SubcommandOrNull(app, "show")) {
    show->callback([&ctx, &txn, show]() {
      Status s = ShowPending(ctx, txn, show);
      if (!s.ok()) ctx.Fail(s);
    });
  }
  Refuse(ctx, SubcommandOrNull(app, "open"), "open");
  Refuse(ctx, SubcommandOrNull(app, "close"), "close");
  Refuse(ctx, SubcommandOrNull(app, "rename"), "rename");
  // A reversal commits at once under its own key: it cannot join a staged transaction.
  Refuse(ctx, SubcommandOrNull(app, "reverse"), "reverse");
}

void PrintPendingSummary(CliContext& ctx, const PendingTransaction& txn) {
  nlohmann::json ops = nlohmann::json::array();
  nlohmann::json accounts = nlohmann::json::array();
  std::string text =
      fmt::format("Transaction{}: {} change(s) pending, not committed",
                  txn.key().empty() ? "" : fmt::format(" (key {})", txn.key()), txn.ops().size());
  for (size_t i = 0; i < txn.ops().size(); ++i) {
    ops.push_back(OpJson(txn.ops()[i]));
    text += fmt::format("\n  {}. {}", i + 1, DescribeOp(txn.ops()[i]));
  }
  if (!txn.Touched().empty()) text += "\nBalances with them:";
  for (AccountId id : txn.Touched()) {
    accounts.push_back(PendingAccountJson(txn, id));
    text += "\n" + PendingLine(txn, id);
  }
  nlohmann::json j = {{"transaction", true}, {"pending", ops}, {"accounts", accounts}};
  if (!txn.key().empty()) j["key"] = txn.key();
  ctx.Print(j, text);
}

std::string ApplyingText(const PendingTransaction& txn) {
  std::string text = fmt::format("Applying {} staged change(s):", txn.ops().size());
  for (const Op& op : txn.ops()) text += "\n  " + DescribeOp(op);
  return text;
}

bool CommitAndReport(CliContext& ctx, PendingTransaction& txn) {
  if (txn.ops().empty()) {
    ctx.Print({{"committed", false}, {"changes", 0}},
              "Nothing to commit; the transaction is closed.");
    return true;
  }
  auto store = ctx.GetStore();
  if (!store.ok()) {
    ctx.Fail(store.status());
    return false;
  }
  auto res = txn.Commit(*store);
  if (!res.ok()) {
    const Status& s = res.status();
    std::string tail;
    if (!s.maybe_applied()) {
      if (s.message().find("nothing changed") == std::string::npos) tail = "; nothing changed";
      tail += ". The transaction is still open: `commit` to try again, `abort` to discard it";
    }
    ctx.Fail(Status(s.code(), fmt::format("commit refused: {}{}", s.message(), tail))
                 .set_maybe_applied(s.maybe_applied()));
    return s.maybe_applied();
  }
  const Record& r = res->record;
  ctx.Committed(r.txn);
  nlohmann::json j = RecordJsonView(r);
  j["committed"] = true;
  j["replayed"] = res->replayed;
  std::string text = fmt::format("Committed {} change(s) as transaction {}{}", r.ops.size(), r.txn,
                                 res->replayed ? " (already committed earlier with this key)" : "");
  for (const Op& op : r.ops) {
    text += fmt::format("\n  {}: account {} now {}", DescribeOp(op), op.id, FormatCents(op.after));
    if (op.kind == OpKind::kTransfer) {
      text += fmt::format(", account {} now {}", op.to, FormatCents(op.to_after));
    }
  }
  ctx.Print(j, text);
  return true;
}

}  // namespace drovebank
