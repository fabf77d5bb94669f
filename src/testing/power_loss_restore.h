// The power-loss model's durable state (power_loss_env.h describes the model) and the
// restore that puts the real tree back the way that state says a machine would find it
// after losing power.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "drovebank/status.h"
#include "power_loss_fs.h"

namespace drovebank::power_loss {

// An inode's durable content.
struct InodeState {
  std::string durable;
  unsigned mode = 0600;  // permission bits, to recreate the file
};

// For each name the env changed in a directory: what it durably names (nullopt: nothing).
using DurableNames = std::map<std::string, std::optional<Entry>>;

// Puts every name of `dirs` (directory -> its changed names) back to its durable entry,
// files with their durable content from `inodes`, and reverts the content of every file
// `paths` names (a tracked inode's current name) under a name the env never changed.
// Does not fsync.
Status RestoreTree(std::map<std::string, DurableNames>& dirs,
                   std::map<InoKey, InodeState>& inodes,
                   const std::map<InoKey, std::string>& paths);

}  // namespace drovebank::power_loss
