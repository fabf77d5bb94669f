// keys/index: for each key slot (lock_table.h KeySlot), the txn of the newest journal
// record committed under a key of that slot. Each keyed record names the slot's previous
// one (Record::key_prev), so a key is found by walking that chain through the journal:
// no file per key, no inode per keyed commit. docs/FORMAT.md has the layout.
//
// The index is derived from the journal, like an account file: a writer updates a slot
// after its record is durable and under the slot's lock, a checkpoint fdatasyncs the file
// before it advances, and a repair or replay sets a slot from the journal tail.
#pragma once

#include <cstdint>

#include "drovebank/account.h"
#include "drovebank/env.h"
#include "drovebank/status.h"

namespace drovebank {

class KeyIndex {
 public:
  KeyIndex(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  ~KeyIndex();
  // Forgets the descriptor (closing it): the next use opens the path anew, after the file
  // was given an inode of its own (src/store/own_links.h).
  void Reopen();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // The newest keyed txn of the slot (0: none). A missing file holds no keys; a store
  // that cannot be written is read through a read-only descriptor.
  Result<std::uint64_t> Head(std::uint64_t slot);
  // Sets the slot. Call with the slot's lock held, once the record `txn` is durable.
  Status SetHead(std::uint64_t slot, std::uint64_t txn);

  // After the key slots, one entry per account id: the txn of the newest state of the
  // account that a file was installed from (0: not known). Set right after the account's
  // file is replaced, so it never names a state newer than the file: a file whose last_txn
  // is below it was set back by someone else (restored from an older copy). Read before
  // the file by anyone who proves one (StoreImpl::ReadAccount).
  Result<std::uint64_t> AccountHead(AccountId id);
  Status SetAccountHead(AccountId id, std::uint64_t txn);

  const std::string& path() const { return path_; }

  // A read finding no file answers 0 (no entry) and remembers that the file is not there,
  // so a walk over every account does not try to open it for each one (two calls an
  // account); Recheck forgets that, at each look at the store from outside (a commit, a
  // read of one account, the start of a walk). Writing creates the file.
  void Recheck() { known_absent_ = false; }

 private:
  Status OpenFor(bool write);
  Result<std::uint64_t> ReadEntry(std::uint64_t entry);
  Status WriteEntry(std::uint64_t entry, std::uint64_t txn);

  Env* env_;
  std::string path_;
  int fd_ = -1;
  bool writable_ = false;
  bool known_absent_ = false;
};

}  // namespace drovebank
