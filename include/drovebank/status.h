// Errors are values: every fallible core function returns a Status or a Result<T>.
// Exceptions never cross the core library's API; mains map Code to exit codes
// (see ExitCodeFor in src/cli/exit_codes.h and the README).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace drovebank {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // bad input or usage; nothing changed
  kNotFound,           // no such account / transaction / file
  kClosed,             // the account is closed
  kInsufficientFunds,  // a withdrawal or transfer the balance does not cover
  kKeyReused,          // idempotency key reused for a different request
  kLimit,              // a result would pass a documented maximum
  kRuleFailed,         // any other bank rule (e.g. close with a non-zero balance)
  kBusy,               // lock wait timed out; nothing changed
  kCancelled,          // the user cancelled (Ctrl-C during a lock wait); nothing changed
  kCorruption,         // a file failed its checksum or syntax; nothing changed
  kNeedsRecovery,      // the store is marked as needing `recover`; nothing changed
  kIOError,            // the operating system failed a call
  kInternal,           // a bug
};

// Human name of a code ("InsufficientFunds"), used in --json error output.
std::string_view CodeName(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Closed(std::string m) { return {Code::kClosed, std::move(m)}; }
  static Status InsufficientFunds(std::string m) {
    return {Code::kInsufficientFunds, std::move(m)};
  }
  static Status KeyReused(std::string m) { return {Code::kKeyReused, std::move(m)}; }
  static Status Limit(std::string m) { return {Code::kLimit, std::move(m)}; }
  static Status RuleFailed(std::string m) { return {Code::kRuleFailed, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status NeedsRecovery(std::string m) { return {Code::kNeedsRecovery, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // True for failures after which the operation may have been applied (an I/O error
  // after the commit record was written). The CLI says so in its message.
  bool maybe_applied() const { return maybe_applied_; }
  Status& set_maybe_applied(bool v = true) {
    maybe_applied_ = v;
    return *this;
  }

  // The errno behind a Status made by ErrnoStatus, else 0.
  int sys_errno() const { return errno_; }
  Status& set_sys_errno(int e) {
    errno_ = e;
    return *this;
  }

  // Prefixes context: "reading accounts/00/00/00/01.csv: <message>".
  Status Annotate(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  bool maybe_applied_ = false;
  int errno_ = 0;
};

// The one place errno becomes a Status: ENOENT -> NotFound, EWOULDBLOCK/EAGAIN -> Busy,
// everything else -> IOError with strerror text. `what` names the call and the path.
Status ErrnoStatus(int err, std::string_view what);

// A value or the Status that explains its absence.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace drovebank

// Early return on failure, for Status-returning functions.
#define DB_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::drovebank::Status _db_st = (expr);    \
    if (!_db_st.ok()) return _db_st;        \
  } while (0)

#define DB_CONCAT_INNER(a, b) a##b
#define DB_CONCAT(a, b) DB_CONCAT_INNER(a, b)
// `DB_ASSIGN_OR_RETURN(auto x, F())`: declares x from a Result or returns its Status.
// It expands to several statements: never use it as the body of an unbraced if.
#define DB_ASSIGN_OR_RETURN(decl, expr) \
  DB_ASSIGN_OR_RETURN_IMPL(DB_CONCAT(_db_res_, __LINE__), decl, expr)
#define DB_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  decl = std::move(tmp).value()
