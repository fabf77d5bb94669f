// ScanRecords on hostile journal bytes. The first input byte is a mask: line i gets a
// correct CRC prefix when bit (i % 8) is set, so valid and broken records interleave the
// way a torn or damaged segment would have them. Properties: the classification is
// exclusive and consistent (a torn tail has no good record after it; corruption in the
// middle has one), good_bytes is a record boundary, and rescanning the good prefix gives
// the same records with nothing flagged. A bad line that ends in a good record counts as
// a good record after the damage.
#include <cstdint>
#include <vector>

#include "drovebank/record.h"
#include "fuzz_util.h"

using namespace drovebank;

namespace {

std::string Build(std::string_view in) {
  if (in.empty()) return {};
  unsigned char mask = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  std::string out;
  size_t i = 0;
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    if (mask & (1u << (i % 8))) {
      out += Crc32Hex(line);
      out += ' ';
    }
    out += line;
    if (nl == std::string_view::npos) break;
    out += '\n';
    in.remove_prefix(nl + 1);
    ++i;
  }
  return out;
}

bool AnyGoodLineFrom(std::string_view bytes, size_t pos) {
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    if (DecodeRecordLine(bytes.substr(pos, nl - pos)).ok()) return true;
    pos = nl + 1;
  }
  return false;
}

// A good record at the end of a bad line, found the slow way: every suffix.
bool EndsInGoodRecord(std::string_view line) {
  for (size_t p = 1; p < line.size(); ++p) {
    if (DecodeRecordLine(line.substr(p)).ok()) return true;
  }
  return false;
}

void Check(std::string_view bytes) {
  ScanResult s = ScanRecords(bytes);
  FUZZ_CHECK(s.records.size() == s.ends.size());
  FUZZ_CHECK(s.good_bytes <= bytes.size());
  FUZZ_CHECK(!(s.torn_tail && s.corrupt_middle));
  FUZZ_CHECK(s.good_bytes == (s.ends.empty() ? 0 : s.ends.back()));
  for (size_t i = 0; i < s.ends.size(); ++i) {
    FUZZ_CHECK(i == 0 || s.ends[i] > s.ends[i - 1]);
    FUZZ_CHECK(bytes[s.ends[i] - 1] == '\n');
  }
  // Everything is accounted for: all good, or exactly one verdict on the rest.
  bool rest = s.good_bytes < bytes.size();
  FUZZ_CHECK(rest == (s.torn_tail || s.corrupt_middle));
  // The bad record starts at good_bytes; whatever follows it decides the verdict.
  if (rest) {
    size_t nl = bytes.find('\n', s.good_bytes);
    bool later_good = nl != std::string_view::npos &&
                      (AnyGoodLineFrom(bytes, nl + 1) ||
                       EndsInGoodRecord(bytes.substr(s.good_bytes, nl - s.good_bytes)));
    FUZZ_CHECK(s.corrupt_middle == later_good);
  }
  ScanResult prefix = ScanRecords(bytes.substr(0, s.good_bytes));
  FUZZ_CHECK(prefix.records == s.records);
  FUZZ_CHECK(!prefix.torn_tail && !prefix.corrupt_middle);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string_view in = fuzz::AsView(data, size);
  Check(in);
  Check(Build(in));
  return 0;
}
