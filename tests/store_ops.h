// Events for in-process Store tests: the ops every such test builds, and an open that must
// succeed.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "drovebank/store.h"

namespace drovebank::testing {

inline Op OpenOp(std::string first, std::string last, Cents amount) {
  Op op;
  op.kind = OpKind::kOpen;
  op.first = std::move(first);
  op.last = std::move(last);
  op.amount = amount;
  return op;
}

// A deposit, withdrawal or transfer (`to` only for a transfer).
inline Op Money(OpKind kind, AccountId id, Cents amount, AccountId to = 0) {
  Op op;
  op.kind = kind;
  op.id = id;
  op.to = to;
  op.amount = amount;
  return op;
}

// A rename of account `id` to `first` `last`.
inline Op Rename(AccountId id, std::string first, std::string last) {
  Op op;
  op.kind = OpKind::kRename;
  op.id = id;
  op.first = std::move(first);
  op.last = std::move(last);
  return op;
}

// The store in `data`, every file operation through `env`; the test stops if it fails.
inline std::unique_ptr<Store> MustOpenStore(const std::string& data, Env* env) {
  StoreOptions o;
  o.data_dir = data;
  o.env = env;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

// Opens an account of Ada Lovelace with `amount`; the test stops if that fails.
inline AccountId MustOpen(Store& s, Cents amount) {
  auto r = s.Commit(Event{{OpenOp("Ada", "Lovelace", amount)}, ""});
  REQUIRE(r.ok());
  return r->record.ops[0].id;
}

}  // namespace drovebank::testing
