// A record's JSON written directly: the bytes nlohmann's dump of the record's DOM gives
// (keys sorted, no spaces), without building the DOM. Why: the DOM was a fifth of a shell
// deposit's instructions and a quarter of a batch's (callgrind); every append encodes its
// records, and the hash chain covers these exact bytes, so they must never differ from
// the reference encoder (RecordJsonDom; tests/record_json_test.cc sweeps the two).
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "drovebank/record.h"
#include "record_lines.h"

namespace drovebank {

namespace {

// Whether every byte is ASCII: then escaping is a few fixed rules. Any other byte (UTF-8,
// or bytes that are not: nlohmann replaces those) goes through the reference encoder.
bool PlainAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

bool AllPlainAscii(const Record& r) {
  if (!PlainAscii(r.key) || !PlainAscii(r.request) || !PlainAscii(r.prev_hash)) return false;
  for (const Op& op : r.ops) {
    for (const std::string* s : {&op.first, &op.last, &op.memo, &op.was_first, &op.was_last}) {
      if (!PlainAscii(*s)) return false;
    }
  }
  for (const RecordAccount& ra : r.accounts) {
    if (!PlainAscii(ra.state.first) || !PlainAscii(ra.state.last)) return false;
  }
  return true;
}

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  // `"name":` after a comma unless it is the object's first.
  void Key(std::string_view name) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(name);
    out_->append("\":");
  }
  void Open(char c) {
    out_->push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_->push_back(c);
    first_ = false;
  }
  // An array element's comma.
  void Element() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }
  template <typename Int>
  void Number(Int v) {
    fmt::format_int f(v);
    out_->append(f.data(), f.size());
  }
  void Bool(bool b) { out_->append(b ? "true" : "false"); }
  // nlohmann's escaping of ASCII: the short escapes, other controls as \u00xx.
  // Runs of bytes that need no escape (nearly all of them) are appended whole.
  void String(std::string_view s) {
    out_->push_back('"');
    size_t plain = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
      out_->append(s.substr(plain, i - plain));
      plain = i + 1;
      switch (c) {
        case '"': out_->append("\\\""); break;
        case '\\': out_->append("\\\\"); break;
        case '\b': out_->append("\\b"); break;
        case '\f': out_->append("\\f"); break;
        case '\n': out_->append("\\n"); break;
        case '\r': out_->append("\\r"); break;
        case '\t': out_->append("\\t"); break;
        default: fmt::format_to(std::back_inserter(*out_), "\\u{:04x}", static_cast<unsigned>(c));
      }
    }
    out_->append(s.substr(plain));
    out_->push_back('"');
  }

 private:
  std::string* out_;
  bool first_ = true;
};

void WriteOp(Writer& w, const Op& op) {
  w.Open('{');
  bool transfer = op.kind == OpKind::kTransfer;
  bool named = op.kind == OpKind::kOpen || op.kind == OpKind::kRename;
  w.Key("after"), w.Number(op.after);
  w.Key("amount"), w.Number(op.amount);
  if (named) w.Key("first"), w.String(op.first);
  w.Key("id"), w.Number(op.id);
  if (named) w.Key("last"), w.String(op.last);
  if (!op.memo.empty()) w.Key("memo"), w.String(op.memo);
  w.Key("op"), w.String(OpKindName(op.kind));
  if (transfer) w.Key("to"), w.Number(op.to), w.Key("to_after"), w.Number(op.to_after);
  if (op.kind == OpKind::kRename) {
    w.Key("was_first"), w.String(op.was_first);
    w.Key("was_last"), w.String(op.was_last);
  }
  w.Close('}');
}

void WriteAccount(Writer& w, const RecordAccount& ra) {
  const Account& a = ra.state;
  w.Open('{');
  w.Key("balance"), w.Number(a.balance);
  w.Key("closed"), w.Bool(a.closed);
  w.Key("first"), w.String(a.first);
  w.Key("id"), w.Number(a.id);
  w.Key("last"), w.String(a.last);
  w.Key("prev_txn"), w.Number(ra.prev_txn);
  w.Key("version"), w.Number(a.version);
  w.Close('}');
}

}  // namespace

std::string RecordJson(const Record& r) {
  if (!AllPlainAscii(r)) return RecordJsonDom(r);
  std::string out;
  out.reserve(256 + 160 * (r.ops.size() + r.accounts.size()));
  Writer w(&out);
  w.Open('{');
  w.Key("accounts");
  w.Open('[');
  for (const RecordAccount& ra : r.accounts) w.Element(), WriteAccount(w, ra);
  w.Close(']');
  w.Key("key"), w.String(r.key);
  if (!r.key.empty()) w.Key("key_prev"), w.Number(r.key_prev);
  w.Key("ops");
  w.Open('[');
  for (const Op& op : r.ops) w.Element(), WriteOp(w, op);
  w.Close(']');
  if (!r.prev_hash.empty()) w.Key("prev_hash"), w.String(r.prev_hash);
  w.Key("req"), w.String(r.request);
  if (r.reserve_ids != 0) w.Key("reserve_ids"), w.Number(r.reserve_ids);
  if (r.reverses != 0) w.Key("reverses"), w.Number(r.reverses);
  if (r.snapshot_at != 0) {
    w.Key("snapshot_at"), w.Number(r.snapshot_at);
    w.Key("snapshot_hash"), w.String(r.snapshot_hash);
  }
  w.Key("time"), w.Number(r.time_ms);
  w.Key("txn"), w.Number(r.txn);
  w.Close('}');
  return out;
}

}  // namespace drovebank
