#include "chain.h"

#include <fmt/format.h>
#include <sodium.h>

#include <atomic>
#include <charconv>
#include <cstdlib>

namespace drovebank {

namespace {

// crypto_generichash is BLAKE2b, and works without sodium_init(), with libsodium's portable
// code. sodium_init() picks the CPU's fastest instead (about a twentieth of a shell
// deposit's instructions went to the portable one), but costs two getrandom(2) calls. So a
// process that hashes many records (a shell session, a batch, a report, recover) picks it
// at its kPickAfter-th record, and a one-shot command, which hashes a few, never does.
// Every implementation computes the same hash; sodium_init is thread-safe and idempotent.
constexpr int kPickAfter = 32;
std::atomic<int> records_hashed{0};

void PickFastestOnceBusy() {
  if (records_hashed.load(std::memory_order_relaxed) > kPickAfter) return;
  if (records_hashed.fetch_add(1, std::memory_order_relaxed) == kPickAfter) {
    if (sodium_init() < 0) std::abort();
  }
}

}  // namespace

ChainHash ChainStep(const ChainHash& prev, std::string_view record_json) {
  PickFastestOnceBusy();
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, prev.data(), prev.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(record_json.data()),
                            record_json.size());
  ChainHash out;
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

std::string HashHex(const ChainHash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < h.size(); ++i) {
    out[2 * i] = kDigits[h[i] >> 4];
    out[2 * i + 1] = kDigits[h[i] & 15];
  }
  return out;
}

std::optional<ChainHash> ParseHashHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  ChainHash h;
  for (size_t i = 0; i < h.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return h;
}

std::string FormatHead(const ChainHead& head) {
  return fmt::format("{}:{}", head.txn, HashHex(head.hash));
}

Result<ChainHead> ParseHead(std::string_view text) {
  auto colon = text.find(':');
  ChainHead head;
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("a chain head is TXN:HASH (64 hex digits)");
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + colon, head.txn);
  auto hash = ParseHashHex(text.substr(colon + 1));
  if (ec != std::errc() || p != text.data() + colon || !hash) {
    return Status::InvalidArgument(fmt::format(
        "'{}' is not a chain head: give TXN:HASH, the txn and 64 lowercase hex digits", text));
  }
  head.hash = *hash;
  return head;
}

Status CheckHeadWrittenDown(const ChainHead& written, const ChainHead& found) {
  if (written.txn == 0 || written.txn != found.txn || written.hash == found.hash) {
    return Status::Ok();
  }
  return Status::Corruption(fmt::format(
      "journal/state says the chain's head at txn {} is {}, but the journal gives {}: txn {} "
      "was changed after it was written, so it is not replayed; restore the journal from a "
      "backup, or cut it back to the record before with `recover --accept-loss`",
      written.txn, HashHex(written.hash), HashHex(found.hash), written.txn));
}

Status ChainFollower::Feed(const Record& r, std::string_view record_json) {
  if (r.txn != head_.txn + 1) {
    return Status::Corruption(fmt::format(
        "the journal's txn {} follows txn {}: a record was removed, moved or repeated",
        r.txn, head_.txn));
  }
  if (r.prev_hash.empty()) {
    if (r.txn >= chained_from_) {
      return Status::Corruption(fmt::format(
          "record txn {} carries no prev_hash, though the chain starts at txn {}", r.txn,
          chained_from_));
    }
  } else if (r.prev_hash != HashHex(head_.hash)) {
    return Status::Corruption(fmt::format(
        "the hash chain breaks at txn {}: it names a previous record other than txn {} as "
        "the journal holds it (a record at or before txn {} was changed)",
        r.txn, head_.txn, head_.txn));
  }
  head_.txn = r.txn;
  head_.hash = ChainStep(head_.hash, record_json);
  return Status::Ok();
}

}  // namespace drovebank
