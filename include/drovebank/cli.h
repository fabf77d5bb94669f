// The drovebank command table, shared by the one-shot CLI and the shell: each line of the
// shell is parsed by a fresh App built here, so both speak exactly the same commands.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "drovebank/store.h"

namespace drovebank {

// State that outlives one command: the open store, output mode, streams.
struct CliContext {
  std::string data_dir;  // resolved lazily (flag, $DROVEBANK_DATA, ./data)
  bool json = false;
  std::string output;  // -O before the command: text, csv, tsv or json ("" for text)
  double lock_timeout = 10.0;
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  LockWait extra_wait;  // on_wait / cancelled hooks (the shell sets them)
  std::unique_ptr<Store> store;
  int exit_code = 0;
  std::string program = "drovebank";
  // Set by list/search/history so the shell's next/prev can re-run them a page over.
  std::vector<std::string> last_paged;
  size_t last_page = 0;
  size_t last_pages = 0;  // how many pages it had then
  // Extra commands registered by other parts (shell, batch, import-legacy).
  std::vector<std::function<void(CLI::App&, CliContext&)>> extensions;
  // What runs when no command is given (the shell); prints help when unset.
  std::function<int(CliContext&)> no_command;

  // Opens the store on first use. Failures are reported by the caller through Fail().
  Result<Store*> GetStore();
  // Prints the error (stderr sentence; JSON error object on stdout with --json) and sets
  // exit_code from its Code.
  void Fail(const Status& s);
  // Prints a result: `value` with --json, else `text` (a trailing newline is added).
  void Print(const nlohmann::json& value, const std::string& text);
};

// Builds an App with the global options (when `with_globals`) and every subcommand bound
// to `ctx`; with `only` naming a built-in subcommand, just that one (the other built-in
// ones and the extensions' are then unknown to it). The returned App owns the storage its
// options write to.
std::unique_ptr<CLI::App> BuildApp(CliContext& ctx, bool with_globals,
                                   std::string_view only = {});

// Adds the report commands (balance, statement, export; src/cli/report_commands.cc) to
// `app`, or only the one `only` names (nothing when it names another command).
void AddReportCommands(CLI::App& app, CliContext& ctx, std::string_view only);

// The built-in subcommand argv names (skipping the global options and their values), or
// empty when it names none, asks only for help or version, or is unclear.
std::string_view CoreCommandNamed(int argc, char** argv);

// JSON of an account in the documented field names (money as decimal strings).
nlohmann::json AccountJson(const Account& a);
nlohmann::json RecordJsonView(const Record& r);

// Runs the one-shot program: parse, execute, map the result to an exit code.
int RunCli(int argc, char** argv, CliContext& ctx);

}  // namespace drovebank
