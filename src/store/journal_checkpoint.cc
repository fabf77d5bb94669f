// journal/CHECKPOINT: how far the account files are known durable (read, and written
// durably, in record.h's framing), and the lock byte of journal/state that serialises
// checkpoints (journal_state.h).
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "journal.h"
#include "journal_state.h"

namespace drovebank {

using journal_internal::ByteLock;
using journal_internal::kCheckpointLockByte;

Result<CheckpointInfo> Journal::ReadCheckpoint() const {
  auto text = env_->ReadFile(layout_.journal() + "/CHECKPOINT", kSmallFileMaxBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return CheckpointInfo{};
    return text.status();
  }
  std::string_view t = *text;
  if (t.empty() || t.back() != '\n') return Status::Corruption("journal/CHECKPOINT is truncated");
  t.remove_suffix(1);
  if (t.size() < 10 || Crc32Hex(t.substr(9)) != t.substr(0, 8)) {
    return Status::Corruption("journal/CHECKPOINT checksum mismatch");
  }
  CheckpointInfo c;
  if (std::sscanf(std::string(t.substr(9)).c_str(),
                  "seg=%lu offset=%lu last_txn=%lu max_id=%u accounts=%lu", &c.pos.seg,
                  &c.pos.offset, &c.last_txn, &c.max_id, &c.account_count) != 5) {
    return Status::Corruption("journal/CHECKPOINT is malformed");
  }
  if (auto h = t.find(" head="); h != std::string_view::npos) {
    auto head = ParseHead(t.substr(h + 6));
    if (!head.ok()) return Status::Corruption("journal/CHECKPOINT has a malformed chain head");
    c.head = *head;
  }
  return c;
}

Status Journal::WriteCheckpoint(const CheckpointInfo& c) {
  std::string body = fmt::format("seg={} offset={} last_txn={} max_id={} accounts={}", c.pos.seg,
                                 c.pos.offset, c.last_txn, c.max_id, c.account_count);
  if (c.head) body += fmt::format(" head={}", FormatHead(*c.head));
  return WriteFileDurably(env_, layout_.journal() + "/CHECKPOINT",
                          fmt::format("{} {}\n", Crc32Hex(body), body));
}

Status Journal::LockCheckpoint(bool wait) {
  if (!wait) return env_->LockByte(state_fd_, kCheckpointLockByte, /*wait=*/false);
  return LockByteWithin(env_, state_fd_, kCheckpointLockByte, lock_wait_,
                        ByteLock::What(kCheckpointLockByte));
}

void Journal::UnlockCheckpoint() { (void)env_->UnlockByte(state_fd_, kCheckpointLockByte); }

}  // namespace drovebank
