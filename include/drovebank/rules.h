// The bank's rules, as the commit applies them (src/store/rules.cc): what a shell
// transaction or the menu checks on its working copies before anything is committed, so
// that a staged withdrawal the balance cannot cover is refused when it is staged. The
// commit checks every op again under its locks; this is a preview, never a promise.
#pragma once

#include <map>

#include "drovebank/account.h"
#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

// Applies one op to `accounts` (the working states, by id). Fails with the rule that
// refuses it and leaves `accounts` unchanged; fills op->after / op->to_after.
Status ApplyOp(Op* op, std::map<AccountId, Account>* accounts);

}  // namespace drovebank
