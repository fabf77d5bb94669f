#include "own_links.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "layout.h"
#include "store_files.h"

namespace drovebank {

namespace {

std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Seconds since `start`.
double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One try: the shared lock on the descriptor's inode, then the check that the path still
// names it. Ok(true) when attached, Ok(false) when the path names another inode now.
Result<bool> TryAttach(Env* env, int fd, const std::string& path, FileInfo* held_out) {
  DB_RETURN_IF_ERROR(env->LockByteShared(fd, kAttachByte));
  DB_ASSIGN_OR_RETURN(FileInfo held, env->StatFd(fd));
  DB_RETURN_IF_ERROR(RequireRegular(held, path));
  if (held_out != nullptr) *held_out = held;
  auto named = env->Stat(path);
  if (!named.ok() && named.status().code() != Code::kNotFound) return named.status();
  return named.ok() && named->dev == held.dev && named->ino == held.ino;
}

// Copies the bytes of `from` (open) into the new file `to_fd`, leaving out blocks of
// zeros: the lock tables and keys/index are sparse, and a copy must not fill them in.
Status CopySparse(Env* env, int from, int to_fd, std::uint64_t size) {
  constexpr size_t kChunk = 64 << 10;
  std::string buf(kChunk, '\0');
  for (std::uint64_t at = 0; at < size; at += kChunk) {
    DB_ASSIGN_OR_RETURN(size_t n, env->PRead(from, buf.data(), kChunk, at));
    if (n == 0) break;
    std::string_view piece(buf.data(), n);
    if (piece.find_first_not_of('\0') == std::string_view::npos) continue;
    DB_RETURN_IF_ERROR(env->PWrite(to_fd, piece, at));
  }
  return env->Truncate(to_fd, size);
}

// Gives `path` (more than one link) an inode of its own with the same bytes. For
// journal/state (`keep_open`) the new inode's descriptor is returned attached, so no
// moment passes in which the store's current journal/state carries no attachment of ours.
Result<int> CopyToOwnInode(Env* env, const Layout& layout, const std::string& path,
                           int from_fd, bool keep_open) {
  std::string base = path.substr(path.rfind('/') + 1);
  std::string tmp = fmt::format("{}/own-{}.tmp", layout.tmp(), base);
  if (Status s = env->Unlink(tmp); !s.ok() && s.code() != Code::kNotFound) return s;
  DB_ASSIGN_OR_RETURN(int fd, env->Open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600));
  auto fail = [&](Status s) -> Result<int> {
    (void)env->Close(fd);
    (void)env->Unlink(tmp);
    return s;
  };
  DB_ASSIGN_OR_RETURN(FileInfo info, env->StatFd(from_fd));
  if (Status s = CopySparse(env, from_fd, fd, info.size); !s.ok()) return fail(s);
  if (Status s = env->Sync(fd); !s.ok()) return fail(s);
  if (keep_open) {
    if (Status s = env->LockByteShared(fd, kAttachByte); !s.ok()) return fail(s);
  }
  env->FaultPoint("own_links", "before_rename");
  if (Status s = env->Rename(tmp, path); !s.ok()) return fail(s);
  env->FaultPoint("own_links", "after_rename");
  // A failed directory sync is no failure of the copy: the name then holds the copy or,
  // after a power loss, the linked inode again, with the same bytes, copied next time.
  (void)env->SyncDir(DirOf(path));
  if (!keep_open) (void)env->Close(fd);
  return keep_open ? fd : -1;
}

}  // namespace

Status RefuseLinkedOnSharedFs(const Layout& layout, bool shared, const FileInfo& state,
                              const std::string& path) {
  if (!shared || state.nlink <= 1) return Status::Ok();
  return Status::IOError(fmt::format(
      "{} is on a shared file system and its {} has {} links: a hard-link copy of "
      "the store (cp -al, rsync --link-dest, rsnapshot) shares its files, which drovebank "
      "writes in place there, so any write would change the copy too. Remove the copy or "
      "make it a real one (cp -a), then try again; until then the store is only read; "
      "nothing changed",
      layout.root(), layout.Relative(path.empty() ? layout.JournalStatePath() : path),
      state.nlink));
}

std::vector<std::string> InPlaceFiles(const Layout& layout) {
  return {layout.AccountLockTable(), layout.KeyLockTable(), layout.LockOwners(),
          layout.KeyIndexPath(), layout.JournalStatePath()};
}

namespace {

// Busy when a waiter that started at `start` has waited long enough (or was cancelled):
// a writer giving the store copies of its own takes milliseconds, not that.
Status WaitedForCopier(std::chrono::steady_clock::time_point start, const Layout& layout,
                       const LockWait& wait) {
  if (Since(start) <= wait.timeout_seconds && !(wait.cancelled && wait.cancelled())) return Status::Ok();
  return Status::Busy(fmt::format(
      "timed out after {:g} s waiting to open the store: another process holds byte {} "
      "of {} exclusively (it gives the store's files their own inodes); nothing changed",
      wait.timeout_seconds, kAttachByte, layout.Relative(layout.JournalStatePath())));
}

}  // namespace

Result<bool> AttachAgain(Env* env, const Layout& layout, int fd, const LockWait& wait,
                         FileInfo* held) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    Result<bool> attached = TryAttach(env, fd, layout.JournalStatePath(), held);
    if (attached.ok() || attached.status().code() != Code::kBusy) return attached;
    DB_RETURN_IF_ERROR(WaitedForCopier(start, layout, wait));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Result<int> AttachToStore(Env* env, const Layout& layout, bool writable, const LockWait& wait,
                          FileInfo* held) {
  const std::string path = layout.JournalStatePath();
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto opened = writable ? env->OpenBootFile(path) : env->Open(path, O_RDONLY);
    if (!opened.ok() && !writable && opened.status().code() == Code::kNotFound) return -1;
    if (!opened.ok()) return WhyNotOpened(opened.status(), path);
    DB_ASSIGN_OR_RETURN(int fd, std::move(opened));
    Result<bool> attached = TryAttach(env, fd, path, held);
    if (attached.ok() && *attached) return fd;
    (void)env->Close(fd);
    if (!attached.ok() && attached.status().code() != Code::kBusy) return attached.status();
    // Busy: a writer is giving the store copies of its own (milliseconds); or the path
    // names a new inode already, which the next turn opens.
    DB_RETURN_IF_ERROR(WaitedForCopier(start, layout, wait));
    if (!attached.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

namespace {

// The copies, under the exclusive attachment; journal/state's is the last step that can
// fail, so on failure `state_fd` is still the store's journal/state.
Result<int> CopyLinked(Env* env, const Layout& layout, const std::vector<std::string>& linked,
                       int state_fd, OwnLinksReport* report) {
  int attached = state_fd;
  for (const std::string& p : linked) {
    bool is_state = p == layout.JournalStatePath();
    int from = is_state ? state_fd : -1;
    if (!is_state) {
      DB_ASSIGN_OR_RETURN(from, env->Open(p, O_RDONLY));
    }
    Result<int> copied = CopyToOwnInode(env, layout, p, from, is_state);
    if (!is_state) (void)env->Close(from);
    DB_RETURN_IF_ERROR(copied.status());
    if (is_state) attached = *copied;
    report->copied.push_back(layout.Relative(p));
  }
  return attached;
}

}  // namespace

namespace {

// With kCopyByte held: the shared attachment on `state_fd` turned exclusive (a conversion,
// tried every 2 ms), which succeeds once every other process has let go. Busy when they
// have not within the copier's wait.
Status WaitToBeAlone(Env* env, int state_fd, const LockWait& wait) {
  const double limit = std::min(wait.timeout_seconds, kCopierWaitSeconds);
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    Status s = env->LockByte(state_fd, kAttachByte, /*wait=*/false);
    if (s.code() != Code::kBusy) return s;
    if (Since(start) >= limit || (wait.cancelled && wait.cancelled())) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

Result<int> OwnLinkedFiles(Env* env, const Layout& layout, int state_fd, OwnLinksReport* report,
                           const LockWait& wait) {
  std::vector<std::string> linked;
  for (const std::string& p : InPlaceFiles(layout)) {
    auto info = p == layout.JournalStatePath() ? env->StatFd(state_fd) : env->Stat(p);
    if (!info.ok() && info.status().code() == Code::kNotFound) continue;
    DB_RETURN_IF_ERROR(info.status());
    // Not a regular file (a directory's nlink counts its subdirectories): not a copy, but
    // damage, which the open after this names (store_files.h).
    if (info->nlink > 1 && info->is_regular) linked.push_back(p);
  }
  if (linked.empty()) return state_fd;
  Status intent = env->LockByte(state_fd, kCopyByte, /*wait=*/false);
  if (intent.code() == Code::kBusy) {
    report->other_copier = true;
    return state_fd;
  }
  DB_RETURN_IF_ERROR(intent);
  // The attachment turned exclusive: no other process has the store open, and none can
  // open it until this one is done (they wait in AttachToStore).
  Status alone = WaitToBeAlone(env, state_fd, wait);
  if (!alone.ok()) {
    (void)env->UnlockByte(state_fd, kCopyByte);
    report->gave_up = alone.code() == Code::kBusy;
    if (report->gave_up) return state_fd;
    return alone;
  }
  env->FaultPoint("own_links", "begin");
  Result<int> attached = CopyLinked(env, layout, linked, state_fd, report);
  if (!attached.ok() || *attached == state_fd) {
    // Back to shared (a conversion, which a shared holder never blocks).
    (void)env->LockByteShared(state_fd, kAttachByte);
    (void)env->UnlockByte(state_fd, kCopyByte);
    return attached;
  }
  (void)env->Close(state_fd);  // releases the exclusive lock and kCopyByte on the old inode
  env->FaultPoint("own_links", "done");
  return attached;
}

bool CopyWanted(Env* env, int fd) {
  Status probe = env->LockByteShared(fd, kCopyByte);
  if (probe.ok()) (void)env->UnlockByte(fd, kCopyByte);
  return probe.code() == Code::kBusy;
}

bool WaitForCopier(Env* env, int fd, const LockWait& wait) {
  auto start = std::chrono::steady_clock::now();
  while (CopyWanted(env, fd)) {
    if (Since(start) >= wait.timeout_seconds || (wait.cancelled && wait.cancelled())) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

Result<int> MakeWayForCopier(Env* env, const Layout& layout, int fd, bool writable,
                             const LockWait& wait) {
  if (!CopyWanted(env, fd)) return fd;
  Status let_go = env->UnlockByte(fd, kAttachByte);
  if (let_go.ok()) (void)WaitForCopier(env, fd, wait);  // then attaches again either way
  (void)env->Close(fd);
  DB_RETURN_IF_ERROR(let_go);
  return AttachToStore(env, layout, writable, wait);
}

}  // namespace drovebank
