#include <fmt/compile.h>
#include <fmt/format.h>
#include <zlib.h>

#include <charconv>
#include <cstdint>
#include <vector>

#include "drovebank/account.h"
#include "crc32.h"

namespace drovebank {

// zlib's CRC-32 (the ISO-HDLC one: reflected, polynomial 0x04C11DB7, all ones in and
// out), the same as Boost's crc_32_type, which this used before: that one goes a byte at
// a time through a table, and was 6.7% of a shell deposit's instructions (callgrind).
std::uint32_t Crc32(std::string_view data) {
  return static_cast<std::uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

// By hand rather than through fmt: a commit computes several (its record, the account
// file, the journal state twice), and fmt's format parse cost more than the CRC itself.
std::string Crc32Hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::uint32_t crc = Crc32(data);
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, crc >>= 4) out[static_cast<size_t>(i)] = kDigits[crc & 15];
  return out;
}

void AppendCsvCell(std::string* out, std::string_view cell) {
  bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' ||
                                  cell[0] == '@' || cell[0] == ' '));
  if (!quote) {
    out->append(cell);
    return;
  }
  *out += '"';
  for (char c : cell) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

std::string CsvCell(std::string_view cell) {
  std::string out;
  AppendCsvCell(&out, cell);
  return out;
}

// FMT_COMPILE here and in the other formats of every commit: the format is parsed at
// compile time instead of at each call (fmt's run-time parse was a tenth of a shell
// deposit's instructions).
std::string EncodeAccountLine(const Account& a) {
  return fmt::format(FMT_COMPILE("{},{},{},{},{},{},{}"), a.id, CsvCell(a.first), CsvCell(a.last),
                     FormatCents(a.balance), a.closed ? "closed" : "open", a.version, a.last_txn);
}

std::string EncodeAccountFile(const Account& a) {
  std::string body = EncodeAccountLine(a);
  return fmt::format(FMT_COMPILE("{}\n{},{}\n"), kAccountHeader, body, Crc32Hex(body));
}

namespace {

// Splits one CSV record (no line terminator) into cells, RFC 4180 quoting.
bool SplitCsv(std::string_view line, std::vector<std::string>* cells) {
  cells->clear();
  size_t i = 0;
  for (;;) {
    std::string cell;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;  // unterminated quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;  // text after closing quote
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return false;  // quote inside an unquoted cell
        cell += line[i++];
      }
    }
    cells->push_back(std::move(cell));
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

template <typename T>
bool ParseUint(std::string_view s, T* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status Corrupt(std::string_view why) { return Status::Corruption(std::string(why)); }

// Splits the file into its record's body and checksum, checking the framing only.
Status SplitAccountFile(std::string_view text, std::string_view* body, std::string_view* sum) {
  if (text.size() < kAccountHeader.size() + 1 || text.substr(0, kAccountHeader.size()) != kAccountHeader ||
      text[kAccountHeader.size()] != '\n') {
    return Corrupt("account file header is missing or wrong");
  }
  std::string_view rec = text.substr(kAccountHeader.size() + 1);
  if (rec.empty() || rec.back() != '\n') return Corrupt("account record is truncated");
  rec.remove_suffix(1);
  if (rec.find('\n') != std::string_view::npos) return Corrupt("account file has extra lines");
  size_t comma = rec.rfind(',');
  if (comma == std::string_view::npos) return Corrupt("account record has no checksum");
  *body = rec.substr(0, comma);
  *sum = rec.substr(comma + 1);
  return Status::Ok();
}

Result<Account> DecodeAccountBody(std::string_view body, AccountId expected_id,
                                  bool check_names = true) {
  // A record that quotes nothing (nearly every one) is split in place, with no string made
  // for each cell (a million-line snapshot spent a tenth of its time there); one that
  // quotes goes through SplitCsv. The cells are then the same either way.
  std::vector<std::string> cells;
  std::string_view f[7];
  if (body.find('"') == std::string_view::npos) {
    size_t n = 0;
    for (size_t start = 0;; ++n) {
      size_t comma = body.find(',', start);
      if (n < 7) f[n] = body.substr(start, comma == std::string_view::npos ? body.npos : comma - start);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (n != 6) return Corrupt("account record is not 7 CSV fields");
  } else {
    if (!SplitCsv(body, &cells) || cells.size() != 7) {
      return Corrupt("account record is not 7 CSV fields");
    }
    for (size_t k = 0; k < 7; ++k) f[k] = cells[k];
  }
  Account a;
  auto id = ParseAccountId(f[0]);
  if (!id.ok()) return Corrupt("account record has a bad id");
  a.id = *id;
  if (expected_id != 0 && a.id != expected_id) {
    return Corrupt(fmt::format("account file holds account {} instead of {}", a.id, expected_id));
  }
  if (check_names &&
      (!ValidateName(f[1], "first name").ok() || !ValidateName(f[2], "last name").ok())) {
    return Corrupt("account record has an invalid name");
  }
  a.first = std::string(f[1]);
  a.last = std::string(f[2]);
  auto bal = ParseAmount(f[3]);
  if (!bal.ok() || FormatCents(*bal) != f[3]) return Corrupt("account record has a bad balance");
  a.balance = *bal;
  if (f[4] == "open") {
    a.closed = false;
  } else if (f[4] == "closed") {
    a.closed = true;
  } else {
    return Corrupt("account record has a bad status");
  }
  if (!ParseUint(f[5], &a.version) || a.version == 0 || !ParseUint(f[6], &a.last_txn)) {
    return Corrupt("account record has a bad version or transaction number");
  }
  return a;
}

}  // namespace

Result<Account> DecodeAccountFile(std::string_view text, AccountId expected_id) {
  std::string_view body, sum;
  DB_RETURN_IF_ERROR(SplitAccountFile(text, &body, &sum));
  if (Crc32Hex(body) != sum) return Corrupt(kChecksumMismatch);
  return DecodeAccountBody(body, expected_id);
}

Result<Account> DecodeAccountFileUnverified(std::string_view text, AccountId expected_id) {
  std::string_view body, sum;
  DB_RETURN_IF_ERROR(SplitAccountFile(text, &body, &sum));
  return DecodeAccountBody(body, expected_id);
}

Result<Account> DecodeAccountLine(std::string_view line) {
  return DecodeAccountBody(line, 0, /*check_names=*/false);
}

bool IsChecksumMismatch(const Status& decode_error) {
  return decode_error.code() == Code::kCorruption && decode_error.message() == kChecksumMismatch;
}

std::string DescribeBadAccountFile(std::string_view path, const Status& decode_error) {
  // A well-formed record whose checksum fails is almost always a hand edit (sed, a
  // spreadsheet): say so, rather than leave the user to guess at disk damage.
  if (IsChecksumMismatch(decode_error)) {
    return fmt::format("{} was changed outside drovebank (checksum mismatch)", path);
  }
  return fmt::format("{} is corrupt: {}", path, decode_error.message());
}

}  // namespace drovebank
