// SharedFsEnv's descriptors opened below a root on a shared file system, and what each needs
// for reads that reach the servers rather than a client's cache.
//
// Why a side table and not flags on the descriptor: a GlusterFS client serves reads from
// its caches (the kernel's page cache, quick-read, md-cache) for about a second after
// another client's write, even one that was fdatasync'd (measured: 45 of 49 reads stale),
// and the only reads that reach the servers are O_DIRECT ones, which need aligned buffers.
// So each such descriptor gets an O_DIRECT twin for reading, opened when first needed.
//
// Contract: every method is safe from several threads and is a no-op (or answers "not
// shared") for a descriptor never registered; until one is registered, none takes a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "drovebank/status.h"
#include "let_go.h"

namespace drovebank {

constexpr size_t kDirectAlign = 4096;

struct AlignedFree {
  void operator()(char* p) const { std::free(p); }
};
using AlignedBuf = std::unique_ptr<char, AlignedFree>;
AlignedBuf AllocAligned(size_t n);

// pread through an O_DIRECT descriptor into `buf`: the aligned blocks around the range are
// read into a bounce buffer. Returns the bytes of [offset, offset+n) the file holds.
Result<size_t> DirectPRead(int direct, char* buf, size_t n, std::uint64_t offset);

class SharedFds {
 public:
  SharedFds() = default;
  // `hand_over`: how long a call must take to be taken for another host's hold (tests
  // choose their own; kHandOver otherwise).
  explicit SharedFds(std::chrono::milliseconds hand_over) : hand_over_(hand_over) {}
  // Closes the twins still open (the descriptors themselves are the caller's).
  ~SharedFds();
  SharedFds(const SharedFds&) = delete;
  SharedFds& operator=(const SharedFds&) = delete;

  // A descriptor just opened below a shared root: `no_refresh` on a read-only root, and
  // `opened_direct` when it was opened O_DIRECT itself (then it is its own twin).
  void Add(int fd, bool writable, bool no_refresh, bool opened_direct);
  // Before `fd` is closed: closes its twins and forgets it.
  void Remove(int fd);
  bool Has(int fd);

  // Makes the client forget what it cached of the file (see shared_fds.cc).
  void Refresh(int fd);
  // After a write through `fd` (a write, a cut, a grow) that took `took`. Once another
  // host is seen writing the store (contended()), the client lets go of the file's write
  // lock soon after every write (let_go.h). No-op for a descriptor not registered.
  void Wrote(int fd, std::chrono::steady_clock::duration took);
  // After a wait for a byte lock of `fd` that took `took`.
  void Waited(int fd, std::chrono::steady_clock::duration took);
  // Whether a write, a cache drop or a lock wait on a registered descriptor ever took
  // kHandOver (or the hand_over given) or longer: what a write waiting out another host's
  // hold on the file's write lock takes (about 1 s), or a lock wait behind a commit that
  // did so; a call on the mount otherwise takes milliseconds. Stays set for the life of
  // the process: a host alone never sets it, and keeps AFR's lock between its writes.
  bool contended() const { return contended_.load(std::memory_order_relaxed); }
  static constexpr std::chrono::milliseconds kHandOver{500};
  // For tests: waits until every let-go scheduled is made; how many were made.
  std::uint64_t SettleLetGo() { return let_go_.Settle(); }
  // The direct twin of `fd`, or -1 when `fd` is not shared or the file system has no
  // O_DIRECT.
  int DirectOf(int fd);
  // A file system that opens O_DIRECT but refuses its reads (EINVAL: LazyFS and other FUSE
  // file systems without direct I/O): `fd` is read plainly from now on, as a file system
  // that refuses the open already is. One kernel serves every reader of such a file system
  // on this host, so a plain read is as fresh as the direct one was meant to be.
  void RefuseDirect(int fd);
  // The size StatFd last saw (SawSize), when at least Env::kUncachedBytes; else 0.
  std::uint64_t UncachedSize(int fd);
  void SawSize(int fd, std::uint64_t size);

 private:
  // Wrote's work for a descriptor of a shared file (registered, or a twin of one).
  void WroteShared(int fd, std::chrono::steady_clock::duration took);
  struct SharedFd {
    bool writable = false;
    bool no_refresh = false;  // read-only root, or no writable twin could be had
    int direct = -1;          // O_RDONLY|O_DIRECT reopening of the same file, or -1
    bool no_direct = false;   // the file system refused O_DIRECT: plain reads
    int refresh = -1;         // a writable reopening of a read-only descriptor, for Refresh
    // The size StatFd last saw, once it was at least Env::kUncachedBytes: reads below it
    // need no Refresh (quick-read never holds such a file, and O_DIRECT passes the page
    // cache). Only the files drovebank keeps at a fixed size grow that big (lock tables,
    // journal/state) or are read this way (old journal segments).
    std::uint64_t uncached_size = 0;
  };
  std::mutex mu_;
  std::unordered_map<int, SharedFd> fds_;  // guarded by mu_
  // Whether any descriptor was ever registered: a store on a local disk then pays no mutex
  // on its hot calls (PRead, StatFd, Close).
  std::atomic<bool> any_{false};
  std::atomic<bool> contended_{false};
  std::chrono::milliseconds hand_over_ = kHandOver;
  // Destroyed first (declared last): its thread is joined while every descriptor is open.
  LetGoTimer let_go_;
};

}  // namespace drovebank
