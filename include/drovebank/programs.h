// The two programs, as functions: drovebank/main.cc and recover/main.cc call these and
// include nothing else, so a program sees only this contract, never a private header of
// the CLI library (src/cli/) that implements them.
#pragma once

namespace drovebank {

// `drovebank`: the one-shot subcommands and, with no command, the interactive shell.
// Returns the process's exit status (see drovebank(1), EXIT STATUS).
int DrovebankMain(int argc, char** argv);

// `recover`: repairs and checks a data directory (see drovebank/recovery.h). Returns the
// process's exit status (see recover(8)).
int RecoverMain(int argc, char** argv);

}  // namespace drovebank
