#include "drovebank/record.h"
#include "record_lines.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace drovebank {

using nlohmann::json;

namespace {

// A number field as an exact integer of type T. nlohmann's get<T>() would truncate 1.5,
// wrap -1 into an unsigned type and convert 1e300 with undefined behaviour; the writer
// never produces any of them, so each is corruption (thrown, caught in ParseRecordJson).
template <typename T>
T Int(const json& v) {
  if (v.is_number_unsigned()) {
    std::uint64_t u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    if constexpr (std::is_signed_v<T>) return static_cast<T>(v.get<std::int64_t>());
  }
  throw std::out_of_range(fmt::format("{} is not an integer in range", v.dump()));
}

bool IdInRange(AccountId id) { return id >= 1 && id <= kMaxAccountId; }
bool CentsInRange(Cents c) { return c >= 0 && c <= kMaxCents; }

// True when a whole valid record ends this (bad) line after some damaged bytes: the
// newline before it was damaged, so earlier acknowledged records were merged into the
// line. A write torn by a crash ends the file; it cannot damage what came before it.
bool HoldsRecordInside(std::string_view line) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  for (size_t p = line.find(' ', 9); p != std::string_view::npos; p = line.find(' ', p + 1)) {
    std::string_view crc = line.substr(p - 8, 8);
    if (std::all_of(crc.begin(), crc.end(), hex) && DecodeRecordLine(line.substr(p - 8)).ok()) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kOpen: return "open";
    case OpKind::kDeposit: return "deposit";
    case OpKind::kWithdraw: return "withdraw";
    case OpKind::kTransfer: return "transfer";
    case OpKind::kClose: return "close";
    case OpKind::kRename: return "rename";
  }
  return "?";
}

bool Reversible(OpKind k) {
  return k == OpKind::kDeposit || k == OpKind::kWithdraw || k == OpKind::kTransfer;
}

Result<OpKind> ParseOpKind(std::string_view name) {
  for (OpKind k : {OpKind::kOpen, OpKind::kDeposit, OpKind::kWithdraw, OpKind::kTransfer,
                   OpKind::kClose, OpKind::kRename}) {
    if (OpKindName(k) == name) return k;
  }
  return Status::InvalidArgument(fmt::format("unknown operation '{}'", name));
}

std::string RequestText(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) {
    if (!out.empty()) out += "; ";
    switch (op.kind) {
      case OpKind::kOpen:
        out += fmt::format("open {} {} {}", json(op.first).dump(), json(op.last).dump(),
                           op.amount);
        break;
      case OpKind::kTransfer:
        out += fmt::format("transfer {} {} {}", op.id, op.to, op.amount);
        break;
      case OpKind::kClose:
        out += fmt::format("close {}", op.id);
        break;
      case OpKind::kRename:
        out += fmt::format("rename {} {} {}", op.id, json(op.first).dump(), json(op.last).dump());
        break;
      default:
        out += fmt::format("{} {} {}", OpKindName(op.kind), op.id, op.amount);
    }
    // Only when set: requests without a memo keep the text older records hold.
    if (!op.memo.empty()) out += fmt::format(" memo {}", json(op.memo).dump());
  }
  return out;
}

std::string ReversalKey(std::uint64_t txn) { return fmt::format("{}{}", kReversalKeyPrefix, txn); }

AccountId LargestIdUsed(const Record& r) {
  AccountId most = r.reserve_ids;
  for (const Op& op : r.ops) {
    if (op.kind == OpKind::kOpen) most = std::max(most, op.id);
  }
  return most;
}

std::uint64_t AccountsOpened(const Record& r) {
  return static_cast<std::uint64_t>(std::count_if(
      r.ops.begin(), r.ops.end(), [](const Op& op) { return op.kind == OpKind::kOpen; }));
}

// The reference encoder: a nlohmann DOM, its keys sorted, dumped. RecordJson writes the
// same bytes without the DOM, and uses this one for any string that is not plain ASCII.
std::string RecordJsonDom(const Record& r) {
  json ops = json::array();
  for (const Op& op : r.ops) {
    json o = {{"op", OpKindName(op.kind)}, {"id", op.id}, {"amount", op.amount},
              {"after", op.after}};
    if (op.kind == OpKind::kTransfer) {
      o["to"] = op.to;
      o["to_after"] = op.to_after;
    }
    if (op.kind == OpKind::kOpen || op.kind == OpKind::kRename) {
      o["first"] = op.first;
      o["last"] = op.last;
    }
    if (op.kind == OpKind::kRename) {
      o["was_first"] = op.was_first;
      o["was_last"] = op.was_last;
    }
    // Only when set, like reserve_ids: records without a memo keep their exact bytes.
    if (!op.memo.empty()) o["memo"] = op.memo;
    ops.push_back(std::move(o));
  }
  json accounts = json::array();
  for (const RecordAccount& ra : r.accounts) {
    const Account& a = ra.state;
    accounts.push_back({{"id", a.id},
                        {"first", a.first},
                        {"last", a.last},
                        {"balance", a.balance},
                        {"closed", a.closed},
                        {"version", a.version},
                        {"prev_txn", ra.prev_txn}});
  }
  json j = {{"txn", r.txn},       {"time", r.time_ms}, {"key", r.key},
            {"req", r.request},   {"ops", ops},        {"accounts", accounts}};
  // Only when set: the records of every other write keep their exact bytes.
  if (r.reserve_ids != 0) j["reserve_ids"] = r.reserve_ids;
  if (r.reverses != 0) j["reverses"] = r.reverses;
  if (r.snapshot_at != 0) {
    j["snapshot_at"] = r.snapshot_at;
    j["snapshot_hash"] = r.snapshot_hash;
  }
  if (!r.key.empty()) j["key_prev"] = r.key_prev;
  if (!r.prev_hash.empty()) j["prev_hash"] = r.prev_hash;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// One element of a record's "ops". Throws what json::at and Int throw on a missing field
// or a wrong type; ParseRecordJsonDom catches it.
Result<Op> ParseRecordOp(const json& o) {
  Op op;
  auto kind = ParseOpKind(o.at("op").get<std::string>());
  if (!kind.ok()) return Status::Corruption("record has an unknown operation");
  op.kind = *kind;
  op.id = Int<AccountId>(o.at("id"));
  op.amount = Int<Cents>(o.at("amount"));
  op.after = Int<Cents>(o.at("after"));
  if (op.kind == OpKind::kTransfer) {
    op.to = Int<AccountId>(o.at("to"));
    op.to_after = Int<Cents>(o.at("to_after"));
  }
  if (op.kind == OpKind::kOpen || op.kind == OpKind::kRename) {
    op.first = o.at("first").get<std::string>();
    op.last = o.at("last").get<std::string>();
  }
  if (op.kind == OpKind::kRename) {
    op.was_first = o.at("was_first").get<std::string>();
    op.was_last = o.at("was_last").get<std::string>();
  }
  if (o.contains("memo")) {
    op.memo = o.at("memo").get<std::string>();
    if (op.memo.empty()) return Status::Corruption("record holds an invalid memo");
  }
  DB_RETURN_IF_ERROR(CheckRecordOp(op));
  return op;
}

// One element of a record's "accounts": the state record `txn` leaves it in. Throws as
// ParseRecordOp does.
Result<RecordAccount> ParseRecordAccount(const json& a, std::uint64_t txn) {
  RecordAccount ra;
  ra.state.id = Int<AccountId>(a.at("id"));
  ra.state.first = a.at("first").get<std::string>();
  ra.state.last = a.at("last").get<std::string>();
  ra.state.balance = Int<Cents>(a.at("balance"));
  ra.state.closed = a.at("closed").get<bool>();
  ra.state.version = Int<std::uint64_t>(a.at("version"));
  ra.state.last_txn = txn;
  ra.prev_txn = Int<std::uint64_t>(a.at("prev_txn"));
  DB_RETURN_IF_ERROR(CheckRecordAccount(ra));
  return ra;
}

bool IsHashHex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

Status CheckRecordHead(const Record& r, const RecordFieldsPresent& present) {
  // The key names a file (keys/XX/KEY.json): a bad one must never reach a path.
  if (!r.key.empty() && !ValidateKey(r.key).ok()) {
    return Status::Corruption("record holds an invalid transaction key");
  }
  // Absent in records written before keys/index (their keys have key files): 0 ends
  // the slot's chain there, which is where those files take over.
  if (present.key_prev) {
    if (r.key.empty()) return Status::Corruption("record chains a key it does not have");
    if (r.key_prev != 0 && r.key_prev >= r.txn) {
      return Status::Corruption("record's key chain does not go back");
    }
  }
  if (present.reserve_ids && !IdInRange(r.reserve_ids)) {
    return Status::Corruption("record reserves account ids out of range");
  }
  if (present.reverses && (r.reverses == 0 || r.reverses >= r.txn)) {
    return Status::Corruption("record reverses a txn that is not an earlier one");
  }
  if (present.snapshot_at != present.snapshot_hash) {
    return Status::Corruption("record names a snapshot without both its txn and its hash");
  }
  if (present.snapshot_at) {
    if (r.snapshot_at == 0 || r.snapshot_at >= r.txn) {
      return Status::Corruption("record vouches for a snapshot that is not of an earlier txn");
    }
    if (!IsHashHex(r.snapshot_hash)) {
      return Status::Corruption("record's snapshot_hash is not 64 hex digits");
    }
  }
  if (present.prev_hash && !IsHashHex(r.prev_hash)) {
    return Status::Corruption("record's prev_hash is not 64 hex digits");
  }
  return Status::Ok();
}

Status CheckRecordWhole(const Record& r) {
  if (r.snapshot_at != 0 && (!r.ops.empty() || !r.accounts.empty())) {
    return Status::Corruption("record vouches for a snapshot and changes accounts too");
  }
  return Status::Ok();
}

Status CheckRecordOp(const Op& op) {
  if (op.kind == OpKind::kTransfer && (!IdInRange(op.to) || !CentsInRange(op.to_after))) {
    return Status::Corruption("record holds a transfer out of range");
  }
  if (!IdInRange(op.id) || !CentsInRange(op.amount) || !CentsInRange(op.after)) {
    return Status::Corruption("record holds an operation out of range");
  }
  if (op.kind == OpKind::kOpen &&
      (!ValidateName(op.first, "first").ok() || !ValidateName(op.last, "last").ok())) {
    return Status::Corruption("record opens an account with an invalid name");
  }
  if (op.kind == OpKind::kRename) {
    for (const std::string* name : {&op.first, &op.last, &op.was_first, &op.was_last}) {
      if (!ValidateName(*name, "name").ok()) {
        return Status::Corruption("record renames an account with an invalid name");
      }
    }
  }
  if (!op.memo.empty() && !ValidateMemo(op.memo).ok()) {
    return Status::Corruption("record holds an invalid memo");
  }
  return Status::Ok();
}

Status CheckRecordAccount(const RecordAccount& ra) {
  if (ra.state.id == 0 || ra.state.id > kMaxAccountId || ra.state.balance < 0 ||
      ra.state.balance > kMaxCents || !ValidateName(ra.state.first, "first").ok() ||
      !ValidateName(ra.state.last, "last").ok()) {
    return Status::Corruption("record holds an account out of range or badly named");
  }
  return Status::Ok();
}

Result<Record> ParseRecordJsonDom(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("record is not a JSON object");
  // Field access throws on a wrong type; that is the one exception this parser catches,
  // because a hand-written type check per field would be longer and no safer.
  try {
    Record r;
    r.txn = Int<std::uint64_t>(j.at("txn"));
    r.time_ms = Int<std::int64_t>(j.at("time"));
    r.key = j.at("key").get<std::string>();
    r.request = j.at("req").get<std::string>();
    RecordFieldsPresent present;
    present.key_prev = j.contains("key_prev");
    present.reserve_ids = j.contains("reserve_ids");
    present.reverses = j.contains("reverses");
    present.prev_hash = j.contains("prev_hash");
    present.snapshot_at = j.contains("snapshot_at");
    present.snapshot_hash = j.contains("snapshot_hash");
    if (present.key_prev) r.key_prev = Int<std::uint64_t>(j.at("key_prev"));
    if (present.reserve_ids) r.reserve_ids = Int<AccountId>(j.at("reserve_ids"));
    if (present.reverses) r.reverses = Int<std::uint64_t>(j.at("reverses"));
    if (present.prev_hash) r.prev_hash = j.at("prev_hash").get<std::string>();
    if (present.snapshot_at) r.snapshot_at = Int<std::uint64_t>(j.at("snapshot_at"));
    if (present.snapshot_hash) r.snapshot_hash = j.at("snapshot_hash").get<std::string>();
    DB_RETURN_IF_ERROR(CheckRecordHead(r, present));
    if (!j.at("ops").is_array() || !j.at("accounts").is_array()) {
      return Status::Corruption("record ops or accounts are not arrays");
    }
    for (const json& o : j.at("ops")) {
      DB_ASSIGN_OR_RETURN(Op op, ParseRecordOp(o));
      r.ops.push_back(std::move(op));
    }
    for (const json& a : j.at("accounts")) {
      DB_ASSIGN_OR_RETURN(RecordAccount ra, ParseRecordAccount(a, r.txn));
      r.accounts.push_back(std::move(ra));
    }
    DB_RETURN_IF_ERROR(CheckRecordWhole(r));
    return r;
  } catch (const std::exception& e) {  // json::exception, or Int's out_of_range
    return Status::Corruption(fmt::format("record field: {}", e.what()));
  }
}

Result<Record> ParseRecordJson(std::string_view text) {
  // The direct decoder takes what the encoder writes; anything else, damage included, is
  // left to the DOM parser, which alone words the errors.
  if (std::optional<Record> r = DecodeRecordDirect(text)) return std::move(*r);
  return ParseRecordJsonDom(text);
}

std::string EncodeRecord(const Record& r) { return EncodeRecordJson(RecordJson(r)); }

std::string EncodeRecordJson(std::string_view body) {
  return fmt::format(FMT_COMPILE("{} {}\n"), Crc32Hex(body), body);
}

Result<Record> DecodeRecordLine(std::string_view line) {
  if (line.size() < 10 || line[8] != ' ') return Status::Corruption("record line is malformed");
  std::string_view body = line.substr(9);
  if (Crc32Hex(body) != line.substr(0, 8)) return Status::Corruption("record checksum mismatch");
  return ParseRecordJson(body);
}

ScanResult ScanRecords(std::string_view bytes) {
  ScanResult out;
  ScanResult tail = ScanRecords(bytes, [&](Record&& r, std::uint64_t, std::uint64_t end) {
    out.records.push_back(std::move(r));
    out.ends.push_back(end);
  });
  tail.records = std::move(out.records);
  tail.ends = std::move(out.ends);
  return tail;
}

ScanResult ScanRecords(
    std::string_view bytes,
    const std::function<void(Record&&, std::uint64_t begin, std::uint64_t end)>& each) {
  ScanResult out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.torn_tail = true;
      break;
    }
    auto rec = DecodeRecordLine(bytes.substr(pos, nl - pos));
    if (!rec.ok()) {
      // Whether anything valid follows decides torn tail versus corruption in the middle.
      out.corrupt_middle = HoldsRecordInside(bytes.substr(pos, nl - pos));
      size_t next = nl + 1;
      while (!out.corrupt_middle && next < bytes.size()) {
        size_t nl2 = bytes.find('\n', next);
        if (nl2 == std::string_view::npos) break;
        if (DecodeRecordLine(bytes.substr(next, nl2 - next)).ok()) {
          out.corrupt_middle = true;
          break;
        }
        next = nl2 + 1;
      }
      out.torn_tail = !out.corrupt_middle;
      break;
    }
    each(std::move(rec).value(), pos, nl + 1);
    pos = nl + 1;
    out.good_bytes = pos;
  }
  return out;
}

}  // namespace drovebank
