#include "store_files.h"

#include <fmt/format.h>

#include <cerrno>

#include "key_index.h"  // kKeyIndexWholeBytes

namespace drovebank {

Status NotARegularFile(const std::string& path, StoreFileKind kind) {
  if (kind == StoreFileKind::kJournal) {
    return Status::Corruption(fmt::format(
        "{} is not a regular file (drovebank makes only regular files there: something was put "
        "in its place): the journal records it held are not there, and nothing rebuilds them; "
        "put the segment back from a backup",
        path));
  }
  return Status::Corruption(fmt::format(
      "{} is not a regular file (drovebank makes only regular files there: something was put in "
      "its place); run `recover`, which moves it to quarantine/ and rebuilds the file from the "
      "journal",
      path));
}

Status RequireRegular(const FileInfo& info, const std::string& path, StoreFileKind kind) {
  return info.is_regular && !info.is_symlink ? Status::Ok() : NotARegularFile(path, kind);
}

Status WhyNotOpened(const Status& opened, const std::string& path, StoreFileKind kind) {
  int e = opened.sys_errno();
  return e == EISDIR || e == ENXIO || e == ELOOP ? NotARegularFile(path, kind) : opened;
}

Result<int> OpenStoreFile(Env* env, const std::string& path, int flags, StoreFileKind kind,
                          FileInfo* info) {
  auto fd = env->Open(path, flags, 0600);
  if (!fd.ok()) return WhyNotOpened(fd.status(), path, kind);
  auto st = env->StatFd(*fd);
  Status usable = st.ok() ? RequireRegular(*st, path, kind) : st.status();
  if (!usable.ok()) {
    (void)env->Close(*fd);
    return usable;
  }
  if (info != nullptr) *info = *st;
  return fd;
}

namespace {
// In the order the store opens them.
constexpr const char* kOwnFiles[] = {"journal/state",    "locks/accounts", "locks/keys",
                                     "locks/owners",     "keys/index",     "journal/SNAPSHOT",
                                     "journal/SNAPSHOT.tmp"};
}  // namespace

std::vector<std::string> UnusableStoreFiles(Env* env, const Layout& layout) {
  std::vector<std::string> out;
  for (const char* name : kOwnFiles) {
    auto st = env->Stat(layout.root() + "/" + name);
    if (st.ok() && (!st->is_regular || st->is_symlink)) out.emplace_back(name);
  }
  return out;
}

std::vector<std::pair<std::string, bool>> MissingStoreFiles(Env* env, const Layout& layout) {
  std::vector<std::pair<std::string, bool>> out;
  for (const char* name : {"locks/accounts", "locks/keys", "locks/owners", "keys/index"}) {
    auto st = env->Stat(layout.root() + "/" + name);
    bool missing = !st.ok() && st.status().code() == Code::kNotFound;
    bool short_index = st.ok() && st->is_regular && std::string_view(name) == "keys/index" &&
                       st->size < kKeyIndexWholeBytes;
    if (missing || short_index) out.emplace_back(name, missing);
  }
  return out;
}

bool RebuiltOnlyFromWholeJournal(const std::string& name) {
  return name == "locks/accounts" || name == "locks/keys" || name == "keys/index";
}

}  // namespace drovebank
