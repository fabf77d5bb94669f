// A small store made through the real program, for the end-to-end integrity tests
// (chain_test.cc, own_links_test.cc).
#pragma once

#include <string>

#include "require_run.h"
#include "test_util.h"

namespace drovebank::testing {

// Two accounts and five records: opens, a keyed deposit, a transfer, a withdrawal.
// Account 1 ends at 115.00, account 2 at 38.50.
inline void MakeSmallStore(const std::string& data) {
  Must(Drovebank(data, {"open", "Ada", "Lovelace", "100"}));
  Must(Drovebank(data, {"open", "Mary", "Somerville", "50"}));
  Must(Drovebank(data, {"deposit", "1", "5", "--txn", "pay-1"}));
  Must(Drovebank(data, {"transfer", "2", "1", "10"}));
  Must(Drovebank(data, {"withdraw", "2", "1.50"}));
}

}  // namespace drovebank::testing
