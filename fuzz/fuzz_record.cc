// Journal records on hostile bytes: DecodeRecordLine on the raw line, and ParseRecordJson
// on the bytes as JSON (behind the CRC, which the fuzzer cannot forge). Properties: no
// crash; a decoded record has its accounts in range; Encode then Decode gives it back;
// whatever the direct decoder takes, the DOM parser takes, equal.
#include <cstdint>

#include "drovebank/record.h"
#include "fuzz_util.h"
#include "store/record_lines.h"

using namespace drovebank;

namespace {

void CheckRecord(const Record& r) {
  for (const RecordAccount& ra : r.accounts) {
    FUZZ_CHECK(ra.state.id >= 1 && ra.state.id <= kMaxAccountId);
    FUZZ_CHECK(ra.state.balance >= 0 && ra.state.balance <= kMaxCents);
    FUZZ_CHECK(ra.state.last_txn == r.txn);
  }
  std::string line = EncodeRecord(r);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  // One record is one line: a newline inside would split it in the journal.
  FUZZ_CHECK(line.find('\n') == line.size() - 1);
  auto again = DecodeRecordLine(std::string_view(line).substr(0, line.size() - 1));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == r);
  FUZZ_CHECK(EncodeRecord(*again) == line);
  ScanResult scan = ScanRecords(line);
  FUZZ_CHECK(scan.records.size() == 1 && scan.good_bytes == line.size());
  FUZZ_CHECK(!scan.torn_tail && !scan.corrupt_middle);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view in = fuzz::AsView(data, size);
  auto line = DecodeRecordLine(in);
  if (line.ok()) {
    CheckRecord(*line);
  } else {
    FUZZ_CHECK(line.status().code() == Code::kCorruption);
  }
  if (auto direct = DecodeRecordDirect(in)) {
    auto dom = ParseRecordJsonDom(in);
    FUZZ_CHECK(dom.ok() && *dom == *direct);
  }
  auto json = ParseRecordJson(in);
  if (json.ok()) {
    CheckRecord(*json);
    auto framed = DecodeRecordLine(Crc32Hex(in) + " " + std::string(in));
    FUZZ_CHECK(framed.ok() && *framed == *json);
  } else {
    FUZZ_CHECK(json.status().code() == Code::kCorruption);
  }
  return 0;
}
