// drovebank: the one-shot subcommands and, with no command, the interactive shell.
#include "cli/batch_cmd.h"
#include "cli/cli.h"
#include "cli/import_cmd.h"
#include "cli/reverse_cmd.h"
#include "cli/shell.h"

int main(int argc, char** argv) {
  drovebank::CliContext ctx;
  ctx.extensions.push_back(drovebank::AddImportLegacyCommand);
  ctx.extensions.push_back(drovebank::AddBatchCommand);
  ctx.extensions.push_back(drovebank::AddImportCsvCommand);
  ctx.extensions.push_back(drovebank::AddReverseCommand);
  drovebank::RegisterShell(ctx);
  return drovebank::RunCli(argc, argv, ctx);
}
