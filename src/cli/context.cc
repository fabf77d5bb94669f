#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "drovebank/time_zone.h"
#include "drovebank/dates.h"
#include "cli.h"
#include "color.h"
#include "exit_codes.h"

namespace drovebank {

namespace {

std::string ShellQuoted(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789_-./+=:,@") == std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int g_stdout_errno = 0;
bool g_stdout_kept = false;

// The write function of KeepStdoutErrors()'s stream: all of `buf` to fd 1, or -1 (the
// stream's error flag) with the first failure's errno kept.
ssize_t WriteStdout(void*, const char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(STDOUT_FILENO, buf + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (g_stdout_errno == 0) g_stdout_errno = errno;
      return -1;
    }
    done += static_cast<size_t>(w);
  }
  return static_cast<ssize_t>(n);
}

}  // namespace

std::FILE* KeepStdoutErrors() {
  // A terminal keeps the real stdout: readline draws on its file descriptor, which a
  // cookie stream has not, and a terminal does not fill up.
  if (g_stdout_kept || ::isatty(STDOUT_FILENO) == 1) return stdout;
  cookie_io_functions_t io{};
  io.write = WriteStdout;
  std::FILE* f = ::fopencookie(nullptr, "w", io);
  if (f == nullptr) return stdout;
  std::fflush(stdout);
  stdout = f;  // glibc's stdout is a variable, documented as assignable
  g_stdout_kept = true;
  return f;
}

int StdoutWriteErrno() { return g_stdout_kept ? g_stdout_errno : 0; }

void CliContext::Committed(std::uint64_t txn, size_t count) {
  if (count == 0) return;
  if (committed == 0) first_committed_txn = txn;
  committed += count;
  committed_txn = txn;
  if (txn == 0) first_committed_txn = 0;  // the range is no longer known
}

Status CliContext::ReadOnlyRefusal(const std::string& dir) const {
  if (store && !store->read_only_why().empty()) return Status::IOError(store->read_only_why());
  return Status::IOError(fmt::format("store is read-only ({}): nothing changed",
                                     read_only ? "--read-only"
                                               : fmt::format("{} cannot be written", dir)));
}

Result<Store*> CliContext::GetStore(StoreAccess access) {
  std::string dir = ResolveDataDir(data_dir);
  if (store) {
    if (access != StoreAccess::kRead && store->read_only()) return ReadOnlyRefusal(dir);
    // A shell's store: taken up again if let go of at the prompt, and a check point.
    DB_RETURN_IF_ERROR(store->CheckPoint());
    return store.get();
  }
  // Every command that reads or writes a store may show a time or read a day in the zone
  // TZ names (history, statement, export, txn, --json results): a zone glibc would take
  // as UTC without a word is refused first, whatever the command.
  DB_RETURN_IF_ERROR(CheckTimeZone());
  bool exists = StoreExistsAt(DefaultEnv(), dir);
  if (access == StoreAccess::kCreate && read_only) {
    return Status::InvalidArgument("init creates a store, which --read-only forbids; nothing changed");
  }
  if ((access == StoreAccess::kRead || access == StoreAccess::kChange) && !exists) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument(fmt::format("{} is not a directory", dir));
    }
    return Status::InvalidArgument(fmt::format(
        "no drovebank store at {} (create one with 'drovebank -d {} open ...' or 'drovebank "
        "init{}')",
        dir, ShellQuoted(dir), data_dir.empty() ? "" : " " + ShellQuoted(dir)));
  }
  StoreOptions opts;
  opts.data_dir = dir;
  // Why decide here and not on the first failed write: a read must not create
  // journal/state or anything else in a store it cannot (or must not) write.
  opts.read_only = exists && (read_only || !StoreWritableAt(DefaultEnv(), dir));
  if (access != StoreAccess::kRead && opts.read_only) return ReadOnlyRefusal(dir);
  opts.lock_wait = extra_wait;
  opts.lock_wait.timeout_seconds = lock_timeout;
  std::FILE* notices = err;
  opts.on_notice = [notices](std::string_view note) {
    fmt::print(notices, "drovebank: {}\n", note);
    std::fflush(notices);
  };
#ifdef DROVEBANK_FAULT_INJECTION
  // Tests shrink segments to exercise rotation and checkpoints; never in a release build.
  if (const char* seg = std::getenv("DROVEBANK_SEGMENT_BYTES")) {
    opts.segment_bytes = std::max<std::uint64_t>(1024, std::strtoull(seg, nullptr, 10));
  }
  // And make a checkpoint write journal/SNAPSHOT anew after this many records (1: every
  // checkpoint), to exercise and time it on any store.
  if (const char* every = std::getenv("DROVEBANK_SNAPSHOT_EVERY")) {
    opts.snapshot_every = std::max<std::uint64_t>(1, std::strtoull(every, nullptr, 10));
  }
#endif
  DB_ASSIGN_OR_RETURN(store, Store::Open(opts));
  if (access != StoreAccess::kRead && store->read_only()) return ReadOnlyRefusal(dir);
  return store.get();
}

void CliContext::Fail(const Status& s) {
  if (before_output) before_output();
  exit_code = ExitCodeFor(s.code());
  std::string msg = s.message();
  // A message that already says what changed ("...; nothing changed", "...; 3 changes were
  // committed and stand") gets no second word on it.
  bool says_nothing = msg.ends_with("nothing changed") || msg.ends_with(" and stand") ||
                      msg.ends_with(" and stands");
  if ((s.code() == Code::kIOError || s.code() == Code::kInternal) && !says_nothing) {
    msg += s.maybe_applied() ? " (the change may have been applied: run `recover`)"
                             : " (nothing was changed)";
  }
  // A lock wait given up (Ctrl-C) changed nothing, as a timeout's message already says.
  if (s.code() == Code::kCancelled && msg.starts_with("gave up waiting")) {
    msg += "; nothing changed";
  }
  try {
    fmt::print(err, "{} {}\n", Paint(err, Style::kError, program + ":"), msg);
  } catch (const std::system_error&) {
    // Nowhere left to say it; the exit code still does.
  }
  if (json) {
    nlohmann::json j = {{"error", {{"code", CodeName(s.code())},
                                   {"message", msg},
                                   {"exit", exit_code},
                                   {"maybe_applied", s.maybe_applied()}}}};
    try {
      fmt::print(out, "{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } catch (const std::system_error& e) {
      if (out_errno == 0) out_errno = e.code().value() != 0 ? e.code().value() : EIO;
    }
  }
  if (std::fflush(out) != 0 && out_errno == 0) out_errno = errno != 0 ? errno : EIO;
  std::fflush(err);
}

void CliContext::Print(const nlohmann::json& value, const std::string& text) {
  if (before_output) before_output();
  exit_code = kExitOk;
  try {
    if (json) {
      fmt::print(out, "{}\n",
                 value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      fmt::print(out, "{}\n", text);
    }
  } catch (const std::system_error& e) {
    if (out_errno == 0) out_errno = e.code().value() != 0 ? e.code().value() : EIO;
  }
  if (std::fflush(out) != 0 && out_errno == 0) out_errno = errno != 0 ? errno : EIO;
}

nlohmann::json AccountJson(const Account& a) {
  return {{"id", a.id},
          {"first", a.first},
          {"last", a.last},
          {"balance", FormatCents(a.balance)},
          {"status", a.closed ? "closed" : "open"},
          {"version", a.version},
          {"last_txn", a.last_txn}};
}

nlohmann::json RecordJsonView(const Record& r) {
  nlohmann::json ops = nlohmann::json::array();
  for (const Op& op : r.ops) {
    nlohmann::json o = {{"kind", OpKindName(op.kind)},
                        {"id", op.id},
                        {"amount", FormatCents(op.amount)},
                        {"balance_after", FormatCents(op.after)}};
    if (op.kind == OpKind::kTransfer) {
      o["to"] = op.to;
      o["to_balance_after"] = FormatCents(op.to_after);
    }
    if (op.kind == OpKind::kOpen || op.kind == OpKind::kRename) {
      o["first"] = op.first;
      o["last"] = op.last;
    }
    if (op.kind == OpKind::kRename) {
      o["was_first"] = op.was_first;
      o["was_last"] = op.was_last;
    }
    if (!op.memo.empty()) o["memo"] = op.memo;
    ops.push_back(std::move(o));
  }
  nlohmann::json j = {{"txn", r.txn}, {"time", TimestampOf(r.time_ms)}, {"ops", ops}};
  if (!r.key.empty()) j["key"] = r.key;
  if (r.reserve_ids != 0) j["reserve_ids"] = r.reserve_ids;
  if (r.reverses != 0) j["reverses"] = r.reverses;
  if (r.snapshot_at != 0) {
    j["snapshot_at"] = r.snapshot_at;
    j["snapshot_hash"] = r.snapshot_hash;
  }
  return j;
}

}  // namespace drovebank
