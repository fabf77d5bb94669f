// The bank's rules as a module (include/drovebank/rules.h, src/store/rules.cc): ApplyOp on
// working states fills each op's results, and a refused op names its rule and leaves every
// state as it was. The same rules through a committing store are in store_test.cc.
#include "drovebank/rules.h"

#include <catch2/catch.hpp>
#include <map>

#include "drovebank/money.h"
#include "store_ops.h"

namespace drovebank {
namespace {

using testing::Money;
using testing::OpenOp;
using testing::Rename;
using Accounts = std::map<AccountId, Account>;

// Accounts 1 (Ada Lovelace, 100.00) and 2 (Mary Somerville, 50.00), opened by ApplyOp.
Accounts Two() {
  Accounts a;
  Op one = OpenOp("Ada", "Lovelace", 10000);
  one.id = 1;
  Op two = OpenOp("Mary", "Somerville", 5000);
  two.id = 2;
  REQUIRE(ApplyOp(&one, &a).ok());
  REQUIRE(ApplyOp(&two, &a).ok());
  CHECK(one.after == 10000);
  return a;
}

// Applies `op` to `a` and requires it refused with `code`, `a` unchanged.
void Refused(Op op, Accounts a, Code code) {
  Accounts before = a;
  Status s = ApplyOp(&op, &a);
  INFO(s.message());
  CHECK(s.code() == code);
  REQUIRE(a.size() == before.size());
  for (const auto& [id, acct] : before) {
    CHECK(a[id].balance == acct.balance);
    CHECK(a[id].closed == acct.closed);
    CHECK(a[id].first == acct.first);
  }
}

TEST_CASE("rules: money ops move exactly their amount and report the balances after",
          "[rules]") {
  Accounts a = Two();
  CHECK(a[1].first == "Ada");
  CHECK(a[1].balance == 10000);

  Op dep = Money(OpKind::kDeposit, 1, 250);
  REQUIRE(ApplyOp(&dep, &a).ok());
  CHECK(dep.after == 10250);
  Op wd = Money(OpKind::kWithdraw, 2, 5000);  // the whole balance
  REQUIRE(ApplyOp(&wd, &a).ok());
  CHECK(wd.after == 0);
  Op tr = Money(OpKind::kTransfer, 1, 10250, 2);
  REQUIRE(ApplyOp(&tr, &a).ok());
  CHECK(tr.after == 0);
  CHECK(tr.to_after == 10250);
  CHECK(a[1].balance == 0);
  CHECK(a[2].balance == 10250);

  Op close;
  close.kind = OpKind::kClose;
  close.id = 1;
  REQUIRE(ApplyOp(&close, &a).ok());
  CHECK(a[1].closed);

  Op rn = Rename(2, "Mary", "Fairfax");
  REQUIRE(ApplyOp(&rn, &a).ok());
  CHECK(rn.was_first == "Mary");
  CHECK(rn.was_last == "Somerville");
  CHECK(a[2].last == "Fairfax");
  CHECK(rn.after == 10250);
}

TEST_CASE("rules: each rule refuses with its code and changes nothing", "[rules]") {
  Accounts a = Two();
  Refused(Money(OpKind::kWithdraw, 2, 5001), a, Code::kInsufficientFunds);
  Refused(Money(OpKind::kTransfer, 2, 5001, 1), a, Code::kInsufficientFunds);
  Refused(Money(OpKind::kDeposit, 1, 0), a, Code::kInvalidArgument);
  Refused(Money(OpKind::kWithdraw, 1, -1), a, Code::kInvalidArgument);
  Refused(Money(OpKind::kTransfer, 1, 1, 1), a, Code::kInvalidArgument);
  Refused(Money(OpKind::kDeposit, 3, 1), a, Code::kNotFound);
  Refused(Money(OpKind::kTransfer, 1, 1, 3), a, Code::kNotFound);
  Refused(Money(OpKind::kDeposit, 1, kMaxCents), a, Code::kLimit);
  Refused(Money(OpKind::kTransfer, 1, 1, 2), [&] {
    Accounts full = a;
    full[2].balance = kMaxCents;
    return full;
  }(), Code::kLimit);
  Op close;
  close.kind = OpKind::kClose;
  close.id = 1;
  Refused(close, a, Code::kRuleFailed);  // still holds 100.00
  Refused(Rename(1, "Ada", "Lovelace"), a, Code::kRuleFailed);  // the same names
  Refused(Rename(1, "", "Lovelace"), a, Code::kInvalidArgument);
  Op again = OpenOp("Ada", "Lovelace", 1);
  again.id = 1;
  Refused(again, a, Code::kInternal);
  Refused(OpenOp("Ada", "Lovelace", kMaxCents + 1), a, Code::kInvalidArgument);

  Accounts closed = a;
  closed[1].balance = 0;
  closed[1].closed = true;
  Refused(Money(OpKind::kDeposit, 1, 1), closed, Code::kClosed);
  Refused(Money(OpKind::kTransfer, 2, 1, 1), closed, Code::kClosed);
  Refused(close, closed, Code::kClosed);
  Refused(Rename(1, "Ada", "King"), closed, Code::kClosed);
}

}  // namespace
}  // namespace drovebank
