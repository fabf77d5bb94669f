// The program's own commands beside the ledger ones: `help [COMMAND]`, `version` and
// `init [DIR]`. Only the one-shot top level has them; the shell has its own help.
#include <fmt/format.h>

#include <memory>

#include "cli.h"
#include "cli_usage.h"
#include "drovebank/env.h"
#include "version.h"
#include "own_args.h"

namespace drovebank {

namespace {

void AddHelp(CLI::App& app, CliContext& ctx) {
  auto topic = std::make_shared<std::string>();
  auto* help = app.add_subcommand("help", "Show the help of the program or of COMMAND");
  OwnArgs(help, topic);
  help->add_option("COMMAND", *topic, "A command name");
  help->footer("Example: drovebank help deposit");
  CLI::App* root = &app;
  help->callback([&ctx, root, topic]() {
    if (topic->empty()) {
      // Not root->help(): inside a subcommand's callback that shows the subcommand's.
      fmt::print(ctx.out, "{}",
                 root->get_formatter()->make_help(root, root->get_name(), CLI::AppFormatMode::Normal));
      return;
    }
    std::vector<std::string> names = SubcommandNames(*root);
    if (std::find(names.begin(), names.end(), *topic) == names.end()) {
      ctx.Fail(UnknownCommand(*topic, names, "; run `drovebank help` for the list"));
      return;
    }
    fmt::print(ctx.out, "{}", root->get_subcommand(*topic)->help(root->get_name()));
  });
}

void AddVersion(CLI::App& app, CliContext& ctx) {
  auto verbose = std::make_shared<bool>(false);
  auto* version = app.add_subcommand("version", "Print the version (as --version and -V do)");
  OwnArgs(version, verbose);
  version->add_flag("--verbose", *verbose,
                    "Also say how the data directory's file system is used (local or shared)");
  version->footer("Example: drovebank version --verbose");
  version->callback([&ctx, verbose]() {
    std::string line = VersionLine("drovebank");
    std::string number = line.substr(line.find(' ') + 1);
    if (!*verbose) {
      ctx.Print({{"program", "drovebank"}, {"version", number}}, line);
      return;
    }
    std::string where = ResolveDataDir(ctx.data_dir);
    SharedFsMode fs = FileSystemMode(where);
    std::string mode = FileSystemModeLine(fs);
    // Whether a store is there: a name that merely would be used is not a data directory.
    bool store = StoreExistsAt(DefaultEnv(), where);
    ctx.Print({{"program", "drovebank"},
               {"version", number},
               {"data_dir", where},
               {"store", store},
               {"file_system", fs.type},
               {"mode", fs.shared ? "shared" : "local"},
               {"mode_reason", fs.reason}},
              fmt::format("{}\ndata directory: {}{}\n{}", line, where,
                          store ? "" : " (no store there yet: `drovebank init` makes one)", mode));
  });
}

void AddInit(CLI::App& app, CliContext& ctx) {
  auto dir = std::make_shared<std::string>();
  auto* init = app.add_subcommand(
      "init", "Create an empty store in DIR (default: -d, $DROVEBANK_DATA, else ./data)");
  OwnArgs(init, dir);
  init->add_option("DIR", *dir, "The data directory to create")->check(NotEmpty("DIR"));
  init->footer("Example: drovebank init ~/ledger");
  init->callback([&ctx, dir]() {
    if (!dir->empty()) ctx.data_dir = *dir;
    std::string where = ResolveDataDir(ctx.data_dir);
    if (StoreExistsAt(DefaultEnv(), where)) {
      ctx.Print({{"data_dir", where}, {"created", false}},
                fmt::format("{} already holds a drovebank store; nothing changed", where));
      return;
    }
    auto store = ctx.GetStore(StoreAccess::kCreate);
    if (!store.ok()) {
      ctx.Fail(store.status());
      return;
    }
    ctx.Print({{"data_dir", where}, {"created", true}},
              fmt::format("Created an empty drovebank store at {}", where));
  });
}

}  // namespace

void AddProgramCommands(CLI::App& app, CliContext& ctx) {
  AddHelp(app, ctx);
  AddVersion(app, ctx);
  AddInit(app, ctx);
}

}  // namespace drovebank
