// `drovebank batch FILE`: the CLI side of batch.h (options, summary line, exit code).
#pragma once

#include "cli.h"

namespace drovebank {

// Adds the batch subcommand to `app`, bound to `ctx` (a CliContext extension).
void AddBatchCommand(CLI::App& app, CliContext& ctx);
// Adds import-csv: batch for CSV input only (a CliContext extension).
void AddImportCsvCommand(CLI::App& app, CliContext& ctx);

}  // namespace drovebank
