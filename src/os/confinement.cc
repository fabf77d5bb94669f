#include "confinement.h"

#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>

namespace drovebank {
namespace {

constexpr size_t kMaxDirFds = 128;

std::string DirKey(const std::string& root, std::string_view parent) {
  std::string key = root;
  key += '\0';
  key += parent;
  return key;
}

// Whether a directory descriptor names a directory that has been removed.
bool DirRemoved(int dir) {
  struct stat st;
  return ::fstat(dir, &st) != 0 || st.st_nlink == 0;
}

// The slow walk: one openat(O_NOFOLLOW) per component, closing as it goes, so it starts
// from a copy of the root descriptor.
Status WalkBeneath(const std::string& path, const std::string& root, int root_fd,
                   std::string_view rel, Resolved* out) {
  int fd = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", root));
  std::string walked = root;
  for (;;) {
    size_t slash = rel.find('/');
    std::string comp(rel.substr(0, slash));
    if (comp == "..") {
      ::close(fd);
      return Status::InvalidArgument(
          fmt::format("{}: '..' is refused inside the data directory", path));
    }
    if (slash == std::string_view::npos) {
      out->dir = fd;
      out->base = comp.empty() ? "." : comp;
      return Status::Ok();
    }
    rel.remove_prefix(slash + 1);
    if (comp.empty() || comp == ".") continue;
    walked += "/" + comp;
    int next = ::openat(fd, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    struct stat st;
    bool link = next < 0 && ::fstatat(fd, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode);
    ::close(fd);
    if (next < 0) {
      if (link) {
        return Status::IOError(
            fmt::format("{}: {} is a symbolic link; drovebank never follows links inside its data "
                        "directory",
                        path, walked));
      }
      return ErrnoStatus(err, fmt::format("open {}", walked));
    }
    fd = next;
  }
}

}  // namespace

Confinement::~Confinement() {
  for (auto& [root, fd] : root_fds_) ::close(fd);
}

void Confinement::Add(const std::string& root) {
  std::lock_guard<std::mutex> l(mu_);
  if (std::find(roots_.begin(), roots_.end(), root) == roots_.end()) roots_.push_back(root);
}

const std::string* Confinement::RootOf(const std::string& path) const {
  for (const std::string& r : roots_) {
    if (path.size() > r.size() + 1 && path.compare(0, r.size(), r) == 0 && path[r.size()] == '/') {
      return &r;
    }
  }
  return nullptr;
}

void Confinement::ForgetDir(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = dir_fds_.find(key);
  if (it == dir_fds_.end()) return;
  dir_fds_.erase(it);
}

void Confinement::ForgetDirsBelow(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  const std::string* root = RootOf(path);
  if (root == nullptr || path.size() <= root->size()) {
    dir_fds_.clear();
    dir_order_.clear();
    return;
  }
  std::string key = DirKey(*root, std::string_view(path).substr(root->size() + 1));
  for (auto it = dir_fds_.begin(); it != dir_fds_.end();) {
    if (it->first == key || it->first.starts_with(key + "/")) {
      it = dir_fds_.erase(it);
    } else {
      ++it;
    }
  }
}

// The confining root of `path` ("" for none) and a descriptor of it, opened once and kept.
Status Confinement::FindRoot(const std::string& path, std::string* root, int* root_fd) {
  std::lock_guard<std::mutex> l(mu_);
  if (const std::string* r = RootOf(path)) *root = *r;
  if (root->empty()) return Status::Ok();
  auto it = root_fds_.find(*root);
  if (it == root_fds_.end()) {
    int fd = ::open(root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, fmt::format("open {}", *root));
    it = root_fds_.emplace(*root, fd).first;
  }
  *root_fd = it->second;
  return Status::Ok();
}

// The fast path: one openat2 reaches the parent directory without following any symbolic
// link and without leaving the root, instead of an openat and a close per component
// (about 40 syscalls a deposit), and the descriptor is cached. False on any failure (an
// old kernel, a link, a missing directory, ".."): the walk then runs and reports the
// precise cause.
bool Confinement::ResolveParentAtOnce(const std::string& root, int root_fd, std::string_view rel,
                                      bool use_cache, Resolved* out) {
  size_t last = rel.rfind('/');
  if (last == std::string_view::npos || rel.find("..") != std::string_view::npos) return false;
  struct open_how how = {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string parent(rel.substr(0, last));
  std::string key = DirKey(root, parent);
  if (use_cache && last + 1 < rel.size()) {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = dir_fds_.find(key); it != dir_fds_.end()) {
      out->dir = it->second->fd;
      out->owned = false;
      out->held = it->second;
      out->cache_key = std::move(key);
      out->base = std::string(rel.substr(last + 1));
      return true;
    }
  }
  int dir = static_cast<int>(::syscall(SYS_openat2, root_fd, parent.c_str(), &how, sizeof how));
  if (dir >= 0 && last + 1 < rel.size()) {
    out->dir = dir;
    out->base = std::string(rel.substr(last + 1));
    std::lock_guard<std::mutex> l(mu_);
    if (dir_fds_.count(key) == 0) {
      // The oldest kept goes (a walk moves on from it), never the one in use now.
      while (dir_fds_.size() >= kMaxDirFds && !dir_order_.empty()) {
        dir_fds_.erase(dir_order_.front());
        dir_order_.pop_front();
      }
      auto cached = std::make_shared<const CachedDir>(dir);
      dir_fds_.emplace(key, cached);
      dir_order_.push_back(key);
      out->owned = false;
      out->held = std::move(cached);
      out->cache_key = std::move(key);
    }
    return true;
  }
  if (dir >= 0) ::close(dir);
  return false;
}

// By one openat2 where it can, else one openat(O_NOFOLLOW) per component. O_NOFOLLOW on
// the final open covers the last one.
Status Confinement::Resolve(const std::string& path, Resolved* out, bool use_cache) {
  std::string root;
  int root_fd = -1;
  DB_RETURN_IF_ERROR(FindRoot(path, &root, &root_fd));
  if (root.empty()) {
    out->base = path;
    return Status::Ok();
  }
  std::string_view rel = std::string_view(path).substr(root.size() + 1);
  if (rel.find('/') == std::string_view::npos && rel != ".." && !rel.empty() && rel != ".") {
    out->dir = root_fd;  // a name directly in the root
    out->owned = false;
    out->base = std::string(rel);
    return Status::Ok();
  }
  if (ResolveParentAtOnce(root, root_fd, rel, use_cache, out)) return Status::Ok();
  return WalkBeneath(path, root, root_fd, rel, out);
}

// Why look at the directory rather than forget on any ENOENT: ENOENT is also the plain
// answer for a name that is not there (a spare not made yet, a new account's file), and
// forgetting a live directory on every such call would walk again each time (and, when a
// forgotten descriptor was kept open, a batch opening 10,000 accounts in one group ran out
// of them).
bool Confinement::ForgetStale(int err, std::initializer_list<const Resolved*> used) {
  if (err != ENOENT) return false;
  bool stale = false;
  for (const Resolved* r : used) {
    if (r->cache_key.empty() || !DirRemoved(r->dir)) continue;
    ForgetDir(r->cache_key);
    stale = true;
  }
  return stale;
}

}  // namespace drovebank
