// recover --accept-loss (recovery_parts.h: CutJournalToWholeHistory).
#include <fcntl.h>
#include <fmt/format.h>

#include "journal.h"
#include "process_info.h"
#include "recovery_parts.h"
#include "chain.h"

namespace drovebank {

namespace {

// Keeps `bytes` (what is cut from a segment, or a whole segment after a cut) in
// quarantine/ before anything is removed: what was lost can still be read by hand.
Status KeepCut(Env* env, const Layout& layout, std::uint64_t seg, std::uint64_t from,
               std::string_view bytes, RecoverReport* r) {
  DB_RETURN_IF_ERROR(env->MakeDir(layout.quarantine(), 0700));
  std::string dest = fmt::format("{}/journal-{:016}-from-{}-{}.log", layout.quarantine(), seg,
                                 from, NowMillis());
  DB_RETURN_IF_ERROR(WriteFileDurably(env, dest, bytes));
  ++r->quarantined;
  r->notes.push_back(fmt::format("kept the {} byte(s) cut from journal segment {} at byte {} in {}",
                                 bytes.size(), seg, from, layout.Relative(dest)));
  return Status::Ok();
}

}  // namespace

Status CutJournalToWholeHistory(Env* env, const Layout& layout, RecoverReport* r) {
  DB_ASSIGN_OR_RETURN(auto journal,
                      Journal::OpenReadOnly(env, layout, DecideStorageMode(env, layout)));
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, layout));
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal->ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(auto segs, journal->Segments());
  // First, read only: where the whole history ends. A segment is cut at its first record
  // that is not whole or does not follow the chain; every segment after a cut goes whole.
  struct Cut {
    std::uint64_t seg, keep;
    std::string bytes;
  };
  std::vector<Cut> cuts;
  ChainFollower chain(ChainHead{}, format.chained_from);
  bool checkpoint_reached = ckpt.pos.seg == 0;
  for (std::uint64_t seg : segs) {
    DB_ASSIGN_OR_RETURN(std::string bytes, env->ReadFile(journal->SegmentPath(seg)));
    if (seg == ckpt.pos.seg && ckpt.pos.offset <= bytes.size()) checkpoint_reached = true;
    std::uint64_t keep = 0;
    if (cuts.empty()) {
      ScanResult scan = ScanRecords(bytes);
      keep = scan.good_bytes;
      for (size_t i = 0; i < scan.records.size(); ++i) {
        if (!chain.Feed(scan.records[i], RecordJsonAt(bytes, scan, i)).ok()) {
          keep = i == 0 ? 0 : scan.ends[i - 1];
          break;
        }
      }
    }
    if (keep < bytes.size()) cuts.push_back(Cut{seg, keep, std::move(bytes)});
  }
  // Nothing lost and nothing marked: there is no loss to accept.
  if (cuts.empty() && checkpoint_reached && !env->Stat(layout.recovery_marker()).ok()) {
    return Status::InvalidArgument(
        "--accept-loss is the way out for a store whose journal lost acknowledged records, "
        "and this one's journal is whole: run `recover` (or `recover --full`) instead; "
        "nothing changed");
  }
  if (!cuts.empty()) {
    r->notes.push_back(fmt::format(
        "the journal's whole history ends at txn {}: everything after it is cut (accepted loss)",
        chain.head().txn));
  }
  for (const Cut& c : cuts) {
    DB_RETURN_IF_ERROR(
        KeepCut(env, layout, c.seg, c.keep, std::string_view(c.bytes).substr(c.keep), r));
    DB_ASSIGN_OR_RETURN(int fd, env->Open(journal->SegmentPath(c.seg), O_WRONLY));
    EnvFdCloser closer{env, fd};
    DB_RETURN_IF_ERROR(env->Truncate(fd, c.keep));
    DB_RETURN_IF_ERROR(env->Sync(fd));
  }
  // Every file is rebuilt from the history that is left: the checkpoint goes back to the
  // start, so the next open replays all of it; journal/state goes, so that open rebuilds
  // it; keys/index goes, so no key slot or account entry names a txn that was cut (the
  // replay and --full set every entry again from the journal).
  CheckpointInfo start;
  start.pos = JournalPos{segs.empty() ? 1 : segs.front(), 0};
  DB_RETURN_IF_ERROR(journal->WriteCheckpoint(start));
  for (const std::string& p : {layout.JournalStatePath(), layout.KeyIndexPath()}) {
    Status s = env->Unlink(p);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  DB_RETURN_IF_ERROR(env->SyncDir(layout.journal()));
  r->notes.push_back(fmt::format(
      "the checkpoint goes back to the journal's start: every account is rebuilt from the {} "
      "record(s) left; an account file newer than them is kept in quarantine/, and txn {} "
      "onward will be issued again",
      chain.head().txn, chain.head().txn + 1));
  return Status::Ok();
}

}  // namespace drovebank
