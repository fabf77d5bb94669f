#include "cli_usage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace drovebank {

namespace {

bool IsHelp(const CLI::App& cmd, const CLI::Option* o) {
  return o == cmd.get_help_ptr() || o == cmd.get_help_all_ptr() || o == cmd.get_version_ptr();
}

std::string OptionName(const CLI::Option* o) {
  if (o->get_positional()) return o->get_name();
  if (!o->get_lnames().empty()) return "--" + o->get_lnames().front();
  if (!o->get_snames().empty()) return "-" + o->get_snames().front();
  return o->get_name();
}

// The command the failure belongs to: the last subcommand the parser entered, else root.
const CLI::App& FailingCommand(CLI::App& root) {
  auto subs = root.get_subcommands();
  return subs.empty() ? root : *subs.back();
}

std::string WithUsage(std::string sentence, const CLI::App& cmd, std::string_view prefix) {
  return fmt::format("{} (usage: {})", sentence, UsageLine(cmd, prefix));
}

// CLI11 starts its sentences with a capital; ours do not.
std::string Lowered(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The option names `cmd` takes (`--txn`, `-d`), with the top level's when the command
// passes what it does not know up to it (the global options).
std::vector<std::string> OptionNames(const CLI::App& cmd) {
  std::vector<std::string> out;
  for (const CLI::App* a = &cmd; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      if (o->get_positional()) continue;
      for (const std::string& l : o->get_lnames()) out.push_back("--" + l);
      for (const std::string& s : o->get_snames()) out.push_back("-" + s);
    }
    if (!a->get_fallthrough()) break;
  }
  return out;
}

// "unknown option '--chek'; did you mean '--check'?" for the first word of `extra` that
// looks like an option, or nullopt.
std::optional<Status> UnknownOption(const std::vector<std::string>& extra, const CLI::App& cmd,
                                    const CLI::App& root, std::string_view prefix) {
  for (const std::string& x : extra) {
    if (x.size() < 2 || x[0] != '-' || x == "--") continue;
    std::string word = x.substr(0, x.find('='));
    std::string where = &cmd == &root ? "" : " for " + cmd.get_name();
    std::string near = ClosestName(word, OptionNames(cmd));
    std::string sentence =
        near.empty() ? fmt::format("unknown option '{}'{}", word, where)
                     : fmt::format("unknown option '{}'{}; did you mean '{}'?", word, where, near);
    return Status::InvalidArgument(WithUsage(sentence, cmd, prefix));
  }
  return std::nullopt;
}

}  // namespace

std::string UsageLine(const CLI::App& cmd, std::string_view prefix) {
  // The top level is named by its own name (the program), a subcommand after `prefix`.
  std::string out = cmd.get_parent() == nullptr ? cmd.get_name() : std::string(prefix) + cmd.get_name();
  if (cmd.get_parent() == nullptr &&
      !cmd.get_subcommands([](const CLI::App*) { return true; }).empty()) {
    return out + " [OPTIONS] COMMAND [ARGS]";
  }
  std::string opts;
  for (const CLI::Option* o : cmd.get_options()) {
    if (IsHelp(cmd, o)) continue;
    if (o->get_positional()) {
      out += o->get_required() ? " " + o->get_name() : " [" + o->get_name() + "]";
      continue;
    }
    std::string type = o->get_type_name();
    opts += o->get_items_expected_max() == 0 || type.empty()
                ? fmt::format(" [{}]", OptionName(o))
                : fmt::format(" [{} {}]", OptionName(o), type);
  }
  return out + opts;
}

Status UsageError(const CLI::ParseError& e, CLI::App& root, std::string_view prefix) {
  const CLI::App& cmd = FailingCommand(root);
  std::string what = e.what();
  // An unknown option is the first thing to say: `deposit --hlep` lacks its ID only
  // because the option was not understood.
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr ||
      dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    if (auto s = UnknownOption(root.remaining(/*recurse=*/true), cmd, root, prefix)) return *s;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    for (const CLI::Option* o : cmd.get_options()) {
      if (o->get_required() && o->count() == 0) {
        return Status::InvalidArgument(WithUsage("missing " + OptionName(o), cmd, prefix));
      }
    }
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    std::vector<std::string> extra = root.remaining(/*recurse=*/true);
    if (!extra.empty()) {
      const std::string& x = extra.front();
      if (x.size() > 1 && x[0] == '-') {
        std::string where = &cmd == &root ? "" : " for " + cmd.get_name();
        return Status::InvalidArgument(
            WithUsage(fmt::format("unknown option '{}'{}", x, where), cmd, prefix));
      }
      return Status::InvalidArgument(
          WithUsage(fmt::format("unexpected argument '{}'", x), cmd, prefix));
    }
  } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // "NAME: 1 required TYPE missing" and its kin: the option was given no value.
    std::string name = what.substr(0, what.find(':'));
    if (!name.empty() && name[0] == '-') {
      return Status::InvalidArgument(WithUsage(name + " needs a value", cmd, prefix));
    }
  } else if (dynamic_cast<const CLI::ValidationError*>(&e) != nullptr) {
    // Our validators write whole sentences; CLI11 puts "NAME: " before them.
    size_t colon = what.find(": ");
    return Status::InvalidArgument(colon == std::string::npos ? what : what.substr(colon + 2));
  } else if (dynamic_cast<const CLI::ExcludesError*>(&e) != nullptr) {
    // CLI11: "--all excludes --page".
    size_t at = what.find(" excludes ");
    if (at != std::string::npos) {
      return Status::InvalidArgument(WithUsage(
          fmt::format("{} cannot be given with {}", what.substr(0, at), what.substr(at + 10)),
          cmd, prefix));
    }
  } else if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    return Status::InvalidArgument(WithUsage(Lowered(what), cmd, prefix));
  }
  return Status::InvalidArgument(WithUsage(Lowered(what), cmd, prefix));
}

std::string ClosestName(std::string_view word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = 3;  // at most 2 edits
  for (const std::string& n : names) {
    size_t d = EditDistance(word, n);
    // A prefix of a longer name ("dep" for "deposit", "hist" for "history") is what the
    // user began to type: it beats a name a letter away ("list").
    if (word.size() >= 2 && n.rfind(word, 0) == 0) d = 0;
    if (d < best_d && d * 2 < std::max(word.size(), n.size())) {
      best = n;
      best_d = d;
    }
  }
  return best;
}

Status UnknownCommand(std::string_view word, const std::vector<std::string>& names,
                      std::string_view otherwise) {
  std::string near = ClosestName(word, names);
  if (!near.empty()) {
    return Status::InvalidArgument(
        fmt::format("unknown command '{}'; did you mean '{}'?", word, near));
  }
  return Status::InvalidArgument(fmt::format("unknown command '{}'{}", word, otherwise));
}

std::vector<std::string> SubcommandNames(const CLI::App& root) {
  std::vector<std::string> out;
  for (const CLI::App* s : root.get_subcommands([](const CLI::App*) { return true; })) {
    out.push_back(s->get_name());
    // An alias (`bal`) is a command name too, so it is never an unknown command.
    for (const std::string& alias : s->get_aliases()) out.push_back(alias);
  }
  return out;
}

std::optional<std::string> FirstCommandWord(const CLI::App& root,
                                            const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return std::nullopt;
    if (a.size() > 1 && a[0] == '-') {
      if (a.find('=') != std::string::npos) continue;
      // An option of the top level that takes a value: skip the value too.
      const CLI::Option* o = nullptr;
      for (const CLI::Option* c : root.get_options()) {
        if (c->check_name(a)) o = c;
      }
      if (o != nullptr && o->get_items_expected_min() > 0) ++i;
      continue;
    }
    return a;
  }
  return std::nullopt;
}

CLI::Validator WholeNumber(std::string what, std::uint64_t max) {
  return CLI::Validator(
      [what, max](std::string& s) -> std::string {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
          return fmt::format("{} must be a whole number from 1 to {}, not '{}'", what, max, s);
        }
        size_t digits = s.find_first_not_of('0');
        if (digits == std::string::npos) return fmt::format("{} must be 1 or more", what);
        if (s.size() - digits > 19 || std::strtoull(s.c_str(), nullptr, 10) > max) {
          return fmt::format("{} {} is too large: at most {}", what, s, max);
        }
        return "";
      },
      "", what);
}

CLI::Validator Seconds(std::string what, double max) {
  return CLI::Validator(
      [what, max](std::string& s) -> std::string {
        char* end = nullptr;
        double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
        if (s.empty() || end == nullptr || *end != '\0' || !std::isfinite(v) || v < 0 ||
            v > max) {
          return fmt::format("{} must be a number of seconds from 0 to {:g}, not '{}'", what, max,
                             s);
        }
        return "";
      },
      "", what);
}

CLI::Validator OneOf(std::string what, std::vector<std::string> choices) {
  return CLI::Validator(
      [what, choices](std::string& s) -> std::string {
        if (std::find(choices.begin(), choices.end(), s) != choices.end()) return "";
        std::string list;
        for (size_t i = 0; i < choices.size(); ++i) {
          list += i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ";
          list += choices[i];
        }
        return fmt::format("unknown {} '{}' (choose {})", what, s, list);
      },
      "", what);
}

CLI::Validator NotEmpty(std::string what) {
  return CLI::Validator(
      [what](std::string& s) -> std::string {
        return s.empty() ? fmt::format("{} must not be empty", what) : "";
      },
      "", what);
}

void PlainPositionals(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->get_positional()) o->type_name("");
  }
  for (CLI::App* s : app.get_subcommands([](CLI::App*) { return true; })) PlainPositionals(*s);
}

}  // namespace drovebank
