// LockFile (lockfile.h): holding a slot with its repair flag, and Commit as the composition
// of its three steps.
#include "lockfile.h"

#include <fmt/format.h>

#include <utility>

namespace drovebank {

LockFile::LockFile(LockFile&& o) noexcept
    : table_(o.table_),
      slot_(o.slot_),
      paths_(std::move(o.paths_)),
      held_(o.held_),
      flag_on_(o.flag_on_),
      flag_known_(o.flag_known_),
      installer_(std::move(o.installer_)) {
  o.held_ = false;
}

Status LockFile::AfterLock() {
  held_ = true;
  flag_known_ = true;
  auto flagged = table_->NeedsRepair(slot_);
  if (!flagged.ok()) {
    (void)Rollback();
    return flagged.status();
  }
  flag_on_ = *flagged;
  return Status::Ok();
}

Status LockFile::Hold(const LockWait& wait) {
  if (held_) return Status::Ok();
  DB_RETURN_IF_ERROR(table_->Lock(slot_, paths_.what, wait));
  return AfterLock();
}

Status LockFile::TryHold() {
  if (held_) return Status::Ok();
  Status s = table_->TryLock(slot_);
  if (s.code() == Code::kBusy) return Status::Busy(fmt::format("{} is locked", paths_.what));
  DB_RETURN_IF_ERROR(s);
  return AfterLock();
}

Status LockFile::HoldWithoutFlag(const LockWait& wait) {
  if (held_) return Status::Ok();
  DB_RETURN_IF_ERROR(table_->Lock(slot_, paths_.what, wait));
  held_ = true;
  flag_known_ = false;
  flag_on_ = false;
  return Status::Ok();
}

Status AdoptFlags(LockTable* table, const std::vector<LockFile*>& held) {
  if (held.empty()) return Status::Ok();
  std::vector<std::uint64_t> offsets;
  offsets.reserve(held.size());
  for (const LockFile* lk : held) offsets.push_back(lk->slot().offset);
  DB_ASSIGN_OR_RETURN(std::vector<bool> flags,
                      table->ReadFlags(held.front()->slot().table, offsets));
  for (size_t i = 0; i < held.size(); ++i) held[i]->AdoptFlag(flags[i]);
  return Status::Ok();
}

Status LockFile::MarkInFlight() {
  if (!held_) return Status::Internal("MarkInFlight without holding the lock");
  if (flag_known_ && flag_on_) return Status::Ok();  // already set
  DB_RETURN_IF_ERROR(table_->SetNeedsRepair(slot_, true));
  flag_on_ = true;
  flag_known_ = true;
  return Status::Ok();
}

Status LockFile::Repaired() {
  if (!held_) return Status::Internal("Repaired without holding the lock");
  if (flag_known_ && !flag_on_) return Status::Ok();  // nothing set: nothing to clear
  DB_RETURN_IF_ERROR(table_->SetNeedsRepair(slot_, false));
  flag_on_ = false;
  flag_known_ = true;
  return Status::Ok();
}

Status LockFile::WriteTemp(std::string_view content) {
  if (!held_) return Status::Internal("WriteTemp without holding the lock");
  return installer_.WriteTemp(content);
}

Status LockFile::InstallTemp() {
  if (!held_ || !installer_.written()) {
    return Status::Internal("InstallTemp without a written temp file");
  }
  return installer_.InstallOver(paths_.target);
}

Status LockFile::Commit() {
  DB_RETURN_IF_ERROR(InstallTemp());
  DB_RETURN_IF_ERROR(Repaired());
  return Release();
}

Status LockFile::InstallAt(const std::string& target, std::string_view content) {
  DB_RETURN_IF_ERROR(WriteTemp(content));
  return installer_.InstallOver(target);
}

Status LockFile::Release() {
  installer_.Forget();  // the spare stays: it is reused, never read
  if (held_) {
    table_->Unlock(slot_);
    held_ = false;
  }
  return Status::Ok();
}

}  // namespace drovebank
