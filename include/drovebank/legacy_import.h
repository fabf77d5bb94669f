// Plans the import of a data directory written by the original Python drovebank.
//
// The original kept one file per account, `<id>.txt` (decimal id, no zero padding), holding
// one line `first,last,balance` with the balance as Python float text ("100.0", "50.25"),
// and `index.idx` holding the last id it handed out. Its writes left crash leftovers that
// its `recover` script settled; the planner settles them the same way, on paper:
//
//   <id>.lock, <id>_<X>.txt.tmp, <id>_<X>.txt.old   interrupted write of one account (X is
//       8 letters or digits). If <id>.txt is missing, the single .tmp is the account
//       ("use-tmp"); otherwise <id>.txt is kept and the leftovers are "discard".
//   <id>_<X>.txt.xtmp, <id>_<X>.txt.xold            interrupted transfer between the two
//       accounts sharing X. If either account's .txt is missing, the transfer completes:
//       each of the pair's .xtmp files is its account ("use-xtmp", a .txt it supersedes is
//       "discard"). If both .txt exist they are kept and the x-files are "discard".
//   index.lock, index_<X>.idx.tmp/.old              interrupted write of the index, settled
//       like one account.
//   *.atmp                                          interrupted account creation: "skip".
//   anything else                                   "skip".
//
// Planning never modifies the directory and never writes to the new store.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/money.h"
#include "drovebank/status.h"
#include "drovebank/validate.h"

namespace drovebank {

// The largest legacy file the planner reads; one account line is far shorter.
inline constexpr std::size_t kMaxLegacyFileBytes = 4096;

struct LegacyAccount {
  AccountId id = 0;
  std::string first, last;
  Cents balance = 0;
  std::string source_file;  // entry name inside the legacy directory, e.g. "7.txt"
};

struct LegacyDecision {
  std::string file;  // entry name inside the legacy directory
  // "import"   the file is the account (or, for index.idx, the last id used)
  // "use-tmp"  the .tmp of an interrupted write is the account (its .txt is missing)
  // "use-xtmp" the .xtmp of an interrupted transfer is the account (the transfer completes)
  // "discard"  a leftover the settlement does not need
  // "skip"     not imported: an .atmp, an unknown file, or a file kept for inspection
  //            because its account is in error
  // "error"    the file cannot be settled or parsed; its account is not imported
  std::string action;
  std::string reason;  // human-readable why
};

struct LegacyPlan {
  std::vector<LegacyAccount> accounts;    // sorted by id, at most one per id
  std::vector<LegacyDecision> decisions;  // one per directory entry, sorted by file name
  AccountId last_id_from_index = 0;       // 0 when index.idx is missing or in error
  // The largest id named by any account file or leftover (<id>.txt, .tmp, .xtmp, ...),
  // imported or not: a file in error still shows the original used that id. 0 for none.
  AccountId largest_file_id = 0;
  // The ids the original used: 1 to the larger of the two above.
  AccountId LastIdUsed() const { return std::max(last_id_from_index, largest_file_id); }
  std::size_t errors = 0;                 // the number of decisions with action "error"
};

// Reads DIR through `env` and decides what each entry means, without modifying DIR.
// Every entry gets exactly one decision. Problems with entries (a bad balance or name, a
// malformed line, an id outside 1..kMaxAccountId or zero-padded, a bad index.idx, a file
// that is not a regular file or cannot be read, an account no file can settle) are
// decisions with action "error" and count in `errors`; they do not fail the call. An
// account whose id is above index.idx's last id is imported and the reason says so.
// Fails only when DIR cannot be listed: the Env's NotFound or IOError, naming DIR.
Result<LegacyPlan> PlanLegacyImport(Env* env, const std::string& dir);

// Parses one legacy account line "first,last,balance" with an optional trailing "\n" or
// "\r\n". Exactly three comma-separated fields (a comma cannot be part of a name in this
// format); names pass ValidateName and are kept verbatim. The balance is plain decimal
// text: digits with an optional point and decimals ("7", "100.0", "50.25", "7.", ".5"),
// converted exactly, digit by digit: decimals past the second must be zeros ("50.250" is
// 5025 cents, "50.255" is refused). Refused: signs, exponents, spaces, inf/nan, empty
// text, and anything above kMaxCents. `id` must be in 1..kMaxAccountId. On success
// `source_file` is empty. On failure: InvalidArgument saying why.
Result<LegacyAccount> ParseLegacyAccountLine(std::string_view line, AccountId id);

}  // namespace drovebank
