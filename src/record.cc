#include "drovebank/record.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace drovebank {

using nlohmann::json;

std::string_view OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kOpen: return "open";
    case OpKind::kDeposit: return "deposit";
    case OpKind::kWithdraw: return "withdraw";
    case OpKind::kTransfer: return "transfer";
    case OpKind::kClose: return "close";
  }
  return "?";
}

Result<OpKind> ParseOpKind(std::string_view name) {
  for (OpKind k : {OpKind::kOpen, OpKind::kDeposit, OpKind::kWithdraw, OpKind::kTransfer,
                   OpKind::kClose}) {
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
      default:
        out += fmt::format("{} {} {}", OpKindName(op.kind), op.id, op.amount);
    }
  }
  return out;
}

std::string RecordJson(const Record& r) {
  json ops = json::array();
  for (const Op& op : r.ops) {
    json o = {{"op", OpKindName(op.kind)}, {"id", op.id}, {"amount", op.amount},
              {"after", op.after}};
    if (op.kind == OpKind::kTransfer) {
      o["to"] = op.to;
      o["to_after"] = op.to_after;
    }
    if (op.kind == OpKind::kOpen) {
      o["first"] = op.first;
      o["last"] = op.last;
    }
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
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Record> ParseRecordJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("record is not a JSON object");
  // Field access throws on a wrong type; that is the one exception this parser catches,
  // because a hand-written type check per field would be longer and no safer.
  try {
    Record r;
    r.txn = j.at("txn").get<std::uint64_t>();
    r.time_ms = j.at("time").get<std::int64_t>();
    r.key = j.at("key").get<std::string>();
    r.request = j.at("req").get<std::string>();
    for (const json& o : j.at("ops")) {
      Op op;
      auto kind = ParseOpKind(o.at("op").get<std::string>());
      if (!kind.ok()) return Status::Corruption("record has an unknown operation");
      op.kind = *kind;
      op.id = o.at("id").get<AccountId>();
      op.amount = o.at("amount").get<Cents>();
      op.after = o.at("after").get<Cents>();
      if (op.kind == OpKind::kTransfer) {
        op.to = o.at("to").get<AccountId>();
        op.to_after = o.at("to_after").get<Cents>();
      }
      if (op.kind == OpKind::kOpen) {
        op.first = o.at("first").get<std::string>();
        op.last = o.at("last").get<std::string>();
      }
      r.ops.push_back(std::move(op));
    }
    for (const json& a : j.at("accounts")) {
      RecordAccount ra;
      ra.state.id = a.at("id").get<AccountId>();
      ra.state.first = a.at("first").get<std::string>();
      ra.state.last = a.at("last").get<std::string>();
      ra.state.balance = a.at("balance").get<Cents>();
      ra.state.closed = a.at("closed").get<bool>();
      ra.state.version = a.at("version").get<std::uint64_t>();
      ra.state.last_txn = r.txn;
      ra.prev_txn = a.at("prev_txn").get<std::uint64_t>();
      if (ra.state.id == 0 || ra.state.id > kMaxAccountId || ra.state.balance < 0 ||
          ra.state.balance > kMaxCents) {
        return Status::Corruption("record holds an account out of range");
      }
      r.accounts.push_back(std::move(ra));
    }
    return r;
  } catch (const json::exception& e) {
    return Status::Corruption(fmt::format("record field: {}", e.what()));
  }
}

std::string EncodeRecord(const Record& r) {
  std::string body = RecordJson(r);
  return fmt::format("{} {}\n", Crc32Hex(body), body);
}

Result<Record> DecodeRecordLine(std::string_view line) {
  if (line.size() < 10 || line[8] != ' ') return Status::Corruption("record line is malformed");
  std::string_view body = line.substr(9);
  if (Crc32Hex(body) != line.substr(0, 8)) return Status::Corruption("record checksum mismatch");
  return ParseRecordJson(body);
}

ScanResult ScanRecords(std::string_view bytes) {
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
      size_t next = nl + 1;
      while (next < bytes.size()) {
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
    out.records.push_back(std::move(rec).value());
    pos = nl + 1;
    out.ends.push_back(pos);
    out.good_bytes = pos;
  }
  return out;
}

}  // namespace drovebank
