// How the store keeps its files, decided once when a data directory is opened
// (StoreImpl::OpenWritable/OpenReadOnly, recover --check) and given to the parts that
// differ by it: the journal, the lock tables and their holders.
#pragma once

#include "drovebank/env.h"

namespace drovebank {

class Layout;

struct StorageMode {
  // The data directory is on a file system that several hosts share (Env::IsShared; see
  // docs/DESIGN.md "On a shared file system"): account files are rewritten in place instead
  // of renamed over, journal/state is stamped shared-volume instead of a boot id, an append
  // is durable when its write returns, and the files of fixed layout are kept uncached
  // (KeepUncached).
  bool shared = false;
};

// The mode of the data directory at `layout`, which `env` confines already (Env::Confine
// decides whether it is shared).
StorageMode DecideStorageMode(Env* env, const Layout& layout);

// For a file of fixed layout read in small pieces (a lock table, journal/state), open as
// `fd`: in shared mode, grows it (sparse) to Env::kUncachedBytes when `writable` and takes
// its size, so that later reads of it skip the cache drop. Otherwise nothing. A failure
// only forgoes that saving, so none is returned.
void KeepUncached(Env* env, StorageMode mode, int fd, bool writable);

}  // namespace drovebank
