// drovebank: the one-shot subcommands and, with no command, the interactive shell.
#include "drovebank/cli.h"

int main(int argc, char** argv) {
  drovebank::CliContext ctx;
  return drovebank::RunCli(argc, argv, ctx);
}
