// The store's own files that a process opens once and keeps: journal/state, the lock
// tables of locks/ and keys/index (and journal/SNAPSHOT, which readers open). drovebank
// only ever makes them as regular files, so anything else at one of those names (a FIFO,
// a directory, a device: put there by hand) is damage, told by its name, never read
// through: a FIFO answers every pread with ESPIPE and a directory with EISDIR, in messages
// that name no file. Every one of them but journal/SNAPSHOT is rebuilt by `recover` from
// the journal, which moves the thing found there to quarantine/ first.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "drovebank/env.h"
#include "drovebank/status.h"
#include "layout.h"

namespace drovebank {

// Begins the NEEDS_RECOVERY line `recover` writes before it makes a lock table or
// keys/index anew: until a recover has rebuilt them from the whole journal (as --full
// does), every recover that finds it does so.
inline constexpr std::string_view kWholeJournalMark = "rebuild from the whole journal:";

// What a file of the store is to its reader: one `recover` rebuilds from the journal, or
// a journal segment, which nothing rebuilds.
enum class StoreFileKind { kDerived, kJournal };

// Corruption: `path` is not a regular file, and what cures it.
Status NotARegularFile(const std::string& path, StoreFileKind kind = StoreFileKind::kDerived);

// Ok when `info` (of `path`, from fstat of its open descriptor) is a regular file.
Status RequireRegular(const FileInfo& info, const std::string& path,
                      StoreFileKind kind = StoreFileKind::kDerived);

// `opened` as it came back from Env::Open of `path`: a failure that says the name is not a
// regular file (EISDIR: a directory opened to write; ENXIO: a FIFO with no reader, opened
// to write; ELOOP: a symbolic link) becomes NotARegularFile; anything else is kept.
Status WhyNotOpened(const Status& opened, const std::string& path,
                    StoreFileKind kind = StoreFileKind::kDerived);

// Opens `path` (mode 0600 if created) and proves it a regular file with one fstat, whose
// result goes to *info when asked for. A failed open comes back through WhyNotOpened (so
// NotFound stays NotFound); a descriptor that is not a regular file is closed again.
Result<int> OpenStoreFile(Env* env, const std::string& path, int flags,
                          StoreFileKind kind = StoreFileKind::kDerived, FileInfo* info = nullptr);

// The store's own files that are there but not regular files, by their names below the
// data directory ("journal/state", "locks/accounts", ...), in a fixed order. `recover`
// moves each to quarantine/; `recover --check` reports each.
std::vector<std::string> UnusableStoreFiles(Env* env, const Layout& layout);

// The lock tables and keys/index that are missing, and keys/index when it is a regular
// file cut short of kKeyIndexWholeBytes (in a store of format 3, which has them whole
// from its start), by their names below the data directory, each with whether it is
// missing (false: cut short). `recover` makes each anew; `recover --check` reports each.
std::vector<std::pair<std::string, bool>> MissingStoreFiles(Env* env, const Layout& layout);

// Whether losing the file `name` (one of UnusableStoreFiles') loses what only a walk of
// the whole journal gives back: the repair flags (locks/accounts, locks/keys) and every
// key's and account's newest txn (keys/index). journal/state and locks/owners are
// rebuilt by any open; journal/SNAPSHOT by the next checkpoint.
bool RebuiltOnlyFromWholeJournal(const std::string& name);

}  // namespace drovebank
