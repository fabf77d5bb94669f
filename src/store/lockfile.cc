#include "lockfile.h"

#include <fcntl.h>

#include <cerrno>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "drovebank/account.h"
#include "byte_wait.h"
#include "layout.h"
#include "process_info.h"

namespace drovebank {

namespace {

constexpr char kFlagSet = '1';
constexpr char kFlagClear = '0';

}  // namespace

LockSlot AccountSlot(std::uint32_t id) { return {LockTableKind::kAccounts, id}; }

LockSlot KeySlot(std::string_view key) {
  std::uint64_t crc = std::strtoull(Crc32Hex(key).c_str(), nullptr, 16);
  return {LockTableKind::kKeys, crc % kKeySlots};
}

std::string FormatLockOwner(const LockOwner& o, std::uint64_t slot) {
  // A host name is cut to 64 bytes so the line always fits its fixed width.
  std::string line = fmt::format("{} {} {} {}", slot, o.pid, o.since_ms, o.host.substr(0, 64));
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
  DB_ASSIGN_OR_RETURN(t->accounts_fd_, env->Open(layout.AccountLockTable(), flags, 0600));
  DB_ASSIGN_OR_RETURN(t->keys_fd_, env->Open(layout.KeyLockTable(), flags, 0600));
  DB_ASSIGN_OR_RETURN(t->owners_fd_, env->Open(layout.LockOwners(), flags, 0600));
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
  // getpid, not Self(): a forked child (as tests make) must name itself.
  LockOwner me{static_cast<int>(::getpid()), Self().host, NowMillis()};
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

Status LockTable::SetNeedsRepair(LockSlot slot, bool on) {
  char c = on ? kFlagSet : kFlagClear;
  return env_->PWrite(FdOf(slot.table), std::string_view(&c, 1), slot.offset);
}

Result<std::vector<LockSlot>> LockTable::Flagged() {
  std::vector<LockSlot> out;
  for (LockTableKind t : {LockTableKind::kAccounts, LockTableKind::kKeys}) {
    DB_ASSIGN_OR_RETURN(FileInfo info, env_->StatFd(FdOf(t)));
    std::uint64_t end = t == LockTableKind::kKeys ? std::min<std::uint64_t>(info.size, kKeySlots)
                                                  : info.size;
    // Chunked: the accounts table is as long as the largest id, mostly holes, which read
    // back as zeros without touching the disk.
    std::string buf(1 << 20, '\0');
    for (std::uint64_t at = 0; at < end;) {
      size_t want = static_cast<size_t>(std::min<std::uint64_t>(buf.size(), end - at));
      DB_ASSIGN_OR_RETURN(size_t n, env_->PRead(FdOf(t), buf.data(), want, at));
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        if (buf[i] == kFlagSet) out.push_back({t, at + i});
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

LockFile::LockFile(LockFile&& o) noexcept
    : table_(o.table_),
      slot_(o.slot_),
      paths_(std::move(o.paths_)),
      held_(o.held_),
      flag_on_(o.flag_on_),
      flag_known_(o.flag_known_),
      temp_written_(o.temp_written_),
      in_place_(std::move(o.in_place_)),
      target_size_(o.target_size_) {
  o.held_ = false;
  o.temp_written_ = false;
}

Status LockFile::AfterLock() {
  held_ = true;
  flag_known_ = true;
  auto flagged = table_->NeedsRepair(slot_);
  if (!flagged.ok()) {
    (void)Rollback();
    return flagged.status();
  }
  flag_on_ = *flagged;
  return Status::Ok();
}

Status LockFile::Hold(const LockWait& wait) {
  if (held_) return Status::Ok();
  DB_RETURN_IF_ERROR(table_->Lock(slot_, paths_.what, wait));
  return AfterLock();
}

Status LockFile::TryHold() {
  if (held_) return Status::Ok();
  Status s = table_->TryLock(slot_);
  if (s.code() == Code::kBusy) return Status::Busy(fmt::format("{} is locked", paths_.what));
  DB_RETURN_IF_ERROR(s);
  return AfterLock();
}

Status LockFile::HoldWithoutFlag(const LockWait& wait) {
  if (held_) return Status::Ok();
  DB_RETURN_IF_ERROR(table_->Lock(slot_, paths_.what, wait));
  held_ = true;
  flag_known_ = false;
  flag_on_ = false;
  return Status::Ok();
}

Status LockFile::MarkInFlight() {
  if (!held_) return Status::Internal("MarkInFlight without holding the lock");
  if (flag_known_ && flag_on_) return Status::Ok();  // already set
  DB_RETURN_IF_ERROR(table_->SetNeedsRepair(slot_, true));
  flag_on_ = true;
  flag_known_ = true;
  return Status::Ok();
}

Status LockFile::Repaired() {
  if (!held_) return Status::Internal("Repaired without holding the lock");
  if (flag_known_ && !flag_on_) return Status::Ok();  // nothing set: nothing to clear
  DB_RETURN_IF_ERROR(table_->SetNeedsRepair(slot_, false));
  flag_on_ = false;
  flag_known_ = true;
  return Status::Ok();
}

Status LockFile::WriteTemp(std::string_view content) {
  if (!held_) return Status::Internal("WriteTemp without holding the lock");
  Env* env = table_->env();
  if (table_->mode().shared) {
    in_place_ = std::string(content);
    temp_written_ = true;
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(std::string spare, table_->SparePath());
  // The spare usually exists (it holds the version the last exchange replaced): reusing
  // it allocates no inode. Only the first write of a process's spare creates it. Why an
  // overwrite and a cut instead of O_TRUNC: the old version is about as long as the new,
  // so its data block is reused; truncating to 0 first would free the block and allocate
  // another at every commit, metadata that each journal fdatasync then has to commit.
  auto fd = env->Open(spare, O_WRONLY | O_NOFOLLOW, 0600);
  if (fd.ok()) {
    // Never through a link: the spare's inode may be a file a hard-link backup (cp -al,
    // rsync --link-dest) also holds, the account file it replaced last, or a link planted
    // at the spare's name. Such an inode is left alone; the spare gets a new one.
    auto info = env->StatFd(*fd);
    if (!info.ok() || info->nlink != 1 || !info->is_regular) {
      (void)env->Close(*fd);
      if (!info.ok()) return info.status();
      DB_RETURN_IF_ERROR(env->Unlink(spare));
      fd = Status::NotFound("spare replaced");
    }
  } else if (fd.status().sys_errno() == ELOOP) {
    // A symbolic link at the spare's name: removed, never followed.
    DB_RETURN_IF_ERROR(env->Unlink(spare));
    fd = Status::NotFound("spare replaced");
  }
  if (!fd.ok() && fd.status().code() == Code::kNotFound) {
    fd = env->Open(spare, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  }
  if (!fd.ok()) return fd.status();
  temp_written_ = true;
  Status s = env->PWrite(*fd, content, 0);
  if (s.ok()) s = env->Truncate(*fd, content.size());
  Status c = env->Close(*fd);
  return s.ok() ? c : s;
}

// Why in place on a shared file system: a GlusterFS client resolves a path through its
// cached entry for about a second, so after another host renamed a new version over an
// account file, a holder of the account's lock would open the old inode and read the old
// balance (measured: 38 of 40 opens right after a rename on the other mount read the old
// content, O_DIRECT or not): a lost update. A file that keeps its inode is read fresh by
// O_DIRECT. The write is not atomic, but the slot's repair flag is set from before the
// journal append until after this write, so a crash in the middle leaves a flagged file
// that the next holder rewrites from the journal, and a reader without the lock that finds
// a torn file reads it again under the lock, as for any file that does not decode.
Status LockFile::WriteInPlace(const std::string& target) {
  Env* env = table_->env();
  auto fd = env->Open(target, O_WRONLY, 0600);
  if (!fd.ok() && fd.status().code() == Code::kNotFound) {
    fd = env->Open(target, O_WRONLY | O_CREAT, 0600);
  }
  if (!fd.ok()) return fd.status();
  Status s = env->PWrite(*fd, in_place_, 0);
  // Not shorter than the file it overwrites (most deposits): nothing to cut, nothing the
  // O_DSYNC write left undurable. Two round trips fewer on a GlusterFS mount.
  bool own = target == paths_.target;
  bool covers = own && target_size_ && in_place_.size() >= *target_size_;
  if (s.ok() && !covers) s = env->Truncate(*fd, in_place_.size());
  // Why a sync after the cut: O_DSYNC makes the bytes written durable, not a truncate, and
  // the repair flag is cleared right after. Without it a power loss could leave the new
  // version followed by the old one's tail, under a clear flag: a file that no longer
  // decodes and that no holder would repair (found by the power-loss model's shared-mount
  // sweep at transfer:after_rename).
  if (s.ok() && !covers) s = env->DataSync(*fd);
  // After a failed write the file's length is unknown: the next rewrite cuts and syncs.
  if (own) target_size_ = s.ok() ? std::optional<std::uint64_t>(in_place_.size()) : std::nullopt;
  Status c = env->Close(*fd);
  return s.ok() ? c : s;
}

Status LockFile::ReplaceWithSpare(const std::string& target) {
  if (table_->mode().shared) {
    DB_RETURN_IF_ERROR(WriteInPlace(target));
    temp_written_ = false;
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(std::string spare, table_->SparePath());
  DB_RETURN_IF_ERROR(table_->env()->ReplaceFile(spare, target).status());
  temp_written_ = false;
  return Status::Ok();
}

Status LockFile::Commit() {
  if (!held_ || !temp_written_) return Status::Internal("Commit without a written temp file");
  DB_RETURN_IF_ERROR(ReplaceWithSpare(paths_.target));
  DB_RETURN_IF_ERROR(Repaired());
  return Rollback();
}

Status LockFile::InstallAt(const std::string& target, std::string_view content) {
  DB_RETURN_IF_ERROR(WriteTemp(content));
  return ReplaceWithSpare(target);
}

Status LockFile::Rollback() {
  temp_written_ = false;  // the spare stays: it is reused, never read
  if (held_) {
    table_->Unlock(slot_);
    held_ = false;
  }
  return Status::Ok();
}

}  // namespace drovebank
