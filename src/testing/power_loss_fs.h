// The power-loss model's view of the real tree (power_loss_env.h): what a name is (an
// Entry: a file's inode, a directory, a symbolic link) and the raw system calls the model
// reads and restores the tree with. Raw, not the target Env: the model's bookkeeping is not
// the store's I/O, so it must neither consume a fault armed in a wrapped fault injector nor
// show up in its trace.
#pragma once

#include <sys/stat.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "drovebank/status.h"

namespace drovebank::power_loss {

struct InoKey {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  auto operator<=>(const InoKey&) const = default;
};

InoKey KeyOf(const struct stat& st);

enum class Kind { kFile, kDir, kSymlink, kOther };

// What a directory entry names, as far as the model cares.
struct Entry {
  Kind kind = Kind::kOther;
  InoKey key;            // the inode, for kFile
  unsigned mode = 0700;  // permission bits, to recreate a kDir
  std::string target;    // for kSymlink
};

// Directories are compared by kind only: the env can neither remove nor rename one, so a
// directory under a name is the one that was there.
bool SameEntry(const Entry& a, const Entry& b);

// The model's own failure: `what` (a call) on `path` failed with `err`.
Status Errno(int err, std::string_view what, const std::string& path);

// Absolute and lexically normal, without a trailing slash, so "d/", "./d" and "/abs/d" all
// name one directory in the model.
std::string Normalize(const std::string& path);
std::string Parent(const std::string& p);
std::string BaseName(const std::string& p);
std::string Join(const std::string& dir, const std::string& name);

// lstat as an Entry; nullopt when nothing has that name.
Result<std::optional<Entry>> LookUp(const std::string& path);
// Reads from offset 0 to the end; 0 or the errno.
int PReadAll(int fd, std::string* out);
// The whole content of the file behind `fd` (a write-only or O_PATH one included).
Result<std::string> ReadFd(int fd);
// Replaces the content of `path` (creating it when `create`) with `data`.
Status WriteWhole(const std::string& path, const std::string& data, unsigned mode, bool create);
// Removes the entry at `path` (a directory with everything under it).
Status RemoveEntry(const std::string& path, Kind kind);

}  // namespace drovebank::power_loss
