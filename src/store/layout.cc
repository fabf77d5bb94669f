#include "layout.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "drovebank/account.h"
#include "drovebank/store.h"
#include "key_index.h"
#include "process_info.h"

namespace drovebank {

namespace {

// Appends "/" and `group` in at least two digits (the first group of an id past 99,999,999
// has more, as "{:02}" gave it).
void AppendGroup(std::string* out, std::uint64_t group) {
  fmt::format_int digits(group);
  out->push_back('/');
  if (digits.size() == 1) out->push_back('0');
  out->append(digits.data(), digits.size());
}

}  // namespace

// By hand rather than through fmt: every commit names its accounts' paths and locks, and
// the format parse of "{:02}" four times cost 3,000 instructions an account.
std::string Layout::AccountPath(AccountId id) const {
  std::string p;
  p.reserve(root_.size() + 28);
  p += root_;
  p += "/accounts";
  AppendGroup(&p, id / 1000000);
  AppendGroup(&p, id / 10000 % 100);
  AppendGroup(&p, id / 100 % 100);
  AppendGroup(&p, id % 100);
  p += ".csv";
  return p;
}

std::string Layout::Relative(const std::string& path) const {
  if (path.size() > root_.size() && path.starts_with(root_) && path[root_.size()] == '/') {
    return path.substr(root_.size() + 1);
  }
  return path;
}

std::array<std::string, 3> Layout::AccountDirs(AccountId id) const {
  std::string a = fmt::format("{}/accounts/{:02}", root_, id / 1000000);
  std::string b = fmt::format("{}/{:02}", a, id / 10000 % 100);
  std::string c = fmt::format("{}/{:02}", b, id / 100 % 100);
  return {a, b, c};
}

LockPaths Layout::AccountLock(AccountId id) const {
  return LockPaths{AccountPath(id), "account " + std::to_string(id)};
}

std::string Layout::KeyDir(std::string_view key) const {
  return fmt::format("{}/keys/{}", root_, Crc32Hex(key).substr(6));
}

std::string Layout::KeyPath(std::string_view key) const {
  return fmt::format("{}/{}.json", KeyDir(key), key);
}

LockPaths Layout::KeyLock(std::string_view key) const {
  return LockPaths{KeyPath(key), fmt::format("transaction key '{}'", key)};
}

LockPaths Layout::SlotLock(const LockSlot& slot) const {
  if (slot.table == LockTableKind::kAccounts) {
    return AccountLock(static_cast<AccountId>(slot.offset));
  }
  return LockPaths{"", fmt::format("key slot {}", slot.offset)};
}

std::string ResolveDataDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("DROVEBANK_DATA");
  if (env != nullptr && *env != 0) return env;
  return "data";
}

bool StoreExistsAt(Env* env, const std::string& dir) {
  Layout layout(dir);
  // Why the journal too: a format 1 store has no lock tables, and Store::Open refuses it
  // naming `recover`, which must still find it.
  return env->Access(layout.format_marker(), F_OK).ok() ||
         env->Access(layout.AccountLockTable(), F_OK).ok() ||
         env->Access(layout.journal(), F_OK).ok();
}

bool StoreWritableAt(Env* env, const std::string& dir) {
  Layout layout(dir);
  for (const std::string& p : {layout.root(), layout.journal(), layout.AccountLockTable()}) {
    if (!env->Access(p, W_OK).ok()) return false;
  }
  return true;
}

Status PrepareDataDir(Env* env, const Layout& layout) {
  const std::string& root = layout.root();
  auto st = env->Stat(root);
  if (!st.ok() && st.status().code() == Code::kNotFound) {
    // A directory that cannot be made (its parent missing, no permission) is an I/O
    // failure of this command, not a bank rule's "not found".
    if (Status made = env->MakeDir(root, 0700); !made.ok()) {
      return Status::IOError(
          fmt::format("cannot create the data directory {}: {}", root, made.message()));
    }
    st = env->Stat(root);
  }
  if (!st.ok()) return st.status();
  if (st->is_symlink) {
    return Status::InvalidArgument(
        fmt::format("data directory {} is a symbolic link; give the real path", root));
  }
  if (!st->is_dir) return Status::InvalidArgument(fmt::format("{} is not a directory", root));
  if (st->uid != ::geteuid()) {
    return Status::InvalidArgument(
        fmt::format("data directory {} belongs to another user; refusing to use it", root));
  }
  if ((st->mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status::InvalidArgument(fmt::format(
        "data directory {} is writable by other users; run: chmod go-w {}", root, root));
  }
  env->Confine(root, /*read_only=*/false);
  // Every command passes here: one stat tells an initialised directory (tmp/ is made
  // last) from a new one, instead of five mkdir calls each time.
  if (env->Stat(layout.tmp()).ok()) return Status::Ok();
  for (const std::string& d : {layout.accounts(), layout.journal(), layout.locks(), layout.keys()}) {
    DB_RETURN_IF_ERROR(env->MakeDir(d, 0700));
  }
  // A new store gets its lock tables before tmp/ marks it initialised; a store that has
  // journal segments but no tables was written by format 1 and is upgraded by `recover`.
  auto names = env->ListDir(layout.journal());
  if (!names.ok()) return names.status();
  bool has_segments = false;
  for (const std::string& n : *names) has_segments = has_segments || n.ends_with(".log");
  if (!has_segments) {
    DB_RETURN_IF_ERROR(CreateLockTables(env, layout));
    // A new store is format 3 from its first record on, keys/index whole from the start.
    DB_RETURN_IF_ERROR(CreateKeyIndex(env, layout.KeyIndexPath()));
    DB_RETURN_IF_ERROR(WriteStoreFormat(env, layout, 1));
  }
  DB_RETURN_IF_ERROR(env->MakeDir(layout.tmp(), 0700));
  DB_RETURN_IF_ERROR(env->SyncDir(layout.locks()));
  // The journal's directory entry must be durable before the first commit relies on it,
  // and so must the data directory's own entry in its parent.
  DB_RETURN_IF_ERROR(env->SyncDir(root));
  auto slash = root.find_last_of('/');
  return env->SyncDir(slash == std::string::npos ? "."
                                                 : (slash == 0 ? "/" : root.substr(0, slash)));
}

Status CreateLockTables(Env* env, const Layout& layout) {
  for (const std::string& t :
       {layout.AccountLockTable(), layout.KeyLockTable(), layout.LockOwners()}) {
    DB_ASSIGN_OR_RETURN(int fd, env->Open(t, O_RDWR | O_CREAT, 0600));
    (void)env->Close(fd);
  }
  return Status::Ok();
}

Result<StoreFormat> ReadStoreFormat(Env* env, const Layout& layout) {
  StoreFormat f;
  auto text = env->ReadFile(layout.format_marker(), kSmallFileMaxBytes);
  if (text.ok()) {
    unsigned long long from = 0;
    int version = 0;
    if (std::sscanf(text->c_str(), "drovebank data directory, format %d\nchained-from %llu\n",
                    &version, &from) != 2 ||
        version < 3 || from == 0) {
      return Status::Corruption(fmt::format("{} is malformed", layout.format_marker()));
    }
    if (version > kStoreFormat) {
      return Status::NeedsRecovery(fmt::format(
          "the data directory {} is format {}, written by a newer drovebank; this one reads "
          "format {} and older; nothing changed",
          layout.root(), version, kStoreFormat));
    }
    f.version = version;
    f.chained_from = from;
    return f;
  }
  if (text.status().code() != Code::kNotFound) return text.status();
  if (env->Stat(layout.AccountLockTable()).ok()) {
    f.version = 2;
  } else if (auto names = env->ListDir(layout.journal()); names.ok()) {
    // Format 1 had no lock tables: its journal segments say it is a store.
    for (const std::string& n : *names) {
      if (n.size() == 20 && n.ends_with(".log")) f.version = 1;
    }
  }
  return f;
}

Status WriteStoreFormat(Env* env, const Layout& layout, std::uint64_t chained_from) {
  return WriteFileDurably(env, layout.format_marker(),
                          fmt::format("drovebank data directory, format {}\nchained-from {}\n",
                                      kStoreFormat, chained_from));
}

Status WriteRecoveryMarker(Env* env, const Layout& layout, std::string_view why) {
  DB_ASSIGN_OR_RETURN(int fd,
                      env->Open(layout.recovery_marker(), O_WRONLY | O_CREAT | O_APPEND, 0600));
  Status s = env->Write(fd, fmt::format("{} {}\n", FormatTime(NowMillis()), why));
  if (s.ok()) s = env->Sync(fd);
  (void)env->Close(fd);
  if (s.ok()) s = env->SyncDir(layout.root());
  return s;
}

}  // namespace drovebank
