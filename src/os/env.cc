// The durable small-file write, built on the Env's own calls.
#include "drovebank/env.h"

#include <fcntl.h>
#include <fmt/format.h>

namespace drovebank {

Status TooLarge(const std::string& path, size_t size, size_t at_most) {
  return Status::Corruption(fmt::format(
      "{} is {} bytes, more than such a file can hold ({} at most): not read", path, size,
      at_most));
}

Status WriteFileDurably(Env* env, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  // Never through a link: a leftover (or planted) temp file is removed, and the new one
  // must be this call's own inode.
  if (Status u = env->Unlink(tmp); !u.ok() && u.code() != Code::kNotFound) return u;
  DB_ASSIGN_OR_RETURN(int fd, env->Open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600));
  Status s = env->Write(fd, data);
  if (s.ok()) s = env->Sync(fd);
  Status c = env->Close(fd);
  if (s.ok()) s = c;
  if (s.ok()) s = env->Rename(tmp, path);
  if (!s.ok()) {
    (void)env->Unlink(tmp);
    return s;
  }
  std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  return env->SyncDir(dir.empty() ? "." : dir);
}

}  // namespace drovebank
