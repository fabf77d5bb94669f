// Telling a rotten record from a torn write at the end of the journal (Journal::Initialize).
#include <fmt/format.h>

#include <set>

#include "account_tree.h"
#include "drovebank/account.h"
#include "journal.h"

namespace drovebank {

namespace {

// The id of the first account file that names `txn` or a later one, looking at `ids` first
// and then, when `walk`, at every account file.
Result<std::optional<AccountId>> FileNamingTxn(Env* env, const Layout& layout,
                                               const std::set<AccountId>& ids, bool walk,
                                               std::uint64_t txn) {
  auto names = [&](AccountId id, const std::string& path) {
    auto text = ReadAccountText(env, path);
    if (!text.ok()) return false;
    // The checksum is not asked for: a file edited by hand is still evidence of what it
    // names, and the question here is only whether the journal must hold `txn`.
    auto a = DecodeAccountFileUnverified(*text, id);
    return a.ok() && a->last_txn >= txn;
  };
  for (AccountId id : ids) {
    if (id >= 1 && id <= kMaxAccountId && names(id, layout.AccountPath(id))) return {id};
  }
  if (!walk) return std::optional<AccountId>();
  std::optional<AccountId> found;
  DB_RETURN_IF_ERROR(WalkAccountTree(env, layout.accounts(), "",
                                     [&](AccountId id, const std::string& path) -> Result<bool> {
                                       if (names(id, path)) found = id;
                                       return !found;
                                     }));
  return found;
}

}  // namespace

Result<std::optional<std::string>> TailEvidence(Env* env, const Layout& layout,
                                                std::string_view tail, JournalPos at,
                                                std::optional<JournalPos> synced_before,
                                                std::uint64_t txn) {
  if (tail.empty()) return std::optional<std::string>();
  auto nl = tail.find('\n');
  // A synced byte past the record's start: the previous boot's state (never ahead of what
  // its fdatasync covered) says the record was durable, so it cannot have torn.
  if (synced_before && synced_before->seg == at.seg && synced_before->offset > at.offset &&
      nl != std::string_view::npos && synced_before->offset >= at.offset + nl + 1) {
    return std::optional<std::string>(fmt::format(
        "the previous boot's journal state says it was synced (to byte {})", synced_before->offset));
  }
  // Which accounts it names, when what is left of it still parses without its CRC.
  std::set<AccountId> ids;
  bool whole_line = nl != std::string_view::npos;
  if (whole_line && nl > 9) {
    if (auto r = ParseRecordJson(tail.substr(9, nl - 9)); r.ok()) {
      for (const RecordAccount& ra : r->accounts) ids.insert(ra.state.id);
    }
  }
  // Every file is looked at only for a whole line: a write cut short ends without its
  // newline, and after a real power loss that is the usual torn tail.
  DB_ASSIGN_OR_RETURN(std::optional<AccountId> named,
                      FileNamingTxn(env, layout, ids, whole_line, txn));
  if (!named) return std::optional<std::string>();
  return std::optional<std::string>(fmt::format(
      "{} names txn {} or a later one", layout.Relative(layout.AccountPath(*named)), txn));
}

}  // namespace drovebank
