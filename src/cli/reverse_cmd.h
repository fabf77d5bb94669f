// `drovebank reverse TXN [--memo TEXT]`: the CLI side of reverse.h.
#pragma once

#include "cli.h"

namespace drovebank {

// Adds the reverse subcommand to `app`, bound to `ctx` (a CliContext extension).
void AddReverseCommand(CLI::App& app, CliContext& ctx);

}  // namespace drovebank
