#include "drovebank/recovery.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "drovebank/lockfile.h"
#include "drovebank/newest_index.h"
#include "drovebank/store.h"

namespace drovebank {

namespace {

// What a lock or temp file name says it guards: an account id or a key.
struct Guarded {
  AccountId id = 0;
  std::string key;
};

std::optional<Guarded> ParseGuardedName(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  std::string_view stem = name.substr(0, name.size() - suffix.size());
  Guarded g;
  if (stem.substr(0, 4) == "key-") {
    g.key = std::string(stem.substr(4));
    if (!ValidateKey(g.key).ok()) return std::nullopt;
    return g;
  }
  if (stem.size() != 8) return std::nullopt;
  auto id = ParseAccountId(stem.substr(stem.find_first_not_of('0') == std::string_view::npos
                                           ? 0
                                           : stem.find_first_not_of('0')));
  if (!id.ok()) return std::nullopt;
  g.id = *id;
  return g;
}

LockPaths PathsFor(const Layout& layout, const Guarded& g) {
  return g.key.empty() ? layout.AccountLock(g.id) : layout.KeyLock(g.key);
}

// What a reader without the lock's OFD lock can tell about a lock file.
struct LockVerdict {
  bool gone = false;                   // no such file (any more)
  bool abandoned = false;              // LooksAbandoned, or unreadable
  bool ownerless = false;              // readable, but with no whole owner line
  std::int64_t ownerless_ns_left = 0;  // then: time until it counts as abandoned, or 0
};

LockVerdict ReadLockVerdict(Env* env, const std::string& path) {
  LockVerdict v;
  auto r = ReadLockOwner(env, path);
  if (!r.ok()) {
    v.abandoned = true;  // unreadable: nothing shows a live owner
    return v;
  }
  v.gone = r->gone;
  if (v.gone) return v;
  v.abandoned = LooksAbandoned(r->owner, r->mtime_ns);
  v.ownerless = !r->owner;
  if (v.ownerless) {
    v.ownerless_ns_left =
        std::max<std::int64_t>(0, r->mtime_ns + kUnreadableOwnerGraceNs - NowNanos());
  }
  return v;
}

// Collects, from a list of records, the newest state of each account.
std::map<AccountId, Account> NewestStates(const std::vector<Record>& records) {
  std::map<AccountId, Account> out;
  for (const Record& r : records) {
    for (const RecordAccount& ra : r.accounts) out[ra.state.id] = ra.state;
  }
  return out;
}

// Walks every DD.csv under accounts/ in id order.
Status ForEachAccountFile(Env* env, const Layout& layout,
                          const std::function<Status(AccountId, const std::string&)>& f) {
  DB_ASSIGN_OR_RETURN(auto l1, env->ListDir(layout.accounts()));
  std::sort(l1.begin(), l1.end());
  for (const auto& a : l1) {
    std::string da = layout.accounts() + "/" + a;
    auto l2 = env->ListDir(da);
    if (!l2.ok()) continue;
    std::sort(l2->begin(), l2->end());
    for (const auto& b : *l2) {
      std::string db = da + "/" + b;
      auto l3 = env->ListDir(db);
      if (!l3.ok()) continue;
      std::sort(l3->begin(), l3->end());
      for (const auto& c : *l3) {
        std::string dc = db + "/" + c;
        auto l4 = env->ListDir(dc);
        if (!l4.ok()) continue;
        std::sort(l4->begin(), l4->end());
        for (const auto& d : *l4) {
          if (d.size() != 6 || d.substr(2) != ".csv") continue;
          auto id = ParseAccountId(std::string(a + b + c + d.substr(0, 2)).substr(
              std::string(a + b + c + d.substr(0, 2)).find_first_not_of('0') ==
                      std::string::npos
                  ? 0
                  : std::string(a + b + c + d.substr(0, 2)).find_first_not_of('0')));
          if (!id.ok()) continue;
          DB_RETURN_IF_ERROR(f(*id, dc + "/" + d));
        }
      }
    }
  }
  return Status::Ok();
}

Status Check(const RecoverOptions& o, Env* env, RecoverReport* r) {
  Layout layout(ResolveDataDir(o.data_dir));
  if (!env->Stat(layout.root()).ok()) {
    return Status::NotFound(fmt::format("no data directory at {}", layout.root()));
  }
  ConfinePaths(layout.root());
  if (env->Stat(layout.recovery_marker()).ok()) {
    r->marker_cleared = true;
    r->notes.push_back("the store is marked as needing recovery (NEEDS_RECOVERY)");
  }
  auto locks = env->ListDir(layout.locks());
  if (locks.ok()) {
    for (const std::string& n : *locks) {
      if (IsLockQueueName(n)) continue;  // waiters' tickets: stale ones are harmless
      auto verdict = ReadLockVerdict(env, layout.locks() + "/" + n);
      if (verdict.gone) continue;  // released since the listing
      if (!verdict.abandoned) {
        ++r->live_locks;
      } else {
        ++r->dead_locks;
        r->notes.push_back(fmt::format("lock {} has no live owner", EscapeForTerminal(n)));
      }
    }
  }
  auto temps = env->ListDir(layout.tmp());
  if (temps.ok()) {
    for (const std::string& n : *temps) {
      auto g = ParseGuardedName(n, ".tmp");
      if (!g || !env->Stat(PathsFor(layout, *g).lock).ok()) {
        ++r->temps_removed;
        r->notes.push_back(fmt::format("temp file {} is left over", EscapeForTerminal(n)));
      }
    }
  }
  DB_ASSIGN_OR_RETURN(auto journal, Journal::OpenReadOnly(env, layout));
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal->ReadCheckpoint());
  auto records = journal->ReadRange(ckpt.pos, journal->End());
  if (!records.ok()) {
    ++r->files_repaired;
    r->notes.push_back(records.status().message());
    return Status::Ok();
  }
  r->records_replayed = records->size();
  // A file whose version is below its account's newest state is behind; one at or above
  // it but different holds a state the journal never committed.
  auto compare = [&](const Account& state) {
    auto text = env->ReadFile(layout.AccountPath(state.id));
    auto cur = text.ok() ? DecodeAccountFile(*text, state.id) : Result<Account>(text.status());
    if (!cur.ok() || cur->version < state.version) {
      ++r->files_repaired;
      r->notes.push_back(fmt::format("account {} is behind the journal", state.id));
    } else if (o.full && !(*cur == state)) {
      ++r->files_repaired;
      r->notes.push_back(fmt::format("{} differs from the journal", layout.AccountPath(state.id)));
    }
    return Status::Ok();
  };
  std::optional<NewestIndex> index;
  if (o.full) {
    DB_ASSIGN_OR_RETURN(index, NewestIndex::Build(*journal, ckpt.max_id));
    DB_RETURN_IF_ERROR(
        index->ForEachNewest(*journal, [&](const Account& s, const Record&) { return compare(s); }));
  } else {
    for (auto& [id, state] : NewestStates(*records)) DB_RETURN_IF_ERROR(compare(state));
  }
  for (const Record& rec : *records) {
    if (!rec.key.empty() && !env->Stat(layout.KeyPath(rec.key)).ok()) {
      ++r->files_repaired;
      r->notes.push_back(fmt::format("key file of '{}' is missing", rec.key));
    }
  }
  if (o.full) {
    DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
      ++r->accounts_verified;
      if (index->Has(id)) return Status::Ok();
      auto text = env->ReadFile(p);
      bool readable = text.ok() && DecodeAccountFile(*text, id).ok();
      ++r->quarantined;
      r->notes.push_back(
          fmt::format("{} is {} and not in the journal", p, readable ? "readable" : "corrupt"));
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

}  // namespace

Status Recover(const RecoverOptions& o, RecoverReport* r) {
  Env* env = o.env != nullptr ? o.env : DefaultEnv();
  if (o.check_only) return Check(o, env, r);

  StoreOptions so;
  so.data_dir = ResolveDataDir(o.data_dir);
  so.env = env;
  so.lock_wait.timeout_seconds = o.lock_timeout;
  DB_ASSIGN_OR_RETURN(auto store, Store::Open(so));
  const Layout& layout = store->layout();
  bool marked = store->NeedsRecovery();
  // After a failed sync or a torn write the shared state describes what this boot
  // wrote, not what the disk holds; rebuild it from the disk.
  if (marked) DB_RETURN_IF_ERROR(store->journal().Reinitialize());
  env->FaultPoint("recover", "after_open");

  DB_ASSIGN_OR_RETURN(auto lock_names, env->ListDir(layout.locks()));
  std::sort(lock_names.begin(), lock_names.end());
  for (const std::string& n : lock_names) {
    if (IsLockQueueName(n)) {
      DB_ASSIGN_OR_RETURN(size_t gone, ClearStaleTickets(env, layout.locks() + "/" + n));
      if (gone > 0) {
        r->notes.push_back(fmt::format("removed {} stale wait ticket(s) from locks/{}", gone, n));
      }
      continue;
    }
    auto g = ParseGuardedName(n, ".lock");
    if (!g) {
      r->notes.push_back(fmt::format("left alone: unknown file locks/{}", EscapeForTerminal(n)));
      continue;
    }
    LockFile lk(env, PathsFor(layout, *g));
    Status s = lk.TryHold();
    if (s.code() == Code::kBusy) {
      // Why wait: a lock file with no owner line is a writer's that is creating it (on a
      // file system without O_TMPFILE) or one killed before it wrote the line, and only
      // its age tells them apart. Leaving it would leave the store failing `--check`.
      // The grace may also have ended between the attempt and this read: try again then
      // too, or the lock would be left although it is already abandoned.
      auto v = ReadLockVerdict(env, layout.locks() + "/" + n);
      if (v.ownerless) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(v.ownerless_ns_left) +
                                    std::chrono::milliseconds(20));
        s = lk.TryHold();
      }
    }
    if (s.code() == Code::kBusy) {
      ++r->live_locks;
      r->notes.push_back(fmt::format("left alone: {} is held by a live process", n));
      continue;
    }
    DB_RETURN_IF_ERROR(s);
    if (lk.took_over_dead_owner()) {
      ++r->dead_locks;
      r->notes.push_back(fmt::format("cleared lock {} of a dead process", n));
    }
    // Rolling back removes the lock and its temp: the journal, applied below, is what
    // decides the file's content.
    DB_RETURN_IF_ERROR(lk.Rollback());
  }
  env->FaultPoint("recover", "after_locks");

  DB_ASSIGN_OR_RETURN(auto temp_names, env->ListDir(layout.tmp()));
  for (const std::string& n : temp_names) {
    auto g = ParseGuardedName(n, ".tmp");
    if (g && env->Stat(PathsFor(layout, *g).lock).ok()) continue;  // a live writer's
    Status s = env->Unlink(layout.tmp() + "/" + n);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    ++r->temps_removed;
    r->notes.push_back(fmt::format("removed temp file tmp/{}", EscapeForTerminal(n)));
  }
  env->FaultPoint("recover", "after_temps");

  DB_ASSIGN_OR_RETURN(size_t fixed, store->ReplaySinceCheckpoint(&r->records_replayed));
  r->files_repaired += fixed;
  if (fixed > 0) r->notes.push_back(fmt::format("rewrote {} file(s) from the journal", fixed));
  env->FaultPoint("recover", "after_replay");

  if (o.full) {
    // Two streaming passes over the journal (where each account's newest state is; then
    // each of those states against its file), so memory is 8 bytes an account rather
    // than the whole history.
    const Journal& journal = store->journal();
    size_t total = journal.account_count();
    DB_ASSIGN_OR_RETURN(auto index, NewestIndex::Build(journal, journal.max_id()));
    std::vector<AccountId> differing;
    size_t checked = 0, rebuilt = 0;
    DB_RETURN_IF_ERROR(index.ForEachNewest(journal, [&](const Account& state, const Record& rec) {
      if (o.progress) o.progress(++checked, total);
      DB_ASSIGN_OR_RETURN(bool wrote, store->ApplyState(state, /*wait=*/true));
      rebuilt += wrote;
      if (!rec.key.empty()) {
        DB_ASSIGN_OR_RETURN(bool key_wrote, store->ApplyKey(rec, /*wait=*/true));
        rebuilt += key_wrote;
      }
      if (wrote) return Status::Ok();
      // ApplyState keeps a readable file at or past the journal's version; one that is
      // not the journal's state is looked at again below.
      auto text = env->ReadFile(layout.AccountPath(state.id));
      auto cur = text.ok() ? DecodeAccountFile(*text, state.id) : Result<Account>(text.status());
      if (cur.ok() && !(*cur == state)) differing.push_back(state.id);
      return Status::Ok();
    }));
    r->files_repaired += rebuilt;
    if (rebuilt > 0) {
      r->notes.push_back(fmt::format("rebuilt {} file(s) from the whole journal", rebuilt));
    }
    auto quarantine = [&](AccountId id, const std::string& p, std::string_view why) -> Status {
      DB_RETURN_IF_ERROR(env->MakeDir(layout.quarantine(), 0700));
      std::string dest = fmt::format("{}/account-{:08}-{}.csv", layout.quarantine(), id,
                                     NowMillis());
      DB_RETURN_IF_ERROR(env->Rename(p, dest));
      ++r->quarantined;
      r->notes.push_back(fmt::format("moved {} ({}) to {}", p, why, dest));
      return Status::Ok();
    };
    for (AccountId id : differing) {
      // A writer may have committed since the index was built, so look again under the
      // account's lock with the journal's newest records. A writer commits to the journal
      // before it replaces the file, so an honest file always equals the journal's latest
      // state of its account.
      std::string p = layout.AccountPath(id);
      LockWait wait;
      wait.timeout_seconds = o.lock_timeout;
      LockFile lock(env, layout.AccountLock(id));
      DB_RETURN_IF_ERROR(lock.Hold(wait));
      DB_ASSIGN_OR_RETURN(Account latest, index.Latest(journal, id));
      auto text = env->ReadFile(p);
      auto cur = text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
      if (cur.ok() && !(*cur == latest)) {
        DB_RETURN_IF_ERROR(quarantine(id, p, "it differs from the journal"));
        DB_RETURN_IF_ERROR(lock.WriteTemp(EncodeAccountFile(latest)));
        DB_RETURN_IF_ERROR(lock.Commit());
        ++r->files_repaired;
        r->notes.push_back(fmt::format("rebuilt account {} from the journal", id));
      }
    }
    DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
      ++r->accounts_verified;
      if (index.Has(id)) return Status::Ok();
      auto text = env->ReadFile(p);
      bool readable = text.ok() && DecodeAccountFile(*text, id).ok();
      return quarantine(id, p,
                        readable ? "an account the journal never had" : "corrupt, not in the journal");
    }));
  } else if (marked) {
    // The store may be marked because an account file was found corrupt. The journal tail
    // replayed above rebuilds only files changed since the checkpoint; an older one stays
    // corrupt, and clearing the marker would hide it. One read per account file.
    std::vector<std::string> bad;
    DB_RETURN_IF_ERROR(ForEachAccountFile(env, layout, [&](AccountId id, const std::string& p) {
      auto text = env->ReadFile(p);
      if (!text.ok() || !DecodeAccountFile(*text, id).ok()) bad.push_back(p);
      return Status::Ok();
    }));
    if (!bad.empty()) {
      return Status::Corruption(fmt::format(
          "{} account file(s) are still corrupt (first: {}); they were not changed since the "
          "last checkpoint, so run `recover --full` to rebuild them from the whole journal "
          "(what it cannot rebuild it moves to quarantine/)",
          bad.size(), bad.front()));
    }
  }

  DB_RETURN_IF_ERROR(store->Checkpoint(/*wait=*/true));
  env->FaultPoint("recover", "after_checkpoint");
  if (marked) {
    DB_RETURN_IF_ERROR(env->Unlink(layout.recovery_marker()));
    DB_RETURN_IF_ERROR(env->SyncDir(layout.root()));
    r->marker_cleared = true;
    r->notes.push_back("cleared the NEEDS_RECOVERY marker");
  }
  env->FaultPoint("recover", "done");
  return Status::Ok();
}

}  // namespace drovebank
