// PosixEnv's calls on names and directories: stat, access, rename, unlink, mkdir, rmdir, list,
// directory sync. Each resolves its path(s) through the Confinement, so below a data
// directory no symbolic link is followed.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "posix_env.h"

namespace drovebank {

Result<FileInfo> PosixEnvImpl::Stat(const std::string& path) {
  Resolved r;
  Status walk;
  struct stat st;
  int err = confinement_.CallAt(path, &r, &walk, [&](const Resolved& at) {
    return ::fstatat(at.dir, at.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  });
  DB_RETURN_IF_ERROR(walk);
  if (err != 0) return ErrnoStatus(err, fmt::format("stat {}", path));
  return ToFileInfo(st);
}

Status PosixEnvImpl::Access(const std::string& path, int how) {
  Resolved r;
  Status walk;
  int err = confinement_.CallAt(path, &r, &walk, [&](const Resolved& at) {
    return ::faccessat(at.dir, at.base.c_str(), how, 0) == 0;
  });
  DB_RETURN_IF_ERROR(walk);
  if (err != 0) return ErrnoStatus(err, fmt::format("access {}", path));
  return Status::Ok();
}

Status PosixEnvImpl::Rename(const std::string& from, const std::string& to) {
  Status walk;
  int err = confinement_.CallAt2(from, to, &walk, [](const Resolved& a, const Resolved& b) {
    return ::renameat(a.dir, a.base.c_str(), b.dir, b.base.c_str()) == 0;
  });
  DB_RETURN_IF_ERROR(walk);
  if (err != 0) return ErrnoStatus(err, fmt::format("rename {} to {}", from, to));
  confinement_.ForgetDirsBelow(from);  // a directory renamed: what was cached below it moved
  confinement_.ForgetDirsBelow(to);
  return Status::Ok();
}

// Why an exchange: ext4 (auto_da_alloc) starts writeback of the new file on every rename
// over an existing one, and dropping the replaced inode then waits for the writeback
// still running on it: 0.1-4 ms a rename in batches, against about 10 us for an exchange
// and an unlink of the old version, whose dirty pages are simply dropped. The account
// files need no such flush: the journal is the commit point and recovery rewrites them.
// Keeping the old version at `from` (instead of unlinking it) is what lets the next
// commit truncate and reuse the same inode: no inode is allocated or freed per commit.
Result<bool> PosixEnvImpl::ReplaceFile(const std::string& from, const std::string& to) {
  Status walk;
  bool exchanged = false;
  int err = confinement_.CallAt2(from, to, &walk, [&](const Resolved& a, const Resolved& b) {
    if (::renameat2(a.dir, a.base.c_str(), b.dir, b.base.c_str(), RENAME_EXCHANGE) == 0) {
      exchanged = true;
      return true;
    }
    // No file at `to` yet (ENOENT), or no exchange on this file system: a plain rename.
    if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) return false;
    return ::renameat(a.dir, a.base.c_str(), b.dir, b.base.c_str()) == 0;
  });
  DB_RETURN_IF_ERROR(walk);
  if (err != 0) return ErrnoStatus(err, fmt::format("rename {} to {}", from, to));
  return exchanged;
}

Status PosixEnvImpl::Unlink(const std::string& path) {
  Resolved r;
  Status walk;
  int err = confinement_.CallAt(path, &r, &walk, [&](const Resolved& at) {
    return ::unlinkat(at.dir, at.base.c_str(), 0) == 0;
  });
  DB_RETURN_IF_ERROR(walk);
  if (err != 0) return ErrnoStatus(err, fmt::format("unlink {}", path));
  return Status::Ok();
}

Status PosixEnvImpl::MakeDir(const std::string& path, unsigned mode) {
  Resolved r;
  Status walk;
  int err = confinement_.CallAt(path, &r, &walk, [&](const Resolved& at) {
    return ::mkdirat(at.dir, at.base.c_str(), mode) == 0;
  });
  DB_RETURN_IF_ERROR(walk);
  if (err == 0) return Status::Ok();
  struct stat st;
  if (err == EEXIST && ::fstatat(r.dir, r.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    if (S_ISLNK(st.st_mode)) {
      return Status::IOError(fmt::format(
          "{} is a symbolic link; drovebank never follows links inside its data directory",
          path));
    }
  }
  return ErrnoStatus(err, fmt::format("mkdir {}", path));
}

Status PosixEnvImpl::SyncDir(const std::string& path) {
  DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY | O_DIRECTORY, 0));
  Status s;
  if (::fsync(fd) != 0) s = ErrnoStatus(errno, fmt::format("fsync directory {}", path));
  ::close(fd);
  return s;
}

Status PosixEnvImpl::RemoveDir(const std::string& path) {
  Resolved r;
  DB_RETURN_IF_ERROR(confinement_.Resolve(path, &r));
  if (::unlinkat(r.dir, r.base.c_str(), AT_REMOVEDIR) != 0) {
    return ErrnoStatus(errno, fmt::format("rmdir {}", path));
  }
  confinement_.ForgetDirsBelow(path);
  return Status::Ok();
}

Result<std::vector<std::string>> PosixEnvImpl::ListDir(const std::string& path) {
  DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY | O_DIRECTORY, 0));
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    Status s = ErrnoStatus(errno, fmt::format("opendir {}", path));
    ::close(fd);
    return s;
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus(err, fmt::format("readdir {}", path));
  return names;
}

}  // namespace drovebank
