// journal/SNAPSHOT (snapshot.h): reading it as one committed state with the journal's tail,
// and writing it anew at a checkpoint.
#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "commit.h"
#include "key_index.h"
#include "store_impl.h"

namespace drovebank {

Result<std::optional<StoreImpl::SnapshotView>> StoreImpl::TakeSnapshotView(
    std::optional<JournalPos> end_at) {
  using None = std::optional<SnapshotView>;
  auto reader = SnapshotReader::Open(env_, layout_.SnapshotPath());
  if (!reader.ok()) {
    // None, or one that is not a snapshot: not an error, only no short cut.
    Code c = reader.status().code();
    if (c == Code::kNotFound || c == Code::kCorruption) return None();
    return reader.status();
  }
  key_index_->Recheck();
  const SnapshotHeader& h = (*reader)->header();
  JournalPos end;
  if (end_at) {
    end = *end_at;
  } else {
    DB_ASSIGN_OR_RETURN(end, SyncedEnd());
  }
  // The record that vouches for the file comes after its position, so a file at or past
  // the end has none yet.
  if (!(h.pos < end)) return None();
  DB_ASSIGN_OR_RETURN(ChainHash hash, (*reader)->Hash());
  std::string hex = HashHex(hash);
  bool vouched = false;
  // From the file's position, the chain is followed from the head the file names: the
  // first record must be txn at+1 naming that head, so a header that points anywhere
  // else (or at another journal) finds no tail, and no record vouches for it.
  auto tail = TailBetween(h.pos, h.head, h.at_txn, end, [&](const Record& r) {
    if (r.snapshot_at == h.at_txn && r.snapshot_hash == hex) vouched = true;
  });
  if (!tail.ok() || !vouched) return None();
  return std::optional<SnapshotView>(SnapshotView{std::move(*reader), hash, std::move(*tail)});
}

Result<std::optional<std::uint64_t>> StoreImpl::ProvenSnapshotAt() {
  DB_ASSIGN_OR_RETURN(std::optional<SnapshotView> view, TakeSnapshotView());
  if (!view) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(view->reader->header().at_txn);
}

Result<std::optional<std::uint64_t>> StoreImpl::SnapshotDiffersFromFiles() {
  using None = std::optional<std::uint64_t>;
  DB_ASSIGN_OR_RETURN(std::optional<SnapshotView> view, TakeSnapshotView());
  if (!view) return None();
  // Both as of the view's end, hashed as a snapshot would hold them: the snapshot with
  // the tail after it, and the files (proven) with the same tail. The tail's accounts are
  // the tail's on both sides, so only a line of the snapshot that the files do not give
  // can differ. One pass each, memory of the tail only.
  const SnapshotHeader h = view->reader->header();
  SnapshotWriter from_snapshot(env_, ""), from_files(env_, "");
  DB_RETURN_IF_ERROR(from_snapshot.Begin(h));
  DB_RETURN_IF_ERROR(from_files.Begin(h));
  DB_RETURN_IF_ERROR(ForEachInSnapshot(*view, [&](const Account& a) -> Result<bool> {
    DB_RETURN_IF_ERROR(from_snapshot.Add(a));
    return true;
  }));
  DB_RETURN_IF_ERROR(ForEachInFiles(view->tail, [&](const Account& a) -> Result<bool> {
    DB_RETURN_IF_ERROR(from_files.Add(a));
    return true;
  }));
  DB_ASSIGN_OR_RETURN(ChainHash a, from_snapshot.Finish());
  DB_ASSIGN_OR_RETURN(ChainHash b, from_files.Finish());
  return a == b ? None() : None(h.at_txn);
}

Result<bool> StoreImpl::RemoveDeadSnapshotTemp() {
  if (checkpointing_) return false;  // this process's own refresh is on the stack
  DB_RETURN_IF_ERROR(journal_->LockCheckpoint(/*wait=*/true));
  struct Unlock {
    Journal* j;
    ~Unlock() { j->UnlockCheckpoint(); }
  } unlock{journal_.get()};
  std::string tmp = layout_.SnapshotTempPath();
  if (!env_->Stat(tmp).ok()) return false;
  DB_RETURN_IF_ERROR(env_->Unlink(tmp));
  return true;
}

Status StoreImpl::ForEachInSnapshot(SnapshotView& view,
                                    const std::function<Result<bool>(const Account&)>& fn) {
  const auto& newest = view.tail.newest;
  auto pending = newest.begin();
  bool more = true;
  // The accounts the tail opened (none in the file) come in id order between the file's.
  auto flush_before = [&](AccountId id) -> Status {
    for (; more && pending != newest.end() && pending->first < id; ++pending) {
      DB_ASSIGN_OR_RETURN(more, fn(pending->second));
    }
    return Status::Ok();
  };
  DB_RETURN_IF_ERROR(view.reader->ForEach(view.hash, [&](Account& a) -> Result<bool> {
    DB_RETURN_IF_ERROR(WalkCheckPoint());
    DB_RETURN_IF_ERROR(flush_before(a.id));
    if (!more) return false;
    if (pending != newest.end() && pending->first == a.id) {
      DB_ASSIGN_OR_RETURN(more, fn(pending->second));
      ++pending;
    } else {
      DB_ASSIGN_OR_RETURN(more, fn(a));
    }
    return more;
  }));
  return flush_before(kMaxAccountId + 1);
}

// The steps, each a fault point snapshot:STEP, and what a crash after each leaves:
//   begin      nothing written: the old snapshot (if any) stays proven by its record.
//   written    SNAPSHOT.tmp holds every account as of the checkpoint, fdatasync'd. A
//              crash leaves a temp file the next refresh removes; readers never open it.
//   (commit)   the record naming the temp's hash, through the commit protocol (its own
//              fault points, on the path "snapshot"). A crash before its sync leaves a
//              record that recover keeps or cuts like any other; either way no file bears
//              that hash yet, so the record vouches for nothing and readers skip it.
//   recorded   the record is durable. A crash leaves the old SNAPSHOT, still proven by
//              its own record (which the tail from its position holds), and the temp.
//   installed  renamed over SNAPSHOT and the directory fsync'd: readers find the new
//              file, and the record (after its position) that names exactly its bytes.
// The file is made durable before the record names it, so a record that survives a power
// loss never names bytes that did not; a rename lost to a power loss leaves the old file.
Result<bool> StoreImpl::RefreshSnapshot() {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  if (ckpt.last_txn == 0 || !ckpt.head) return false;  // nothing yet, or format 2
  std::uint64_t every = snapshot_every_ != 0
                            ? snapshot_every_
                            : std::max(kSnapshotMinRecords, ckpt.account_count / 32);
  // Staleness is judged on the file's header alone: a refresh is due when it is `every`
  // records old (a store without one: when the journal holds that many), and one that is
  // not proven is found out (and replaced) by the refresh that reads it. A small store
  // never has one: walking its files is quick, and its txns stay the users' own.
  std::uint64_t since = 0;
  if (auto old = SnapshotReader::Open(env_, layout_.SnapshotPath()); old.ok()) {
    since = (*old)->header().at_txn;
  }
  if (since >= ckpt.last_txn || ckpt.last_txn - since < every) return false;
  DB_FAULT_PATH("snapshot");
  env_->FaultPoint("snapshot", "begin");
  SnapshotWriter w(env_, layout_.SnapshotPath());
  // The states as of the checkpoint: from the proven snapshot and the records since it,
  // or else (the first time, or when the old one is not proven) from the files, each
  // proven as a report's, every record before the checkpoint being installed in them.
  auto write_temp = [&]() -> Result<ChainHash> {
    DB_RETURN_IF_ERROR(w.Begin(SnapshotHeader{ckpt.last_txn, ckpt.pos, *ckpt.head}));
    auto add = [&](const Account& a) -> Result<bool> {
      DB_RETURN_IF_ERROR(w.Add(a));
      return true;
    };
    DB_ASSIGN_OR_RETURN(std::optional<SnapshotView> old, TakeSnapshotView(ckpt.pos));
    if (old) {
      DB_RETURN_IF_ERROR(ForEachInSnapshot(*old, add));
    } else {
      TailView at_checkpoint;
      at_checkpoint.end_txn = ckpt.last_txn;
      DB_RETURN_IF_ERROR(ForEachInFiles(at_checkpoint, add));
    }
    return w.Finish();
  };
  Result<ChainHash> hash = write_temp();
  // The snapshot is a short cut, never what a command is for: a disk too full for it (or
  // any failure to write the temp file, which the writer removes) leaves the old one and
  // fails nothing; the next checkpoint tries again. Corruption a file walk finds is not
  // that, and is told.
  if (!hash.ok()) {
    if (hash.status().code() == Code::kIOError) return false;
    return hash.status();
  }
  env_->FaultPoint("snapshot", "written");
  Event e;
  e.snapshot_at = ckpt.last_txn;
  e.snapshot_hash = HashHex(*hash);
  std::vector<Event> events;
  events.push_back(std::move(e));
  Result<std::vector<EventResult>> results = CommitProtocol(this, std::move(events)).Run();
  // Refused, busy, or failed: the record changes no account, so it matters only when
  // the failure marked the store (a sync that failed: recover must settle the journal),
  // and then it is told. Otherwise, in the journal or not, it vouches for no file yet.
  if (!results.ok()) {
    if (NeedsRecovery()) return results.status();
    return false;
  }
  if (!results->at(0).status.ok()) return false;
  env_->FaultPoint("snapshot", "recorded");
  // A rename that fails leaves the old file, proven by its own record, and the temp file,
  // which the writer removes: nothing to tell.
  if (!w.Install().ok()) return true;
  env_->FaultPoint("snapshot", "installed");
  return true;
}

}  // namespace drovebank
