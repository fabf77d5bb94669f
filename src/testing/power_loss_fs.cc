// The power-loss model's raw file-system calls (power_loss_fs.h).
#include "power_loss_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace drovebank::power_loss {

namespace fs = std::filesystem;

InoKey KeyOf(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

bool SameEntry(const Entry& a, const Entry& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kFile:
      return a.key == b.key;
    case Kind::kSymlink:
      return a.target == b.target;
    case Kind::kDir:
    case Kind::kOther:
      return true;
  }
  return false;
}

Status Errno(int err, std::string_view what, const std::string& path) {
  return ErrnoStatus(err, fmt::format("power-loss model: {} {}", what, path));
}

std::string Normalize(const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) {
    std::error_code ec;
    fs::path cwd = fs::current_path(ec);
    if (!ec) p = cwd / p;
  }
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string Parent(const std::string& p) {
  auto pos = p.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return p.substr(0, pos);
}

std::string BaseName(const std::string& p) {
  auto pos = p.rfind('/');
  return pos == std::string::npos ? p : p.substr(pos + 1);
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

Result<std::optional<Entry>> LookUp(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<Entry>();
    return Errno(errno, "lstat", path);
  }
  Entry e;
  e.mode = st.st_mode & 07777;
  if (S_ISREG(st.st_mode)) {
    e.kind = Kind::kFile;
    e.key = KeyOf(st);
  } else if (S_ISDIR(st.st_mode)) {
    e.kind = Kind::kDir;
  } else if (S_ISLNK(st.st_mode)) {
    e.kind = Kind::kSymlink;
    std::string buf(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) return Errno(errno, "readlink", path);
    buf.resize(static_cast<size_t>(n));
    e.target = std::move(buf);
  }
  return std::optional<Entry>(std::move(e));
}

int PReadAll(int fd, std::string* out) {
  out->clear();
  char buf[65536];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out->append(buf, static_cast<size_t>(n));
    off += n;
  }
}

// A write-only or O_PATH descriptor cannot be read, so then the file is reopened for
// reading through /proc/self/fd.
Result<std::string> ReadFd(int fd) {
  std::string out;
  int err = PReadAll(fd, &out);
  if (err == 0) return out;
  if (err != EBADF) return Errno(err, "pread", fmt::format("fd {}", fd));
  std::string proc = fmt::format("/proc/self/fd/{}", fd);
  int rfd = ::open(proc.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) return Errno(errno, "reopen", proc);
  err = PReadAll(rfd, &out);
  ::close(rfd);
  if (err != 0) return Errno(err, "read", proc);
  return out;
}

Status WriteWhole(const std::string& path, const std::string& data, unsigned mode, bool create) {
  int flags = O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) return Errno(errno, "restore open", path);
  std::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno(errno, "restore write", path);
      ::close(fd);
      return s;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::Ok();
}

Status RemoveEntry(const std::string& path, Kind kind) {
  if (kind == Kind::kDir) {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return Errno(ec.value(), "restore remove", path);
    return Status::Ok();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno(errno, "restore unlink", path);
  return Status::Ok();
}

}  // namespace drovebank::power_loss
