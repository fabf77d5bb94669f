// journal/SNAPSHOT: the state of every account at one journal position, one line each in
// id order, so a report over every account (list, search, balance) reads one file front to
// back instead of a file and a record per account (FORMAT.md "journal/SNAPSHOT").
//
// Nothing in the file is trusted by itself. A journal record after its position names its
// BLAKE2b-256 (Record::snapshot_at, snapshot_hash); StoreImpl::TakeSnapshotView uses the
// file only when the tail it walks from the file's position, its chain checked from the
// head the file names, holds such a record for exactly these bytes. Anything else (no
// file, a damaged or forged one, one whose record a crash lost) is not an error: the
// report walks the account files as before.
//
// Calling sequence, writing (StoreImpl::RefreshSnapshot, under the checkpoint lock):
//   SnapshotWriter w(env, layout.SnapshotPath());
//   w.Begin(header); w.Add(account)...;   // every account, ascending ids
//   hash = w.Finish();                    // the temp file written and fdatasync'd
//   ... commit the record that names hash ...
//   w.Install();                          // renamed over SNAPSHOT, the directory fsync'd
// A writer destroyed before Install removes its temp file. A writer with an empty path
// writes nothing and only hashes what a snapshot would hold (recover --full's check).
//
// Reading: SnapshotReader::Open, Hash() (one pass), then ForEach(hash, fn) (a second
// pass, hashed again, so a file changed between the passes is Corruption, never a row).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "drovebank/account.h"
#include "drovebank/env.h"
#include "drovebank/status.h"
#include "chain.h"
#include "journal.h"

namespace drovebank {

struct SnapshotHeader {
  std::uint64_t at_txn = 0;    // the states after this txn ...
  JournalPos pos;              // ... where the record after it starts
  ChainHead head;              // the chain's head there (head.txn == at_txn)
};

// The header's line without CRC and LF, and back (Corruption for anything else).
std::string FormatSnapshotHeader(const SnapshotHeader& h);
Result<SnapshotHeader> ParseSnapshotHeader(std::string_view line);

struct SnapshotHasher;  // BLAKE2b-256, incremental

class SnapshotWriter {
 public:
  SnapshotWriter(Env* env, std::string path);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  Status Begin(const SnapshotHeader& header);
  Status Add(const Account& a);
  Result<ChainHash> Finish();
  Status Install();

 private:
  Status Flush();
  Env* env_;
  std::string path_, tmp_;
  int fd_ = -1;
  bool temp_made_ = false;
  std::string buf_;
  AccountId last_id_ = 0;
  std::unique_ptr<SnapshotHasher> hasher_;
};

class SnapshotReader {
 public:
  // NotFound when there is no snapshot; Corruption when its first line is not a header.
  static Result<std::unique_ptr<SnapshotReader>> Open(Env* env, const std::string& path);
  ~SnapshotReader();
  const SnapshotHeader& header() const { return header_; }
  // BLAKE2b-256 of the whole file, in one pass of 1 MiB reads.
  Result<ChainHash> Hash();
  // Every account, ascending ids, until fn returns false. Corruption when a line does not
  // decode, ids do not ascend, or the bytes read do not hash to `expect` (checked at the
  // end: a file changed since Hash(); a caller that stops early saw bytes Hash() proved).
  Status ForEach(const ChainHash& expect, const std::function<Result<bool>(Account&)>& fn);

 private:
  SnapshotReader(Env* env, std::string path, int fd) : env_(env), path_(std::move(path)), fd_(fd) {}
  Env* env_;
  std::string path_;
  int fd_;
  SnapshotHeader header_;
};

}  // namespace drovebank
