// What tab completion offers: command names, a command's options, and account ids.
// Ids come from the shard directories rather than Store::List, which reads every account
// file it returns: completion must stay instant on a store of millions of accounts.
#include <algorithm>

#include "drovebank/internal/layout.h"
#include "shell_internal.h"

namespace drovebank {
namespace {

bool TwoDigits(std::string_view n) {
  return n.size() >= 2 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9';
}

// Visits accounts/AA/BB/CC/DD.csv in ascending order, skipping every directory whose
// digits disagree with `want` (a prefix of the 8-digit zero-padded id).
void Walk(Env* env, const std::string& dir, int depth, const std::string& padded,
          const std::string& want, std::vector<std::string>* out, size_t limit) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return;
  std::sort(names->begin(), names->end());
  for (const std::string& n : *names) {
    if (out->size() >= limit) return;
    bool ok = depth < 3 ? n.size() == 2 && TwoDigits(n)
                        : n.size() == 6 && TwoDigits(n) && n.substr(2) == ".csv";
    if (!ok) continue;
    std::string cand = padded + n.substr(0, 2);
    size_t k = std::min(cand.size(), want.size());
    if (cand.compare(0, k, want, 0, k) != 0) continue;
    if (depth < 3) {
      Walk(env, dir + "/" + n, depth + 1, cand, want, out, limit);
    } else {
      size_t first = cand.find_first_not_of('0');
      if (first != std::string::npos) out->push_back(cand.substr(first));
    }
  }
}

}  // namespace

std::vector<std::string> AccountIdsWithPrefix(Store* store, const std::string& prefix,
                                              size_t limit) {
  std::vector<std::string> out;
  if (prefix.size() > 8 || prefix.find_first_not_of("0123456789") != std::string::npos ||
      (!prefix.empty() && prefix[0] == '0')) {
    return out;
  }
  Env* env = store->env();
  const std::string root = store->layout().accounts();
  if (prefix.empty()) {
    Walk(env, root, 0, "", "", &out, limit);
    return out;
  }
  // An id of L digits is stored as 8-L zeros then its digits: one filtered walk per L,
  // shortest first, which is ascending numeric order.
  for (size_t len = prefix.size(); len <= 8 && out.size() < limit; ++len) {
    Walk(env, root, 0, "", std::string(8 - len, '0') + prefix, &out, limit);
  }
  return out;
}

std::vector<std::string> CommandNames(CliContext& ctx) {
  auto app = BuildApp(ctx, /*with_globals=*/false);
  std::vector<std::string> names = ShellOnlyWords();
  for (const CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == "shell") continue;  // already in it
    if (std::find(names.begin(), names.end(), sub->get_name()) == names.end()) {
      names.push_back(sub->get_name());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> CommandOptions(CliContext& ctx, const std::string& command) {
  std::vector<std::string> out;
  auto app = BuildApp(ctx, /*with_globals=*/false);
  CLI::App* sub = nullptr;
  try {
    sub = app->get_subcommand(command);
  } catch (const CLI::Error&) {
    return out;
  }
  for (const CLI::Option* o : sub->get_options()) {
    for (const std::string& l : o->get_lnames()) out.push_back("--" + l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace drovebank
