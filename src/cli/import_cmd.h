// `drovebank import-legacy DIR`, the command around the import engine
// (drovebank/import_legacy.h, which holds the contract: what a crash, a re-run
// and a conflict leave). Printing and progress live in import_legacy_cmd.cc.
#pragma once

#include "cli.h"
#include "drovebank/import_legacy.h"

namespace drovebank {

// Adds the import-legacy subcommand to `app`, bound to `ctx` (a CliContext extension).
void AddImportLegacyCommand(CLI::App& app, CliContext& ctx);

}  // namespace drovebank
