// What `recover` (recovery.cc) and `recover --check` (check.cc) share: the names they
// recognise in locks/ and tmp/, and the walk over every account file.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "account_tree.h"
#include "drovebank/env.h"
#include "drovebank/recovery.h"
#include "chain.h"
#include "journal.h"
#include "drovebank/status.h"
#include "layout.h"

namespace drovebank {

// The files of locks/ that belong to the lock tables.
inline bool IsLockTableName(std::string_view n) {
  return n == "accounts" || n == "keys" || n == "owners";
}

// A reusable spare of tmp/ ("spare-N"): never read, only reused.
inline bool IsSpareName(std::string_view n) {
  return n.starts_with("spare-") && n.size() > 6 &&
         n.substr(6).find_first_not_of("0123456789") == std::string_view::npos;
}

// Every account file, in id order (the one walk, account_tree.h); the first error of `f`
// or of the walk ends it and is returned.
inline Status ForEachAccountFile(Env* env, const Layout& layout,
                                 const std::function<Status(AccountId, const std::string&)>& f) {
  return WalkAccountTree(env, layout.accounts(), "",
                         [&](AccountId id, const std::string& p) -> Result<bool> {
                           DB_RETURN_IF_ERROR(f(id, p));
                           return true;
                         });
}

// Follows the journal's hash chain from its first record to `end`, checking that every
// record follows from the one before it (its hash, and each account's state by the bank's
// rules: history_check.h), that journal/CHECKPOINT's head lies on it and, when
// asked (o.expect_head), that the given head does; sets r->chain_head and chain_records.
// Corruption names the first record that breaks it.
class Journal;
struct JournalPos;
Status FollowChain(Env* env, const Layout& layout, const Journal& journal, JournalPos end,
                   const RecoverOptions& o, RecoverReport* r);

// Plain recover, before it replays the records since the checkpoint into the account
// files: each of them follows the one before it on the hash chain, from the head the
// checkpoint wrote down, and the record at the head journal/state wrote down (`written`,
// read before the state was rebuilt) is still the one published. Corruption, naming the
// record, when one was changed after it was written (a forged record with its checksum
// fixed would otherwise be applied to its accounts' files: money made or lost, exit 0).
Status CheckTailChain(Env* env, const Layout& layout, const Journal& journal,
                      const std::optional<Journal::WrittenDown>& written);
// Its last step alone, for a caller that has followed the chain already (`recover
// --check`): the newest record's hash against the head journal/state wrote down when it
// was published.
Status CheckNewestWrittenDown(const Journal& journal,
                              const std::optional<Journal::WrittenDown>& written);

// recover --accept-loss, before the store is opened (RecoverOptions::accept_loss): cuts
// each journal segment at the first record that is not whole or does not follow the chain
// (later segments entirely), keeping what is cut in quarantine/; moves the checkpoint back
// to the journal's start and removes journal/state and keys/index, so the open that
// follows replays and rebuilds everything from the history left. InvalidArgument, with
// nothing changed, when the journal is whole (reaches the checkpoint, nothing to cut) and
// the store is not marked as needing recovery.
Status CutJournalToWholeHistory(Env* env, const Layout& layout, RecoverReport* r);

// `recover --check` (RecoverOptions::check_only): everything `recover` would do, counted
// and noted in *r, with nothing changed.
Status CheckStore(const RecoverOptions& o, Env* env, RecoverReport* r);

}  // namespace drovebank
