// Where everything lives inside a data directory (docs/FORMAT.md has the full tree).
#pragma once

#include <array>
#include <string>

#include "drovebank/account.h"
#include "drovebank/env.h"
#include "lockfile.h"
#include "drovebank/validate.h"

namespace drovebank {

class Layout {
 public:
  explicit Layout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string accounts() const { return root_ + "/accounts"; }
  std::string journal() const { return root_ + "/journal"; }
  std::string locks() const { return root_ + "/locks"; }
  std::string tmp() const { return root_ + "/tmp"; }
  std::string keys() const { return root_ + "/keys"; }
  std::string quarantine() const { return root_ + "/quarantine"; }
  // The marker that makes every session refuse writes until `recover` has run.
  std::string recovery_marker() const { return root_ + "/NEEDS_RECOVERY"; }
  // The format marker (format 3 on): what makes a folder a store (docs/FORMAT.md).
  std::string format_marker() const { return root_ + "/FORMAT"; }
  // The lock tables (lock_table.h): a byte per account, a byte per key slot (and the spare
  // slots), and the holders' notes.
  std::string AccountLockTable() const { return root_ + "/locks/accounts"; }
  std::string KeyLockTable() const { return root_ + "/locks/keys"; }
  std::string LockOwners() const { return root_ + "/locks/owners"; }
  // The journal's state (docs/FORMAT.md): written in place, its lock bytes the journal's
  // mutexes and the attach lock (own_links.h).
  std::string JournalStatePath() const { return root_ + "/journal/state"; }
  std::string SnapshotPath() const { return root_ + "/journal/SNAPSHOT"; }
  // Where SnapshotWriter writes before the rename (its path + ".tmp").
  std::string SnapshotTempPath() const { return SnapshotPath() + ".tmp"; }

  // A path under root() relative to it ("accounts/00/00/00/02.csv"), for reports; any
  // other path as it is.
  std::string Relative(const std::string& path) const;

  // accounts/AA/BB/CC/DD.csv for AABBCCDD = id zero-padded to 8 digits.
  std::string AccountPath(AccountId id) const;
  // The three shard directories of an account, outermost first.
  std::array<std::string, 3> AccountDirs(AccountId id) const;
  LockPaths AccountLock(AccountId id) const;

  // keys/XX/KEY.json where XX is a hash byte of the key; the key was validated.
  std::string KeyPath(std::string_view key) const;
  std::string KeyDir(std::string_view key) const;
  // The key index (src/store/key_index.h): per key slot, the newest keyed txn.
  std::string KeyIndexPath() const { return root_ + "/keys/index"; }
  LockPaths KeyLock(std::string_view key) const;
  // The paths of a lock-table slot: an account's, or a key slot's (which guards every key
  // of the slot, so it names no one file).
  LockPaths SlotLock(const LockSlot& slot) const;

 private:
  std::string root_;
};

// Creates the data directory (0700) and its subdirectories when missing. Refuses (with
// InvalidArgument and a clear message) a path that is a symlink or not a directory, and a
// directory owned by another user or writable by group or others.
Status PrepareDataDir(Env* env, const Layout& layout);

// Creates each lock table of locks/ that is not there (empty: sparse, no flag set), and
// leaves one that is as it is. The caller syncs locks/.
Status CreateLockTables(Env* env, const Layout& layout);

// The data directory's format, from its FORMAT marker. Format 3 writes the marker; a store
// without one is format 2 when it has lock tables, format 1 when it has only journal
// segments, and no store at all otherwise (version 0).
struct StoreFormat {
  int version = 0;
  // The first txn whose record must carry prev_hash (src/store/chain.h): the next txn
  // when the store was made or upgraded to format 3; never, for an older format.
  std::uint64_t chained_from = ~std::uint64_t{0};
};
inline constexpr int kStoreFormat = 3;

// Env::ReadFile's bounds for the store's other text files: far above what drovebank
// writes, far below what would hurt to read. A larger file is Corruption, not read.
inline constexpr size_t kSmallFileMaxBytes = 64 << 10;  // FORMAT, journal/CHECKPOINT, a key file
inline constexpr size_t kMarkerMaxBytes = 64 << 20;     // NEEDS_RECOVERY: a line a refusal

// An account file's bytes, read up to kAccountFileMaxBytes: every read of one goes
// through here, so none can take a planted file of gigabytes into memory.
inline Result<std::string> ReadAccountText(Env* env, const std::string& path) {
  return env->ReadFile(path, kAccountFileMaxBytes);
}
Result<StoreFormat> ReadStoreFormat(Env* env, const Layout& layout);
// Writes the format 3 marker durably (temp file, fsync, rename, directory fsync).
Status WriteStoreFormat(Env* env, const Layout& layout, std::uint64_t chained_from);

// Appends a dated line saying why to the recovery marker and makes it durable; from then
// on every session refuses writes until `recover` has run.
Status WriteRecoveryMarker(Env* env, const Layout& layout, std::string_view why);

}  // namespace drovebank
