// What the command table's files (commands.cc, lookup_commands.cc) share: the one set of
// option values a built App parses into, the subcommand maker BuildApp hands each Add*
// function, the wrapper of a command body, and the look-up commands' Add functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli.h"

namespace drovebank::commands {

// No store has more accounts than ids, so no listing has more pages.
constexpr std::uint64_t kMaxPage = kMaxAccountId;

// Storage for one App's option values; owned by the App through a shared_ptr in a
// callback capture, so each parse starts from fresh defaults.
struct Args {
  std::string first, last, amount = "0", key, text, memo;
  std::string id, to, txn;
  size_t page = 1, page_size = 20;
  std::string output, since, until;
  bool all = false;
};

// Adds the subcommand `name` to the App being built, or returns nullptr when the build is
// for one other core command (see CoreCommandNamed).
using Subcommand = std::function<CLI::App*(const char* name, const char* help)>;

// Wraps a command body: parse failures and store failures become exit codes.
template <typename F>
std::function<void()> Body(CliContext& ctx, F f) {
  return [&ctx, f]() {
    Status s = f();
    if (!s.ok()) ctx.Fail(s);
  };
}

// A read-only command's store: never created by it.
inline Result<Store*> ReadStoreOf(CliContext& ctx) { return ctx.GetStore(StoreAccess::kRead); }

// The look-up commands (lookup_commands.cc): `list`, `search`, `history ID`, `txn N`.
void AddListCommand(const Subcommand& subcommand, CliContext& ctx, const std::shared_ptr<Args>& a);
void AddSearchCommand(const Subcommand& subcommand, CliContext& ctx,
                      const std::shared_ptr<Args>& a);
void AddHistoryCommand(const Subcommand& subcommand, CliContext& ctx,
                       const std::shared_ptr<Args>& a);
void AddTxnCommand(const Subcommand& subcommand, CliContext& ctx, const std::shared_ptr<Args>& a);

}  // namespace drovebank::commands
