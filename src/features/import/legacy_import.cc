#include "drovebank/legacy_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace drovebank {
namespace {

// What an entry name says about itself. The index uses the same write protocol as the
// accounts, so index.idx is the index's "main" file and is settled by the same rules.
enum class Kind { kMain, kLock, kTmp, kOld, kXtmp, kXold };

struct Entry {
  std::string name;
  Kind kind;
  std::string x;  // the 8-character write id of a leftover; empty otherwise
};

struct NameParts {
  std::string key;  // "index" or the decimal id as written
  Entry entry;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAlnum(char c) { return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsDigit); }

// Bad input is echoed in reasons; keep it short and free of terminal escapes.
std::string Printable(std::string_view text) {
  constexpr size_t kShown = 40;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c >= 0x7F) ? '?' : static_cast<char>(c);
  }
  if (text.size() > kShown) out += "...";
  return out;
}

std::string_view StripOneNewline(std::string_view s) {
  if (s.ends_with("\r\n")) {
    s.remove_suffix(2);
  } else if (s.ends_with('\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Recognises <key><ext>, <key>.lock and <key>_<X><ext>.<suffix>, where key is "index"
// (ext ".idx") or a run of digits (ext ".txt"). Transfers never touched the index, so
// only accounts have x-suffixes.
std::optional<NameParts> SplitName(std::string_view name) {
  NameParts p;
  std::string_view ext;
  if (name.starts_with("index")) {
    p.key = "index";
    ext = ".idx";
  } else {
    size_t n = 0;
    while (n < name.size() && IsDigit(name[n])) ++n;
    if (n == 0) return std::nullopt;
    p.key = std::string(name.substr(0, n));
    ext = ".txt";
  }
  std::string_view rest = name.substr(p.key.size());
  p.entry.name = std::string(name);
  if (rest == ext) {
    p.entry.kind = Kind::kMain;
    return p;
  }
  if (rest == ".lock") {
    p.entry.kind = Kind::kLock;
    return p;
  }
  constexpr size_t kXLen = 8;
  if (rest.size() <= 1 + kXLen || rest[0] != '_') return std::nullopt;
  std::string_view x = rest.substr(1, kXLen);
  if (!std::all_of(x.begin(), x.end(), IsAlnum)) return std::nullopt;
  std::string_view tail = rest.substr(1 + kXLen);
  if (!tail.starts_with(ext) || tail.size() <= ext.size() || tail[ext.size()] != '.') {
    return std::nullopt;
  }
  std::string_view suffix = tail.substr(ext.size() + 1);
  bool account = p.key != "index";
  if (suffix == "tmp") {
    p.entry.kind = Kind::kTmp;
  } else if (suffix == "old") {
    p.entry.kind = Kind::kOld;
  } else if (account && suffix == "xtmp") {
    p.entry.kind = Kind::kXtmp;
  } else if (account && suffix == "xold") {
    p.entry.kind = Kind::kXold;
  } else {
    return std::nullopt;
  }
  p.entry.x = std::string(x);
  return p;
}

// The files of one account (or of the index).
struct Files {
  std::vector<Entry> entries;

  const Entry* Main() const {
    for (const Entry& e : entries) {
      if (e.kind == Kind::kMain) return &e;
    }
    return nullptr;
  }
  std::vector<const Entry*> Of(Kind k) const {
    std::vector<const Entry*> out;
    for (const Entry& e : entries) {
      if (e.kind == k) out.push_back(&e);
    }
    return out;
  }
};

// The file chosen to hold an account's (or the index's) current content.
struct Source {
  const Entry* entry;
  std::string action;
  std::string reason;
};

Result<Cents> ParseLegacyBalance(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("balance is empty");
  std::string shown = Printable(text);
  if (text[0] == '-')
    return Status::InvalidArgument(fmt::format("balance '{}' is negative", shown));
  if (text.find_first_of("eE") != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format(
        "balance '{}' has an exponent; only plain decimal text like 100.25 is accepted", shown));
  }
  // Syntax first, so a malformed text is never reported as merely inexact.
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!AllDigits(whole) || !AllDigits(frac) || (whole.empty() && frac.empty())) {
    return Status::InvalidArgument(
        fmt::format("balance '{}' is not plain decimal text like 100.25", shown));
  }
  auto too_large = [&] {
    return Status::InvalidArgument(
        fmt::format("balance '{}' exceeds the maximum of {}", shown, FormatCents(kMaxCents)));
  };
  // Checked after every digit, so leading zeros are harmless and the int64 never overflows.
  Cents units = 0;
  for (char c : whole) {
    units = units * 10 + (c - '0');
    if (units > kMaxCents / 100) return too_large();
  }
  Cents cents = 0;
  for (size_t i = 0; i < frac.size(); ++i) {
    if (i < 2) {
      cents = cents * 10 + (frac[i] - '0');
    } else if (frac[i] != '0') {
      return Status::InvalidArgument(fmt::format(
          "balance '{}' is not a whole number of cents (more than two decimals)", shown));
    }
  }
  if (frac.size() == 1) cents *= 10;
  Cents total = units * 100 + cents;
  if (total > kMaxCents) return too_large();
  return total;
}

Result<AccountId> ParseIndexText(std::string_view content) {
  std::string_view text = StripOneNewline(content);
  auto bad = [&] {
    return Status::InvalidArgument(
        fmt::format("index.idx should hold the last id used, 0 to {}, as decimal text; found '{}'",
                    kMaxAccountId, Printable(content)));
  };
  if (text.empty() || !AllDigits(text)) return bad();
  AccountId v = 0;
  for (char c : text) {
    v = v * 10 + static_cast<AccountId>(c - '0');
    if (v > kMaxAccountId) return bad();
  }
  return v;
}

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

class Planner {
 public:
  Planner(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  void Classify(const std::string& name) {
    if (name.ends_with(".atmp")) {
      Decide(name, "skip",
             "interrupted account creation (.atmp); the original's recovery deleted these, "
             "so it is not imported");
      return;
    }
    std::optional<NameParts> parts = SplitName(name);
    if (!parts) {
      Decide(name, "skip", "not a file of the legacy format");
      return;
    }
    if (parts->key == "index") {
      index_.entries.push_back(std::move(parts->entry));
      return;
    }
    // The original wrote ids with "%d", so a zero-padded name is not its work and could
    // collide with the unpadded one.
    const std::string& key = parts->key;
    if (key[0] == '0') {
      Decide(name, "error",
             fmt::format("id '{}' in the file name is zero or zero-padded; ids are 1 to {} "
                         "without leading zeros",
                         Printable(key), kMaxAccountId));
      return;
    }
    Result<AccountId> id = ParseAccountId(key);
    if (!id.ok()) {
      Decide(
          name, "error",
          fmt::format("id {} in the file name is outside 1 to {}", Printable(key), kMaxAccountId));
      return;
    }
    plan_.largest_file_id = std::max(plan_.largest_file_id, *id);
    const Entry& e = parts->entry;
    if (e.kind == Kind::kXtmp || e.kind == Kind::kXold) transfers_[e.x].insert(*id);
    accounts_[*id].entries.push_back(std::move(parts->entry));
  }

  // Before the accounts, so their reasons can compare with the index.
  void SettleIndex() {
    if (index_.entries.empty()) return;
    std::optional<Source> src = IndexSource();
    if (!src) return;
    Result<std::string> text = ReadSmall(src->entry->name);
    Result<AccountId> last = text.ok() ? ParseIndexText(*text) : Result<AccountId>(text.status());
    if (!last.ok()) {
      Unsettled(index_, *src->entry, last.status().message(), "the index");
      return;
    }
    plan_.last_id_from_index = *last;
    index_ok_ = true;
    std::string used = fmt::format("last id used: {}", *last);
    Decide(src->entry->name, src->action,
           src->reason.empty() ? used : fmt::format("{}; {}", src->reason, used));
    DiscardOthers(index_, *src->entry, "the index");
  }

  void SettleAccounts() {
    for (const auto& [id, files] : accounts_) {
      std::optional<Source> src = AccountSource(id, files);
      if (!src) continue;
      std::string what = fmt::format("account {}", id);
      Result<std::string> text = ReadSmall(src->entry->name);
      if (!text.ok()) {
        Unsettled(files, *src->entry, text.status().message(), what);
        continue;
      }
      std::string_view content = *text;
      std::string reason = src->reason;
      // The original's deposit wrote "first,last,balance\n'" (a stray quote in its format
      // string); its reader only ever read the first line.
      if (content.ends_with("\n'")) {
        content.remove_suffix(1);
        reason += "; ignored the stray \"'\" line the original's deposit appended";
      }
      Result<LegacyAccount> account = ParseLegacyAccountLine(content, id);
      if (!account.ok()) {
        Unsettled(files, *src->entry, account.status().message(), what);
        continue;
      }
      if (index_ok_ && id > plan_.last_id_from_index) {
        reason += fmt::format("; id is above index.idx's last id {}", plan_.last_id_from_index);
      }
      account->source_file = src->entry->name;
      plan_.accounts.push_back(std::move(account).value());  // map order: sorted by id
      Decide(src->entry->name, src->action, reason);
      DiscardOthers(files, *src->entry, what);
    }
  }

  LegacyPlan Finish() && {
    std::sort(plan_.decisions.begin(), plan_.decisions.end(),
              [](const LegacyDecision& a, const LegacyDecision& b) { return a.file < b.file; });
    return std::move(plan_);
  }

 private:
  void Decide(const std::string& file, std::string action, std::string reason) {
    if (action == "error") ++plan_.errors;
    plan_.decisions.push_back({file, std::move(action), std::move(reason)});
  }

  // With no file to settle from, every file of the account is in error: there is no one
  // culprit, and none of them may be taken for disposable.
  void NoSource(const Files& files, const std::string& reason) {
    for (const Entry& e : files.entries) Decide(e.name, "error", reason);
  }

  // The chosen file is bad; the rest stay for whoever inspects the account by hand.
  void Unsettled(const Files& files, const Entry& source, const std::string& reason,
                 const std::string& what) {
    for (const Entry& e : files.entries) {
      if (&e == &source) {
        Decide(e.name, "error", reason);
      } else {
        Decide(e.name, "skip",
               fmt::format("kept for inspection: {} could not be read from {}", what, source.name));
      }
    }
  }

  void DiscardOthers(const Files& files, const Entry& source, const std::string& what) {
    for (const Entry& e : files.entries) {
      if (&e == &source) continue;
      std::string reason;
      switch (e.kind) {
        case Kind::kMain:
          reason = fmt::format("superseded by {}: the interrupted transfer completes", source.name);
          break;
        case Kind::kLock:
          reason =
              fmt::format("lock left by an interrupted write; {} comes from {}", what, source.name);
          break;
        case Kind::kTmp:
        case Kind::kOld:
          reason =
              fmt::format("leftover of an interrupted write; {} comes from {}", what, source.name);
          break;
        case Kind::kXtmp:
        case Kind::kXold:
          reason = fmt::format("leftover of interrupted transfer {}; {} comes from {}", e.x, what,
                               source.name);
          break;
      }
      Decide(e.name, "discard", std::move(reason));
    }
  }

  std::optional<Source> IndexSource() {
    if (const Entry* m = index_.Main()) return Source{m, "import", ""};
    std::vector<const Entry*> tmps = index_.Of(Kind::kTmp);
    if (tmps.size() == 1) {
      return Source{tmps[0], "use-tmp",
                    "index.idx is missing; the interrupted write of the index completes from "
                    "this file"};
    }
    NoSource(index_, tmps.empty()
                         ? "index.idx is missing and no .tmp file holds the index"
                         : "index.idx is missing and several .tmp files could hold the index");
    return std::nullopt;
  }

  // A transfer completes (as the original's recovery did) when it is a pair and it had
  // begun moving the account files aside: its .xtmp files were written before that, so
  // they hold the post-transfer balances. Taking only the missing side's .xtmp would debit
  // one account without crediting the other.
  bool TransferCompletes(const std::string& x) const {
    const std::set<AccountId>& ids = transfers_.at(x);
    if (ids.size() != 2) return false;
    return std::any_of(ids.begin(), ids.end(),
                       [&](AccountId id) { return accounts_.at(id).Main() == nullptr; });
  }

  std::optional<Source> AccountSource(AccountId id, const Files& files) {
    std::vector<const Entry*> xsrc;
    for (const Entry* e : files.Of(Kind::kXtmp)) {
      if (TransferCompletes(e->x)) xsrc.push_back(e);
    }
    const Entry* main = files.Main();
    if (xsrc.size() > 1) {
      NoSource(files, fmt::format("account {} has .xtmp files of several interrupted "
                                  "transfers; cannot tell which is current",
                                  id));
      return std::nullopt;
    }
    if (xsrc.size() == 1) {
      std::string x = xsrc[0]->x;
      return Source{xsrc[0], "use-xtmp",
                    main ? fmt::format("interrupted transfer {} completes: this file replaces "
                                       "{}.txt",
                                       x, id)
                         : fmt::format("{}.txt is missing; interrupted transfer {} completes "
                                       "from this file",
                                       id, x)};
    }
    if (main) return Source{main, "import", fmt::format("account {}", id)};
    std::vector<const Entry*> tmps = files.Of(Kind::kTmp);
    if (tmps.size() == 1) {
      return Source{tmps[0], "use-tmp",
                    fmt::format("{}.txt is missing; the interrupted write of account {} "
                                "completes from this file",
                                id, id)};
    }
    NoSource(files, tmps.empty()
                        ? fmt::format("{}.txt is missing and no .tmp or completing .xtmp file "
                                      "holds account {}",
                                      id, id)
                        : fmt::format("{}.txt is missing and several .tmp files could hold "
                                      "account {}; cannot tell which is current",
                                      id, id));
    return std::nullopt;
  }

  // lstat first: a symlink or directory under an account's name is refused rather than
  // followed, and a huge file is refused before it is read.
  Result<std::string> ReadSmall(const std::string& name) {
    std::string path = Join(dir_, name);
    DB_ASSIGN_OR_RETURN(FileInfo info, env_->Stat(path));
    if (info.is_symlink) {
      return Status::InvalidArgument(fmt::format("{} is a symbolic link; not followed", name));
    }
    if (!info.is_regular) {
      return Status::InvalidArgument(fmt::format("{} is not a regular file", name));
    }
    auto too_big = [&](std::uint64_t size) {
      return Status::InvalidArgument(
          fmt::format("{} is {} bytes; a legacy file holds one short line (at most {} bytes)", name,
                      size, kMaxLegacyFileBytes));
    };
    if (info.size > kMaxLegacyFileBytes) return too_big(info.size);
    DB_ASSIGN_OR_RETURN(std::string text, env_->ReadFile(path));
    if (text.size() > kMaxLegacyFileBytes) return too_big(text.size());  // grew meanwhile
    return text;
  }

  Env* env_;
  std::string dir_;
  LegacyPlan plan_;
  Files index_;
  std::map<AccountId, Files> accounts_;
  std::map<std::string, std::set<AccountId>> transfers_;  // write id X -> account ids
  bool index_ok_ = false;
};

}  // namespace

Result<LegacyAccount> ParseLegacyAccountLine(std::string_view line, AccountId id) {
  if (id == 0 || id > kMaxAccountId) {
    return Status::InvalidArgument(
        fmt::format("account id {} is outside 1 to {}", id, kMaxAccountId));
  }
  line = StripOneNewline(line);
  if (line.find_first_of("\r\n") != std::string_view::npos) {
    return Status::InvalidArgument("account line contains a line break inside it");
  }
  if (line.empty()) return Status::InvalidArgument("account line is empty");
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (fields.size() != 3) {
    return Status::InvalidArgument(fmt::format(
        "account line has {} comma-separated fields; expected 3 (first,last,balance), and a "
        "name cannot contain a comma in this format",
        fields.size()));
  }
  DB_RETURN_IF_ERROR(ValidateName(fields[0], "first name"));
  DB_RETURN_IF_ERROR(ValidateName(fields[1], "last name"));
  DB_ASSIGN_OR_RETURN(Cents balance, ParseLegacyBalance(fields[2]));
  LegacyAccount a;
  a.id = id;
  a.first = std::string(fields[0]);
  a.last = std::string(fields[1]);
  a.balance = balance;
  return a;
}

Result<LegacyPlan> PlanLegacyImport(Env* env, const std::string& dir) {
  Result<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) return names.status().Annotate("listing the legacy directory");
  Planner planner(env, dir);
  for (const std::string& name : *names) planner.Classify(name);
  planner.SettleIndex();
  planner.SettleAccounts();
  return std::move(planner).Finish();
}

}  // namespace drovebank
