// `drovebank batch`: many events from one file, committed in groups.
//
// Three input formats, told apart by the first non-space byte (docs/FORMAT.md, "Batch"):
//   '['  the branch/customer format: customers acting on one shared account;
//   '{'  JSON Lines of drovebank's own operations, one per line;
//   a letter or '"': CSV of the same operations, a header row naming the columns first.
// Events are committed through Store::CommitGroup: up to `group_size` events a group, one
// journal append and one fdatasync each, every event still all-or-nothing and checked
// against the rules in order. After a crash the applied events are a prefix of whole
// events. Every event carries an idempotency key (its own or an automatic one derived
// from the input's hash and its position), so running the same input again after a crash
// skips the applied prefix (reported as replayed) and applies the rest exactly once.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/money.h"
#include "drovebank/status.h"
#include "drovebank/store.h"

namespace drovebank {

// ---- Exact money ----------------------------------------------------------------------
// (The JSON parsing that keeps numbers exact is private: src/features/batch/exact_json.h.)

// The shortest exact decimal of `cents`: 57000 -> "570", 57050 -> "570.5", 57025 -> "570.25".
std::string FormatExactMoney(Cents cents);

// ---- Inputs -------------------------------------------------------------------------

enum class BatchFormat { kCustomers, kOps, kCsv };

// A whole input held in memory, or a regular file streamed line by line (read twice:
// once for its hash, once to run), so a large file costs little memory. Anything that is
// not a regular file (stdin, a pipe, a FIFO, <(...), /dev/stdin) cannot be read twice and
// is held in memory from its one read.
class BatchInput {
 public:
  // "-" reads standard input to its end. InvalidArgument when the input is empty or does
  // not start (after white space) with '[', '{', a letter or '"'; NotFound/IOError for
  // the file.
  static Result<BatchInput> Open(const std::string& path);
  static BatchInput FromString(std::string text);  // for tests

  BatchFormat format() const { return format_; }
  // 16 hex digits of a 64-bit FNV-1a hash of every byte of the input.
  const std::string& hash() const { return hash_; }
  // The whole input (reads a file into memory); for the customer format.
  Result<std::string> ReadAll();
  // The next line without its '\n'; false at the end. Starts from the first line.
  bool NextLine(std::string* line);

  BatchInput(BatchInput&&) noexcept;
  BatchInput& operator=(BatchInput&&) noexcept;
  ~BatchInput();

 private:
  BatchInput() = default;
  BatchFormat format_ = BatchFormat::kOps;
  std::string hash_;
  std::string text_;             // in memory (stdin, tests)
  size_t pos_ = 0;               // next line in text_
  std::FILE* file_ = nullptr;    // streamed (regular files)
};

struct BatchOptions {
  size_t group_size = 1000;  // events per CommitGroup (journal append + fdatasync)
  bool auto_keys = true;     // false: events without a key get none (a re-run re-applies)
  bool parallel = false;     // customer format: one process per customer
  std::optional<AccountId> account;  // customer format: the shared account
  // The root of the automatic keys (AutoKey); empty: the input's hash. A run of an input
  // after an earlier one ran to its end (`--again`) has its own root.
  std::string key_root;
  // Opens the store (once) and closes it; parallel runs close it before forking and
  // each child opens its own, so no open file description (and OFD lock) is shared.
  std::function<Result<Store*>()> open_store;
  std::function<void()> close_store;
};

struct BatchSummary {
  size_t events = 0;    // events read (JSONL: non-blank lines; customers: money events)
  size_t applied = 0;   // committed by this run
  size_t replayed = 0;  // already applied by an earlier run with the same key
  size_t refused = 0;   // a rule refused them (JSONL) or "fail" results (customers)
  size_t invalid = 0;   // JSONL lines that did not parse
  size_t groups = 0;    // CommitGroup calls that wrote records
  AccountId account = 0;  // customer format: the shared account
  bool opened = false;    // customer format: the shared account was opened by this run
  Status first_failure;   // JSONL: the first line that failed, for the exit code
};

// ---- The branch/customer format -----------------------------------------------------

enum class Interface { kQuery, kDeposit, kWithdraw };

struct CustomerEvent {
  std::uint64_t id = 0;
  Interface interface = Interface::kQuery;
  Cents money = 0;  // deposit/withdraw: above 0
};

struct Customer {
  std::uint64_t id = 0;
  std::vector<CustomerEvent> events;  // sorted by id (ids unique within the customer)
};

struct CustomerBatch {
  std::vector<Customer> customers;      // file order; customer ids unique
  std::optional<Cents> branch_balance;  // every branch's balance (they must agree)
};

// Parses and validates the whole input; InvalidArgument (exit 2) saying what and where on
// anything unexpected, including branches whose balances disagree.
Result<CustomerBatch> ParseCustomerBatch(std::string_view text);

// Runs the customers against options.account, or against a new account opened with the
// branches' balance (InvalidArgument when there is neither), and prints the JSON array of
// results to `out`. Sequential: customers in file order. Parallel: every customer in its
// own forked process at once; the final balance equals the sequential one whenever no
// withdrawal's outcome depends on the order. Failures other than rule refusals stop it.
Status RunCustomerBatch(const CustomerBatch& batch, const std::string& input_hash,
                        const BatchOptions& options, std::FILE* out, BatchSummary* summary);

// The automatic key of an event: "batch-<input hash>-<position>".
std::string AutoKey(const std::string& input_hash, std::string_view position);

// Runs every line of `input` (JSON Lines, or CSV after its header row) in groups and
// prints one JSON object per line to `out`
// (flushed after each group): {"line":N,"ok":true,"txn":...} or
// {"line":N,"ok":false,"error":{"code":...,"message":...}}. Blank lines are skipped. A
// refused or invalid line does not stop the others; a storage failure stops the run and
// is returned (lines of earlier groups are already printed and committed). A bad CSV
// header is InvalidArgument before anything runs.
Status RunOpsBatch(BatchInput* input, const BatchOptions& options, std::FILE* out,
                   BatchSummary* summary);

}  // namespace drovebank
