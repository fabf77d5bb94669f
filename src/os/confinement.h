// PosixEnv's paths below a data directory: how each is walked without following a symbolic
// link, and the directory descriptors kept open so that the walk is rarely paid.
//
// Contract: Resolve splits a path into a directory descriptor and a name in it for an *at(2)
// call. Below a registered root no symbolic link (and no "..") is ever followed, not even
// as an intermediate directory; a path elsewhere is used as given (AT_FDCWD). Every method
// is safe to call from several threads.
//
// Why a part of the plain Env and not an Env that wraps it (as SharedFsEnv is): Env's calls
// take paths, so a wrapper could only check a path's components (lstat each) and then
// hand the path down, and the kernel would walk it again: a directory swapped for a
// symbolic link between the check and the call is followed (a time-of-check-to-time-of-use
// race). The guarantee holds only when the call itself is made on a directory descriptor
// reached without following links (openat2 RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk), so
// confinement is how the plain Env makes each call, not a rule around the calls.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "drovebank/status.h"

namespace drovebank {

// A directory descriptor the cache keeps; closed when neither the cache nor any Resolved
// that borrowed it holds it any more (the cache may drop it while a call still uses it).
struct CachedDir {
  int fd;
  explicit CachedDir(int f) : fd(f) {}
  ~CachedDir() { ::close(fd); }
  CachedDir(const CachedDir&) = delete;
  CachedDir& operator=(const CachedDir&) = delete;
};

// A path split for an *at(2) call: `dir` holds the last component `base`. dir is AT_FDCWD
// (and base the whole path) when no root confines the path.
struct Resolved {
  int dir = AT_FDCWD;
  bool owned = true;  // false: `dir` is a cached root or directory descriptor, not ours to close
  std::string cache_key;  // set when `dir` came from the directory cache (DirKey)
  std::shared_ptr<const CachedDir> held;  // that cached directory, kept open while used
  std::string base;
  Resolved() = default;
  Resolved(const Resolved&) = delete;
  Resolved& operator=(const Resolved&) = delete;
  ~Resolved() { Reset(); }
  void Reset() {
    if (dir >= 0 && owned) ::close(dir);
    dir = AT_FDCWD;
    owned = true;
    cache_key.clear();
    held.reset();
    base.clear();
  }
};

class Confinement {
 public:
  Confinement() = default;
  // Closes the root and directory descriptors it kept.
  ~Confinement();
  Confinement(const Confinement&) = delete;
  Confinement& operator=(const Confinement&) = delete;

  // Confines the paths below `root` from now on (Env::Confine).
  void Add(const std::string& root);

  // `path` as a directory descriptor and a name in it (see the contract above).
  Status Resolve(const std::string& path, Resolved* out, bool use_cache = true);
  // After a directory was renamed or removed: every cached directory at or below it.
  void ForgetDirsBelow(const std::string& path);

  // Runs `call` (a system call on r->dir and r->base: true on success, errno set on
  // failure) on `path`. When it failed with ENOENT on a directory from the cache, that
  // directory may have been removed since: it is forgotten and the call made once more on
  // a fresh walk. Returns 0 or the call's errno; a failed walk is returned in *walk.
  template <class Call>
  int CallAt(const std::string& path, Resolved* r, Status* walk, Call call) {
    for (bool use_cache : {true, false}) {
      r->Reset();
      *walk = Resolve(path, r, use_cache);
      if (!walk->ok()) return -1;
      if (call(*r)) return 0;
      int err = errno;
      if (!ForgetStale(err, {r})) return err;
    }
    return ENOENT;
  }

  // CallAt for a call on two paths (a rename).
  template <class Call>
  int CallAt2(const std::string& from, const std::string& to, Status* walk, Call call) {
    Resolved a, b;
    for (bool use_cache : {true, false}) {
      a.Reset();
      b.Reset();
      *walk = Resolve(from, &a, use_cache);
      if (walk->ok()) *walk = Resolve(to, &b, use_cache);
      if (!walk->ok()) return -1;
      if (call(a, b)) return 0;
      int err = errno;
      if (!ForgetStale(err, {&a, &b})) return err;
    }
    return ENOENT;
  }

 private:
  const std::string* RootOf(const std::string& path) const;  // caller holds mu_
  Status FindRoot(const std::string& path, std::string* root, int* root_fd);
  bool ResolveParentAtOnce(const std::string& root, int root_fd, std::string_view rel,
                           bool use_cache, Resolved* out);
  void ForgetDir(const std::string& key);
  // Whether a call that failed with `err` failed on a stale directory from the cache
  // (ENOENT, and a parent of `used` came from it and has been removed): those are then
  // forgotten, so that the next walk opens them afresh.
  bool ForgetStale(int err, std::initializer_list<const Resolved*> used);

  // Roots registered by Add. Paths are compared as text: the store builds every path as
  // root + "/" + relative, so a prefix match is exact.
  std::mutex mu_;
  std::vector<std::string> roots_;  // guarded by mu_
  // One O_PATH descriptor per confined root, opened at its first use and kept: why not
  // open and close the root for every call, as a first version did: that was two of the
  // five system calls of every path operation, and a deposit makes about six.
  std::map<std::string, int> root_fds_;  // guarded by mu_
  // The parent directories of the paths used, kept open the same way: a path operation
  // was openat2, the call and a close, and a deposit makes four (two in a rename), so
  // about a third of its calls were these walks. Directories inside a data directory are
  // never renamed and only the format 1 wait queues are ever removed, but a user may
  // remove one by hand: a call on a cached directory that fails with ENOENT, when `fstat`
  // shows the directory removed, forgets it and walks again. At most kMaxDirFds are kept;
  // a new one then takes the place of another (a report walking 2,000 leaf directories
  // made an openat2 and a close for every account once the first 128 were kept). A
  // descriptor forgotten or pushed out is closed once no call uses it (CachedDir).
  std::unordered_map<std::string, std::shared_ptr<const CachedDir>> dir_fds_;  // guarded by mu_
  std::deque<std::string> dir_order_;  // the keys in the order kept (some since forgotten); mu_
};

}  // namespace drovebank
