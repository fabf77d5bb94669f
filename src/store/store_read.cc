// Read-only queries: list, search, history, txn.
#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "drovebank/search.h"
#include "account_tree.h"
#include "key_index.h"
#include "store_impl.h"

namespace drovebank {

namespace {

size_t PageCount(size_t total, size_t page_size) {
  return std::max<size_t>(1, (total + page_size - 1) / page_size);
}

}  // namespace

Result<Page<Account>> StoreImpl::List(size_t page, size_t page_size) {
  if (page == 0 || page_size == 0) return Status::InvalidArgument("page numbers start at 1");
  Page<Account> out;
  out.page = page;
  size_t skip = (page - 1) * page_size;
  size_t seen = 0;
  // A walk of the tree cannot see an account whose `open` committed and whose writer
  // died before its file appeared: the repair flags name it.
  // (Read-only: Open found no flag of a dead writer, and nothing can be repaired.)
  if (!read_only_) DB_RETURN_IF_ERROR(RepairFlagged(/*wait=*/false).status());
  // A page reads its own files only (the tree's listing skips the others), so it never
  // reads journal/SNAPSHOT: hashing the whole file for twenty rows took 96 ms at a
  // million accounts, the files 18 ms.
  DB_ASSIGN_OR_RETURN(TailView view, TakeTailView());
  DB_RETURN_IF_ERROR(CheckEntriesForReading());  // before any file is proven, as a walk's
  DB_RETURN_IF_ERROR(WalkAccountTree(env_, layout_.accounts(), "",
                                     [&](AccountId id, const std::string&) -> Result<bool> {
                                       DB_RETURN_IF_ERROR(WalkCheckPoint());
                                       if (seen++ < skip) return true;
                                       DB_ASSIGN_OR_RETURN(Account file, GetAccount(id, /*prove=*/true));
                                       DB_ASSIGN_OR_RETURN(auto a, StateAt(view, file));
                                       if (a) out.items.push_back(std::move(*a));
                                       return out.items.size() < page_size;
                                     }));
  out.total = AccountCount();
  out.pages = PageCount(out.total, page_size);
  return out;
}

Result<Page<Account>> StoreImpl::Search(std::string_view text, size_t page, size_t page_size) {
  if (page == 0 || page_size == 0) return Status::InvalidArgument("page numbers start at 1");
  DB_ASSIGN_OR_RETURN(AccountQuery query, AccountQuery::Parse(text));
  Page<Account> out;
  out.page = page;
  size_t skip = (page - 1) * page_size;
  // A walk of the tree cannot see an account whose `open` committed and whose writer
  // died before its file appeared: the repair flags name it.
  // (Read-only: Open found no flag of a dead writer, and nothing can be repaired.)
  if (!read_only_) DB_RETURN_IF_ERROR(RepairFlagged(/*wait=*/false).status());
  DB_RETURN_IF_ERROR(ForEachCommitted([&](const Account& a) -> Result<bool> {
    if (!query.Matches(a)) return true;
    if (out.total++ >= skip && out.items.size() < page_size) out.items.push_back(a);
    return true;
  }));
  out.pages = PageCount(out.total, page_size);
  return out;
}

Status StoreImpl::ForEachAccount(const std::function<Result<bool>(const Account&)>& fn) {
  if (!read_only_) DB_RETURN_IF_ERROR(RepairFlagged(/*wait=*/false).status());
  return ForEachCommitted(fn);
}

Status StoreImpl::ForEachCommitted(const std::function<Result<bool>(const Account&)>& fn) {
  DB_ASSIGN_OR_RETURN(std::optional<SnapshotView> snap, TakeSnapshotView());
  if (snap) return ForEachInSnapshot(*snap, fn);
  DB_ASSIGN_OR_RETURN(TailView view, TakeTailView());
  return ForEachInFiles(view, fn);
}

Status StoreImpl::ForEachInFiles(const TailView& view,
                                 const std::function<Result<bool>(const Account&)>& fn) {
  // An account the tail opened whose file is not there yet (its writer is installing it)
  // is still in the view: each is handed over in id order with the files.
  auto pending = view.newest.begin();
  bool more = true;
  // Before any file is proven: keys/index's entries against the records past its mark.
  DB_RETURN_IF_ERROR(CheckEntriesForReading());
  // Every account's entry of keys/index a page at a time, as the walk goes in id order.
  KeyIndex::ReadAhead ahead(key_index_.get());
  auto flush_before = [&](AccountId id) -> Status {
    for (; more && pending != view.newest.end() && pending->first < id; ++pending) {
      DB_ASSIGN_OR_RETURN(more, fn(pending->second));
    }
    return Status::Ok();
  };
  DB_RETURN_IF_ERROR(WalkAccountTree(env_, layout_.accounts(), "",
                                     [&](AccountId id, const std::string&) -> Result<bool> {
                                       DB_RETURN_IF_ERROR(WalkCheckPoint());
                                       DB_RETURN_IF_ERROR(flush_before(id));
                                       if (!more) return false;
                                       if (pending != view.newest.end() && pending->first == id) {
                                         ++pending;
                                       }
                                       DB_ASSIGN_OR_RETURN(Account file, GetAccount(id, /*prove=*/true));
                                       DB_ASSIGN_OR_RETURN(auto a, StateAt(view, file));
                                       if (!a) return true;
                                       DB_ASSIGN_OR_RETURN(more, fn(*a));
                                       return more;
                                     }));
  return flush_before(kMaxAccountId + 1);
}

Result<StoreImpl::TailView> StoreImpl::TakeTailView() {
  key_index_->Recheck();  // a walk starts: whether keys/index exists is looked at again
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(JournalPos end, SyncedEnd());
  return TailBetween(ckpt.pos, ckpt.head, ckpt.last_txn, end);
}

Result<JournalPos> StoreImpl::SyncedEnd() {
  JournalPos end = journal_->End();
  // The view's end must be committed: a record published but not yet synced may still
  // fail its sync (then the store is marked and it never was). Usually already synced,
  // and then this costs a look at the state only.
  FaultPointSteps report_steps(env_, "report");
  if (!read_only_) DB_RETURN_IF_ERROR(journal_->Sync(end, &report_steps));
  return end;
}

Result<StoreImpl::TailView> StoreImpl::TailBetween(JournalPos from, std::optional<ChainHead> head,
                                                   std::uint64_t from_txn, JournalPos end,
                                                   const std::function<void(const Record&)>& seen) {
  TailView view;
  view.end_txn = from_txn;
  // Each record of the tail is checked against the one before it on the way (the chain),
  // so what the view shows is vouched for by the journal, not only by the files.
  std::optional<ChainFollower> chain;
  if (head) chain.emplace(*head, ~std::uint64_t{0});
  DB_RETURN_IF_ERROR(journal_->ForEachLine(from, end,
                                           [&](Record& r, JournalPos, std::string_view json) {
                                             if (chain) DB_RETURN_IF_ERROR(chain->Feed(r, json));
                                             if (seen) seen(r);
                                             view.end_txn = r.txn;
                                             for (RecordAccount& ra : r.accounts) {
                                               view.newest[ra.state.id] = std::move(ra.state);
                                             }
                                             return Status::Ok();
                                           }));
  return view;
}

Result<std::optional<Account>> StoreImpl::StateAt(const TailView& view, const Account& file) {
  auto it = view.newest.find(file.id);
  if (it != view.newest.end()) {
    // The tail holds the account's state at the view's end. A file at that same txn must
    // be exactly it: the proof, for free.
    if (file.last_txn == it->second.last_txn && !(file == it->second)) {
      Status proof = ProveAccount(file);
      return proof.ok() ? Status::Internal("a record and its file disagree") : proof;
    }
    return std::optional<Account>(it->second);
  }
  if (file.last_txn <= view.end_txn) return std::optional<Account>(file);
  // Changed since the view's end by a record after it: its state at the end is where the
  // account's chain of records goes back past it.
  std::uint64_t txn = file.last_txn;
  for (int steps = 0; txn > view.end_txn; ++steps) {
    DB_ASSIGN_OR_RETURN(Record r, journal_->LookUpTxn(txn));
    auto ra = std::find_if(r.accounts.begin(), r.accounts.end(),
                           [&](const RecordAccount& x) { return x.state.id == file.id; });
    if (ra == r.accounts.end() || steps > 1000000) {
      return Status::Corruption(fmt::format("account {}'s chain of records is broken at txn {}",
                                            file.id, txn));
    }
    if (ra->prev_txn == 0) return std::optional<Account>();  // opened after the view's end
    txn = ra->prev_txn;
  }
  DB_ASSIGN_OR_RETURN(Record r, journal_->LookUpTxn(txn));
  for (const RecordAccount& ra : r.accounts) {
    if (ra.state.id == file.id) return std::optional<Account>(ra.state);
  }
  return Status::Corruption(fmt::format("account {}'s chain of records is broken at txn {}",
                                        file.id, txn));
}

Status StoreImpl::ForEachAccountId(std::string_view padded_prefix,
                                   const std::function<bool(AccountId)>& fn) {
  return WalkAccountTree(env_, layout_.accounts(), padded_prefix,
                         [&](AccountId id, const std::string&) -> Result<bool> { return fn(id); });
}

Status StoreImpl::ForEachRecord(
    const std::function<Result<bool>(const Record&)>& fn,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  JournalPos end = journal_->End();
  // Bytes before each segment, so progress counts the whole journal.
  std::map<std::uint64_t, std::uint64_t> before;
  std::uint64_t total = 0;
  if (progress) {
    DB_ASSIGN_OR_RETURN(auto segs, journal_->Segments());
    for (std::uint64_t seg : segs) {
      if (seg > end.seg) break;
      before[seg] = total;
      auto info = env_->Stat(journal_->SegmentPath(seg));
      total += seg == end.seg ? end.offset : (info.ok() ? info->size : 0);
    }
  }
  bool stopped = false;
  Status s = journal_->ForEach(JournalPos{}, end, [&](Record& r, JournalPos at) -> Status {
    DB_RETURN_IF_ERROR(WalkCheckPoint());
    if (progress) progress(before[at.seg] + at.offset, total);
    DB_ASSIGN_OR_RETURN(bool more, fn(r));
    if (more) return Status::Ok();
    stopped = true;
    return Status::Cancelled("stopped by the caller");
  });
  return stopped ? Status::Ok() : s;
}

AccountId StoreImpl::MaxAccountId() const { return journal_->max_id(); }

Status StoreImpl::ForEachChange(AccountId id,
                            const std::function<Result<bool>(const HistoryEntry&)>& fn) {
  DB_ASSIGN_OR_RETURN(Account acct, Get(id));
  // A chain over a long journal visits many segments: hold one at a time.
  struct Bounded {
    const Journal& j;
    size_t was;
    ~Bounded() { j.set_max_cached_segments(was); }
  } bounded{*journal_, journal_->max_cached_segments()};
  journal_->set_max_cached_segments(1);
  std::uint64_t txn = acct.last_txn;
  while (txn != 0) {
    DB_RETURN_IF_ERROR(WalkCheckPoint());
    DB_ASSIGN_OR_RETURN(Record r, journal_->FindTxn(txn));
    std::uint64_t prev = 0;
    for (const RecordAccount& ra : r.accounts) {
      if (ra.state.id == id) prev = ra.prev_txn;
    }
    for (auto it = r.ops.rbegin(); it != r.ops.rend(); ++it) {
      const Op& op = *it;
      if (op.id != id && !(op.kind == OpKind::kTransfer && op.to == id)) continue;
      HistoryEntry e;
      e.txn = r.txn;
      e.time_ms = r.time_ms;
      e.kind = op.kind;
      e.amount = op.amount;
      if (op.kind == OpKind::kTransfer) {
        e.outgoing = op.id == id;
        e.counterpart = e.outgoing ? op.to : op.id;
        e.balance_after = e.outgoing ? op.after : op.to_after;
      } else {
        e.balance_after = op.after;
      }
      e.memo = op.memo;
      e.reverses = r.reverses;
      if (op.kind == OpKind::kRename) {
        e.first = op.first;
        e.last = op.last;
        e.was_first = op.was_first;
        e.was_last = op.was_last;
      }
      DB_ASSIGN_OR_RETURN(bool more, fn(e));
      if (!more) return Status::Ok();
    }
    if (prev >= txn) {
      return Status::Corruption(fmt::format("history chain of account {} loops at txn {}", id,
                                            txn));
    }
    txn = prev;
  }
  return Status::Ok();
}

Result<Page<HistoryEntry>> StoreImpl::History(AccountId id, size_t page, size_t page_size) {
  if (page == 0 || page_size == 0) return Status::InvalidArgument("page numbers start at 1");
  Page<HistoryEntry> out;
  out.page = page;
  size_t skip = (page - 1) * page_size;
  DB_RETURN_IF_ERROR(ForEachChange(id, [&](const HistoryEntry& e) -> Result<bool> {
    if (out.total++ >= skip && out.items.size() < page_size) out.items.push_back(e);
    return true;
  }));
  out.pages = PageCount(out.total, page_size);
  // Only the page's entries: one key look-up each, not one per change of the account.
  for (HistoryEntry& e : out.items) {
    if (!Reversible(e.kind) || e.reverses != 0) continue;
    DB_ASSIGN_OR_RETURN(e.reversed_by, ReversedBy(e.txn));
  }
  return out;
}

Result<Record> StoreImpl::FindTxn(std::uint64_t txn) { return journal_->FindTxn(txn); }

Result<std::uint64_t> StoreImpl::ReversedBy(std::uint64_t txn) {
  DB_ASSIGN_OR_RETURN(std::optional<Record> found, FindKey(ReversalKey(txn)));
  return found.has_value() ? found->txn : std::uint64_t{0};
}

Result<std::optional<Record>> StoreImpl::FindKey(std::string_view key) {
  // keys/index set back (an older copy put back) would hide a key: told, not read.
  DB_RETURN_IF_ERROR(CheckKeyIndexForReading());
  // Why no lock at first: the chain's records never change and a slot's entry only moves
  // on to newer ones, so a clean read is right; a reader must not queue behind writers.
  auto found = FindKeyed(key);
  if (!found.ok()) {
    LockFile lk(locks_.get(), KeySlot(key), layout_.KeyLock(key));
    DB_RETURN_IF_ERROR(lk.Hold(lock_wait_));
    if (lk.needs_repair()) DB_RETURN_IF_ERROR(RepairKeySlot(&lk).status());
    found = FindKeyed(key);
  }
  return found;
}

}  // namespace drovebank
