// keys/index vouched for by the journal: its mark (KeyIndex::Vouched) says up to which txn
// every keyed record is reflected in its slot. A commit checks the records past the mark
// before it looks up any key, and moves the mark; `recover` puts behind slots right and
// moves it. Why: a slot set back (an older copy of the file put back, whole) would hide a
// key already used, and a keyed deposit run again would then be applied twice.
// docs/DESIGN.md, "Idempotency keys".
#include <fmt/format.h>

#include <algorithm>

#include "key_vouch.h"

#include "key_index.h"
#include "lockfile.h"
#include "store_impl.h"

namespace drovebank {

namespace {

// Past this many records the range is read as a stream from its segment's start (a store
// whose file predates the mark, or one put back from long ago) rather than looked up one
// by one; a commit normally meets the few records of writers in flight.
constexpr std::uint64_t kLookUpsAtMost = 64;

}  // namespace

Status ForEachRecordAfter(const Journal& journal, std::uint64_t after, std::uint64_t upto,
                          const std::function<Status(const Record&)>& fn,
                          const KnownRecords* known) {
  if (upto <= after) return Status::Ok();
  auto wanted = [](const Record& r) { return !r.key.empty() || !r.accounts.empty(); };
  std::uint64_t unknown = upto - after;
  if (known != nullptr) {
    for (auto it = known->upper_bound(after); it != known->end() && it->first <= upto; ++it) {
      --unknown;
    }
  }
  if (unknown <= kLookUpsAtMost) {
    for (std::uint64_t txn = after + 1; txn <= upto; ++txn) {
      if (known != nullptr) {
        if (auto k = known->find(txn); k != known->end()) {
          Record r;
          r.txn = txn;
          r.key = k->second.key;
          for (AccountId id : k->second.accounts) {
            RecordAccount ra;
            ra.state.id = id;
            ra.state.last_txn = txn;
            r.accounts.push_back(std::move(ra));
          }
          if (wanted(r)) DB_RETURN_IF_ERROR(fn(r));
          continue;
        }
      }
      auto rec = journal.LookUpTxn(txn);
      if (!rec.ok()) {
        return Status::Corruption(fmt::format(
            "the journal cannot give txn {}, below its newest ({}): {}; run recover --full", txn,
            upto, rec.status().message()));
      }
      if (wanted(*rec)) DB_RETURN_IF_ERROR(fn(*rec));
    }
    return Status::Ok();
  }
  DB_ASSIGN_OR_RETURN(std::vector<std::uint64_t> segs, journal.Segments());
  // Segments are named by their first txn: the last one named at or below the first txn
  // wanted holds it (or the whole journal is read, when none is).
  JournalPos from;
  auto it = std::upper_bound(segs.begin(), segs.end(), after + 1);
  if (it != segs.begin()) from = JournalPos{*std::prev(it), 0};
  return journal.ForEach(from, journal.End(), [&](Record& r, JournalPos) -> Status {
    if (r.txn <= after || r.txn > upto || !wanted(r)) return Status::Ok();
    return fn(r);
  });
}

Result<StoreImpl::PastMark> StoreImpl::CheckPastMark(const std::set<LockSlot>& held,
                                                     const std::set<AccountId>& trusted) {
  DB_ASSIGN_OR_RETURN(std::uint64_t vouched, key_index_->Vouched());
  // The head, read after the mark: the mark is only ever set to a txn some writer had
  // seen published, so it is at or below the head unless the journal lost records since.
  // Read without the append mutex when it can be (local mode): every record published
  // before the read is at or below it, and one published after was appended by a writer
  // that took its slots after this process took its own, so it is in none of them, and
  // the files this process reads next are not that writer's.
  ChainHead head;
  DB_ASSIGN_OR_RETURN(head.txn, journal_->PublishedHeadTxn());
  PastMark m;
  m.vouched = m.reach = vouched;
  if (vouched == head.txn) return m;
  // From the mark; from the start when the mark is past the journal's newest (nothing
  // tells a power loss from a copy then, so every record is checked, once).
  const std::uint64_t from = KeysCheckedAfter(vouched, head.txn, chained_from_);
  // The mark moves to the newest txn, or to just before the first record whose slot or
  // account is flagged and behind: that one is checked again until its entry names it, so
  // a flag planted beside a file put back cannot carry the mark past the record it hides.
  m.reach = head.txn;
  // Each account the records changed: the first and the newest of its records past the
  // mark. Its entry must be at the newest; one below it is behind from the first record
  // past the entry on, so the mark may stay at max(entry, first - 1).
  struct Span {
    std::uint64_t first = 0;
    std::uint64_t newest = 0;
  };
  std::map<AccountId, Span> spans;
  DB_RETURN_IF_ERROR(ForEachRecordAfter(*journal_, from, head.txn, [&](const Record& r) -> Status {
    for (const RecordAccount& ra : r.accounts) {
      Span& s = spans[ra.state.id];
      if (s.first == 0) s.first = r.txn;
      s.newest = r.txn;
    }
    // Every keyed record is checked, below a stop or not: a slot set back further on must
    // still be told to a commit that looks keys up.
    if (r.key.empty()) return Status::Ok();
    const LockSlot slot = KeySlot(r.key);
    DB_ASSIGN_OR_RETURN(std::uint64_t at, key_index_->Head(slot.offset));
    if (at >= r.txn) return Status::Ok();
    if (!held.count(slot)) {
      // A writer sets its slot's flag before its record and clears it after the slot's
      // entry: flagged, it is in flight or died (its slot is repaired by whoever takes
      // it next). Not flagged, the entry is read again, as the writer may have finished
      // between the two reads.
      DB_ASSIGN_OR_RETURN(bool flagged, locks_->NeedsRepair(slot));
      if (flagged) {
        m.reach = std::min(m.reach, r.txn - 1);
        return Status::Ok();
      }
      DB_ASSIGN_OR_RETURN(at, key_index_->Head(slot.offset));
      if (at >= r.txn) return Status::Ok();
    }
    // The first such record is told to whoever looks keys up; the mark stays below it.
    m.reach = std::min(m.reach, r.txn - 1);
    if (!m.keys.ok()) return Status::Ok();
    m.keys = Status::Corruption(fmt::format(
        "{} is older than the journal: the slot of key '{}' names txn {}, yet txn {} used "
        "that key (was an older copy of the file put back?). The keys already used cannot "
        "be told, so one could commit twice: nothing is done until `recover` puts it right",
        key_index_->path(), r.key, at, r.txn));
    return Status::Ok();
  }, &own_records_));
  // The entries in id order, a page at a time (KeyIndex::ReadAhead): a batch's group
  // checks the ~1,000 records of the group before it.
  std::vector<std::pair<AccountId, Span>> behind;
  {
    KeyIndex::ReadAhead ahead(key_index_.get(), spans.size() > 8);
    for (const auto& [id, s] : spans) {
      DB_ASSIGN_OR_RETURN(std::uint64_t at, key_index_->AccountHead(id));
      if (at < s.newest) behind.emplace_back(id, s);
    }
  }
  for (const auto& [id, s] : behind) {
    // As for a key slot: a writer sets the account's flag before its record and clears it
    // only after the file and the entry; flagged, it is in flight or died. Not flagged, the
    // entry is read again (the read above may be a page read ahead, or the writer may have
    // finished between the reads); still behind, that writer finished long ago and the
    // entry went back since (an older copy of keys/index put back), or an earlier build
    // left it behind (its sessions set it at their first commit to an account only).
    // An account the caller holds and has repaired (`trusted`) has no writer but it: its
    // flag, if set, is its own.
    bool flagged = false;
    if (!trusted.count(id)) {
      DB_ASSIGN_OR_RETURN(flagged, locks_->NeedsRepair(AccountSlot(id)));
    }
    DB_ASSIGN_OR_RETURN(std::uint64_t at, key_index_->AccountHead(id));
    if (at >= s.newest) continue;
    const std::uint64_t stop = std::max(at, s.first - 1);
    if (flagged) {
      m.reach = std::min(m.reach, stop);
      continue;
    }
    m.accounts.push_back(PastMark::Behind{id, s.newest, stop});
  }
  return m;
}

Result<bool> StoreImpl::RaiseAccountEntry(AccountId id, std::uint64_t txn, bool held) {
  // Why raising is always safe: the record is durable (its writer cleared the flag after
  // its sync), and an entry at it only makes a file older than it fail its proof (set
  // back), which is what that file is.
  if (held) {
    DB_RETURN_IF_ERROR(key_index_->SetAccountHead(id, txn));
    return true;
  }
  // Under the account's lock, as every write of its entry; a try: a live holder is
  // writing the entry itself, and the mark then waits for the next check.
  LockFile lock(locks_.get(), AccountSlot(id), layout_.AccountLock(id));
  Status s = lock.TryHold();
  if (s.code() == Code::kBusy) return false;
  DB_RETURN_IF_ERROR(s);
  if (lock.needs_repair()) return false;  // a writer died since: its repair sets the entry
  DB_ASSIGN_OR_RETURN(std::uint64_t at, key_index_->AccountHead(id));
  if (at < txn) DB_RETURN_IF_ERROR(key_index_->SetAccountHead(id, txn));
  return true;
}

Status StoreImpl::VouchKeyIndex(const std::set<LockSlot>& held, const std::set<AccountId>& trusted,
                                bool looks_up_keys, MarkMove* later) {
  floors_.clear();  // a commit raises the entries instead
  DB_ASSIGN_OR_RETURN(PastMark m, CheckPastMark(held, trusted));
  if (looks_up_keys) DB_RETURN_IF_ERROR(m.keys);
  for (const PastMark::Behind& b : m.accounts) {
    DB_ASSIGN_OR_RETURN(bool raised, RaiseAccountEntry(b.id, b.newest, held.count(AccountSlot(b.id)) != 0));
    if (!raised) m.reach = std::min(m.reach, b.stop);
  }
  const MarkMove move{m.vouched, m.reach};
  if (later != nullptr) {
    *later = move;
    return Status::Ok();
  }
  return MoveMark(move);
}

Status StoreImpl::MoveMark(const MarkMove& move) {
  // What the mark now covers is never looked at again by this process.
  own_records_.erase(own_records_.begin(), own_records_.upper_bound(move.reach));
  return move.reach != move.from ? key_index_->SetVouched(move.reach) : Status::Ok();
}

void StoreImpl::NoteOwnRecords(const std::vector<Record>& records) {
  // Bounded: a process whose checks never move the mark (another's flag stays) never prunes.
  if (own_records_.size() > kOwnRecordsAtMost) own_records_.clear();
  for (const Record& r : records) {
    KnownRecord& k = own_records_[r.txn];
    k.key = r.key;
    k.accounts.clear();
    for (const RecordAccount& ra : r.accounts) k.accounts.push_back(ra.state.id);
  }
}

Status StoreImpl::CheckKeyIndexForReading() {
  if (keys_checked_for_reading_) return Status::Ok();
  DB_ASSIGN_OR_RETURN(PastMark m, CheckPastMark({}, {}));
  DB_RETURN_IF_ERROR(m.keys);
  keys_checked_for_reading_ = true;
  return Status::Ok();
}

Status StoreImpl::CheckEntriesForReading() {
  floors_.clear();
  DB_ASSIGN_OR_RETURN(PastMark m, CheckPastMark({}, {}));
  for (const PastMark::Behind& b : m.accounts) floors_[b.id] = b.newest;
  return Status::Ok();
}

std::uint64_t StoreImpl::Floor(AccountId id) const {
  auto it = floors_.find(id);
  return it == floors_.end() ? 0 : it->second;
}

Result<size_t> StoreImpl::RepairKeyVouch(std::set<AccountId>* accounts_set) {
  DB_ASSIGN_OR_RETURN(std::uint64_t vouched, key_index_->Vouched());
  DB_ASSIGN_OR_RETURN(ChainHead head, journal_->Head());
  if (vouched == head.txn) return size_t{0};
  size_t repaired = 0;
  std::vector<std::string> written;
  // Under each slot's lock, as any repair: a live writer's own entry is waited for.
  // As VouchKeyIndex: a mark past the journal's newest has every record checked.
  const std::uint64_t from = KeysCheckedAfter(vouched, head.txn, chained_from_);
  DB_RETURN_IF_ERROR(ForEachRecordAfter(*journal_, from, head.txn, [&](const Record& r) -> Status {
    if (!r.key.empty()) {
      DB_ASSIGN_OR_RETURN(bool wrote, ApplyKey(r, true));
      repaired += wrote;
    }
    // Each account's file and entry brought up to the record, under its lock (ApplyState:
    // a file put back with keys/index is rewritten, an entry behind a current file raised).
    for (const RecordAccount& ra : r.accounts) {
      DB_ASSIGN_OR_RETURN(std::uint64_t at, key_index_->AccountHead(ra.state.id));
      DB_ASSIGN_OR_RETURN(bool wrote, ApplyState(ra.state, true));
      if (wrote || at < r.txn) accounts_set->insert(ra.state.id);
      if (wrote) written.push_back(layout_.AccountPath(ra.state.id));
    }
    return Status::Ok();
  }));
  // The slots, entries and files set here may be of records before the checkpoint, which
  // no replay after a power loss sets again: durable before the mark that vouches for them.
  if (repaired > 0 || !accounts_set->empty()) {
    written.push_back(layout_.KeyIndexPath());
    DB_RETURN_IF_ERROR(SyncFiles(written));
  }
  env_->FaultPoint("recover", "after_keys_synced");
  DB_RETURN_IF_ERROR(key_index_->SetVouched(head.txn));
  return repaired;
}

}  // namespace drovebank
