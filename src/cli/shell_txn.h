// A shell transaction: deposits, withdrawals and transfers staged against working copies
// of the accounts, committed later as one journal record. Internal to the shell.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "drovebank/store.h"

namespace drovebank {

class PendingTransaction {
 public:
  explicit PendingTransaction(std::string key) : key_(std::move(key)) {}

  // Checks `op` (deposit, withdraw or transfer, request fields set) against the working
  // balances, reading accounts not seen yet from `store` (committed state, no lock). On
  // success the op is staged and op->after / op->to_after hold the pending balances. On
  // failure (the rule's Status, or a read error) nothing is staged.
  Status Stage(Store* store, Op* op);

  // Writes every staged op as one record with the transaction's key (the store re-checks
  // every rule against the state at commit and takes the locks in id order). On failure
  // nothing was written (unless the Status says maybe_applied) and the staged ops stay.
  Result<EventResult> Commit(Store* store);

  // Fills `accounts` with the working state of `ids`: pending for accounts this
  // transaction touched, committed (read from `store`) for the others; ids that do not
  // exist are left out. Used to check a menu answer before running it.
  Status WorkingStates(Store* store, const std::vector<AccountId>& ids,
                       std::map<AccountId, Account>* accounts);

  const std::vector<Op>& ops() const { return ops_; }
  const std::string& key() const { return key_; }
  // The pending / committed (as read when first touched) state of a touched account.
  const Account* Pending(AccountId id) const;
  const Account* Committed(AccountId id) const;
  std::vector<AccountId> Touched() const;

 private:
  Status Fetch(Store* store, AccountId id);

  std::string key_;
  std::vector<Op> ops_;
  std::map<AccountId, Account> committed_;  // as read before the first staged op on it
  std::map<AccountId, Account> working_;    // with every staged op applied
};

// One line describing a staged or committed op: "deposit 10.00 to account 7", with
// " (memo: TEXT)" when it has one.
std::string DescribeOp(const Op& op);
// The same without the memo.
std::string DescribeRequest(const Op& op);

// Rebinds the commands of a per-line App for use inside `txn`: deposit, withdraw and
// transfer stage instead of writing; show ID shows pending balances; open, close and
// --txn on a single op are refused (they cannot be part of a transaction). The App may
// hold only the line's own command (BuildApp's `only`): what it lacks is skipped.
void BindTransactionCommands(CLI::App& app, CliContext& ctx, PendingTransaction& txn);

// `show` with no id inside a transaction: the staged ops and the pending balances.
void PrintPendingSummary(CliContext& ctx, const PendingTransaction& txn);

// What `commit` is about to apply, one line per staged op in order:
// "Applying 2 staged change(s):\n  deposit 10.00 to account 1\n  ...".
std::string ApplyingText(const PendingTransaction& txn);

// `commit`: commits and prints the record, or fails through ctx.Fail. Returns true when
// committed (the caller then closes the transaction).
bool CommitAndReport(CliContext& ctx, PendingTransaction& txn);

}  // namespace drovebank
