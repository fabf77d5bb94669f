// A store opened only to read: a restored backup, a snapshot, a directory this user cannot
// write. Nothing here creates, locks or writes anything, so a read can never be repaired
// on the way as a writable store's is; instead Open checks once that the files already
// hold everything the journal committed, and refuses (NeedsRecovery) when they do not.
#include <fmt/format.h>

#include <map>
#include <utility>

#include "drovebank/account.h"
#include "key_index.h"
#include "own_links.h"
#include "store_impl.h"

namespace drovebank {

namespace {

Status NeedsReplay(const Layout& layout, const std::string& why) {
  return Status::NeedsRecovery(fmt::format(
      "the store at {} is open read-only and cannot be read exactly without a replay ({}); "
      "run `recover -d {}` where it can be written; nothing changed",
      layout.root(), why, layout.root()));
}

}  // namespace

Result<std::unique_ptr<StoreImpl>> StoreImpl::OpenReadOnly(const StoreOptions& options) {
  Env* env = options.env != nullptr ? options.env : DefaultEnv();
  Layout layout(options.data_dir);
  DB_ASSIGN_OR_RETURN(FileInfo st, env->Stat(layout.root()));
  if (st.is_symlink) {
    return Status::InvalidArgument(
        fmt::format("data directory {} is a symbolic link; give the real path", layout.root()));
  }
  if (!st.is_dir) return Status::InvalidArgument(fmt::format("{} is not a directory", layout.root()));
  env->Confine(layout.root(), /*read_only=*/true);
  StorageMode mode = DecideStorageMode(env, layout);
  std::unique_ptr<StoreImpl> store(new StoreImpl(env, layout, options.lock_wait));
  store->read_only_ = true;
  // Attached first, as a writer is: the lock tables opened below are then the inodes the
  // writers use, never copies a writer is just replacing them with (own_links.h).
  FileInfo held;
  DB_ASSIGN_OR_RETURN(store->attach_fd_, AttachToStore(env, layout, /*writable=*/false,
                                                       options.lock_wait, &held));
  // A hard-link copy of the store, and a writer waiting to give it files of its own: a
  // reader that has only just come makes way at once (own_links.h).
  if (store->attach_fd_ >= 0 && held.nlink > 1) {
    int fd = std::exchange(store->attach_fd_, -1);  // MakeWayForCopier closes it if need be
    DB_ASSIGN_OR_RETURN(store->attach_fd_,
                        MakeWayForCopier(env, layout, fd, /*writable=*/false, options.lock_wait));
  }
  auto locks = LockTable::Open(env, layout, mode, /*create=*/false, /*read_only=*/true);
  if (!locks.ok() && locks.status().code() == Code::kNotFound) {
    return NeedsReplay(layout, "it was written by an older drovebank (format 1)");
  }
  if (!locks.ok()) return locks.status();
  store->locks_ = std::move(locks).value();
  DB_ASSIGN_OR_RETURN(StoreFormat format, ReadStoreFormat(env, layout));
  if (format.version < kStoreFormat) {
    return NeedsReplay(layout, fmt::format("it is format {}, written by an older drovebank, and "
                                           "recover upgrades it",
                                           format.version));
  }
  DB_ASSIGN_OR_RETURN(store->journal_, Journal::OpenReadOnly(env, layout, mode));
  DB_RETURN_IF_ERROR(store->CheckExactForReading(format.chained_from));
  return store;
}

Status StoreImpl::CheckExactForReading(std::uint64_t chained_from) {
  DB_ASSIGN_OR_RETURN(CheckpointInfo ckpt, journal_->ReadCheckpoint());
  auto records = journal_->ReadRange(ckpt.pos, journal_->End());
  if (!records.ok()) return NeedsReplay(layout_, records.status().message());
  // As a writer's open decides it (StoreImpl::OpenWritable), from the newest txn read.
  std::uint64_t head = records->empty() ? ckpt.last_txn : records->back().txn;
  key_index_->set_required(head >= chained_from);
  read_only_accounts_ = ckpt.account_count;
  std::map<AccountId, Account> newest;
  for (const Record& r : *records) {
    for (const Op& op : r.ops) read_only_accounts_ += op.kind == OpKind::kOpen ? 1 : 0;
    for (const RecordAccount& ra : r.accounts) newest[ra.state.id] = ra.state;
  }
  for (const auto& [id, state] : newest) {
    auto text = ReadAccountText(env_, layout_.AccountPath(id));
    auto cur = text.ok() ? DecodeAccountFile(*text, id) : Result<Account>(text.status());
    // A corrupt file is Get's to report, naming the file; a missing or older one means
    // the journal holds a change the files do not show yet.
    if (!cur.ok() && cur.status().code() == Code::kCorruption) continue;
    if (!cur.ok() || cur->version < state.version) {
      return NeedsReplay(layout_, fmt::format("account {} is behind the journal", id));
    }
  }
  DB_ASSIGN_OR_RETURN(std::vector<LockSlot> flagged, locks_->Flagged());
  for (const LockSlot& slot : flagged) {
    DB_ASSIGN_OR_RETURN(bool held, locks_->HeldElsewhere(slot));
    if (!held) {
      return NeedsReplay(layout_, fmt::format("{} was left in flight by a writer that died",
                                              layout_.SlotLock(slot).what));
    }
  }
  return Status::Ok();
}

Result<Account> StoreImpl::GetReadOnly(AccountId id, bool prove) {
  // A flag set since Open: a live writer's change is not acknowledged yet, so the file is
  // the latest acknowledged state; a dead one's may hide a committed change.
  DB_ASSIGN_OR_RETURN(bool flagged, locks_->NeedsRepair(AccountSlot(id)));
  if (flagged) {
    DB_ASSIGN_OR_RETURN(bool held, locks_->HeldElsewhere(AccountSlot(id)));
    if (!held) {
      return NeedsReplay(layout_, fmt::format("account {} was left in flight by a writer that died", id));
    }
  }
  return ReadAccount(id, /*mark=*/false, nullptr, prove);
}

std::uint64_t StoreImpl::AccountCount() const {
  return read_only_ ? read_only_accounts_ : journal_->account_count();
}

}  // namespace drovebank
