#include "account_tree.h"

#include <algorithm>
#include <vector>

namespace drovebank {
namespace {

bool TwoDigits(std::string_view n) {
  return n.size() >= 2 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9';
}

// One level: `padded` is the id's digits so far (two per level above).
Result<bool> WalkLevel(Env* env, const std::string& dir, int depth, const std::string& padded,
                       std::string_view want,
                       const std::function<Result<bool>(AccountId, const std::string&)>& visit) {
  auto names = env->ListDir(dir);
  if (!names.ok()) {
    // Why NotFound is empty: a walk runs beside writers and `recover`, and a folder that
    // went away (or was never made) holds no account.
    if (names.status().code() == Code::kNotFound) return true;
    return names.status();
  }
  std::vector<std::string> kept;
  for (std::string& n : *names) {
    bool ok = depth < 3 ? n.size() == 2 && TwoDigits(n)
                        : n.size() == 6 && TwoDigits(n) && n.compare(2, 4, ".csv") == 0;
    if (!ok) continue;
    std::string cand = padded + n.substr(0, 2);
    size_t k = std::min(cand.size(), want.size());
    if (cand.compare(0, k, want.substr(0, k)) != 0) continue;
    kept.push_back(std::move(n));
  }
  std::sort(kept.begin(), kept.end());
  for (const std::string& n : kept) {
    std::string cand = padded + n.substr(0, 2);
    std::string path = dir + "/" + n;
    if (depth < 3) {
      DB_ASSIGN_OR_RETURN(bool more, WalkLevel(env, path, depth + 1, cand, want, visit));
      if (!more) return false;
      continue;
    }
    auto id = static_cast<AccountId>(std::stoul(cand));
    if (id == 0) continue;
    DB_ASSIGN_OR_RETURN(bool more, visit(id, path));
    if (!more) return false;
  }
  return true;
}

}  // namespace

Status WalkAccountTree(Env* env, const std::string& accounts_dir, std::string_view padded_prefix,
                       const std::function<Result<bool>(AccountId, const std::string&)>& visit) {
  return WalkLevel(env, accounts_dir, 0, "", padded_prefix, visit).status();
}

}  // namespace drovebank
