// The one door to the operating system (after LevelDB's Env). Every file operation of the
// store goes through an Env, so tests can substitute one that crashes, fails calls with
// EIO/ENOSPC at named fault points, or forgets unsynced writes (power loss).
//
// Contract shared by all methods: on failure they return a Status made by ErrnoStatus
// (NotFound for ENOENT, Busy for EWOULDBLOCK, IOError otherwise) naming the call and path;
// they never throw. Paths are used as given (relative to the working directory or absolute).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "drovebank/status.h"

namespace drovebank {

struct FileInfo {
  bool is_dir = false;
  bool is_regular = false;
  bool is_symlink = false;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint32_t mode = 0;  // permission bits and type, as st_mode
  std::uint32_t uid = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t nlink = 1;  // hard links to the inode: drovebank writes into none with more
};

// ReadFile's bound when a file may be of any size (a journal segment).
inline constexpr size_t kAnySize = static_cast<size_t>(-1);

class Env {
 public:
  virtual ~Env() = default;

  // open(2) with O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK always added (O_NONBLOCK not with O_PATH):
  // a symlink is never followed, and a FIFO in place of a file never blocks the open or a
  // read (O_NONBLOCK changes nothing for a regular file or a directory).
  virtual Result<int> Open(const std::string& path, int flags, unsigned mode = 0600) = 0;
  virtual Status Close(int fd) = 0;
  // Writes all of `data` (looping over short writes) at the current offset; on failure
  // part of it may have been written.
  virtual Status Write(int fd, std::string_view data) = 0;
  // Writes all of `data` at `offset` (pwrite(2), looping over short writes); the
  // descriptor's offset is unchanged.
  virtual Status PWrite(int fd, std::string_view data, std::uint64_t offset) = 0;
  // Reads up to n bytes at offset; returns the count (0 at end of file).
  virtual Result<size_t> PRead(int fd, char* buf, size_t n, std::uint64_t offset) = 0;
  // Reads a whole regular file (opened with O_NOFOLLOW). Anything else at the path (a
  // directory, a FIFO, a device) is Corruption, "PATH is not a regular file". A file of
  // more than `at_most` bytes is Corruption too, "PATH is N bytes, ...", told before any
  // of it is read: a file of the store whose size no such file can have (a sparse 10 GB
  // account file, planted) must not be read into memory. Every override keeps kAnySize
  // as the default, so the bound is the same whichever type the call goes through.
  virtual Result<std::string> ReadFile(const std::string& path, size_t at_most = kAnySize) = 0;
  // fsync / fdatasync. After a failure the caller must not retry on the same descriptor:
  // Linux may have dropped the dirty pages after reporting the error once.
  virtual Status Sync(int fd) = 0;
  virtual Status DataSync(int fd) = 0;
  virtual Status Truncate(int fd, std::uint64_t size) = 0;
  // Makes the file at least `size` bytes long, the new bytes reading as zeros (a hole
  // where the file system allows). Never shortens it and never changes a byte it holds,
  // whoever writes it meanwhile: a one-byte fallocate(2) at size - 1, not an ftruncate.
  // IOError where the file system has no fallocate; the file is then unchanged.
  virtual Status Grow(int fd, std::uint64_t size) = 0;
  // fstat(2). On a shared file system (IsShared) the size is the servers', not a client
  // cache's; and once it showed at least kUncachedBytes, reads below that size skip the
  // cache drop that makes small files fresh (see SharedFsEnv).
  virtual Result<FileInfo> StatFd(int fd) = 0;
  // lstat(2): a symlink is reported as one, never followed.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // access(2) with `how` (F_OK, or a mask of R_OK, W_OK, X_OK): Ok when the real user may
  // reach `path` so, what Stat cannot tell (groups, ACLs, a read-only mount). As access(2)
  // does, and unlike every other call, a symbolic link as the last component is followed;
  // below a confined root the components before it are walked as for any call.
  virtual Status Access(const std::string& path, int how) = 0;

  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Replaces `to` with the file at `from` atomically, as rename(2) does, for a temp file
  // that holds nothing else. Returns true when `from` still exists afterwards, holding
  // what `to` held before (PosixEnv swaps the names with renameat2(RENAME_EXCHANGE), so a
  // writer keeps reusing one spare inode and allocates none), false when `from` is gone
  // (a plain rename: no file at `to` yet, or a file system without the exchange).
  virtual Result<bool> ReplaceFile(const std::string& from, const std::string& to) = 0;
  // A hint, never needed for correctness: brings into the cache what replacing each file
  // of `paths` will read from disk (its inode's block, its first data block), several at
  // once where the Env can, and returns when done. May update the files' atime. Safe to
  // call from another thread while the Env is in use; failures are ignored.
  virtual void WarmForReplace(const std::vector<std::string>& paths) = 0;
  virtual Status Unlink(const std::string& path) = 0;
  // mkdir(2); Ok when a directory already exists there.
  virtual Status MakeDir(const std::string& path, unsigned mode) = 0;
  // rmdir(2) of an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Makes the directory's entries durable (open O_DIRECTORY + fsync). A FUSE file system
  // (GlusterFS) accepts this and does nothing: no durability claim may rest on it alone.
  virtual Status SyncDir(const std::string& path) = 0;
  // Entry names of a directory, without "." and "..", unsorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;

  // Open-file-description byte-range lock on one byte at `offset` (F_OFD_SETLK[W]):
  // released by UnlockByte, by closing the descriptor, or by the process dying.
  // With wait=false a lock held elsewhere gives Busy.
  virtual Status LockByte(int fd, std::uint64_t offset, bool wait) = 0;
  virtual Status UnlockByte(int fd, std::uint64_t offset) = 0;
  // A shared (read) lock on the same byte, never waiting: Busy while another description
  // holds the byte exclusively. Any number of descriptions, read-only ones included, may
  // hold it shared at once; LockByte on a byte this description holds shared converts it
  // (Busy, the shared lock kept, while another description holds it too).
  virtual Status LockByteShared(int fd, std::uint64_t offset) = 0;
  // Waits for the same lock (F_OFD_SETLKW) until it is ours (Ok) or a signal interrupts
  // the wait (Cancelled, nothing held). The kernel queues waiters in the order they came.
  virtual Status WaitLockByte(int fd, std::uint64_t offset) = 0;
  // Whether another open file description holds a lock on that byte (F_OFD_GETLK); works
  // on a read-only descriptor, takes nothing.
  virtual Result<bool> ByteLocked(int fd, std::uint64_t offset) = 0;

  // From now on the Env follows no symbolic link in any component of a path below `root`
  // (the data directory, already checked not to be a link): paths root + "/..." are walked
  // one openat(O_NOFOLLOW) at a time and a call fails with IOError naming the link (or
  // InvalidArgument for a ".." component). It also decides, once, whether `root` is on a
  // shared file system (SharedFsMode), which IsShared then answers for every path below it.
  // Paths elsewhere are unaffected. Idempotent; the store calls it when it opens a data
  // directory, before any other call on a path below it. `read_only` (until a call without
  // it for the same root): on a shared file system, the Env then never makes a client drop
  // its caches, since that changes files' mtime, so reads may lag another host's latest
  // write by the client's cache time (a second). Nothing to report: a root that cannot be
  // opened fails the first call on a path below it.
  virtual void Confine(const std::string& root, bool read_only) = 0;

  // Whether `path` lies on a file system that several hosts share (a FUSE mount such as
  // GlusterFS, or any store when DROVEBANK_FS=shared): there no client cache is coherent
  // with another host's writes, so the Env itself works around them (see SharedFsMode).
  // The store then installs account files in place instead of renaming over them, since
  // another client may resolve a renamed path to the old inode for a second.
  virtual bool IsShared(const std::string& path) = 0;
  // On a shared file system, a file at least this long is never cached whole by the
  // client: GlusterFS's quick-read takes files of up to 64 KiB (its max-file-size,
  // 1 MiB at most) and serves them, O_DIRECT reads included, from the copy it took. The
  // lock tables and journal/state are grown to it there (Grow), so reading them costs one
  // call, not two.
  static constexpr std::uint64_t kUncachedBytes = 2 << 20;

  // Opens read-write, creating it (0600) if missing, a file whose content means something
  // only during this boot (the journal's state): nothing relies on it being durable, and a
  // model of a power loss loses it with the reboot.
  virtual Result<int> OpenBootFile(const std::string& path) = 0;

  // A named fault point: `path` is the write path ("deposit", "checkpoint", "recover"),
  // `step` the step within it ("after_journal_sync"). The real Env does nothing; a fault
  // injecting Env may exit the process at once or arm a failure of the next call.
  virtual void FaultPoint(std::string_view path, std::string_view step) = 0;

  // Every call above is pure, so an Env that derives from this class directly names each
  // one: a call added here fails to compile in EnvWrapper (env_wrapper.h) until it is
  // forwarded, and in tests/env_wrapper_test.cc until the fault and power-loss Envs say
  // what they do with it (RocksDB's rule: a test Env models every call that ships).
};

// How the process Env (SharedFsEnv over the plain POSIX Env) treats a data directory,
// decided once by Env::Confine: `shared` on a FUSE file system (statfs) or when
// DROVEBANK_FS=shared, never when DROVEBANK_FS=local. On a shared one every descriptor it
// opens for writing is O_DSYNC (a write is on the servers, durable and visible to every
// client, when it returns: GlusterFS's write-behind would otherwise hold it), PRead and
// ReadFile read with O_DIRECT (no client cache), and StatFd first makes the client fetch
// the file's size anew. `type` names the file system as the
// mount table does ("fuse.glusterfs", "ext4"), for --version --verbose and recover --check.
struct SharedFsMode {
  bool shared = false;
  std::string type;    // from /proc/self/mountinfo; "unknown" when not found
  std::string reason;  // why shared or not, one phrase
  // Shared mode only: whether the file system serves O_DIRECT reads ("direct reads"), or
  // refuses them so that plain reads stand in ("plain reads: ..."), tried on the store's
  // FORMAT file; "" when not shared or there is no store to try.
  std::string reads;
};
SharedFsMode FileSystemMode(const std::string& root);
// One line for people: "file system: fuse.glusterfs, shared mode (a FUSE file system: ...)".
std::string FileSystemModeLine(const SharedFsMode& mode);

// The Env the programs use: PosixEnv, wrapped by the fault injector when the build has
// DROVEBANK_FAULT_INJECTION and the DROVEBANK_FAULT environment variable is set
// (see docs/RELIABILITY.md for its syntax).
Env* DefaultEnv();

// ReadFile's refusal of a file larger than its bound (Corruption), for every Env.
Status TooLarge(const std::string& path, size_t size, size_t at_most);

// Writes `data` to `path` through a temp file, fsync, rename and directory fsync, so the
// file is either the old or the new content after any crash. Used for small metadata
// files (the checkpoint), never on the per-operation path.
Status WriteFileDurably(Env* env, const std::string& path, std::string_view data);

// Closes `fd` through `env` at the end of a scope (a read that may return early).
struct EnvFdCloser {
  Env* env;
  int fd;
  ~EnvFdCloser() {
    if (fd >= 0) (void)env->Close(fd);
  }
};

}  // namespace drovebank
