// Which data directories are on a shared file system (FileSystemMode, and the part of it
// that PosixEnv needs when it confines a data directory), and how that is told to people.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "posix_env.h"
#include "shared_fs_env.h"

namespace drovebank {
namespace {

// The mount table's entry for the file system holding `dir`: the longest mount point that
// is a prefix of its real path (/proc/self/mountinfo, fields 5 and after the " - ").
std::string MountType(const std::string& dir) {
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) return "unknown";
  std::string path = real;
  std::free(real);
  std::ifstream in("/proc/self/mountinfo");
  std::string line, best_type = "unknown";
  size_t best = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (!(f >> id >> parent >> devno >> root >> mount_point)) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    bool prefix = mount_point == "/" ||
                  (path.compare(0, mount_point.size(), mount_point) == 0 &&
                   (path.size() == mount_point.size() || path[mount_point.size()] == '/'));
    if (prefix && mount_point.size() >= best) {
      best = mount_point.size();
      best_type = type;
    }
  }
  return best_type;
}

// The mode without the mount table's type name: what Confine needs at every store
// open, where reading /proc/self/mountinfo would be start-up work for a display string.
SharedFsMode Classify(const std::string& root, std::string* statfs_dir) {
  SharedFsMode m;
  std::string dir = root.empty() ? "." : root;
  struct statfs sf;
  // The store may not exist yet: its nearest existing ancestor is on the same file system.
  while (::statfs(dir.c_str(), &sf) != 0) {
    if (dir == "." || dir == "/") {
      m.type = "unknown";
      m.reason = "statfs failed";
      return m;
    }
    size_t slash = dir.find_last_of('/');
    dir = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  }
  *statfs_dir = dir;
  const char* force = std::getenv("DROVEBANK_FS");
  if (force != nullptr && std::string_view(force) == "shared") {
    m.shared = true;
    m.reason = "DROVEBANK_FS=shared";
  } else if (force != nullptr && std::string_view(force) == "local") {
    m.reason = "DROVEBANK_FS=local";
  } else if (sf.f_type == FUSE_SUPER_MAGIC) {
    m.shared = true;
    m.reason = "a FUSE file system: other clients' caches are not coherent with ours";
  } else if (sf.f_type == NFS_SUPER_MAGIC) {
    m.shared = true;
    m.reason = "an NFS file system: other clients' caches are not coherent with ours";
  } else {
    m.reason = "a local file system";
  }
  return m;
}

}  // namespace

SharedFsMode FileSystemMode(const std::string& root) {
  std::string dir;
  SharedFsMode m = Classify(root, &dir);
  if (m.type.empty()) m.type = MountType(dir);
  if (m.shared) {
    // Tried, not assumed from the type: some FUSE file systems open O_DIRECT and then
    // refuse its reads (EINVAL), and the store then reads plainly (RefuseDirect).
    int fd = ::open((root + "/FORMAT").c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == EINVAL) {
      m.reads = "plain reads: the file system refuses O_DIRECT";
    } else if (fd >= 0) {
      AlignedBuf a = AllocAligned(kDirectAlign);
      ssize_t r = a ? ::pread(fd, a.get(), kDirectAlign, 0) : -1;
      m.reads = r >= 0 ? "direct reads"
                       : "plain reads: the file system refuses O_DIRECT reads";
      ::close(fd);
    }
  }
  return m;
}

std::string FileSystemModeLine(const SharedFsMode& m) {
  return fmt::format("file system: {}, {} mode ({}{}{})", m.type, m.shared ? "shared" : "local",
                     m.reason,
                     m.shared ? "; writes go through to the servers, reads bypass client "
                                "caches, account files are rewritten in place"
                              : "",
                     m.reads.empty() ? "" : "; " + m.reads);
}

bool IsSharedFileSystem(const std::string& root) {
  std::string dir;
  return Classify(root, &dir).shared;
}

void PosixEnvImpl::Confine(const std::string& root, bool) {
  if (!root.empty()) confinement_.Add(root);
}

}  // namespace drovebank
