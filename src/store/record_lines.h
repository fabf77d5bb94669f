// Record lines found by their txn without decoding them: what the journal's indexes of a
// segment (Journal::IndexOf's whole-segment cache, LookUpIn's line index) and its look-up
// by bisection read of each line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace drovebank {

struct Record;

// RecordJson's bytes made through a nlohmann DOM (src/store/record.cc): the reference the
// direct encoder (src/store/record_json.cc) must match byte for byte, and what it uses for
// a record with a string that is not plain ASCII.
std::string RecordJsonDom(const Record& r);

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
