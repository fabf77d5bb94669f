// `drovebank reverse TXN`: commits the exact opposite of a committed deposit, withdrawal
// or transfer as a new transaction that names the one it reverses (Record::reverses).
//
// A reversal is committed under the idempotency key ReversalKey(TXN) ("reverse:TXN"):
// the key's slot lock makes two reversals of one txn take turns, and the key lookup
// (keys/index and the slot's chain through the journal, set after the commit point and
// repaired from the journal after a crash like any key) makes every later one see the first. So a txn is reversed at most once,
// whatever runs at the same time or crashes.
#pragma once

#include <cstdint>
#include <string>

#include "drovebank/record.h"
#include "drovebank/status.h"
#include "drovebank/store.h"

namespace drovebank {

// The event that undoes `r`: each op's opposite (a deposit becomes a withdrawal of the
// same amount from the same account, a withdrawal a deposit, a transfer the transfer
// back), in reverse order, each with `memo`; keyed ReversalKey(r.txn), reverses r.txn.
// RuleFailed when `r` holds anything else (an open, a close, an id reservation) or is a
// reversal itself.
Result<Event> ReversalOf(const Record& r, const std::string& memo);

// Reverses committed txn `txn` with `memo` (ValidateMemo; "" for none) and returns the
// committed reversal. Refused, with nothing changed: InvalidArgument for a bad memo;
// NotFound for no such txn; RuleFailed when it cannot be reversed (ReversalOf) or was
// already reversed (the message names the reversal's txn); the rule's own code when the
// reversal breaks one (InsufficientFunds: the money is no longer there; Closed). Other
// errors as for Store::Commit. Its write path's fault points are "reverse:STEP".
Result<EventResult> Reverse(Store* store, std::uint64_t txn, const std::string& memo);

}  // namespace drovebank
