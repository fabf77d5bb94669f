// The power-loss model's restore (power_loss_restore.h): what every changed name names is
// looked up first, then each name is put back to its durable entry, then the contents of
// files written under unchanged names revert.
#include "power_loss_restore.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace drovebank::power_loss {

namespace {

// Parents before children: a directory whose own entry is undone goes with its
// contents before anything is restored inside it.
std::vector<std::string> ParentsFirst(const std::map<std::string, DurableNames>& dirs) {
  std::vector<std::string> order;
  for (const auto& [dir, names] : dirs) order.push_back(dir);
  std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    auto da = std::count(a.begin(), a.end(), '/');
    auto db = std::count(b.begin(), b.end(), '/');
    return da != db ? da < db : a < b;
  });
  return order;
}

// The name `p`, which names `cur` now, back to its durable entry `want`.
Status RestoreName(const std::string& p, const std::optional<Entry>& cur,
                   const std::optional<Entry>& want, std::map<InoKey, InodeState>& inodes) {
  bool same = cur && want && SameEntry(*cur, *want);
  if (cur && !same) DB_RETURN_IF_ERROR(RemoveEntry(p, cur->kind));
  if (!want) return Status::Ok();
  switch (want->kind) {
    case Kind::kFile: {
      auto it = inodes.find(want->key);
      if (it == inodes.end()) {
        if (same) return Status::Ok();  // never written through the env: still its baseline
        return Status::Internal(
            fmt::format("power-loss model: no durable content known for {}", p));
      }
      return WriteWhole(p, it->second.durable, it->second.mode, !same);
    }
    case Kind::kDir:
      if (!same && ::mkdir(p.c_str(), want->mode) != 0) {
        return Errno(errno, "restore mkdir", p);
      }
      return Status::Ok();
    case Kind::kSymlink:
      if (!same && ::symlink(want->target.c_str(), p.c_str()) != 0) {
        return Errno(errno, "restore symlink", p);
      }
      return Status::Ok();
    case Kind::kOther:
      if (!same) {
        return Status::Internal(
            fmt::format("power-loss model: cannot recreate special file {}", p));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

Status RestoreTree(std::map<std::string, DurableNames>& dirs,
                   std::map<InoKey, InodeState>& inodes,
                   const std::map<InoKey, std::string>& paths) {
  std::vector<std::string> order = ParentsFirst(dirs);

  // Phase 1: what every name involved names now, looked up before anything changes, so
  // a recreated file that gets a recycled inode number is never taken for the old inode.
  std::map<std::string, std::map<std::string, std::optional<Entry>>> now;
  for (const std::string& dir : order) {
    for (const auto& [name, durable] : dirs[dir]) {
      DB_ASSIGN_OR_RETURN(now[dir][name], LookUp(Join(dir, name)));
    }
  }
  // Files written through the env under names it never changed: only the content reverts.
  std::vector<std::pair<std::string, InoKey>> rewrites;
  for (const auto& [key, path] : paths) {
    auto d = dirs.find(Parent(path));
    if (d != dirs.end() && d->second.count(BaseName(path)) != 0) continue;
    DB_ASSIGN_OR_RETURN(std::optional<Entry> e, LookUp(path));
    if (e && e->kind == Kind::kFile && e->key == key) rewrites.emplace_back(path, key);
  }

  // Phase 2: every changed name back to its durable entry and content.
  for (const std::string& dir : order) {
    DB_ASSIGN_OR_RETURN(std::optional<Entry> d, LookUp(dir));
    if (!d || d->kind != Kind::kDir) continue;  // removed with an undone parent
    for (const auto& [name, want] : dirs[dir]) {
      DB_RETURN_IF_ERROR(RestoreName(Join(dir, name), now[dir][name], want, inodes));
    }
  }

  // Phase 3.
  for (const auto& [path, key] : rewrites) {
    const InodeState& st = inodes[key];
    DB_RETURN_IF_ERROR(WriteWhole(path, st.durable, st.mode, false));
  }
  return Status::Ok();
}

}  // namespace drovebank::power_loss
