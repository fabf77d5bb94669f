// Who owns a subcommand's parsed arguments.
#pragma once

#include <cstddef>
#include <memory>

#include <CLI/CLI.hpp>

namespace drovebank {

// Makes `sub` own `values` for as long as `sub` lives. Why not the callback's capture alone:
// inside a shell transaction BindTransactionCommands replaces some subcommands' callbacks,
// which destroys what the old callback captured while the options, bound to those values,
// still write into them on the next parse (ASan caught `reverse` doing so). Uses `sub`'s
// pre-parse callback, which nothing else sets: one call per subcommand.
template <class... T>
void OwnArgs(CLI::App* sub, std::shared_ptr<T>... values) {
  sub->preparse_callback([values...](std::size_t) {});
}

}  // namespace drovebank
