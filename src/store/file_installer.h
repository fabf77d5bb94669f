// Installing a new version of a file that a held slot guards (an account file, a key's
// file): the content is written first to this process's spare file (tmp/spare-N, claimed
// through LockTable::SparePath), which then takes the target's place in one exchange
// (Env::ReplaceFile: renameat2 RENAME_EXCHANGE where the file system has it), so a reader
// sees the old version or the new one, never a mix. On a shared file system
// (StorageMode) the content is kept in memory instead and written over the target in
// place (file_installer.cc says why). The caller holds the slot's lock throughout; the
// installer takes none and never touches the repair flag (LockFile does: lockfile.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "drovebank/status.h"
#include "lock_table.h"

namespace drovebank {

class FileInstaller {
 public:
  // `target`: the file the holder's slot is named for (the one set_target_size describes).
  FileInstaller(LockTable* table, std::string target)
      : table_(table), target_(std::move(target)) {}
  FileInstaller(const FileInstaller&) = delete;
  FileInstaller& operator=(const FileInstaller&) = delete;
  // The moved-from installer has nothing written.
  FileInstaller(FileInstaller&& o) noexcept;
  FileInstaller& operator=(FileInstaller&&) = delete;

  // Writes the spare file (truncated first; created only the first time), or on a shared
  // file system keeps `content` for InstallOver to write in place.
  Status WriteTemp(std::string_view content);
  // Whether WriteTemp wrote something that InstallOver has not installed yet.
  bool written() const { return written_; }
  // What WriteTemp wrote becomes `target` (an exchange with the spare; in place on a shared
  // file system). Afterwards written() is false.
  Status InstallOver(const std::string& target);
  // Forgets what WriteTemp wrote; the spare stays (it is reused, never read).
  void Forget() { written_ = false; }

  // The target's size as the holder read it under the lock. On a shared file system an
  // in-place rewrite at least as long then needs no cut and no sync after it: its O_DSYNC
  // write made every byte of the file durable, and no old byte is left past its end.
  void set_target_size(std::uint64_t n) { target_size_ = n; }

 private:
  Status WriteInPlace(const std::string& target);

  LockTable* table_;
  std::string target_;
  bool written_ = false;
  std::string in_place_;  // on a shared file system, what WriteTemp was given
  std::optional<std::uint64_t> target_size_;  // see set_target_size
};

}  // namespace drovebank
