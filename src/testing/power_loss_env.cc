// The power-loss model. State kept:
//  - inodes_: per inode (dev, ino) the durable content, recorded the first time the env is
//    about to change the file or its name (the baseline) and replaced at every Sync.
//  - dirs_: per directory, for each name the env changed, what that name durably names.
//    Recording only changed names (not whole listings) keeps the model cheap and leaves alone
//    files that others (the test itself, other processes) put in the same directories.
//  - pins_: O_PATH descriptors on inodes the env unlinked (or replaced by a rename) while a
//    durable entry may still name them. File systems recycle inode numbers at once; holding
//    the inode keeps its number from being given to a new file the model would then mistake
//    for the old one. A pin is dropped once no durable entry and no open descriptor needs it.
//
// The bookkeeping (reading contents, pins, the restore) uses raw system calls, not the target
// (power_loss_fs.h); the restore itself is power_loss_restore.cc.
#include "power_loss_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "power_loss_fs.h"
#include "power_loss_restore.h"

namespace drovebank {
namespace power_loss {
namespace {

Status PowerLost() {
  Status s = Status::IOError("power lost");
  s.set_sys_errno(EIO);
  return s;
}

class PowerLossEnvImpl final : public PowerLossEnv {
 public:
  PowerLossEnvImpl(Env* base, PowerLossMode mode)
      : PowerLossEnv(base), shared_(mode == PowerLossMode::kSharedMount) {}
  ~PowerLossEnvImpl() override {
    ReleasePins();
  }

  // The calls not overridden below change nothing the model tracks, so GatedEnv passes
  // them on until the power is lost: reads (PRead, ReadFile, Stat, StatFd, ListDir), the
  // locks (the kernel drops them with the process), and Truncate and Grow, which are not
  // durable until a sync (which the model does track) and are not write-through even on a
  // shared mount (losing a Grow loses only zeros past the end).
  Status Gate() override { return lost_ ? PowerLost() : Status::Ok(); }

  Result<int> Open(const std::string& path, int flags, unsigned mode) override {
    DB_RETURN_IF_ERROR(Gate());
    std::lock_guard<std::mutex> lock(mu_);
    std::string p = Normalize(path);
    if ((flags & O_CREAT) != 0) DB_RETURN_IF_ERROR(RecordName(p));
    DB_ASSIGN_OR_RETURN(std::optional<Entry> before, LookUp(p));
    // The baseline must be read before O_TRUNC or a write can change the file. Read-only
    // opens are not tracked: an inode the env never wrote still holds its baseline.
    bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
    if (writes && before && before->kind == Kind::kFile) {
      DB_RETURN_IF_ERROR(Baseline(p, before->key));
    }
    DB_ASSIGN_OR_RETURN(int fd, target()->Open(path, flags, mode));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = Errno(errno, "fstat", p);
      (void)target()->Close(fd);
      return s;
    }
    // Where PosixEnv in shared mode adds O_DSYNC: every descriptor opened for writing,
    // except O_DIRECTORY and O_PATH ones.
    bool write_through = shared_ && S_ISREG(st.st_mode) && (flags & O_ACCMODE) != O_RDONLY &&
                         (flags & (O_DIRECTORY | O_PATH)) == 0;
    OpenFile f{KeyOf(st), S_ISDIR(st.st_mode), p, write_through};
    if (S_ISREG(st.st_mode)) {
      if (!before) {
        // A new inode is durably empty. Overwriting is right even if the number is known:
        // the inode it belonged to was freed, so no durable entry names it (see pins_).
        inodes_[f.key] = InodeState{std::string(), st.st_mode & 07777};
        paths_[f.key] = p;
      } else if (inodes_.count(f.key) != 0) {
        paths_[f.key] = p;
      }
    }
    fds_[fd] = std::move(f);
    return fd;
  }

  Status Close(int fd) override {
    // After the power loss the descriptor is still closed, so the discarded store does not
    // leak it.
    Status s = target()->Close(fd);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fds_.erase(fd);
      if (!lost_) CollectPins();
    }
    DB_RETURN_IF_ERROR(Gate());
    return s;
  }

  Status Write(int fd, std::string_view data) override {
    DB_RETURN_IF_ERROR(Gate());
    DB_RETURN_IF_ERROR(target()->Write(fd, data));
    if (!shared_) return Status::Ok();
    // The bytes just written end at the file offset now (O_APPEND or not).
    off_t end = ::lseek(fd, 0, SEEK_CUR);
    if (end < 0) return Errno(errno, "lseek", fmt::format("fd {}", fd));
    return WrittenThrough(fd, data, static_cast<std::uint64_t>(end) - data.size());
  }
  Status PWrite(int fd, std::string_view data, std::uint64_t offset) override {
    DB_RETURN_IF_ERROR(Gate());
    DB_RETURN_IF_ERROR(target()->PWrite(fd, data, offset));
    if (!shared_) return Status::Ok();
    return WrittenThrough(fd, data, offset);
  }

  Status Sync(int fd) override {
    DB_RETURN_IF_ERROR(Gate());
    DB_RETURN_IF_ERROR(target()->Sync(fd));
    return Synced(fd);
  }
  Status DataSync(int fd) override {
    // fdatasync persists the data and the size, which is all the model tracks of a file.
    DB_RETURN_IF_ERROR(Gate());
    DB_RETURN_IF_ERROR(target()->DataSync(fd));
    return Synced(fd);
  }


  Status Rename(const std::string& from, const std::string& to) override {
    DB_RETURN_IF_ERROR(Gate());
    std::lock_guard<std::mutex> lock(mu_);
    std::string f = Normalize(from);
    std::string t = Normalize(to);
    DB_ASSIGN_OR_RETURN(std::optional<Entry> src, LookUp(f));
    if (src && src->kind == Kind::kDir) {
      // Undoing it would need per-directory identity the model does not keep; refusing is
      // better than a silently wrong restore.
      return Status::InvalidArgument(
          fmt::format("power-loss model: renaming directory {} is not modelled", from));
    }
    DB_RETURN_IF_ERROR(RecordName(f));
    DB_RETURN_IF_ERROR(RecordName(t));
    if (src && src->kind == Kind::kFile) DB_RETURN_IF_ERROR(Baseline(f, src->key));
    DB_ASSIGN_OR_RETURN(std::optional<Entry> dst, LookUp(t));
    bool replaces = dst && dst->kind == Kind::kFile &&
                    !(src && src->kind == Kind::kFile && src->key == dst->key);
    int pin = -1;
    if (replaces) {
      DB_ASSIGN_OR_RETURN(pin, Pin(t, dst->key));
    }
    Status s = target()->Rename(from, to);
    if (!s.ok()) {
      if (pin >= 0) ::close(pin);
      return s;
    }
    if (replaces) Unlinked(dst->key, t, pin);
    if (src && src->kind == Kind::kFile) paths_[src->key] = t;
    CollectPins();
    return Status::Ok();
  }

  // An exchange changes both names: each is recorded, and afterwards each inode's current
  // name is the other's old one. A plain rename (no file at `to`, or no exchange) is
  // modelled as Rename is.
  Result<bool> ReplaceFile(const std::string& from, const std::string& to) override {
    DB_RETURN_IF_ERROR(Gate());
    std::lock_guard<std::mutex> lock(mu_);
    std::string f = Normalize(from);
    std::string t = Normalize(to);
    DB_ASSIGN_OR_RETURN(std::optional<Entry> src, LookUp(f));
    if (!src || src->kind != Kind::kFile) {
      return Status::InvalidArgument(
          fmt::format("power-loss model: ReplaceFile needs a file at {}", from));
    }
    DB_RETURN_IF_ERROR(RecordName(f));
    DB_RETURN_IF_ERROR(RecordName(t));
    DB_RETURN_IF_ERROR(Baseline(f, src->key));
    DB_ASSIGN_OR_RETURN(std::optional<Entry> dst, LookUp(t));
    bool replaces = dst && dst->kind == Kind::kFile && src->key != dst->key;
    int pin = -1;
    if (replaces) {
      DB_RETURN_IF_ERROR(Baseline(t, dst->key));
      DB_ASSIGN_OR_RETURN(pin, Pin(t, dst->key));
    }
    auto kept = target()->ReplaceFile(from, to);
    if (!kept.ok() || (*kept && replaces)) {
      if (pin >= 0) ::close(pin);
    }
    if (!kept.ok()) return kept.status();
    if (*kept && replaces) {
      paths_[dst->key] = f;
    } else if (replaces) {
      Unlinked(dst->key, t, pin);
    }
    paths_[src->key] = t;
    CollectPins();
    return *kept;
  }

  void WarmForReplace(const std::vector<std::string>& paths) override {
    // Reads and an atime: nothing the model tracks.
    if (!lost_) target()->WarmForReplace(paths);
  }

  Status RemoveDir(const std::string& path) override {
    DB_RETURN_IF_ERROR(Gate());
    std::lock_guard<std::mutex> lock(mu_);
    DB_RETURN_IF_ERROR(RecordName(Normalize(path)));
    return target()->RemoveDir(path);
  }

  Status Unlink(const std::string& path) override {
    DB_RETURN_IF_ERROR(Gate());
    std::lock_guard<std::mutex> lock(mu_);
    std::string p = Normalize(path);
    DB_RETURN_IF_ERROR(RecordName(p));
    DB_ASSIGN_OR_RETURN(std::optional<Entry> cur, LookUp(p));
    bool is_file = cur && cur->kind == Kind::kFile;
    int pin = -1;
    if (is_file) {
      DB_ASSIGN_OR_RETURN(pin, Pin(p, cur->key));
    }
    Status s = target()->Unlink(path);
    if (!s.ok()) {
      if (pin >= 0) ::close(pin);
      return s;
    }
    if (is_file) Unlinked(cur->key, p, pin);
    CollectPins();
    return Status::Ok();
  }

  Status MakeDir(const std::string& path, unsigned mode) override {
    DB_RETURN_IF_ERROR(Gate());
    std::lock_guard<std::mutex> lock(mu_);
    DB_RETURN_IF_ERROR(RecordName(Normalize(path)));
    return target()->MakeDir(path, mode);
  }

  Status SyncDir(const std::string& path) override {
    DB_RETURN_IF_ERROR(Gate());
    DB_RETURN_IF_ERROR(target()->SyncDir(path));
    // The mount answers a directory fsync without passing it to the bricks.
    if (shared_) return Status::Ok();
    std::lock_guard<std::mutex> lock(mu_);
    return DirSynced(Normalize(path));
  }

  Result<int> OpenBootFile(const std::string& path) override {
    DB_RETURN_IF_ERROR(Gate());
    DB_ASSIGN_OR_RETURN(int fd, Open(path, O_RDWR | O_CREAT, 0600));
    std::lock_guard<std::mutex> lock(mu_);
    boot_files_.insert(Normalize(path));
    return fd;
  }

  // Local disk: no, so the store takes its local paths (fdatasync, renames), the stricter
  // test of them. Shared mount: yes, for every path, as PosixEnv says for a store below a
  // shared root, so the store takes the paths it takes on a real mount.
  bool IsShared(const std::string&) override { return shared_; }

  void FaultPoint(std::string_view path, std::string_view step) override {
    if (lost_) return;
    target()->FaultPoint(path, step);
    bool fire = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (arm_.armed && path == arm_.path && step == arm_.step && ++arm_.hits == arm_.hit) {
        arm_.armed = false;
        fire = true;
      }
    }
    if (fire) (void)SimulatePowerLoss();  // the outcome stays in power_loss_status()
  }

  Status SimulatePowerLoss() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (lost_) return loss_status_;
    lost_ = true;
    loss_status_ = RestoreTree(dirs_, inodes_, paths_);
    // The reboot: what belonged to the old boot goes, as the new boot id would make the
    // journal ignore it. Which content survived in it is then beside the point. On a
    // shared mount the journal stamps its state shared-volume instead of with a boot id
    // (no host's reboot outdates it), and the file stays on the bricks as any other does.
    for (const std::string& p : boot_files_) {
      if (shared_) break;
      if (::unlink(p.c_str()) != 0 && errno != ENOENT && loss_status_.ok()) {
        loss_status_ = Errno(errno, "reboot unlink", p);
      }
    }
    ReleasePins();
    inodes_.clear();
    paths_.clear();
    dirs_.clear();
    return loss_status_;
  }

  void ArmPowerLossAt(std::string path, std::string step, int hit) override {
    std::lock_guard<std::mutex> lock(mu_);
    arm_ = Arm{std::move(path), std::move(step), hit, 0, true};
  }

  bool power_lost() const override { return lost_; }
  Status power_loss_status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return loss_status_;
  }

 private:
  struct OpenFile {
    InoKey key;
    bool is_dir = false;
    std::string path;  // normalized, as opened
    bool write_through = false;  // shared mount: each write durable at return (O_DSYNC)
  };
  struct Arm {
    std::string path;
    std::string step;
    int hit = 1;
    int hits = 0;
    bool armed = false;
  };

  // The rest runs with mu_ held.

  // Records the baseline of an inode the env is about to change: its current content.
  Status Baseline(const std::string& path, InoKey key) {
    if (inodes_.count(key) != 0) return Status::Ok();
    DB_ASSIGN_OR_RETURN(std::string content, ReadPath(path, key));
    struct stat st;
    unsigned mode = ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0600;
    inodes_[key] = InodeState{std::move(content), mode};
    paths_[key] = path;
    return Status::Ok();
  }

  // Reads `path`, checking it is still the inode `key`.
  static Result<std::string> ReadPath(const std::string& path, InoKey key) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Errno(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0 || KeyOf(st) != key) {
      ::close(fd);
      return Status::Internal(fmt::format("power-loss model: {} changed under the model", path));
    }
    std::string out;
    int err = PReadAll(fd, &out);
    ::close(fd);
    if (err != 0) return Errno(err, "read", path);
    return out;
  }

  // Before the env changes the name `path`: the first time, remembers what it names now as
  // its durable entry (and the content of the file it names).
  Status RecordName(const std::string& path) {
    DurableNames& names = dirs_[Parent(path)];
    std::string name = BaseName(path);
    if (names.count(name) != 0) return Status::Ok();
    DB_ASSIGN_OR_RETURN(std::optional<Entry> cur, LookUp(path));
    if (cur && cur->kind == Kind::kFile) DB_RETURN_IF_ERROR(Baseline(path, cur->key));
    names.emplace(std::move(name), std::move(cur));
    return Status::Ok();
  }

  // Every changed name of `dir` durably names what it names now.
  Status MakeNamesDurable(const std::string& dir, DurableNames& names) {
    for (auto& [name, durable] : names) {
      std::string p = Join(dir, name);
      DB_ASSIGN_OR_RETURN(std::optional<Entry> cur, LookUp(p));
      // Normally tracked already (the env created or moved it here); an inode it never
      // wrote still holds its baseline.
      if (cur && cur->kind == Kind::kFile) DB_RETURN_IF_ERROR(Baseline(p, cur->key));
      durable = std::move(cur);
    }
    return Status::Ok();
  }

  Status DirSynced(const std::string& dir) {
    auto it = dirs_.find(dir);
    if (it != dirs_.end()) DB_RETURN_IF_ERROR(MakeNamesDurable(dir, it->second));
    CollectPins();
    return Status::Ok();
  }

  // After a successful Sync/DataSync of `fd`.
  Status Synced(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    struct stat st;
    if (::fstat(fd, &st) != 0) return Errno(errno, "fstat", fmt::format("fd {}", fd));
    auto f = fds_.find(fd);
    if (S_ISDIR(st.st_mode)) {
      // The mount ignores a directory fsync, as it does SyncDir.
      if (shared_) return Status::Ok();
      return f == fds_.end() ? Status::Ok() : DirSynced(f->second.path);
    }
    if (!S_ISREG(st.st_mode)) return Status::Ok();
    InoKey key = KeyOf(st);
    DB_ASSIGN_OR_RETURN(std::string content, ReadFd(fd));
    auto [it, inserted] = inodes_.try_emplace(key);
    it->second.durable = std::move(content);
    if (inserted) {
      // Opened read-only and never written through the env: it was at its opened name.
      it->second.mode = st.st_mode & 07777;
      if (f != fds_.end()) paths_[key] = f->second.path;
    }
    if (shared_) return NamesDurable(key);
    return Status::Ok();
  }

  // After a successful write of `data` at `offset` on `fd`, on a shared mount. Only what
  // O_DSYNC promises becomes durable: these bytes and the size they reach, over the
  // inode's durable content. Not an earlier truncation or unsynced change of the file:
  // ftruncate is no write, and O_DSYNC does not cover it.
  Status WrittenThrough(int fd, std::string_view data, std::uint64_t offset) {
    std::lock_guard<std::mutex> lock(mu_);
    auto f = fds_.find(fd);
    if (f == fds_.end() || !f->second.write_through) return Status::Ok();
    auto it = inodes_.find(f->second.key);
    if (it == inodes_.end()) {
      // Opened for writing through the env, so its baseline was read then.
      return Status::Internal(
          fmt::format("power-loss model: no durable content known for {}", f->second.path));
    }
    std::string& d = it->second.durable;
    if (d.size() < offset + data.size()) d.resize(offset + data.size(), '\0');
    d.replace(offset, data.size(), data);
    return NamesDurable(f->second.key);
  }

  // A file's data reached a brick's disk (a write-through write, or Sync): the brick's
  // journalling file system committed with it the transaction that holds the entries
  // naming the file. Its current name becomes durable, and so does every directory the env
  // made above it; so does the removal of an old name the file was renamed from. Nothing
  // else: an unlink (or a name now naming another file) stays undone.
  Status NamesDurable(InoKey key) {
    auto p = paths_.find(key);
    if (p == paths_.end()) return Status::Ok();  // unlinked: its unlink stays undone
    for (auto& [dir, names] : dirs_) {
      for (auto& [name, durable] : names) {
        if (!durable || durable->kind != Kind::kFile || durable->key != key) continue;
        DB_ASSIGN_OR_RETURN(std::optional<Entry> cur, LookUp(Join(dir, name)));
        if (!cur) durable.reset();  // renamed away from here
      }
    }
    std::string path = p->second;
    for (;;) {
      auto d = dirs_.find(Parent(path));
      if (d != dirs_.end()) {
        auto n = d->second.find(BaseName(path));
        if (n != d->second.end()) {
          DB_ASSIGN_OR_RETURN(std::optional<Entry> cur, LookUp(path));
          if (cur) n->second = std::move(cur);
        }
      }
      std::string up = Parent(path);
      if (up == path || up == "/" || up == ".") break;
      path = std::move(up);
    }
    CollectPins();
    return Status::Ok();
  }

  static Result<int> Pin(const std::string& path, InoKey key) {
    int fd = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Errno(errno, "pin", path);
    struct stat st;
    if (::fstat(fd, &st) != 0 || KeyOf(st) != key) {
      ::close(fd);
      return Status::Internal(fmt::format("power-loss model: {} changed under the model", path));
    }
    return fd;
  }

  // The name `path` no longer names `key`, which was its only name.
  void Unlinked(InoKey key, const std::string& path, int pin) {
    auto p = paths_.find(key);
    if (p != paths_.end() && p->second == path) paths_.erase(p);
    auto [it, inserted] = pins_.try_emplace(key, pin);
    if (!inserted) ::close(pin);
  }

  // Drops pinned inodes no durable entry and no open descriptor needs any more.
  void CollectPins() {
    if (pins_.empty()) return;
    std::set<InoKey> needed;
    for (const auto& [dir, names] : dirs_) {
      for (const auto& [name, durable] : names) {
        if (durable && durable->kind == Kind::kFile) needed.insert(durable->key);
      }
    }
    for (const auto& [fd, f] : fds_) needed.insert(f.key);
    for (auto it = pins_.begin(); it != pins_.end();) {
      if (needed.count(it->first) != 0) {
        ++it;
        continue;
      }
      ::close(it->second);
      inodes_.erase(it->first);
      paths_.erase(it->first);
      it = pins_.erase(it);
    }
  }

  void ReleasePins() {
    for (const auto& [key, fd] : pins_) ::close(fd);
    pins_.clear();
  }

  const bool shared_;  // PowerLossMode::kSharedMount
  mutable std::mutex mu_;
  std::atomic<bool> lost_{false};
  Status loss_status_;
  std::map<InoKey, InodeState> inodes_;
  std::map<InoKey, std::string> paths_;  // the current name of a tracked inode, if any
  std::map<InoKey, int> pins_;
  std::map<std::string, DurableNames> dirs_;
  std::map<int, OpenFile> fds_;
  std::set<std::string> boot_files_;  // opened by OpenBootFile: gone at the reboot
  Arm arm_;
};

}  // namespace
}  // namespace power_loss

std::unique_ptr<PowerLossEnv> MakePowerLossEnv(Env* base, PowerLossMode mode) {
  return std::make_unique<power_loss::PowerLossEnvImpl>(base, mode);
}

}  // namespace drovebank
