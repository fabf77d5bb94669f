// What tab completion offers: command names, a command's options, and account ids.
// Ids come from the shard directories rather than Store::List, which reads every account
// file it returns: completion must stay instant on a store of millions of accounts.
#include <algorithm>

#include "shell_internal.h"

namespace drovebank {

std::vector<std::string> AccountIdsWithPrefix(Store* store, const std::string& prefix,
                                              size_t limit) {
  std::vector<std::string> out;
  if (prefix.size() > 8 || prefix.find_first_not_of("0123456789") != std::string::npos ||
      (!prefix.empty() && prefix[0] == '0')) {
    return out;
  }
  auto take = [&](AccountId id) {
    if (out.size() >= limit) return false;
    out.push_back(std::to_string(id));
    return out.size() < limit;
  };
  // Completion offers what it can: a folder it cannot list offers nothing more.
  if (prefix.empty()) {
    (void)store->ForEachAccountId("", take);
    return out;
  }
  // An id of L digits is stored as 8-L zeros then its digits: one filtered walk per L,
  // shortest first, which is ascending numeric order.
  for (size_t len = prefix.size(); len <= 8 && out.size() < limit; ++len) {
    (void)store->ForEachAccountId(std::string(8 - len, '0') + prefix, take);
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

namespace {

std::vector<std::string> WithPrefix(const std::vector<std::string>& all,
                                    const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& s : all) {
    if (s.compare(0, prefix.size(), prefix) == 0) out.push_back(s);
  }
  return out;
}

}  // namespace

Completion CompletionFor(CliContext& ctx, const std::vector<std::string>& before,
                         const std::string& prefix) {
  Completion c;
  // Global options may come first (`-O csv list`): the command is the first other word.
  std::string command;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == "-O" || before[i] == "--output") {
      ++i;
    } else if (command.empty() && (before[i].empty() || before[i][0] != '-')) {
      command = before[i];
    }
  }
  const std::string last = before.empty() ? "" : before.back();
  if (last == "-O" || last == "--output") {
    c.words = WithPrefix({"csv", "json", "text", "tsv"}, prefix);
  } else if (command == "export" && last == "--format") {
    c.words = WithPrefix({"beancount", "csv", "hledger", "ledger"}, prefix);
  } else if (last == "-o" || last == "--output-file") {
    c.files = true;
  } else if (command.empty() || (command == "help" && before.size() == 1)) {
    if (prefix.empty() || prefix[0] != '-') c.words = WithPrefix(CommandNames(ctx), prefix);
  } else if (command == "help") {
    // help takes one name
  } else if (!prefix.empty() && prefix[0] == '-') {
    c.words = WithPrefix(CommandOptions(ctx, command), prefix);
  } else {
    auto store = ctx.GetStore(StoreAccess::kRead);
    if (store.ok()) c.words = AccountIdsWithPrefix(*store, prefix, 2000);
  }
  return c;
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
