// Batch input: format detection, the input's hash (the root of automatic keys), lines.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "drovebank/batch.h"
#include "batch_parse.h"

namespace drovebank {

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t Fnv(std::uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// The first byte that is not JSON white space, or 0. A UTF-8 byte order mark at the very
// start is skipped: spreadsheets write one before a CSV's header row.
char FirstByte(std::string_view s) {
  if (s.substr(0, kUtf8Bom.size()) == kUtf8Bom) s.remove_prefix(kUtf8Bom.size());
  size_t i = s.find_first_not_of(" \t\r\n");
  return i == std::string_view::npos ? 0 : s[i];
}

// A CSV header row starts with a column name (or a quoted one).
bool StartsCsv(char first) {
  return (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '"';
}

Result<BatchFormat> FormatOf(char first, const std::string& path) {
  if (first == '[') return BatchFormat::kCustomers;
  if (first == '{') return BatchFormat::kOps;
  if (StartsCsv(first)) return BatchFormat::kCsv;
  if (first == 0) return Status::InvalidArgument(fmt::format("{} is empty", path));
  return Status::InvalidArgument(fmt::format(
      "{} starts with '{}': expected '[' (branches and customers), '{{' (JSON Lines of "
      "operations) or a CSV header row such as op,id,from,to,amount,memo,key",
      path, EscapeForTerminal(std::string_view(&first, 1))));
}

}  // namespace

BatchInput::BatchInput(BatchInput&& o) noexcept { *this = std::move(o); }

BatchInput& BatchInput::operator=(BatchInput&& o) noexcept {
  if (this == &o) return *this;
  if (file_ != nullptr) std::fclose(file_);
  format_ = o.format_;
  hash_ = std::move(o.hash_);
  text_ = std::move(o.text_);
  pos_ = o.pos_;
  file_ = std::exchange(o.file_, nullptr);
  return *this;
}

BatchInput::~BatchInput() {
  if (file_ != nullptr) std::fclose(file_);
}

BatchInput BatchInput::FromString(std::string text) {
  BatchInput in;
  in.hash_ = fmt::format("{:016x}", Fnv(kFnvOffset, text));
  char first = FirstByte(text);
  in.format_ = first == '['       ? BatchFormat::kCustomers
               : StartsCsv(first) ? BatchFormat::kCsv
                                  : BatchFormat::kOps;
  in.text_ = std::move(text);
  return in;
}

Result<BatchInput> BatchInput::Open(const std::string& path) {
  BatchInput in;
  bool is_stdin = path == "-";
  std::FILE* f = is_stdin ? stdin : std::fopen(path.c_str(), "rbe");
  if (f == nullptr) return ErrnoStatus(errno, fmt::format("opening {}", path));
  std::string name = is_stdin ? "standard input" : path;
  // Only a regular file is read twice (once here for the hash, once to run it). Anything
  // else (stdin, a pipe, a FIFO, <(...), /dev/stdin) cannot be sought back to its start:
  // its bytes are kept from this one pass, so it runs exactly as the same bytes in a file.
  struct stat st;
  bool streamed = !is_stdin && ::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  std::uint64_t h = kFnvOffset;
  char first = 0;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    std::string_view chunk(buf, n);
    if (first == 0) first = FirstByte(chunk);
    h = Fnv(h, chunk);
    if (!streamed) in.text_.append(chunk);
  }
  bool failed = std::ferror(f) != 0;
  int err = errno;
  if (failed) {
    if (!is_stdin) std::fclose(f);
    return ErrnoStatus(err, fmt::format("reading {}", name));
  }
  if (streamed) {
    if (std::fseek(f, 0, SEEK_SET) != 0) {
      err = errno;
      std::fclose(f);
      return ErrnoStatus(err, fmt::format("reading {} again from its start", name));
    }
    in.file_ = f;
  } else {
    if (!is_stdin) std::fclose(f);
    in.file_ = nullptr;
  }
  in.hash_ = fmt::format("{:016x}", h);
  DB_ASSIGN_OR_RETURN(in.format_, FormatOf(first, name));
  return in;
}

Result<std::string> BatchInput::ReadAll() {
  if (file_ == nullptr) return text_;
  std::string all;
  char buf[1 << 16];
  size_t n;
  if (std::fseek(file_, 0, SEEK_SET) != 0) return ErrnoStatus(errno, "reading the batch input");
  while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) all.append(buf, n);
  if (std::ferror(file_)) return ErrnoStatus(errno, "reading the batch input");
  if (std::fseek(file_, 0, SEEK_SET) != 0) return ErrnoStatus(errno, "reading the batch input");
  return all;
}

bool BatchInput::NextLine(std::string* line) {
  line->clear();
  if (file_ == nullptr) {
    if (pos_ >= text_.size()) return false;
    size_t nl = text_.find('\n', pos_);
    if (nl == std::string::npos) nl = text_.size();
    line->assign(text_, pos_, nl - pos_);
    pos_ = nl + 1;
    return true;
  }
  int c;
  bool any = false;
  while ((c = getc_unlocked(file_)) != EOF) {
    any = true;
    if (c == '\n') return true;
    line->push_back(static_cast<char>(c));
  }
  return any;
}

}  // namespace drovebank
