// Pieces shared between the shell's files; not part of the public shell.h.
#pragma once

#include <string>
#include <vector>

#include "cli.h"
#include "drovebank/store.h"

namespace drovebank {

// The words the shell adds to the subcommands (shell_commands.cc).
const std::vector<std::string>& ShellOnlyWords();

// Every name a command line may start with: the subcommands of BuildApp and the shell's
// own words, sorted.
std::vector<std::string> CommandNames(CliContext& ctx);

// Long option names ("--page") of subcommand `command`; empty when unknown.
std::vector<std::string> CommandOptions(CliContext& ctx, const std::string& command);

// What Tab offers for the word `prefix` after the words `before` of the line: command
// names first (and after `help`), the values of an option that takes one of a few (`-O`,
// `--output`: the output formats; `export --format`: the export formats), file names after
// an option naming a file (`files`: readline's own file name completion), a command's
// long options for a word starting with '-', else account ids.
struct Completion {
  std::vector<std::string> words;
  bool files = false;
};
Completion CompletionFor(CliContext& ctx, const std::vector<std::string>& before,
                         const std::string& prefix);

// Account ids (as decimal text, ascending) that start with `prefix` (digits), found by
// walking the shard directories with the prefix as a filter; at most `limit`.
std::vector<std::string> AccountIdsWithPrefix(Store* store, const std::string& prefix,
                                              size_t limit);

// The help text of the shell (both languages); `commands` (CommandNames) adds the
// subcommands other modules registered.
std::string ShellHelpText(const std::vector<std::string>& commands);
// The menu of the original program (what `h` prints).
std::string MenuText();

}  // namespace drovebank
