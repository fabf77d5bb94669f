// One file rewritten from the journal (an account file, or a slot of keys/index), as the
// store reports it to StoreOptions::on_repair: what the file held, what the journal gives,
// and where the old file was kept. `recover` prints one line per repair from it.
//
// Contract: a plain value, reported only after the repaired file is durably in place;
// a repair that fails reports nothing and the store call returns the failure instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "drovebank/account.h"

namespace drovebank {

struct FileRepair {
  enum class Found {
    kMissing,  // no file
    kBehind,   // a valid file at an older version: a change the crash kept from it
    kEdited,   // a well-formed record whose checksum fails: changed outside drovebank
    kCorrupt,  // does not decode at all
    kDiffers,  // valid, at or past the journal's version, but not the journal's state
    kKeySlot,  // a slot of keys/index that did not reach a keyed record
  };
  Found found = Found::kMissing;
  std::string file;  // relative to the data directory ("accounts/00/00/00/02.csv")
  // Account files: the account, what the file said (kBehind, kDiffers, and kEdited or
  // kCorrupt when the fields still parse, checksum aside), why it did not decode
  // (kEdited, kCorrupt), and the journal's state now in the file.
  AccountId id = 0;
  std::optional<Account> file_said;
  std::string problem;
  Account journal;
  // Where the old content was copied before it was replaced, relative to the data
  // directory; empty for kMissing, kBehind and kKeySlot (nothing of it is lost: the
  // journal holds it). Never deleted by drovebank.
  std::string kept_as;
  // kKeySlot: the newest keyed record, which the slot now names.
  std::string key;
  std::uint64_t txn = 0;
};

// One line: "account 2: file said 5000.00, journal says 50.00; restored, the edited file
// kept as quarantine/account-00000002-1764650000000.csv".
std::string DescribeFileRepair(const FileRepair& repair);
// "behind", "edited", ...: the `found` field of recover's JSON report.
std::string_view FoundName(FileRepair::Found found);

}  // namespace drovebank
