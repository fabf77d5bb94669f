// The slot locks of lock_table.h: taking and releasing a slot's byte (at once, or waiting
// through byte_wait.h), the holder's note, the repair flags, and the claim on a spare slot.
#include "lock_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "drovebank/account.h"
#include "byte_wait.h"
#include "crc32.h"
#include "layout.h"
#include "process_info.h"
#include "store_files.h"

namespace drovebank {

namespace {

constexpr char kFlagSet = '1';
constexpr char kFlagClear = '0';

}  // namespace

LockSlot AccountSlot(std::uint32_t id) { return {LockTableKind::kAccounts, id}; }

LockSlot KeySlot(std::string_view key) {
  return {LockTableKind::kKeys, Crc32(key) % kKeySlots};
}

std::string FormatLockOwner(const LockOwner& o, std::uint64_t slot) {
  // A host name is cut to 64 bytes so the line always fits its fixed width.
  std::string line = fmt::format(FMT_COMPILE("{} {} {} {}"), slot, o.pid, o.since_ms,
                                 o.host.substr(0, 64));
  line.resize(kOwnerLineBytes - 1, ' ');
  line += '\n';
  return line;
}

std::optional<LockOwner> ParseLockOwner(std::string_view text, std::uint64_t slot) {
  std::istringstream is{std::string(text)};
  std::uint64_t named = 0;
  LockOwner o;
  if (!(is >> named >> o.pid >> o.since_ms >> o.host) || named != slot) return std::nullopt;
  return o;
}

Result<std::unique_ptr<LockTable>> LockTable::Open(Env* env, const Layout& layout,
                                                   StorageMode mode, bool create, bool read_only) {
  std::unique_ptr<LockTable> t(new LockTable(env, layout.tmp(), mode));
  int flags = read_only ? O_RDONLY : (O_RDWR | (create ? O_CREAT : 0));
  // Each proven a regular file once, here (store_files.h): a FIFO put in a table's place
  // would fail every lock taken after with "pread: Illegal seek", naming no file.
  for (auto [fd, path] : {std::pair{&t->accounts_fd_, layout.AccountLockTable()},
                          std::pair{&t->keys_fd_, layout.KeyLockTable()},
                          std::pair{&t->owners_fd_, layout.LockOwners()}}) {
    DB_ASSIGN_OR_RETURN(*fd, OpenStoreFile(env, path, flags));
  }
  // Every lock taken reads a flag and writes an owner note: on a shared file system each
  // read of a small file costs a cache drop first, a round trip, unless the file is big.
  KeepUncached(env, mode, t->accounts_fd_, !read_only);
  KeepUncached(env, mode, t->keys_fd_, !read_only);
  KeepUncached(env, mode, t->owners_fd_, !read_only);
  return t;
}

LockTable::~LockTable() {
  // Closing the descriptions releases every lock still held, the spare slot included.
  for (int fd : {accounts_fd_, keys_fd_, owners_fd_}) {
    if (fd >= 0) (void)env_->Close(fd);
  }
}

std::uint64_t LockTable::NoteKey(LockSlot slot) {
  return slot.offset * 2 + (slot.table == LockTableKind::kKeys ? 1 : 0);
}

std::uint64_t LockTable::OwnerOffset(LockSlot slot) {
  return (NoteKey(slot) % kOwnerLines) * kOwnerLineBytes;
}

Status LockTable::TryLock(LockSlot slot) {
  DB_RETURN_IF_ERROR(env_->LockByte(FdOf(slot.table), slot.offset, /*wait=*/false));
  ++held_;
  WriteOwnerNote(slot);
  return Status::Ok();
}

void LockTable::WriteOwnerNote(LockSlot slot) {
  // For waiters' messages only: failing to write it must not fail the lock.
  // CurrentPid, not Self(): a forked child (as tests make) must name itself.
  LockOwner me{CurrentPid(), Self().host, NowMillis()};
  (void)env_->PWrite(owners_fd_, FormatLockOwner(me, NoteKey(slot)), OwnerOffset(slot));
}

void LockTable::Unlock(LockSlot slot) {
  (void)env_->UnlockByte(FdOf(slot.table), slot.offset);
  if (held_ > 0) --held_;
}

Status LockTable::TryHoldShared(LockSlot slot) {
  return env_->LockByteShared(FdOf(slot.table), slot.offset);
}

void LockTable::ReleaseShared(LockSlot slot) {
  (void)env_->UnlockByte(FdOf(slot.table), slot.offset);
}

Result<bool> LockTable::HeldElsewhere(LockSlot slot) {
  return env_->ByteLocked(FdOf(slot.table), slot.offset);
}

std::optional<LockOwner> LockTable::OwnerOf(LockSlot slot) {
  char buf[kOwnerLineBytes];
  auto n = env_->PRead(owners_fd_, buf, sizeof buf, OwnerOffset(slot));
  if (!n.ok()) return std::nullopt;
  return ParseLockOwner(std::string_view(buf, *n), NoteKey(slot));
}

Status LockTable::Lock(LockSlot slot, std::string_view what, const LockWait& wait) {
  Status first = TryLock(slot);
  if (first.code() != Code::kBusy) return first;
  std::optional<LockOwner> owner = OwnerOf(slot);
  if (wait.on_wait) wait.on_wait(what, owner);
  Status s = WaitForByteLock(env_, FdOf(slot.table), slot.offset, wait, what);
  if (s.ok()) {
    ++held_;
    WriteOwnerNote(slot);
    return s;
  }
  if (s.code() != Code::kBusy) return s;
  std::string who = owner ? fmt::format(" (held by process {} on {} since {})", owner->pid,
                                        owner->host, FormatTime(owner->since_ms))
                          : "";
  return Status::Busy(fmt::format("{}{}; nothing changed", s.message(), who));
}

Result<bool> LockTable::NeedsRepair(LockSlot slot) {
  char c = 0;
  DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(FdOf(slot.table), &c, 1, slot.offset));
  return n == 1 && c == kFlagSet;
}

Result<std::vector<bool>> LockTable::ReadFlags(LockTableKind table,
                                               const std::vector<std::uint64_t>& offsets) {
  std::vector<bool> out(offsets.size(), false);
  std::string buf;
  for (size_t i = 0; i < offsets.size();) {
    const std::uint64_t first = offsets[i];
    size_t j = i + 1;
    while (j < offsets.size() && offsets[j] - first < kFlagSpan) ++j;
    buf.resize(static_cast<size_t>(offsets[j - 1] - first + 1));
    // Past the end (the table is as long as the highest flag ever written), a flag reads
    // as clear, as NeedsRepair reads it.
    DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(FdOf(table), buf.data(), buf.size(), first));
    for (size_t k = i; k < j; ++k) {
      const std::uint64_t at = offsets[k] - first;
      out[k] = at < n && buf[static_cast<size_t>(at)] == kFlagSet;
    }
    i = j;
  }
  return out;
}

Status LockTable::SetNeedsRepair(LockSlot slot, bool on) {
  char c = on ? kFlagSet : kFlagClear;
  return env_->PWrite(FdOf(slot.table), std::string_view(&c, 1), slot.offset);
}

Result<std::vector<LockSlot>> LockTable::Flagged() {
  std::vector<LockSlot> out;
  std::string buf;
  for (LockTableKind t : {LockTableKind::kAccounts, LockTableKind::kKeys}) {
    DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(FdOf(t)));
    std::uint64_t end = t == LockTableKind::kKeys ? std::min<std::uint64_t>(info.size, kKeySlots)
                                                  : info.size;
    // Chunked: the accounts table is as long as the largest id, mostly holes, which read
    // back as zeros without touching the disk. One buffer for both tables, no larger than
    // the table or kFlagSpan: each page of it is a page fault when first written (~11 us
    // on this project's VM), and the zeroed 1 MiB a table it was cost every report ~6 ms
    // at any store size (BENCHMARKS-HISTORY.md, "Page faults of a one-shot report").
    if (buf.size() < std::min<std::uint64_t>(end, kFlagSpan)) {
      buf.assign(static_cast<size_t>(std::min<std::uint64_t>(end, kFlagSpan)), '\0');
    }
    for (std::uint64_t at = 0; at < end;) {
      size_t want = static_cast<size_t>(std::min<std::uint64_t>(buf.size(), end - at));
      DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(FdOf(t), buf.data(), want, at));
      if (n == 0) break;
      // memchr's scan: a table of a million accounts is a million bytes, nearly all clear.
      std::string_view got(buf.data(), n);
      for (size_t i = got.find(kFlagSet); i != std::string_view::npos; i = got.find(kFlagSet, i + 1)) {
        out.push_back({t, at + i});
      }
      at += n;
    }
  }
  return out;
}

Result<std::string> LockTable::SparePath() {
  if (!spare_) {
    for (std::uint64_t k = 0; k < kSpareSlots && !spare_; ++k) {
      Status s = env_->LockByte(keys_fd_, kKeySlots + k, /*wait=*/false);
      if (s.ok()) spare_ = k;
      else if (s.code() != Code::kBusy) return s;
    }
    if (!spare_) {
      return Status::Busy(fmt::format("all {} spare files are in use by other sessions; nothing changed",
                                      kSpareSlots));
    }
  }
  return fmt::format("{}/spare-{}", tmp_dir_, *spare_);
}

}  // namespace drovebank
