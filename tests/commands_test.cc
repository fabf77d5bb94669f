// The one-shot command table: building only the subcommand argv names must parse and
// explain that command exactly as the whole table does.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace drovebank {
namespace {

const std::vector<std::string> kCore = {"open",  "show", "deposit", "withdraw", "transfer",
                                        "close", "list", "search",  "history",  "txn"};

std::string Named(std::vector<std::string> args) {
  args.insert(args.begin(), "drovebank");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return std::string(CoreCommandNamed(static_cast<int>(argv.size()), argv.data()));
}

TEST_CASE("commands: the subcommand is found past every form of the global options") {
  for (const std::string& cmd : kCore) {
    INFO(cmd);
    CHECK(Named({cmd, "1", "2"}) == cmd);
    CHECK(Named({"-d", "list", cmd}) == cmd);  // a data directory named like a command
    CHECK(Named({"--data-dir", "show", "--json", cmd}) == cmd);
    CHECK(Named({"--data-dir=x", "--lock-timeout", "3", cmd, "--help"}) == cmd);
    CHECK(Named({"--json", "--lock-timeout=3", cmd}) == cmd);
  }
}

TEST_CASE("commands: help, version, extensions, typos and '--' name no built-in command") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"--help"},
                                             {"--version"},
                                             {"-d", "data"},
                                             {"batch", "deposit"},
                                             {"shell"},
                                             {"import-legacy", "dir"},
                                             {"depost", "1", "2"},
                                             {"--", "deposit", "1", "2"},
                                             {"-d"}}) {
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    INFO(joined);
    CHECK(Named(args).empty());
  }
}

TEST_CASE("commands: a table of one subcommand explains it exactly as the whole table") {
  CliContext ctx;
  bool extension_built = false;
  ctx.extensions.push_back([&](CLI::App& app, CliContext&) {
    extension_built = true;
    app.add_subcommand("extension", "added by an extension");
  });
  auto all = BuildApp(ctx, /*with_globals=*/true);
  REQUIRE(extension_built);
  for (const std::string& cmd : kCore) {
    INFO(cmd);
    extension_built = false;
    auto one = BuildApp(ctx, /*with_globals=*/true, cmd);
    CHECK_FALSE(extension_built);
    REQUIRE(one->get_subcommands({}).size() == 1);
    CHECK(one->get_subcommand(cmd)->help() == all->get_subcommand(cmd)->help());
  }
}

}  // namespace
}  // namespace drovebank
