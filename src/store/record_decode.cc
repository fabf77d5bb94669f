// The direct decoder of record JSON: the form RecordJson writes, read without a DOM.
//
// Why: every record the checkpoint applies, every proof of an account file and every
// report reads records, and nlohmann's DOM parse was 54k instructions a deposit's record,
// a third of a shell session's work (callgrind, BENCHMARKS-HISTORY). Why it can be this
// simple: it takes only the encoder's exact form and gives up (nullopt) at the first byte
// that is anything else, so every record it does not take, damaged or foreign, goes to
// ParseRecordJsonDom, which decides it as before and words its error. What it takes, it
// checks with the same CheckRecord* functions as the DOM path, after reading the same
// fields the DOM path reads for each kind of operation.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "drovebank/record.h"
#include "record_lines.h"

namespace drovebank {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool Eat(char c) {
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return p_ == s_.size(); }

  // A string of printable ASCII with no escape (a key): JSON's rules then give its bytes
  // as they stand.
  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    *out = PlainRun();
    return Eat('"');
  }
  // A value: printable ASCII, and the two escapes of printable ASCII the encoder writes
  // (\" and \\; a request quotes names). Any other escape, a control byte or UTF-8 is
  // the DOM's to read.
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    out->clear();
    while (p_ < s_.size()) {
      out->append(PlainRun());
      if (Eat('"')) return true;
      if (!Eat('\\') || p_ >= s_.size() || (s_[p_] != '"' && s_[p_] != '\\')) return false;
      out->push_back(s_[p_++]);
    }
    return false;
  }

  // An integer as JSON writes one ('-'? then 0 or a digit 1-9 and more), at most 18
  // digits (so no overflow), in T's range, and followed by neither a fraction nor an
  // exponent: what nlohmann reads as an integer and Int<T> (record.cc) accepts.
  template <typename T>
  bool Int(T* out) {
    bool negative = Eat('-');
    size_t start = p_;
    std::uint64_t v = 0;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') {
      v = v * 10 + static_cast<std::uint64_t>(s_[p_] - '0');
      ++p_;
    }
    size_t digits = p_ - start;
    if (digits == 0 || digits > 18 || (digits > 1 && s_[start] == '0')) return false;
    if (p_ < s_.size() && (s_[p_] == '.' || s_[p_] == 'e' || s_[p_] == 'E')) return false;
    if (negative) {
      if constexpr (!std::is_signed_v<T>) {
        return false;
      } else {
        *out = static_cast<T>(-static_cast<std::int64_t>(v));
        return true;
      }
    }
    if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
    *out = static_cast<T>(v);
    return true;
  }

  bool Bool(bool* out) {
    if (s_.substr(p_, 4) == "true") {
      p_ += 4;
      *out = true;
      return true;
    }
    if (s_.substr(p_, 5) == "false") {
      p_ += 5;
      *out = false;
      return true;
    }
    return false;
  }

  // `{"key":value,...}`, calling field(key) at each value; false as soon as field does or
  // the syntax is not the encoder's. A key seen twice is not the encoder's either.
  template <class Field>
  bool Object(Field&& field) {
    if (!Eat('{')) return false;
    if (Eat('}')) return true;
    std::string_view seen[16];
    size_t n = 0;
    do {
      std::string_view key;
      if (!String(&key) || !Eat(':')) return false;
      for (size_t i = 0; i < n; ++i) {
        if (seen[i] == key) return false;
      }
      if (n == 16) return false;
      seen[n++] = key;
      if (!field(key)) return false;
    } while (Eat(','));
    return Eat('}');
  }

  // `[elem,...]`, calling elem() for each.
  template <class Elem>
  bool Array(Elem&& elem) {
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    do {
      if (!elem()) return false;
    } while (Eat(','));
    return Eat(']');
  }

 private:
  // The bytes from here that stand for themselves in a JSON string: printable ASCII but
  // the quote and the backslash.
  std::string_view PlainRun() {
    size_t start = p_;
    while (p_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[p_]);
      if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) break;
      ++p_;
    }
    return s_.substr(start, p_ - start);
  }

  std::string_view s_;
  size_t p_ = 0;
};

// One element of "ops": the fields ParseRecordOp reads for the operation's kind, each
// there; the others may be there too, as there they are ignored.
bool ReadOp(Reader& in, Op* out) {
  enum : unsigned { kKind = 1, kId = 2, kAmount = 4, kAfter = 8, kTo = 16, kToAfter = 32,
                    kFirst = 64, kLast = 128, kWasFirst = 256, kWasLast = 512, kMemo = 1024 };
  unsigned have = 0;
  std::string_view kind;
  Op op;
  bool ok = in.Object([&](std::string_view key) {
    if (key == "op") return (have |= kKind, in.String(&kind));
    if (key == "id") return (have |= kId, in.Int(&op.id));
    if (key == "amount") return (have |= kAmount, in.Int(&op.amount));
    if (key == "after") return (have |= kAfter, in.Int(&op.after));
    if (key == "to") return (have |= kTo, in.Int(&op.to));
    if (key == "to_after") return (have |= kToAfter, in.Int(&op.to_after));
    if (key == "first") return (have |= kFirst, in.String(&op.first));
    if (key == "last") return (have |= kLast, in.String(&op.last));
    if (key == "was_first") return (have |= kWasFirst, in.String(&op.was_first));
    if (key == "was_last") return (have |= kWasLast, in.String(&op.was_last));
    if (key == "memo") return (have |= kMemo, in.String(&op.memo));
    return false;
  });
  if (!ok) return false;
  auto parsed = ParseOpKind(kind);
  if (!(have & kKind) || !parsed.ok()) return false;
  op.kind = *parsed;
  unsigned need = kId | kAmount | kAfter;
  if (op.kind == OpKind::kTransfer) need |= kTo | kToAfter;
  if (op.kind == OpKind::kOpen || op.kind == OpKind::kRename) need |= kFirst | kLast;
  if (op.kind == OpKind::kRename) need |= kWasFirst | kWasLast;
  if ((have & need) != need) return false;
  // What the DOM path does not read for this kind, it leaves at the default.
  if (op.kind != OpKind::kTransfer) op.to = 0, op.to_after = 0;
  if (op.kind != OpKind::kOpen && op.kind != OpKind::kRename) op.first.clear(), op.last.clear();
  if (op.kind != OpKind::kRename) op.was_first.clear(), op.was_last.clear();
  if ((have & kMemo) && op.memo.empty()) return false;
  if (!CheckRecordOp(op).ok()) return false;
  *out = std::move(op);
  return true;
}

// One element of "accounts": every field ParseRecordAccount reads.
bool ReadAccount(Reader& in, RecordAccount* out) {
  unsigned have = 0;
  RecordAccount ra;
  bool ok = in.Object([&](std::string_view key) {
    if (key == "id") return (have |= 1, in.Int(&ra.state.id));
    if (key == "first") return (have |= 2, in.String(&ra.state.first));
    if (key == "last") return (have |= 4, in.String(&ra.state.last));
    if (key == "balance") return (have |= 8, in.Int(&ra.state.balance));
    if (key == "closed") return (have |= 16, in.Bool(&ra.state.closed));
    if (key == "version") return (have |= 32, in.Int(&ra.state.version));
    if (key == "prev_txn") return (have |= 64, in.Int(&ra.prev_txn));
    return false;
  });
  if (!ok || have != 127) return false;
  if (!CheckRecordAccount(ra).ok()) return false;
  *out = std::move(ra);
  return true;
}

// `[elem,...]`, each read by read(in, &elem) into `out`.
template <class T>
bool ReadArray(Reader& in, bool (*read)(Reader&, T*), std::vector<T>* out) {
  return in.Array([&] {
    T v;
    if (!read(in, &v)) return false;
    out->push_back(std::move(v));
    return true;
  });
}

}  // namespace

std::optional<Record> DecodeRecordDirect(std::string_view text) {
  Reader in(text);
  Record r;
  RecordFieldsPresent present;
  unsigned have = 0;
  std::vector<Op> ops;
  // Accounts are read before the txn, which sorts last, and given it at the end.
  std::vector<RecordAccount> accounts;
  bool ok = in.Object([&](std::string_view key) {
    if (key == "txn") return (have |= 1, in.Int(&r.txn));
    if (key == "time") return (have |= 2, in.Int(&r.time_ms));
    if (key == "key") return (have |= 4, in.String(&r.key));
    if (key == "req") return (have |= 8, in.String(&r.request));
    if (key == "ops") return (have |= 16, ReadArray(in, ReadOp, &ops));
    if (key == "accounts") return (have |= 32, ReadArray(in, ReadAccount, &accounts));
    if (key == "key_prev") return (present.key_prev = true, in.Int(&r.key_prev));
    if (key == "reserve_ids") return (present.reserve_ids = true, in.Int(&r.reserve_ids));
    if (key == "reverses") return (present.reverses = true, in.Int(&r.reverses));
    if (key == "prev_hash") return (present.prev_hash = true, in.String(&r.prev_hash));
    if (key == "snapshot_at") return (present.snapshot_at = true, in.Int(&r.snapshot_at));
    if (key == "snapshot_hash") {
      return (present.snapshot_hash = true, in.String(&r.snapshot_hash));
    }
    return false;
  });
  if (!ok || !in.AtEnd() || have != 63) return std::nullopt;
  if (!CheckRecordHead(r, present).ok()) return std::nullopt;
  for (RecordAccount& ra : accounts) ra.state.last_txn = r.txn;
  r.ops = std::move(ops);
  r.accounts = std::move(accounts);
  if (!CheckRecordWhole(r).ok()) return std::nullopt;
  return r;
}

}  // namespace drovebank
