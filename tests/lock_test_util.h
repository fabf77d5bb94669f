// A store's directory layout with its lock tables, and a lock table of its own (its own
// open file description: locks held through it exclude the store's, as another process's
// would). For the lock tests.
#pragma once

#include <catch2/catch.hpp>
#include <memory>

#include "store/layout.h"
#include "store/lockfile.h"
#include "drovebank/store.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank::testing {

inline Layout NewLayout(const TempDir& d) {
  StoreOptions so;
  so.data_dir = d / "data";
  REQUIRE(Store::Open(so).ok());
  return Layout(so.data_dir);
}

inline std::unique_ptr<LockTable> Table(const Layout& layout) {
  auto t = LockTable::Open(PosixEnv(), layout, StorageMode{}, false);
  REQUIRE(t.ok());
  return std::move(t).value();
}

}  // namespace drovebank::testing
