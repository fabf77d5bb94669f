// A power-loss model behind the Env interface, for tests (after the "fault injection file
// system" of LevelDB and RocksDB). It wraps a real Env working on a real directory tree,
// remembers what the calls made durable, and on SimulatePowerLoss puts the tree back the way
// a machine would find it after losing power at that moment.
//
// The model is strict POSIX (no luck from ext4's data=ordered or auto_da_alloc):
//  - File contents are durable per inode: a successful Sync or DataSync on any descriptor of
//    the file makes its whole content at that moment durable. The content an inode had when
//    the env first saw it is durable (the baseline); a file the env creates is durably empty.
//  - Directory entries (which names exist and which inode each names) are durable per
//    directory: a name the env creates (Open with O_CREAT, MakeDir), renames from or to, or
//    unlinks keeps durably naming what it named before the change, until SyncDir of its
//    directory (or Sync of a descriptor of that directory) makes the current entry durable.
//    Names the env never changed are durable as they are.
//  - ReplaceFile is a rename, or (where the real Env exchanged the names) two renames at
//    once: both names stay durably what they were until their directories are synced.
//  - There is no syncfs: the store never relies on it (FUSE file systems ignore it).
//
// After a power loss each name the env changed names again what it durably named: a file
// created and never dir-synced is gone (a directory likewise, with everything under it); a
// rename not dir-synced is undone, so the old name holds the old inode's durable content
// again and the new name whatever it durably named before; an unlink not dir-synced is undone.
// Every file that survives holds its inode's durable content (possibly empty). Files that
// must reappear are recreated as new inodes with the same permission bits.
//
// Two modes (PowerLossMode). kLocalDisk is the model above. kSharedMount models a FUSE
// mount (GlusterFS) over bricks that run a journalling file system (ext4, XFS), as the store
// meets it in shared mode (docs/DESIGN.md "On a shared file system"):
//  - IsShared is true for every path, so the store takes its shared-mode paths (O_DSYNC
//    appends without fdatasync, in-place account installs, a state stamped shared-volume).
//  - Every write (Write, PWrite) on a descriptor opened for writing (not O_DIRECTORY or
//    O_PATH: where SharedFsEnv adds O_DSYNC in shared mode) is durable when it returns: its
//    bytes, and the size they reach, over the inode's durable content. Nothing else of the
//    file: a Truncate is not a write, and O_DSYNC does not cover it, so it becomes durable
//    only with a later Sync/DataSync (which still makes the whole content durable).
//  - SyncDir, and Sync/DataSync of a descriptor of a directory, succeed and make nothing
//    durable: the mount does not pass a directory fsync to the bricks.
//  - Names, the model's assumption about bricks: when a file's data reaches a brick's disk
//    (a write-through write, or Sync/DataSync), the brick's journal commits with it the
//    transaction holding the entries that name the file, so the name the file has now
//    becomes durable, with every directory the env made above it (MakeDir), and so does
//    the removal of a name the file was renamed away from. A directory nothing durable was
//    written into is never durable. An unlink is never made durable (a journal would commit
//    it too, but the model does not rely on ordering between files); nor is a name that now
//    names another file. So after a power loss an unlinked file is back with its durable
//    content, and a file created and only dir-synced is gone.
//  - The reboot removes nothing: no host's reboot outdates the shared-volume state, which
//    is an ordinary file on the bricks (its writes are write-through like any other).
//
// Limits: descriptors not opened through this env are not modelled; renaming a directory is
// refused (InvalidArgument); contents are held in memory (meant for small test trees); hard
// links made outside the env are not modelled (two durable names of one inode come back as
// two files); the restore itself does not fsync. The process stays on the same boot id, so
// the reboot is modelled by removing every file opened through OpenBootFile (the journal's
// state). Thread-safe, but a power loss racing with calls on other threads is not
// meaningful.
#pragma once

#include <memory>
#include <string>

#include "drovebank/env.h"
#include "gated_env.h"

namespace drovebank {

// A GatedEnv (gated_env.h) over the real Env: it overrides the calls it models, and after
// the power loss its gate fails every other call that can fail.
class PowerLossEnv : public GatedEnv {
 public:
  using GatedEnv::GatedEnv;

  // Reverts the real tree to the durable state (see above). From then on every call fails
  // with IOError "power lost" (Close still closes the descriptor): the test discards the
  // store and reopens the directory with a fresh env, whose baseline is the restored tree.
  // A second call returns the result of the first.
  virtual Status SimulatePowerLoss() = 0;

  // Arms a power loss at the `hit`-th time (1-based) the store reaches fault point
  // PATH:STEP; FaultPoint then calls SimulatePowerLoss. Re-arming resets the hit count.
  virtual void ArmPowerLossAt(std::string path, std::string step, int hit = 1) = 0;

  // True once the power was lost (by SimulatePowerLoss or an armed fault point), and the
  // result of restoring the tree then (Ok before any power loss).
  virtual bool power_lost() const = 0;
  virtual Status power_loss_status() const = 0;
};

enum class PowerLossMode {
  kLocalDisk,    // strict POSIX on a local disk; IsShared false
  kSharedMount,  // a FUSE mount over journalling bricks; IsShared true (see above)
};

// Wraps `base` (not owned; must outlive the result). FaultPoint is forwarded to `base` too.
std::unique_ptr<PowerLossEnv> MakePowerLossEnv(Env* base,
                                               PowerLossMode mode = PowerLossMode::kLocalDisk);

}  // namespace drovebank
