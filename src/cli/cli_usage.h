// drovebank's own words for what the argument parser (CLI11) refuses: usage errors become
// InvalidArgument statuses with one sentence and the command's usage line, so the
// one-shot program and the shell report them like any other error (stderr sentence,
// JSON error object with --json, exit 2). Also the validators and help placeholders that
// keep CLI11's type names (`UINT:POSITIVE`, `FLOAT:FLOAT in [0 - 86400]`) out of sight.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "drovebank/status.h"

namespace drovebank {

// The usage line of `cmd` (a subcommand, or the top level): positionals as their names
// (`[NAME]` when optional), then each option as `[--name PLACEHOLDER]`. `prefix` goes
// first ("drovebank " for the program, "" in the shell).
std::string UsageLine(const CLI::App& cmd, std::string_view prefix);

// The status for a parse failure of `root` (the App that threw `e`): one sentence naming
// what was wrong, with the failing command's usage line.
Status UsageError(const CLI::ParseError& e, CLI::App& root, std::string_view prefix);

// The one name of `names` closest to `word` by edit distance, when it is close enough to
// be a typo of it (at most 2 edits, and fewer than half of the word); else "".
std::string ClosestName(std::string_view word, const std::vector<std::string>& names);

// "unknown command 'depost'; did you mean 'deposit'?" (or, with nothing close, the
// sentence followed by `otherwise`, e.g. "; run `drovebank help` for the list").
Status UnknownCommand(std::string_view word, const std::vector<std::string>& names,
                      std::string_view otherwise);

// The names of root's subcommands, as typed, their aliases (`bal`) included.
std::vector<std::string> SubcommandNames(const CLI::App& root);

// The first word of `args` (argv without the program) that is not an option of `root` or
// an option's value: the command the user typed. nullopt when there is none or when
// `--` comes first.
std::optional<std::string> FirstCommandWord(const CLI::App& root,
                                            const std::vector<std::string>& args);

// A validator for a whole number from 1 to `max`, called `what` in its messages
// ("page must be 1 or more"). Its description is empty, so help shows only the placeholder.
CLI::Validator WholeNumber(std::string what, std::uint64_t max);
// A validator for a number of seconds from 0 to `max` (finite: `nan` and `inf` refused).
CLI::Validator Seconds(std::string what, double max);
// A validator for one of `choices`: "unknown output format 'xml' (choose text, csv, tsv or
// json)", `what` being "output format".
CLI::Validator OneOf(std::string what, std::vector<std::string> choices);
// A validator refusing an empty value (`-d ''`).
CLI::Validator NotEmpty(std::string what);

// Gives every positional of `app` and its subcommands an empty type name, so help shows
// `ID REQUIRED` rather than `ID TEXT REQUIRED` (the name is its placeholder).
void PlainPositionals(CLI::App& app);

}  // namespace drovebank
