// An account and its file: RFC 4180 CSV, a header line and one record, checksummed.
// The format is specified in docs/FORMAT.md.
//
// Contract: pure functions over text, no I/O. Decoding succeeds only for a file whose
// checksum, header and fields are all valid and whose id is the one expected; otherwise it
// returns Corruption (never a guess; see IsChecksumMismatch) and no Account. Encoding never
// fails, and DecodeAccountFile(EncodeAccountFile(a), a.id) gives `a` back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "drovebank/money.h"
#include "drovebank/status.h"
#include "drovebank/validate.h"

namespace drovebank {

struct Account {
  AccountId id = 0;
  std::string first;
  std::string last;
  Cents balance = 0;
  bool closed = false;
  std::uint64_t version = 0;   // count of committed changes, 1 after open
  std::uint64_t last_txn = 0;  // transaction number of the latest change

  bool operator==(const Account&) const = default;
};

inline constexpr std::string_view kAccountHeader =
    "id,first,last,balance,status,version,last_txn,checksum";

// The most bytes an account file is read for (Env::ReadFile): its header and one record
// of two 64-character names (each UTF-8 character 4 bytes at most, a quote doubled) come
// to under 1.2 KiB, so a larger file is not one, and is never read into memory whole.
inline constexpr size_t kAccountFileMaxBytes = 64 << 10;

// Encodes header + record, each line ending in "\n". Fields that need it are quoted
// (comma, quote, or a leading = + - @ so spreadsheets never read a formula).
std::string EncodeAccountFile(const Account& a);

// The file's record line without its checksum and LF: the seven fields of the header
// before `checksum`. journal/SNAPSHOT holds one per account (FORMAT.md).
std::string EncodeAccountLine(const Account& a);
// Its decoder, for lines whose bytes something else proves (the snapshot's hash): the
// names are not validated again. Corruption for anything else that is wrong.
Result<Account> DecodeAccountLine(std::string_view line);

// Decodes a file produced by EncodeAccountFile. Corruption (never a guess) when the
// syntax, the header, a field, the checksum, or the id (must equal `expected_id`
// when it is non-zero) is wrong; the message says which.
Result<Account> DecodeAccountFile(std::string_view text, AccountId expected_id);

// DecodeAccountFile without the checksum: what a file says even when its checksum fails,
// for reports only (never a state to keep). Corruption for anything else that is wrong.
Result<Account> DecodeAccountFileUnverified(std::string_view text, AccountId expected_id);

// The message of DecodeAccountFile's Corruption when only the checksum is wrong.
inline constexpr std::string_view kChecksumMismatch = "account record checksum mismatch";
// Whether DecodeAccountFile failed on the checksum of an otherwise well-formed record.
bool IsChecksumMismatch(const Status& decode_error);
// What is wrong with the file at `path` that DecodeAccountFile refused, for messages:
// "PATH was changed outside drovebank (checksum mismatch)" for a checksum mismatch,
// "PATH is corrupt: WHY" otherwise. The one wording of `show`, `recover` and
// `recover --check`.
std::string DescribeBadAccountFile(std::string_view path, const Status& decode_error);

// RFC 4180 quoting of one cell, used by the account file and any CSV export.
std::string CsvCell(std::string_view cell);
// The same, appended to *out (a row built cell by cell).
void AppendCsvCell(std::string* out, std::string_view cell);

// CRC-32 (IEEE) of `data` as 8 lowercase hex digits; the checksum of files and records.
std::string Crc32Hex(std::string_view data);

}  // namespace drovebank
