// What every Env shares: the portable default of CreateExclusive and the durable
// small-file write built on the Env's own calls.
#include "drovebank/env.h"

#include <fcntl.h>

namespace drovebank {

Status Env::CreateExclusive(const std::string& path, std::string_view content, unsigned mode) {
  DB_ASSIGN_OR_RETURN(int fd, Open(path, O_WRONLY | O_CREAT | O_EXCL, mode));
  Status s = Write(fd, content);
  Status c = Close(fd);
  if (s.ok()) s = c;
  // The name is ours (O_EXCL), so removing it after a failed write removes nobody else's.
  if (!s.ok()) (void)Unlink(path);
  return s;
}

Status WriteFileDurably(Env* env, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  DB_ASSIGN_OR_RETURN(int fd, env->Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600));
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
