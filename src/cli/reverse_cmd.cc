#include "reverse_cmd.h"

#include <memory>

#include <fmt/format.h>

#include "reverse.h"
#include "own_args.h"

namespace drovebank {

namespace {

struct ReverseArgs {
  std::string txn, memo;
};

std::string OpLine(const Op& op) {
  std::string memo = op.memo.empty() ? "" : fmt::format(" (memo: {})", op.memo);
  switch (op.kind) {
    case OpKind::kTransfer:
      return fmt::format("  transfer {} from account {} (now {}) to account {} (now {}){}",
                         FormatCents(op.amount), op.id, FormatCents(op.after), op.to,
                         FormatCents(op.to_after), memo);
    case OpKind::kDeposit:
      return fmt::format("  deposit {} to account {} (now {}){}", FormatCents(op.amount), op.id,
                         FormatCents(op.after), memo);
    default:
      return fmt::format("  withdraw {} from account {} (now {}){}", FormatCents(op.amount),
                         op.id, FormatCents(op.after), memo);
  }
}

Status RunReverse(CliContext& ctx, const ReverseArgs& a) {
  DB_ASSIGN_OR_RETURN(std::uint64_t txn, ParseTxnNumber(a.txn));
  DB_RETURN_IF_ERROR(ValidateMemo(a.memo));
  DB_ASSIGN_OR_RETURN(Store * store, ctx.GetStore(StoreAccess::kChange));
  DB_ASSIGN_OR_RETURN(EventResult res, Reverse(store, txn, a.memo));
  const Record& r = res.record;
  ctx.Committed(r.txn);
  std::string text = fmt::format("Reversed txn {} as txn {}", txn, r.txn);
  for (const Op& op : r.ops) text += "\n" + OpLine(op);
  ctx.Print(RecordJsonView(r), text);
  return Status::Ok();
}

}  // namespace

void AddReverseCommand(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<ReverseArgs>();
  auto* c = app.add_subcommand(
      "reverse", "Undo committed transaction TXN (a deposit, withdrawal or transfer)");
  OwnArgs(c, a);
  c->add_option("TXN", a->txn, "Transaction number")->required();
  c->add_option("--memo", a->memo, "A note kept with the reversal (up to 200 characters)")
      ->type_name("MEMO");
  c->footer(
      "\nCommits the exact opposite of TXN as a new transaction that names it: a deposit is "
      "withdrawn, a withdrawal deposited back, a transfer sent back. Refused (exit 3, nothing "
      "changed) when the money is no longer there, when TXN was already reversed, or when it "
      "is an open, a close or a reversal. A txn is reversed at most once, even by two "
      "sessions at the same time: the reversal is committed under the key reverse:TXN.\n\n"
      "Examples:\n  drovebank reverse 42\n  drovebank reverse 42 --memo \"entered twice\"");
  c->callback([&ctx, a]() {
    Status s = RunReverse(ctx, *a);
    if (!s.ok()) ctx.Fail(s);
  });
}

}  // namespace drovebank
