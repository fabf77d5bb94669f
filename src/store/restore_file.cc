// Rewriting one account file from the journal, keeping what it held: every path that
// repairs an account file (replay, a dead writer's flag, recover's corrupt files and
// --full) ends here, so each repair is reported once and no edited file is lost.
#include <fcntl.h>

#include <fmt/format.h>

#include "process_info.h"
#include "key_index.h"
#include "store_impl.h"

namespace drovebank {

Result<std::string> StoreImpl::FreeQuarantinePath(AccountId id, std::string_view ext) {
  DB_RETURN_IF_ERROR(env_->MakeDir(layout_.quarantine(), 0700));
  std::string base = fmt::format("{}/account-{:08}-{}", layout_.quarantine(), id, NowMillis());
  std::string path = fmt::format("{}{}", base, ext);
  for (int n = 2; env_->Stat(path).ok(); ++n) path = fmt::format("{}-{}{}", base, n, ext);
  return path;
}

Result<std::string> StoreImpl::KeepInQuarantine(AccountId id, std::string_view content) {
  DB_ASSIGN_OR_RETURN(std::string path, FreeQuarantinePath(id, ".csv"));
  DB_ASSIGN_OR_RETURN(int fd, env_->Open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  Status s = env_->Write(fd, content);
  // Durable before the account file is replaced: a power loss in between must not lose
  // the only copy of what the file held.
  if (s.ok()) s = env_->DataSync(fd);
  Status closed = env_->Close(fd);
  DB_RETURN_IF_ERROR(s);
  DB_RETURN_IF_ERROR(closed);
  DB_RETURN_IF_ERROR(env_->SyncDir(layout_.quarantine()));
  return std::string(layout_.Relative(path));
}

Status StoreImpl::RestoreAccountFile(LockFile* held, const Account& state) {
  return ReplaceAccountFile(held, state, ReadAccountText(env_, layout_.AccountPath(state.id)));
}

Status StoreImpl::ReplaceAccountFile(LockFile* held, const Account& state,
                                     const Result<std::string>& text) {
  std::string path = layout_.AccountPath(state.id);
  FileRepair repair;
  repair.file = layout_.Relative(path);
  repair.id = state.id;
  repair.journal = state;
  if (!text.ok() && text.status().code() != Code::kNotFound) {
    // A directory, FIFO, socket or device where the file should be was put there by hand
    // (a symlink is refused by the read, and left to the user), or a regular file larger
    // than any account file can be, which the read refused (a sparse file of gigabytes,
    // never copied): moved aside whole into quarantine/, so the new file can take its name.
    auto st = env_->Stat(path);
    const bool too_large = st.ok() && st->is_regular && !st->is_symlink &&
                           st->size > kAccountFileMaxBytes;
    if (!st.ok() || ((st->is_regular || st->is_symlink) && !too_large)) return text.status();
    DB_ASSIGN_OR_RETURN(std::string kept,
                        FreeQuarantinePath(state.id, too_large ? ".too-large" : ".not-a-file"));
    DB_RETURN_IF_ERROR(env_->Rename(path, kept));
    DB_RETURN_IF_ERROR(env_->SyncDir(layout_.quarantine()));
    repair.found = FileRepair::Found::kCorrupt;
    repair.problem = text.status().message();
    repair.kept_as = layout_.Relative(kept);
  }
  if (text.ok()) {
    auto cur = DecodeAccountFile(*text, state.id);
    if (cur.ok()) {
      repair.file_said = *cur;
      // Behind only when it is a state the journal really committed: a forged older
      // state is not in the journal, so it is kept like any other difference.
      // (During the journal's own rebuild at open there is no journal to ask yet: the
      // version decides, as before format 3.)
      repair.found = cur->version < state.version &&
                             (journal_ == nullptr || ProveAccount(*cur).ok())
                         ? FileRepair::Found::kBehind
                         : FileRepair::Found::kDiffers;
    } else {
      repair.problem = cur.status().message();
      repair.found = IsChecksumMismatch(cur.status()) ? FileRepair::Found::kEdited
                                                      : FileRepair::Found::kCorrupt;
      if (auto said = DecodeAccountFileUnverified(*text, state.id); said.ok()) {
        repair.file_said = *said;
      }
    }
    // Why a file merely behind is not kept: every state it held is in the journal.
    if (repair.found != FileRepair::Found::kBehind) {
      DB_ASSIGN_OR_RETURN(repair.kept_as, KeepInQuarantine(state.id, *text));
    }
  }
  DB_RETURN_IF_ERROR(EnsureAccountDirs(state.id));
  DB_RETURN_IF_ERROR(held->Install(EncodeAccountFile(state)));
  DB_RETURN_IF_ERROR(key_index_->SetAccountHead(state.id, state.last_txn));
  if (on_repair_) on_repair_(repair);
  return Status::Ok();
}

void StoreImpl::ReportKeySlot(const Record& newest) {
  if (!on_repair_) return;
  FileRepair repair;
  repair.found = FileRepair::Found::kKeySlot;
  repair.file = layout_.Relative(layout_.KeyIndexPath());
  repair.key = newest.key;
  repair.txn = newest.txn;
  on_repair_(repair);
}

}  // namespace drovebank
