// drovebank: the one-shot subcommands and, with no command, the interactive shell.
#include "batch_cmd.h"
#include "cli.h"
#include "drovebank/programs.h"
#include "import_cmd.h"
#include "reverse_cmd.h"
#include "shell.h"

namespace drovebank {

int DrovebankMain(int argc, char** argv) {
  CliContext ctx;
  ctx.extensions.push_back(AddImportLegacyCommand);
  ctx.extensions.push_back(AddBatchCommand);
  ctx.extensions.push_back(AddImportCsvCommand);
  ctx.extensions.push_back(AddReverseCommand);
  RegisterShell(ctx);
  return RunCli(argc, argv, ctx);
}

}  // namespace drovebank
