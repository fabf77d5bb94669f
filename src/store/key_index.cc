#include "key_index.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <cstring>

#include "lockfile.h"
#include "store_files.h"

namespace drovebank {

namespace {
constexpr size_t kEntryBytes = 8;

// An entry's txn from its little-endian bytes (a file cut short has fewer: the rest are 0).
std::uint64_t DecodeEntry(const unsigned char* b, size_t n = kEntryBytes) {
  std::uint64_t txn = 0;
  for (size_t i = 0; i < n; ++i) txn |= std::uint64_t{b[i]} << (8 * i);
  return txn;
}
}  // namespace

KeyIndex::~KeyIndex() {
  if (fd_ >= 0) (void)env_->Close(fd_);
}

void KeyIndex::Reopen() {
  if (fd_ >= 0) (void)env_->Close(fd_);
  fd_ = -1;
  writable_ = false;
  known_absent_ = false;
}

Status KeyIndex::OpenFor(bool write) {
  if (fd_ >= 0 && (writable_ || !write)) return Status::Ok();
  if (fd_ >= 0) (void)env_->Close(fd_);
  fd_ = -1;
  // A required file is never made here: a missing one is damage (set_required).
  int flags = write ? O_RDWR | (required_ ? 0 : O_CREAT) : O_RDONLY;
  // Proven once a descriptor: a FIFO in its place would fail every read with ESPIPE.
  FileInfo info;
  auto fd = OpenStoreFile(env_, path_, flags, StoreFileKind::kDerived, &info);
  if (!fd.ok() && fd.status().code() == Code::kNotFound && required_) {
    return Lost("is missing");
  }
  if (!fd.ok()) return fd.status();
  if (required_ && info.size < kKeyIndexWholeBytes) {
    (void)env_->Close(*fd);
    return Lost(fmt::format("is cut short ({} bytes, of at least {})", info.size,
                            kKeyIndexWholeBytes));
  }
  fd_ = *fd;
  writable_ = write;
  return Status::Ok();
}

Status KeyIndex::Lost(std::string_view how) const {
  return Status::Corruption(fmt::format(
      "{} {}, yet the journal has records that set it: the keys already used cannot be told "
      "(one could commit twice), so nothing is done until `recover` rebuilds it from the "
      "journal",
      path_, how));
}

Status CreateKeyIndex(Env* env, const std::string& path) {
  FileInfo info;
  DB_ASSIGN_OR_RETURN(int fd, OpenStoreFile(env, path, O_RDWR | O_CREAT, StoreFileKind::kDerived,
                                            &info));
  Status s = info.size < kKeyIndexWholeBytes ? env->Truncate(fd, kKeyIndexWholeBytes) : Status::Ok();
  if (s.ok()) s = env->Sync(fd);
  (void)env->Close(fd);
  if (!s.ok()) return s;
  return env->SyncDir(path.substr(0, path.rfind('/')));
}

Result<std::uint64_t> KeyIndex::Head(std::uint64_t slot) {
  if (slot >= kKeySlots) return Status::Internal(fmt::format("key slot {} out of range", slot));
  return ReadEntry(slot);
}

Status KeyIndex::SetHead(std::uint64_t slot, std::uint64_t txn) {
  if (slot >= kKeySlots) return Status::Internal(fmt::format("key slot {} out of range", slot));
  return WriteEntry(slot, txn);
}

Result<std::uint64_t> KeyIndex::AccountHead(AccountId id) {
  const std::uint64_t entry = kKeySlots + id;
  if (!read_ahead_) return ReadEntry(entry);
  if (entry >= window_first_ && entry - window_first_ < window_.size()) {
    return window_[entry - window_first_];
  }
  constexpr size_t kWindow = 512;
  window_.clear();
  DB_ASSIGN_OR_RETURN(bool there, OpenToRead());
  if (!there) return std::uint64_t{0};
  unsigned char b[kWindow * kEntryBytes];
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, reinterpret_cast<char*>(b), sizeof b,
                                            entry * kEntryBytes));
  if (n % kEntryBytes != 0) {
    return Status::Corruption(fmt::format("{} ends inside entry {}", path_,
                                          entry + n / kEntryBytes));
  }
  window_first_ = entry;
  // Past the file's end: entries never written, 0 (the window holds those too).
  window_.assign(kWindow, 0);
  for (size_t e = 0; e < n / kEntryBytes; ++e) window_[e] = DecodeEntry(b + e * kEntryBytes);
  return window_[0];
}

Status KeyIndex::SetAccountHead(AccountId id, std::uint64_t txn) {
  const std::uint64_t entry = kKeySlots + id;
  if (entry >= window_first_ && entry - window_first_ < window_.size()) {
    window_[entry - window_first_] = txn;
  }
  return WriteEntry(entry, txn);
}

Result<bool> KeyIndex::OpenToRead() {
  if (fd_ >= 0) return true;
  if (known_absent_) return false;
  Status s = OpenFor(/*write=*/false);
  if (s.code() == Code::kNotFound && !required_) {
    known_absent_ = true;
    return false;
  }
  DB_RETURN_IF_ERROR(s);
  return true;
}

Result<std::uint64_t> KeyIndex::ReadEntry(std::uint64_t entry) {
  DB_ASSIGN_OR_RETURN(bool there, OpenToRead());
  if (!there) return std::uint64_t{0};
  unsigned char b[kEntryBytes] = {};
  // Why little-endian bytes and not a host integer: the file may be copied between machines.
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, reinterpret_cast<char*>(b), sizeof b,
                                            entry * kEntryBytes));
  if (n != 0 && n != sizeof b) {
    return Status::Corruption(fmt::format("{} ends inside entry {}", path_, entry));
  }
  return DecodeEntry(b, n);
}

Status KeyIndex::WriteEntry(std::uint64_t entry, std::uint64_t txn) {
  DB_RETURN_IF_ERROR(OpenFor(/*write=*/true));
  char b[kEntryBytes];
  for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<char>((txn >> (8 * i)) & 0xff);
  return env_->PWrite(fd_, std::string_view(b, sizeof b), entry * kEntryBytes);
}

}  // namespace drovebank
