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
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/env.h"
#include "drovebank/status.h"
#include "lock_table.h"  // kKeySlots

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

  // The vouched-through mark, in the entry of account 0 (no account has id 0): every keyed
  // record with a txn at or below it is its slot's head or behind it on the slot's chain,
  // and every record is at or below the entry of each account it changed, unless that
  // slot's or account's repair flag is set (a writer in flight, or one that died). A key
  // is looked up, and an account file read by a commit or a reader, only after the records
  // past the mark have been checked against the entries (StoreImpl::VouchKeyIndex,
  // CheckEntriesForReading), so an older copy of this file put back, alone or with account
  // files, is told, not built on. 0 in a file made before the mark was kept: every record
  // is then checked once.
  Result<std::uint64_t> Vouched() { return ReadEntry(kKeySlots); }
  Status SetVouched(std::uint64_t txn) { return WriteEntry(kKeySlots, txn); }

  const std::string& path() const { return path_; }

  // A read finding no file answers 0 (no entry) and remembers that the file is not there,
  // so a walk over every account does not try to open it for each one (two calls an
  // account); Recheck forgets that, at each look at the store from outside (a commit, a
  // read of one account, the start of a walk). Writing creates the file.
  void Recheck() {
    known_absent_ = false;
    window_.clear();
  }

  // A walk over every account in id order (StoreImpl::ForEachInFiles) reads account
  // entries a page at a time (512 entries, one pread) instead of one pread an account.
  // An entry read ahead is never newer than the one the walk would have read at the
  // account's turn (a writer only raises it, after its file), which the proof allows:
  // it is still read before the file. Off again: entries are read one at a time.
  void set_read_ahead(bool on) {
    read_ahead_ = on;
    window_.clear();
  }
  // set_read_ahead(true) for a scope when `on`, and off again at its end (however it ends).
  class ReadAhead {
   public:
    explicit ReadAhead(KeyIndex* index, bool on = true) : index_(on ? index : nullptr) {
      if (index_ != nullptr) index_->set_read_ahead(true);
    }
    ~ReadAhead() {
      if (index_ != nullptr) index_->set_read_ahead(false);
    }
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

   private:
    KeyIndex* index_;
  };

  // Whether the file must be there, whole: the journal holds a record that a writer of
  // this format committed, and every such store has the file from its start
  // (CreateKeyIndex: at a new store, at an upgrade, by recover). Set at open by the store.
  // Then a missing file, or one cut short of its key slots, is damage (Corruption, naming
  // the file) and never read as "no keys": it would let a key already used commit again,
  // and a set-back account file pass its proof.
  void set_required(bool required) { required_ = required; }

 private:
  Status OpenFor(bool write);
  // Opens to read unless open: false when the file is not there and need not be (reads 0).
  Result<bool> OpenToRead();
  Status Lost(std::string_view how) const;
  Result<std::uint64_t> ReadEntry(std::uint64_t entry);
  Status WriteEntry(std::uint64_t entry, std::uint64_t txn);

  Env* env_;
  std::string path_;
  int fd_ = -1;
  bool writable_ = false;
  bool known_absent_ = false;
  bool required_ = false;
  bool read_ahead_ = false;
  std::uint64_t window_first_ = 0;         // the first entry of window_
  std::vector<std::uint64_t> window_;      // entries read ahead (read_ahead_)
};

// The least size of a whole keys/index: every key slot and the entry of account 0 (no
// account has id 0). Every store of this format has at least that much from its start.
inline constexpr std::uint64_t kKeyIndexWholeBytes = 8 * (kKeySlots + 1);

// Makes `path` a whole keys/index: created when missing, grown (sparse: the new entries
// read as 0) to kKeyIndexWholeBytes when shorter; a longer file is left as it is. Made
// durable (the file and its directory entry).
Status CreateKeyIndex(Env* env, const std::string& path);

}  // namespace drovebank
