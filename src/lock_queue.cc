// The waiting line of a lock file (see "Fairness" in lockfile.h).
//
// Why tickets named by time: the O_EXCL lock file alone lets whoever polls at the right
// moment win, so under load an unlucky waiter can lose every round until it times out.
// A ticket's name sorts by when its waiter first found the lock held; only the waiter
// with the oldest live ticket attempts, so the lock passes in that order. The fast path
// (no queue directory, or an empty one) costs one failed open(2) per Hold.
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "drovebank/lockfile.h"

namespace drovebank {
namespace {

// "<20 digits>-..." : anything else in a queue directory is not ours and is ignored.
bool IsTicketName(std::string_view n) {
  return n.size() > 21 && n[20] == '-' &&
         n.substr(0, 20).find_first_not_of("0123456789") == std::string_view::npos;
}

// Dead when its owner is dead, or when it has no owner line long after it was made.
Result<bool> TicketIsDead(Env* env, const std::string& path) {
  DB_ASSIGN_OR_RETURN(LockFileReading r, ReadLockOwner(env, path));
  return r.gone || LooksAbandoned(r.owner, r.mtime_ns);  // gone: already removed
}

Status RemoveTicket(Env* env, const std::string& path) {
  Status s = env->Unlink(path);
  return s.code() == Code::kNotFound ? Status::Ok() : s;
}

// Creates this waiter's ticket; returns its name.
Result<std::string> TakeTicket(Env* env, const std::string& qdir) {
  static std::atomic<std::uint64_t> counter{0};
  const ProcessIdentity& me = Self();
  for (;;) {
    std::string name = fmt::format("{:020}-{}-{}", NowNanos(), me.pid, counter++);
    Status s = env->CreateExclusive(qdir + "/" + name, FormatLockOwner(LockOwner{me, NowMillis()}));
    if (s.sys_errno() == EEXIST) continue;
    DB_RETURN_IF_ERROR(s);
    return name;
  }
}

// True when no live ticket is older than `mine`; removes the dead ones it meets.
Result<bool> FirstInLine(Env* env, const std::string& qdir, const std::string& mine) {
  DB_ASSIGN_OR_RETURN(auto names, env->ListDir(qdir));
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (n >= mine) break;
    if (!IsTicketName(n)) continue;
    std::string path = qdir + "/" + n;
    DB_ASSIGN_OR_RETURN(bool dead, TicketIsDead(env, path));
    if (!dead) return false;
    DB_RETURN_IF_ERROR(RemoveTicket(env, path));
  }
  return true;
}

// Removes our ticket on every way out of WaitInLine.
struct TicketGuard {
  Env* env;
  std::string path;
  ~TicketGuard() { (void)RemoveTicket(env, path); }
};

}  // namespace

std::string LockQueueDir(std::string_view lock_path) {
  std::string_view stem = lock_path;
  if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".lock") stem.remove_suffix(5);
  return fmt::format("{}.q", stem);
}

bool IsLockQueueName(std::string_view name) {
  return name.size() > 2 && name.substr(name.size() - 2) == ".q";
}

Result<size_t> ClearStaleTickets(Env* env, const std::string& queue_dir) {
  auto names = env->ListDir(queue_dir);
  if (!names.ok()) {
    return names.status().code() == Code::kNotFound ? Result<size_t>(size_t{0}) : names.status();
  }
  size_t removed = 0;
  for (const std::string& n : *names) {
    if (!IsTicketName(n)) continue;
    std::string path = queue_dir + "/" + n;
    DB_ASSIGN_OR_RETURN(bool dead, TicketIsDead(env, path));
    if (!dead) continue;
    DB_RETURN_IF_ERROR(RemoveTicket(env, path));
    ++removed;
  }
  return removed;
}

Status LockFile::WaitInLine(const LockWait& wait, std::optional<LockOwner> owner) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(wait.timeout_seconds));
  std::string qdir = LockQueueDir(paths_.lock);
  DB_RETURN_IF_ERROR(env_->MakeDir(qdir, 0700));
  DB_ASSIGN_OR_RETURN(std::string mine, TakeTicket(env_, qdir));
  TicketGuard guard{env_, qdir + "/" + mine};
  auto backoff = std::chrono::microseconds(50);
  bool announced = false;
  bool was_first = false;
  for (;;) {
    DB_ASSIGN_OR_RETURN(bool first, FirstInLine(env_, qdir, mine));
    if (first) {
      // The head polls fast from the moment it gets there: the lock is its to take next.
      if (!was_first) backoff = std::chrono::microseconds(50);
      was_first = true;
      Status s = Attempt(&owner);
      if (s.ok() || s.code() != Code::kBusy) return s;
    } else if (!announced) {
      auto text = env_->ReadFile(paths_.lock);
      if (text.ok()) owner = ParseLockOwner(*text);
    }
    if (!announced && owner && wait.on_wait) {
      wait.on_wait(paths_.what, *owner);
      announced = true;
    }
    if (wait.cancelled && wait.cancelled()) {
      return Status::Cancelled(fmt::format("gave up waiting for {}", paths_.what));
    }
    if (Clock::now() >= deadline) {
      std::string who =
          owner ? fmt::format(" (held by process {} on {} since {})", owner->process.pid,
                              owner->process.host, FormatTime(owner->since_ms))
                : "";
      return Status::Busy(fmt::format("timed out after {:g} s waiting for {}{}; nothing changed",
                                      wait.timeout_seconds, paths_.what, who));
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2,
                       first ? std::chrono::microseconds(1000) : std::chrono::microseconds(5000));
  }
}

}  // namespace drovebank
