#include "storage_mode.h"

#include "layout.h"

namespace drovebank {

StorageMode DecideStorageMode(Env* env, const Layout& layout) {
  return StorageMode{.shared = env->IsShared(layout.accounts())};
}

void KeepUncached(Env* env, StorageMode mode, int fd, bool writable) {
  if (!mode.shared) return;
  // The size is looked up before growing: a fallocate that changes nothing still sets
  // the file's mtime, and a process that only reads (recover --check) must leave the
  // store exactly as it found it.
  if (writable) {
    auto info = env->StatFd(fd);
    if (info.ok() && info->size < Env::kUncachedBytes) (void)env->Grow(fd, Env::kUncachedBytes);
  }
  (void)env->StatFd(fd);
}

}  // namespace drovebank
