#include "key_index.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <cstring>

#include "lockfile.h"

namespace drovebank {

namespace {
constexpr size_t kEntryBytes = 8;
}

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
  auto fd = env_->Open(path_, write ? O_RDWR | O_CREAT : O_RDONLY, 0600);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  writable_ = write;
  return Status::Ok();
}

Result<std::uint64_t> KeyIndex::Head(std::uint64_t slot) {
  if (slot >= kKeySlots) return Status::Internal(fmt::format("key slot {} out of range", slot));
  return ReadEntry(slot);
}

Status KeyIndex::SetHead(std::uint64_t slot, std::uint64_t txn) {
  if (slot >= kKeySlots) return Status::Internal(fmt::format("key slot {} out of range", slot));
  return WriteEntry(slot, txn);
}

Result<std::uint64_t> KeyIndex::AccountHead(AccountId id) { return ReadEntry(kKeySlots + id); }

Status KeyIndex::SetAccountHead(AccountId id, std::uint64_t txn) {
  return WriteEntry(kKeySlots + id, txn);
}

Result<std::uint64_t> KeyIndex::ReadEntry(std::uint64_t entry) {
  if (fd_ < 0) {
    if (known_absent_) return std::uint64_t{0};
    Status s = OpenFor(/*write=*/false);
    if (s.code() == Code::kNotFound) {
      known_absent_ = true;
      return std::uint64_t{0};
    }
    DB_RETURN_IF_ERROR(s);
  }
  unsigned char b[kEntryBytes] = {};
  // Why little-endian bytes and not a host integer: the file may be copied between machines.
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(fd_, reinterpret_cast<char*>(b), sizeof b,
                                            entry * kEntryBytes));
  if (n != 0 && n != sizeof b) {
    return Status::Corruption(fmt::format("{} ends inside entry {}", path_, entry));
  }
  std::uint64_t txn = 0;
  for (size_t i = 0; i < n; ++i) txn |= std::uint64_t{b[i]} << (8 * i);
  return txn;
}

Status KeyIndex::WriteEntry(std::uint64_t entry, std::uint64_t txn) {
  DB_RETURN_IF_ERROR(OpenFor(/*write=*/true));
  char b[kEntryBytes];
  for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<char>((txn >> (8 * i)) & 0xff);
  return env_->PWrite(fd_, std::string_view(b, sizeof b), entry * kEntryBytes);
}

}  // namespace drovebank
