// recover's walk of the hash chain (recovery_parts.h: FollowChain).
#include <fmt/format.h>

#include "journal.h"
#include "history_check.h"
#include "newest_index.h"
#include "recovery_parts.h"

namespace drovebank {

Status FollowChain(Env* env, const Layout& layout, const Journal& journal, JournalPos end,
                   const RecoverOptions& o, RecoverReport* r) {
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, layout));
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal.ReadCheckpoint());
  std::optional<ChainHead> expect;
  if (!o.expect_head.empty()) {
    auto h = ParseHead(o.expect_head);
    if (!h.ok()) return h.status();
    expect = *h;
  }
  ChainFollower chain(ChainHead{}, format.chained_from);
  // An account's state that has left the follower's cache is read back from the record
  // the walk passed, one small read (Journal::RecordAt), found by its packed position.
  DB_ASSIGN_OR_RETURN(PackedPositions places, PackedPositions::Of(journal));
  AccountHistoryFollower history([&](std::uint64_t where) -> Result<Record> {
    return journal.RecordAt(*places.Unpack(where));
  });
  // Each head written down (the checkpoint's, the one given) is checked as the walk
  // passes its txn.
  auto check_at = [&](const std::optional<ChainHead>& want, std::string_view what) -> Status {
    if (!want || want->txn != chain.head().txn) return Status::Ok();
    if (want->hash == chain.head().hash) return Status::Ok();
    return Status::Corruption(fmt::format(
        "{} says the chain's head at txn {} is {}, but the journal gives {}: a record at or "
        "before txn {} was changed",
        what, want->txn, HashHex(want->hash), HashHex(chain.head().hash), want->txn));
  };
  std::uint64_t records = 0;
  DB_RETURN_IF_ERROR(check_at(expect, "the head given"));
  Status walked = journal.ForEachLine(
      JournalPos{0, 0}, end, [&](Record& rec, JournalPos at, std::string_view json) -> Status {
        Status fed = chain.Feed(rec, json);
        if (fed.ok()) {
          DB_ASSIGN_OR_RETURN(std::uint64_t where, places.Pack(journal, at));
          fed = history.Feed(rec, where);
        }
        if (!fed.ok()) {
          return Status::Corruption(fmt::format("{} ({}, byte {})", fed.message(),
                                                layout.Relative(journal.SegmentPath(at.seg)),
                                                at.offset));
        }
        ++records;
        DB_RETURN_IF_ERROR(check_at(ckpt.head, "journal/CHECKPOINT"));
        if (expect && expect->txn == rec.txn) r->head_matched = true;
        return check_at(expect, "the head given");
      });
  DB_RETURN_IF_ERROR(walked);
  if (expect && expect->txn > chain.head().txn) {
    return Status::Corruption(fmt::format(
        "the head given is at txn {}, but the journal ends at txn {}: records were removed "
        "from its end",
        expect->txn, chain.head().txn));
  }
  if (expect && expect->txn == 0) r->head_matched = true;
  r->chain_head = FormatHead(chain.head());
  r->chain_records = records;
  r->notes.push_back(fmt::format(
      "hash chain: {} record(s) follow one from another, each account's by the bank's rules; "
      "head {}",
      records, r->chain_head));
  if (expect) {
    r->notes.push_back(fmt::format("the history up to txn {} matches the head given",
                                   expect->txn));
  }
  return Status::Ok();
}

Status CheckTailChain(Env* env, const Layout& layout, const Journal& journal,
                      const std::optional<Journal::WrittenDown>& written) {
  // Up to the end journal/state wrote down, read as it is: the journal's own End() would
  // first catch up with (or cut) bytes past it, and a record grown by a change is such.
  if (!written) return Status::Ok();
  const JournalPos end = written->end;
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal.ReadCheckpoint());
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, layout));
  // From the checkpoint's head; from the start when there is no checkpoint yet. A
  // checkpoint of format 2 wrote no head down: only the newest record is checked then.
  const bool follow = ckpt.head.has_value() || ckpt.last_txn == 0;
  ChainFollower chain(ckpt.head.value_or(ChainHead{}), format.chained_from);
  auto where = [&](JournalPos at) {
    return fmt::format("{}, byte {}", layout.Relative(journal.SegmentPath(at.seg)), at.offset);
  };
  // A record that cannot be read (torn, rotten, or gone with pages a failed sync dropped)
  // ends the check: the journal's rebuild judges those, with its own evidence.
  Status forged;
  Status walked = !follow ? Status::Ok() : journal.ForEachLine(
      ckpt.pos, end, [&](Record& rec, JournalPos at, std::string_view json) -> Status {
        if (Status fed = chain.Feed(rec, json); !fed.ok()) {
          forged = Status::Corruption(fmt::format(
              "{} ({}); txn {} was changed after it was written, so it is not replayed: "
              "restore the journal from a backup, or cut it back to the record before with "
              "`recover --accept-loss`",
              fed.message(), where(at), rec.txn));
          return forged;
        }
        return Status::Ok();
      });
  (void)walked;
  DB_RETURN_IF_ERROR(forged);
  return CheckNewestWrittenDown(journal, written);
}

Status CheckNewestWrittenDown(const Journal& journal,
                              const std::optional<Journal::WrittenDown>& written) {
  if (!written) return Status::Ok();
  // Wherever the checkpoint is. (An end that is not a record boundary, a record grown by
  // the change, is the rebuild's to judge: a bad record where the published end says one
  // ends.)
  auto at_end = journal.HeadAt(written->end);
  return at_end.ok() ? CheckHeadWrittenDown(written->head, *at_end) : Status::Ok();
}

}  // namespace drovebank
