// Shared by the batch targets: what any parser that yields an Op must guarantee of it.
#pragma once

#include "drovebank/money.h"
#include "drovebank/record.h"
#include "drovebank/validate.h"
#include "fuzz_util.h"

namespace drovebank::fuzz {

// An accepted op is in range: money in [0, kMaxCents], ids in 1..kMaxAccountId, names valid.
inline void CheckOp(const Op& op) {
  FUZZ_CHECK(op.amount >= 0 && op.amount <= kMaxCents);
  if (op.kind == OpKind::kOpen) {
    FUZZ_CHECK(ValidateName(op.first, "first").ok() && ValidateName(op.last, "last").ok());
  } else {
    FUZZ_CHECK(op.id >= 1 && op.id <= kMaxAccountId);
  }
  if (op.kind == OpKind::kTransfer) FUZZ_CHECK(op.to >= 1 && op.to <= kMaxAccountId);
}

}  // namespace drovebank::fuzz
