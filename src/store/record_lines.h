// Record lines found by their txn without decoding them: what the journal's indexes of a
// segment (Journal::IndexOf's whole-segment cache, LookUpIn's line index) and its look-up
// by bisection read of each line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

// RecordJson's bytes made through a nlohmann DOM (src/store/record.cc): the reference the
// direct encoder (src/store/record_json.cc) must match byte for byte, and what it uses for
// a record with a string that is not plain ASCII.
std::string RecordJsonDom(const Record& r);

// ParseRecordJson through a nlohmann DOM (src/store/record.cc): the reference the direct
// decoder must agree with, and what decides (and words the error of) every record the
// direct decoder does not take.
Result<Record> ParseRecordJsonDom(std::string_view text);

// A record in the form the encoder writes (no white space, known keys in any order and
// none twice, integers without fraction or exponent, strings of printable ASCII whose only
// escapes are \" and \\), decoded without a DOM (src/store/record_decode.cc); nullopt for
// anything else, and for any record the checks below refuse. Whatever it returns,
// ParseRecordJsonDom returns too (tests/record_decode_test.cc sweeps both).
std::optional<Record> DecodeRecordDirect(std::string_view text);

// The checks of a record's fields once read, shared by both decoders. Which optional
// fields of the record's object were there (present, even at their defaults):
struct RecordFieldsPresent {
  bool key_prev = false, reserve_ids = false, reverses = false, prev_hash = false;
  bool snapshot_at = false, snapshot_hash = false;
};
Status CheckRecordHead(const Record& r, const RecordFieldsPresent& present);
Status CheckRecordOp(const Op& op);  // after a memo present but empty was refused
Status CheckRecordAccount(const RecordAccount& ra);
// With its ops and accounts read: a record that vouches for a snapshot changes none.
Status CheckRecordWhole(const Record& r);

// The txn a record line names ("txn" sorts last among its keys, and no string in it can
// hold an unescaped quote), or 0 when it names none.
inline std::uint64_t TxnOfLine(std::string_view line) {
  auto at = line.rfind("\"txn\":");
  if (at == std::string_view::npos) return 0;
  return std::strtoull(std::string(line.substr(at + 6, 20)).c_str(), nullptr, 10);
}

// Calls fn(txn, offset, length) for each whole line of `bytes` that names a txn, in order
// (offset and length within `bytes`, the LF left out). Returns where the bytes after the
// last whole line start: a line cut by the end of `bytes` is not a record yet.
template <class Fn>
size_t ForEachRecordLine(std::string_view bytes, Fn&& fn) {
  size_t pos = 0;
  for (size_t nl; (nl = bytes.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
    if (std::uint64_t t = TxnOfLine(bytes.substr(pos, nl - pos)); t != 0) fn(t, pos, nl - pos);
  }
  return pos;
}

}  // namespace drovebank
