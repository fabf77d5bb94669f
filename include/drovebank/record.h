// Journal records: the commit point of every change. One record per line:
//   CRC32HEX SP JSON LF
// where the CRC covers the JSON text. docs/FORMAT.md specifies the JSON fields.
//
// Contract: pure functions over text, no I/O. Decoding succeeds only for a line whose CRC
// matches and whose JSON is a well-formed record, else Corruption and no Record;
// DecodeRecordLine(EncodeRecord(r)) gives `r` back. ScanRecords never fails: what does not
// decode is reported in its result (a torn tail, or corruption in the middle).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/money.h"
#include "drovebank/status.h"

namespace drovebank {

// kRename (`drovebank rename`) gives an account new names and moves no money.
enum class OpKind { kOpen, kDeposit, kWithdraw, kTransfer, kClose, kRename };
std::string_view OpKindName(OpKind k);
// Whether `drovebank reverse` can undo an op of this kind: the money ops (deposit,
// withdraw, transfer), not open, close or rename.
bool Reversible(OpKind k);
Result<OpKind> ParseOpKind(std::string_view name);

// One operation. The request part is filled by the caller; the result part (`after`,
// `to_after`, and `id` for open) by the commit.
struct Op {
  OpKind kind = OpKind::kDeposit;
  AccountId id = 0;  // open: assigned at commit
  AccountId to = 0;  // transfer only
  Cents amount = 0;  // open: opening balance
  std::string first, last;  // open, and rename (the new names)
  // Free text the user gave a deposit, withdrawal or transfer (ValidateMemo); "" for none.
  // Part of the request: the same key with another memo is another request.
  std::string memo;
  Cents after = 0;     // balance of `id` after the op
  Cents to_after = 0;  // balance of `to` after a transfer
  std::string was_first, was_last;  // rename: the names before it

  bool operator==(const Op&) const = default;
};

// In a group of records appended together, an account's prev_txn may point at an
// earlier record of the same group, whose txn is not known yet: kPrevInGroup | index.
// Journal::Append resolves it when it numbers the records.
inline constexpr std::uint64_t kPrevInGroup = 1ULL << 63;

struct RecordAccount {
  Account state;              // the full state after the record
  std::uint64_t prev_txn = 0;  // the account's previous change (0 for open): the history chain
  bool operator==(const RecordAccount&) const = default;
};

struct Record {
  std::uint64_t txn = 0;
  std::int64_t time_ms = 0;
  std::string key;      // idempotency key, may be empty
  std::string request;  // canonical request text, compared when a key is reused
  // With a key: the txn of the previous record whose key falls in the same key slot (0:
  // none), the chain keys/index starts (src/store/key_index.h). kPrevInGroup | index before
  // Journal::Append numbers the group, as for RecordAccount::prev_txn.
  std::uint64_t key_prev = 0;
  std::vector<Op> ops;
  std::vector<RecordAccount> accounts;
  // Account ids 1..reserve_ids count as used: no open is ever given one of them by
  // AllocateId. Legacy import sets it to the original's index.idx, whose last id may
  // belong to accounts deleted before the import. 0 (the usual case) reserves nothing.
  AccountId reserve_ids = 0;
  // The txn this record reverses (`drovebank reverse`), committed under the key
  // ReversalKey(reverses); 0 (the usual case) for any other record.
  std::uint64_t reverses = 0;
  // A record that vouches for journal/SNAPSHOT (src/store/snapshot.h): the state of every
  // account after txn snapshot_at (an earlier one) is the file whose BLAKE2b-256 is
  // snapshot_hash (64 hex digits). 0 and "" (the usual case) for any other record. Such a
  // record has no ops and no accounts.
  std::uint64_t snapshot_at = 0;
  std::string snapshot_hash{};
  // Format 3's hash chain (src/store/chain.h): the chain hash of the record before this
  // one, 64 hex digits, filled in by Journal::Append. Empty in records of format 2.
  std::string prev_hash;
  bool operator==(const Record&) const = default;
};

// The largest account id the record uses up: its opens' ids and its reservation (0 for
// none). The journal's next id is one past the largest over all records.
AccountId LargestIdUsed(const Record& r);
// How many accounts the record opens.
std::uint64_t AccountsOpened(const Record& r);

// Canonical text of a request (the ops before results), e.g. "deposit 7 1000"; an op
// with a memo adds it as a JSON string: `deposit 7 1000 memo "rent"`.
std::string RequestText(const std::vector<Op>& ops);

// The idempotency key a reversal of `txn` commits under, "reverse:TXN". The key's slot
// lock serialises two reversals of one txn and the key's record says it was reversed; no
// other request may use a key starting with kReversalKeyPrefix.
inline constexpr std::string_view kReversalKeyPrefix = "reverse:";
std::string ReversalKey(std::uint64_t txn);

// The record's JSON (no CRC, no newline) and its decoder.
std::string RecordJson(const Record& r);
Result<Record> ParseRecordJson(std::string_view json);

// CRC SP JSON LF.
std::string EncodeRecord(const Record& r);
// The same line for a record whose JSON is already made (RecordJson).
std::string EncodeRecordJson(std::string_view json);

// Decodes one line without its LF. Corruption when the CRC or JSON is bad.
Result<Record> DecodeRecordLine(std::string_view line);

// The outcome of scanning a run of journal bytes from the start of a record.
struct ScanResult {
  std::vector<Record> records;
  std::vector<std::uint64_t> ends;  // end offset of each record, relative to the scan start
  std::uint64_t good_bytes = 0;     // bytes up to the end of the last good record
  bool torn_tail = false;           // bytes after good_bytes that are not a whole record
  bool corrupt_middle = false;      // a bad record followed by more data that parses
};

// Parses consecutive records. A bad or incomplete record at the very end is a torn tail
// (an unacknowledged write cut short); a bad record with good records after it is
// corruption in the middle, which only `recover` may settle. A bad line that ends in a
// whole good record (a damaged newline merged them) counts as a good record after it.
ScanResult ScanRecords(std::string_view bytes);
// The same scan, handing each good record to `each` (with its [begin, end) offsets relative
// to the scan start) instead of keeping it: memory stays one record, whatever the length.
// `records` and `ends` of the result stay empty.
ScanResult ScanRecords(
    std::string_view bytes,
    const std::function<void(Record&&, std::uint64_t begin, std::uint64_t end)>& each);

}  // namespace drovebank
