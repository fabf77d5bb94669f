// The journal's hash chain (format 3): what makes its history tamper-evident.
//
// Every record's chain hash is BLAKE2b-256 (libsodium's crypto_generichash) of the chain
// hash of the record before it, then the record's JSON exactly as written:
//   h(0) = 32 zero bytes,   h(k) = BLAKE2b-256(h(k-1) || json(k)).
// A record written by format 3 carries h(k-1) in its `prev_hash` field, so a record changed
// by hand (its CRC recomputed) changes h(k), which the next record's `prev_hash` no longer
// matches. Records of format 2 (before the chain) carry no `prev_hash` but are hashed all
// the same, so the first chained record vouches for the whole history before it. The head
// (the last txn and its h) is what a bank writes down elsewhere: given back later, it
// proves that the history up to it is unchanged (`recover --check --expect-head`).
//
// Contract: pure functions, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "drovebank/record.h"
#include "drovebank/status.h"

namespace drovebank {

using ChainHash = std::array<std::uint8_t, 32>;

// h(0): the chain before the first record.
inline constexpr ChainHash kChainStart{};

// h(k) from h(k-1) and the record's JSON (the line without its CRC, space and LF).
ChainHash ChainStep(const ChainHash& prev, std::string_view record_json);

// 64 lowercase hex digits, and back (nullopt for anything else).
std::string HashHex(const ChainHash& h);
std::optional<ChainHash> ParseHashHex(std::string_view hex);

// The chain's head: the last record's txn and its chain hash. Written "TXN:HEX".
struct ChainHead {
  std::uint64_t txn = 0;
  ChainHash hash = kChainStart;
  bool operator==(const ChainHead&) const = default;
};
std::string FormatHead(const ChainHead& head);
Result<ChainHead> ParseHead(std::string_view text);

// `written`: a head journal/state wrote down when its record was published; `found`: the
// head the journal gives now. Corruption naming the txn when they are at the same txn and
// differ (the record was changed after it was written, its checksum fixed: it follows the
// record before it, so only that head tells); Ok otherwise, at another txn included.
Status CheckHeadWrittenDown(const ChainHead& written, const ChainHead& found);

// Follows the chain record by record. Feed each record in journal order with its JSON;
// the first record that does not follow from the one before is Corruption naming it:
// a txn out of sequence, a `prev_hash` other than the running head, or a record without
// one at or after `chained_from` (the first txn that format 3 wrote).
class ChainFollower {
 public:
  explicit ChainFollower(ChainHead start = {}, std::uint64_t chained_from = 1)
      : head_(start), chained_from_(chained_from) {}
  Status Feed(const Record& r, std::string_view record_json);
  const ChainHead& head() const { return head_; }

 private:
  ChainHead head_;
  std::uint64_t chained_from_;
};

}  // namespace drovebank
