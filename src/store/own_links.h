// A store's files written in place, and hard links to them.
//
// journal/state, the lock tables (locks/accounts, locks/keys, locks/owners) and keys/index
// are written where they are, a few bytes at a time under their byte locks: they carry the
// locks themselves, so every process must use the same inode of each. A hard-link backup
// (cp -al, rsync --link-dest, rsnapshot) shares those inodes, and bytes written into them
// would change the backup too. Replacing such a file with a copy of its own is safe only
// while no other process has the store open: one that kept the old inode would take its
// locks on a different inode from everyone after it.
//
// So every process that opens a store attaches first: a shared lock on kAttachByte of
// journal/state, held for as long as the store is open, on the inode the path names (it
// checks, after locking, that the path still names it). A writer that finds one of those
// files with more than one link turns its attachment into an exclusive lock: that only
// succeeds when no other process is attached, and it then copies each linked file to a
// new inode (a temp file in tmp/, fsync, rename over the name, directory fsync),
// journal/state last, and attaches to the new journal/state before the old one's
// exclusive lock is released. A process that was waiting to attach finds, after its lock,
// that the path names another inode, and attaches again to that one.
//
// Calling sequence (StoreImpl::OpenWritable):
//
//   DB_ASSIGN_OR_RETURN(int state_fd, AttachToStore(env, layout, /*writable=*/true, wait));
//   DB_ASSIGN_OR_RETURN(state_fd, OwnLinkedFiles(env, layout, state_fd, &report));
//   ... open the lock tables, then the journal with state_fd; keys/index is opened later ...
//
// A process waiting for its user (a shell at a terminal) lets go of its attachment
// (Store::Pause) and attaches again before its next command (Store::Resume): if the path
// names another inode by then, it opens the in-place files anew. On a shared file system
// nothing is copied; a linked store is only read there (RefuseLinkedOnSharedFs).
//
// Crash reasoning: each copy is whole and durable before its rename, and the rename is
// atomic, so after a crash at any step every name holds either the linked inode or a copy
// of it with the same bytes; the next writer copies whatever is still linked. A temp file
// left in tmp/ ends in ".tmp", which `recover` removes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/lock_wait.h"
#include "drovebank/status.h"

namespace drovebank {

class Layout;

// The attach lock: one byte of journal/state after the journal's mutexes (100-102).
inline constexpr std::uint64_t kAttachByte = 103;

// Opens journal/state (read-write and created when `writable`, read-only otherwise), takes
// the shared attach lock and makes sure the path still names that inode (if not, closes
// it and starts again). Waits at most wait.timeout_seconds for a writer that is making
// copies (Busy after, naming it). A read-only open of a store without journal/state
// returns -1: there is nothing to attach to. `held`, when given, gets the attached inode's
// FileInfo (its link count tells of a hard-link copy at no extra call).
[[nodiscard]] Result<int> AttachToStore(Env* env, const Layout& layout, bool writable,
                                        const LockWait& wait, FileInfo* held = nullptr);

// For a process attached through `fd` that let go of its attachment (Store::Pause): takes
// the shared attach lock on it again, waiting as AttachToStore does for a writer making
// copies, and says whether the path still names that inode (false: attach anew with
// AttachToStore). `held` gets the inode's FileInfo.
[[nodiscard]] Result<bool> AttachAgain(Env* env, const Layout& layout, int fd,
                                       const LockWait& wait, FileInfo* held);

// On a shared file system the store's files are written in place (FileInstaller says
// why), and giving them new inodes would leave other hosts' cached names on the old ones
// for a while: a store whose journal/state (`state`, as attached) has more than one link
// there is not written at all. Ok when not `shared` or not linked; else the refusal, which
// names the store, why and the way out (remove the copy, or make it a real one), and says
// nothing changed.
[[nodiscard]] Status RefuseLinkedOnSharedFs(const Layout& layout, bool shared,
                                            const FileInfo& state);

// The in-place files, journal/state last (it carries the attach lock).
std::vector<std::string> InPlaceFiles(const Layout& layout);

// What OwnLinkedFiles did: the files copied (relative to the store); none when no file
// was linked, or another process has the store open.
struct OwnLinksReport {
  std::vector<std::string> copied;
};

// For a writer attached through `state_fd`, on a file system that is not shared: when one
// of InPlaceFiles has more than one link and no other process is attached, gives each
// linked one an inode of its own and returns the new journal/state's descriptor (attached;
// `state_fd` is closed). Otherwise returns `state_fd`. On failure (a copy that could not be
// written: the disk full) `state_fd` is still open, attached and the store's journal/state.
// Run it before the lock tables and keys/index are opened, or with none of their locks held
// and open them anew after (StoreImpl::OwnLinksBeforeCommit).
[[nodiscard]] Result<int> OwnLinkedFiles(Env* env, const Layout& layout, int state_fd,
                                         OwnLinksReport* report);

}  // namespace drovebank
