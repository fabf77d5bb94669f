// A whole batch input, the way `drovebank batch` reads it (src/features/batch/batch_input.cc), in both
// formats: BatchInput in memory and streamed from a file, then every line through
// ParseOpLine (JSON Lines) or the whole text through ParseCustomerBatch (branches and
// customers). fuzz_batch covers the parsers on one value; this target covers framing.
// Properties: the in-memory and the streamed input agree on format, hash, lines and
// ReadAll; the lines put back together are the input; an input that starts with neither
// '[' nor '{' is refused by Open; whatever a parser accepts is in range.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "drovebank/batch.h"
#include "drovebank/validate.h"
#include "features/batch/batch_parse.h"
#include "fuzz_check_op.h"
#include "fuzz_util.h"

using namespace drovebank;
using drovebank::fuzz::CheckOp;

namespace {

// One scratch file per fuzzing process, rewritten for every input.
const std::string& ScratchPath() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string p = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                    "/fuzz_batch_input." + std::to_string(::getpid());
    std::atexit([] { ::unlink(ScratchPath().c_str()); });
    return p;
  }();
  return path;
}

// Unlinked and created afresh: truncating and rewriting a file makes ext4 (auto_da_alloc)
// flush it at close, which would cost most of the run's time.
bool WriteScratch(std::string_view bytes) {
  ::unlink(ScratchPath().c_str());
  int fd = ::open(ScratchPath().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  return ::close(fd) == 0 && ok;
}

std::vector<std::string> Lines(BatchInput* in) {
  std::vector<std::string> out;
  std::string line;
  while (in->NextLine(&line)) out.push_back(line);
  return out;
}

void CheckOps(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    OpLine l = ParseOpLine(lines[i], i + 1);
    FUZZ_CHECK(l.line == i + 1);
    if (!l.status.ok()) {
      FUZZ_CHECK(l.status.code() == Code::kInvalidArgument && !l.status.message().empty());
      continue;
    }
    FUZZ_CHECK(l.event.ops.size() == 1);
    CheckOp(l.event.ops[0]);
    FUZZ_CHECK(l.event.key.empty() || ValidateKey(l.event.key).ok());
  }
}

void CheckCustomers(std::string_view text) {
  auto batch = ParseCustomerBatch(text);
  if (!batch.ok()) {
    FUZZ_CHECK(batch.status().code() == Code::kInvalidArgument);
    return;
  }
  std::set<std::uint64_t> customers;
  for (const Customer& c : batch->customers) {
    FUZZ_CHECK(customers.insert(c.id).second);
    std::uint64_t previous = 0;
    for (size_t i = 0; i < c.events.size(); ++i) {
      const CustomerEvent& e = c.events[i];
      FUZZ_CHECK(i == 0 || e.id > previous);  // sorted, unique
      previous = e.id;
      FUZZ_CHECK(e.money >= 0 && e.money <= kMaxCents);
      if (e.interface != Interface::kQuery) FUZZ_CHECK(e.money > 0);
    }
  }
  if (batch->branch_balance) {
    FUZZ_CHECK(*batch->branch_balance >= 0 && *batch->branch_balance <= kMaxCents);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::string text(fuzz::AsView(data, size));
  BatchInput memory = BatchInput::FromString(text);
  FUZZ_CHECK(memory.hash().size() == 16);
  FUZZ_CHECK(memory.hash().find_first_not_of("0123456789abcdef") == std::string::npos);

  FUZZ_CHECK(WriteScratch(text));
  auto streamed = BatchInput::Open(ScratchPath());
  size_t first = text.find_first_not_of(" \t\r\n");
  char lead = first == std::string::npos ? 0 : text[first];
  // Not JSON: read as CSV (import-csv, batch), accepted or refused by its header row;
  // tests/batch_test.cc checks which. Either way it must be a clean answer.
  if (lead != '[' && lead != '{') {
    FUZZ_CHECK(streamed.ok() || streamed.status().code() == Code::kInvalidArgument);
  } else {
    FUZZ_CHECK(streamed.ok());
    FUZZ_CHECK(streamed->format() == memory.format());
    FUZZ_CHECK(streamed->format() == (lead == '[' ? BatchFormat::kCustomers : BatchFormat::kOps));
    FUZZ_CHECK(streamed->hash() == memory.hash());
    auto all = streamed->ReadAll();
    FUZZ_CHECK(all.ok() && *all == text);
    // ReadAll leaves the stream at the first line again.
    std::vector<std::string> from_file = Lines(&*streamed);
    std::vector<std::string> from_memory = Lines(&memory);
    FUZZ_CHECK(from_file == from_memory);
  }

  BatchInput again = BatchInput::FromString(text);
  std::vector<std::string> lines = Lines(&again);
  std::string joined;
  for (const std::string& l : lines) joined += l + "\n";
  FUZZ_CHECK(joined == text || joined == text + "\n");
  FUZZ_CHECK(!again.NextLine(&joined) && joined.empty());  // stays at the end

  if (again.format() == BatchFormat::kOps) {
    CheckOps(lines);
  } else {
    auto all = again.ReadAll();
    FUZZ_CHECK(all.ok() && *all == text);
    CheckCustomers(*all);
  }
  return 0;
}
