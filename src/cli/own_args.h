// Who owns a subcommand's parsed arguments.
#pragma once

#include <cstddef>
#include <memory>
#include <tuple>

#include <CLI/CLI.hpp>

namespace drovebank {

// Makes `sub` own `values` for as long as `sub` lives, and gives every parse of `sub` the
// values they hold now (call it before `sub`'s options are added, with the defaults set).
//
// Why own them, not leave them to the callback's capture: inside a shell transaction
// BindTransactionCommands replaces some subcommands' callbacks, which destroys what the old
// callback captured while the options, bound to those values, still write into them on
// the next parse (ASan caught `reverse` doing so).
//
// Why put them back before each parse: the shell keeps one App per command for the whole
// session (building one was most of a shell line's instructions), so a line must not
// inherit the options of the line before it. CLI11 calls the pre-parse callback whenever
// it meets `sub` in a parse, before it assigns any option's value (it assigns them all at
// the end of the parse), and App::clear() lets it call it again on the next parse. Uses
// `sub`'s pre-parse callback, which nothing else sets: one call per subcommand.
template <class... T>
void OwnArgs(CLI::App* sub, std::shared_ptr<T>... values) {
  sub->preparse_callback([values..., initial = std::make_tuple(T(*values)...)](std::size_t) {
    std::tie(*values...) = initial;
  });
}

}  // namespace drovebank
