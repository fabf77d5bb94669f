// The write path a thread is running, as the named fault points know it (PATH in
// PATH:STEP: "deposit", "batch", "import"; docs/RELIABILITY.md). The command that starts a
// write names it with DB_FAULT_PATH, and the store's fault points read it, so no public
// method carries a parameter only tests need (after RocksDB's sync points).
//
// Compiled out of a build without DROVEBANK_FAULT_INJECTION (CMake's default, what users and
// packagers build): DB_FAULT_PATH is then nothing and FaultPath() is empty.
//
//   {
//     DB_FAULT_PATH("deposit");      // for the rest of this scope, on this thread
//     store->Commit(event);          // its fault points are deposit:locks_held, ...
//   }
#pragma once

#include <string_view>

namespace drovebank {

#ifdef DROVEBANK_FAULT_INJECTION

class FaultPathScope {
 public:
  // `path` must outlive the scope (a literal, or a string the caller keeps).
  explicit FaultPathScope(std::string_view path) : outer_(current_) { current_ = path; }
  ~FaultPathScope() { current_ = outer_; }
  FaultPathScope(const FaultPathScope&) = delete;
  FaultPathScope& operator=(const FaultPathScope&) = delete;
  // The innermost scope's path on this thread; "commit" outside every scope.
  static std::string_view Current() { return current_.empty() ? "commit" : current_; }

 private:
  static inline thread_local std::string_view current_;
  std::string_view outer_;
};

#define DB_FAULT_PATH_CAT2(a, b) a##b
#define DB_FAULT_PATH_CAT(a, b) DB_FAULT_PATH_CAT2(a, b)
#define DB_FAULT_PATH(path) \
  ::drovebank::FaultPathScope DB_FAULT_PATH_CAT(db_fault_path_, __LINE__)(path)
inline std::string_view FaultPath() { return FaultPathScope::Current(); }

#else

// The path is still named, so a parameter that carries it is not unused.
#define DB_FAULT_PATH(path) static_cast<void>(path)
inline std::string_view FaultPath() { return {}; }

#endif

}  // namespace drovebank
