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
// files with more than one link takes kCopyByte exclusively (its intent to copy) and then
// turns its attachment into an exclusive lock, waiting up to kCopierWaitSeconds for every
// other process to let go; it then copies each linked file to a new inode (a temp file in
// tmp/, fsync, rename over the name, directory fsync), journal/state last, and attaches to
// the new journal/state before the old one's locks are released. A process that was
// waiting to attach finds, after its lock, that the path names another inode, and
// attaches again to that one.
//
// Letting go is cooperative: every process that has the store open looks at journal/state's
// link count at its check points (Store::CheckPoint: each command of a shell, each commit,
// every kCheckPointEvery accounts or records of a long read; one fstat, nothing more while
// the count is 1). Finding links, a writer tries to copy itself; a reader, or a writer that
// finds kCopyByte taken, lets go of its attachment, waits for kCopyByte to be free (the
// copier done or given up) and attaches again (MakeWayForCopier). A shell waiting for its
// next line (at a terminal, or a script whose next line is not there yet) has let go
// already (Store::Pause). Nothing waits on a process that does not cooperate (one holding a
// lock of a shell transaction, or any other holder of kAttachByte) longer than
// kCopierWaitSeconds: the writer then writes in place, through the links, as it did before
// there were copies (docs/RELIABILITY.md says when that happens), and waits no more on that
// inode.
//
// Calling sequence (StoreImpl::OpenWritable):
//
//   DB_ASSIGN_OR_RETURN(int state_fd, AttachToStore(env, layout, /*writable=*/true, wait));
//   DB_ASSIGN_OR_RETURN(state_fd, OwnLinkedFiles(env, layout, state_fd, &report, wait));
//   if (report.other_copier) {
//     DB_ASSIGN_OR_RETURN(state_fd, MakeWayForCopier(env, layout, state_fd, true, wait));
//   }
//   ... open the lock tables, then the journal with state_fd; keys/index is opened later ...
//
// A process waiting for its user lets go of its attachment (Store::Pause) and attaches again
// before its next command (Store::Resume): if the path names another inode by then, it
// opens the in-place files anew. On a shared file system nothing is copied; a linked store
// is only read there (RefuseLinkedOnSharedFs).
//
// Crash reasoning: each copy is whole and durable before its rename, and the rename is
// atomic, so after a crash at any step every name holds either the linked inode or a copy
// of it with the same bytes; the next writer copies whatever is still linked. A temp file
// left in tmp/ ends in ".tmp", which `recover` removes. A copier that dies holding kCopyByte
// or an exclusive kAttachByte holds neither any more (the kernel drops a dead process's
// locks), so nobody waits on it.
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
// A writer's intent to give the store inodes of its own: held exclusively from before it
// waits to be alone until its copies are done (or it gives up).
inline constexpr std::uint64_t kCopyByte = 104;
// How long a copier waits for the others to let go: they do so at their next check point,
// milliseconds away in every command that runs.
inline constexpr double kCopierWaitSeconds = 2.0;
// A long read (a report, an export) is a check point every so many accounts or records.
inline constexpr std::uint64_t kCheckPointEvery = 256;

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
// names the store, the linked file (`path`: journal/state when empty), why and the way out
// (remove the copy, or make it a real one), and says nothing changed.
[[nodiscard]] Status RefuseLinkedOnSharedFs(const Layout& layout, bool shared,
                                            const FileInfo& state, const std::string& path = "");

// The in-place files, journal/state last (it carries the attach lock).
std::vector<std::string> InPlaceFiles(const Layout& layout);

// What OwnLinkedFiles did: the files copied (relative to the store); none when no file
// was linked, another writer is copying (`other_copier`: make way for it), or the others
// did not let go in time (`gave_up`).
struct OwnLinksReport {
  std::vector<std::string> copied;
  bool other_copier = false;
  bool gave_up = false;
};

// For a writer attached through `state_fd`, on a file system that is not shared: when one
// of InPlaceFiles has more than one link, takes kCopyByte, waits up to
// min(wait.timeout_seconds, kCopierWaitSeconds) to be the only process attached, gives
// each linked file an inode of its own and returns the new journal/state's descriptor
// (attached; `state_fd` is closed). Otherwise returns `state_fd`, still attached. On
// failure (a copy that could not be written: the disk full) `state_fd` is still open,
// attached and the store's journal/state. Run it before the lock tables and keys/index are
// opened, or with none of their locks held and open them anew after
// (StoreImpl::CooperateOnLinks).
[[nodiscard]] Result<int> OwnLinkedFiles(Env* env, const Layout& layout, int state_fd,
                                         OwnLinksReport* report, const LockWait& wait);

// Whether a writer holds kCopyByte of the inode `fd` names (it waits for the others to let
// go). Two calls; an error counts as no.
bool CopyWanted(Env* env, int fd);

// For a process that let go of its attachment on `fd` for a copier: waits, up to
// wait.timeout_seconds, until kCopyByte is free (the copies made, or given up). False when
// it was still taken at the end (a copier stopped, say, by SIGSTOP).
bool WaitForCopier(Env* env, int fd, const LockWait& wait);

// At an open, for a process attached through `fd` (journal/state with more than one link)
// that does not copy: when a copier wants the store alone, lets go, waits for it, closes
// `fd` and returns the descriptor AttachToStore gives; else returns `fd`. `fd` is closed
// whenever the result is not `fd`, an error included.
[[nodiscard]] Result<int> MakeWayForCopier(Env* env, const Layout& layout, int fd, bool writable,
                                           const LockWait& wait);

}  // namespace drovebank
