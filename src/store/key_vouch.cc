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

Status ForEachKeyedAfter(const Journal& journal, std::uint64_t after, std::uint64_t upto,
                         const std::function<Status(const Record&)>& fn,
                         const KnownKeys* known) {
  if (upto <= after) return Status::Ok();
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
          if (k->second.empty()) continue;
          Record r;
          r.txn = txn;
          r.key = k->second;
          DB_RETURN_IF_ERROR(fn(r));
          continue;
        }
      }
      auto rec = journal.LookUpTxn(txn);
      if (!rec.ok()) {
        return Status::Corruption(fmt::format(
            "the journal cannot give txn {}, below its newest ({}): {}; run recover --full", txn,
            upto, rec.status().message()));
      }
      if (!rec->key.empty()) DB_RETURN_IF_ERROR(fn(*rec));
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
    if (r.txn <= after || r.txn > upto || r.key.empty()) return Status::Ok();
    return fn(r);
  });
}

Result<StoreImpl::KeysPastMark> StoreImpl::CheckKeysPastMark(const std::set<LockSlot>& held) {
  DB_ASSIGN_OR_RETURN(std::uint64_t vouched, key_index_->Vouched());
  // The head, read after the mark: the mark is only ever set to a txn some writer had
  // seen published, so it is at or below the head unless the journal lost records since.
  // Read without the append mutex when it can be (local mode): every record published
  // before the read is at or below it, and one published after was appended after this
  // commit took its key slots, so it is in none of them.
  DB_ASSIGN_OR_RETURN(std::optional<std::uint64_t> peeked, journal_->PeekHeadTxn());
  ChainHead head;
  if (peeked) {
    head.txn = *peeked;
  } else {
    DB_ASSIGN_OR_RETURN(head, journal_->Head());
  }
  if (vouched == head.txn) return KeysPastMark{vouched, vouched};
  // From the mark; from the start when the mark is past the journal's newest (nothing
  // tells a power loss from a copy then, so every record is checked, once).
  const std::uint64_t from = KeysCheckedAfter(vouched, head.txn, chained_from_);
  // The mark moves to the newest txn, or to just before the first record whose slot is
  // flagged and behind: that one is checked again until its slot names it, so a flag
  // planted beside a file put back cannot carry the mark past the record it hides.
  std::uint64_t reach = head.txn;
  DB_RETURN_IF_ERROR(ForEachKeyedAfter(*journal_, from, head.txn, [&](const Record& r) -> Status {
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
        reach = std::min(reach, r.txn - 1);
        return Status::Ok();
      }
      DB_ASSIGN_OR_RETURN(at, key_index_->Head(slot.offset));
      if (at >= r.txn) return Status::Ok();
    }
    return Status::Corruption(fmt::format(
        "{} is older than the journal: the slot of key '{}' names txn {}, yet txn {} used "
        "that key (was an older copy of the file put back?). The keys already used cannot "
        "be told, so one could commit twice: nothing is done until `recover` puts it right",
        key_index_->path(), r.key, at, r.txn));
  }, &own_keys_));
  return KeysPastMark{vouched, reach};
}

Status StoreImpl::VouchKeyIndex(const std::set<LockSlot>& held) {
  DB_ASSIGN_OR_RETURN(KeysPastMark k, CheckKeysPastMark(held));
  // What the mark now covers is never looked at again by this process.
  own_keys_.erase(own_keys_.begin(), own_keys_.upper_bound(k.reach));
  return k.reach != k.vouched ? key_index_->SetVouched(k.reach) : Status::Ok();
}

void StoreImpl::NoteOwnKeys(const std::vector<Record>& records) {
  // Bounded: a process that commits without keys never checks, so never prunes.
  if (own_keys_.size() > kOwnKeysAtMost) own_keys_.clear();
  for (const Record& r : records) own_keys_[r.txn] = r.key;
}

Status StoreImpl::CheckKeyIndexForReading() {
  if (keys_checked_for_reading_) return Status::Ok();
  DB_RETURN_IF_ERROR(CheckKeysPastMark({}).status());
  keys_checked_for_reading_ = true;
  return Status::Ok();
}

Result<size_t> StoreImpl::RepairKeyVouch() {
  DB_ASSIGN_OR_RETURN(std::uint64_t vouched, key_index_->Vouched());
  DB_ASSIGN_OR_RETURN(ChainHead head, journal_->Head());
  if (vouched == head.txn) return size_t{0};
  size_t repaired = 0;
  // Under each slot's lock, as any repair: a live writer's own entry is waited for.
  // As VouchKeyIndex: a mark past the journal's newest has every record checked.
  const std::uint64_t from = KeysCheckedAfter(vouched, head.txn, chained_from_);
  DB_RETURN_IF_ERROR(ForEachKeyedAfter(*journal_, from, head.txn,
                                       [&](const Record& r) -> Status {
                                         DB_ASSIGN_OR_RETURN(bool wrote, ApplyKey(r, true));
                                         repaired += wrote;
                                         return Status::Ok();
                                       }));
  // The slots set here may be of records before the checkpoint, which no replay after a
  // power loss sets again: durable before the mark that vouches for them.
  if (repaired > 0) DB_RETURN_IF_ERROR(SyncFiles({layout_.KeyIndexPath()}));
  env_->FaultPoint("recover", "after_keys_synced");
  DB_RETURN_IF_ERROR(key_index_->SetVouched(head.txn));
  return repaired;
}

}  // namespace drovebank
