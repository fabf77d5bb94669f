// drovebank: the one-shot subcommands and, with no command, the interactive shell
// (src/cli/drovebank_main.cc).
#include "drovebank/programs.h"

int main(int argc, char** argv) { return drovebank::DrovebankMain(argc, argv); }
