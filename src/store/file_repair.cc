#include "drovebank/file_repair.h"

#include <fmt/format.h>

#include "drovebank/money.h"

namespace drovebank {

namespace {

// "5000.00", with the change number when the balances alone would not tell the two
// states apart (a close, a rename, a file merely behind).
std::string StateText(const Account& a, bool with_version) {
  std::string out = FormatCents(a.balance);
  if (a.closed) out += " (closed)";
  if (with_version) out += fmt::format(" at change {}", a.version);
  return out;
}

}  // namespace

std::string_view FoundName(FileRepair::Found found) {
  switch (found) {
    case FileRepair::Found::kMissing: return "missing";
    case FileRepair::Found::kBehind: return "behind";
    case FileRepair::Found::kEdited: return "edited";
    case FileRepair::Found::kCorrupt: return "corrupt";
    case FileRepair::Found::kDiffers: return "differs";
    case FileRepair::Found::kKeySlot: return "key_slot";
  }
  return "unknown";
}

std::string DescribeFileRepair(const FileRepair& r) {
  using Found = FileRepair::Found;
  if (r.found == Found::kKeySlot) {
    return fmt::format("{}: the slot of key '{}' did not reach its newest record; restored to "
                       "name transaction {}",
                       r.file, r.key, r.txn);
  }
  bool versions = r.file_said && r.file_said->balance == r.journal.balance &&
                  r.file_said->closed == r.journal.closed;
  std::string found;
  if (r.file_said) {
    found = fmt::format("file said {}", StateText(*r.file_said, versions));
  } else if (r.found == Found::kMissing) {
    found = "file was missing";
  } else if (r.found == Found::kEdited) {
    found = "file was changed outside drovebank (checksum mismatch)";
  } else {
    found = fmt::format("file was corrupt ({})", r.problem);
  }
  std::string kept;
  if (!r.kept_as.empty()) {
    std::string_view what = r.found == Found::kEdited    ? "edited"
                            : r.found == Found::kCorrupt ? "corrupt"
                                                         : "differing";
    kept = fmt::format(", the {} file kept as {}", what, r.kept_as);
  }
  return fmt::format("account {}: {}, journal says {}; restored{}", r.id, found,
                     StateText(r.journal, versions), kept);
}

}  // namespace drovebank
