// JSON Lines of drovebank operations, committed in groups.
#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "drovebank/fault_path.h"
#include "drovebank/batch.h"
#include "batch_parse.h"
#include "exact_json.h"

namespace drovebank {

namespace {

using json = nlohmann::json;
using ordered = nlohmann::ordered_json;

Result<AccountId> JsonId(const json& v, std::string_view what) {
  if (v.is_number_unsigned()) {
    std::uint64_t u = v.get<std::uint64_t>();
    if (u == 0 || u > kMaxAccountId) {
      return Status::InvalidArgument(fmt::format("{} {} is not an account id", what, u));
    }
    return static_cast<AccountId>(u);
  }
  if (v.is_string()) {
    auto id = ParseAccountId(v.get<std::string>());
    if (!id.ok()) return id.status().Annotate(what);
    return id;
  }
  return Status::InvalidArgument(fmt::format("{} must be an account id like 1001", what));
}

Result<std::string> JsonString(const json& v, std::string_view what) {
  if (!v.is_string()) return Status::InvalidArgument(fmt::format("{} must be a string", what));
  return v.get<std::string>();
}

// The fields an op takes besides "op", "key" and (for money) "memo"; each is required but
// an open's "amount".
std::vector<std::string_view> FieldsOf(OpKind kind) {
  switch (kind) {
    case OpKind::kOpen: return {"first", "last", "amount"};
    case OpKind::kTransfer: return {"from", "to", "amount"};
    case OpKind::kClose: return {"id"};
    default: return {"id", "amount"};
  }
}

Status CheckFieldNames(const json& j, const Op& op, std::string_view name) {
  std::vector<std::string_view> allowed = FieldsOf(op.kind);
  bool money = op.kind != OpKind::kOpen && op.kind != OpKind::kClose;
  for (const auto& [field, value] : j.items()) {
    if (field == "op" || field == "key" || (field == "memo" && money)) continue;
    if (std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
      return Status::InvalidArgument(
          fmt::format("unexpected field \"{}\" for op {}", field, name));
    }
  }
  for (std::string_view field : allowed) {
    if (field == "amount" && op.kind == OpKind::kOpen) continue;
    if (!j.contains(field)) {
      return Status::InvalidArgument(fmt::format("op {} needs \"{}\"", name, field));
    }
  }
  return Status::Ok();
}

Status ReadOpValues(const json& j, Op* op) {
  switch (op->kind) {
    case OpKind::kOpen: {
      DB_ASSIGN_OR_RETURN(op->first, JsonString(j["first"], "first"));
      DB_ASSIGN_OR_RETURN(op->last, JsonString(j["last"], "last"));
      op->first = TrimName(op->first);
      op->last = TrimName(op->last);
      DB_RETURN_IF_ERROR(ValidateNewName(op->first, "first name"));
      DB_RETURN_IF_ERROR(ValidateNewName(op->last, "last name"));
      if (j.contains("amount")) {
        DB_ASSIGN_OR_RETURN(op->amount, JsonMoney(j["amount"], "amount"));
      }
      return Status::Ok();
    }
    case OpKind::kTransfer: {
      DB_ASSIGN_OR_RETURN(op->id, JsonId(j["from"], "from"));
      DB_ASSIGN_OR_RETURN(op->to, JsonId(j["to"], "to"));
      DB_ASSIGN_OR_RETURN(op->amount, JsonMoney(j["amount"], "amount"));
      break;
    }
    case OpKind::kClose: {
      DB_ASSIGN_OR_RETURN(op->id, JsonId(j["id"], "id"));
      return Status::Ok();
    }
    default: {
      DB_ASSIGN_OR_RETURN(op->id, JsonId(j["id"], "id"));
      DB_ASSIGN_OR_RETURN(op->amount, JsonMoney(j["amount"], "amount"));
    }
  }
  if (op->amount == 0) return Status::InvalidArgument("the amount must be above 0.00");
  return Status::Ok();
}

Status ReadKey(const json& j, Event* event) {
  DB_ASSIGN_OR_RETURN(event->key, JsonString(j["key"], "key"));
  DB_RETURN_IF_ERROR(ValidateKey(event->key));
  // Refused here too (the store refuses the whole group) so that only this line fails.
  if (event->key.rfind(kReversalKeyPrefix, 0) == 0) {
    return Status::InvalidArgument(
        fmt::format("key \"{}\": keys starting with '{}' are kept for `reverse`", event->key,
                    kReversalKeyPrefix));
  }
  return Status::Ok();
}

Status ParseOpFields(const json& j, Event* event) {
  if (!j.is_object()) return Status::InvalidArgument("a line must be one JSON object");
  if (!j.contains("op")) return Status::InvalidArgument("missing \"op\"");
  DB_ASSIGN_OR_RETURN(std::string name, JsonString(j["op"], "op"));
  auto kind = ParseOpKind(name);
  if (!kind.ok() || *kind == OpKind::kRename) {  // a rename is `drovebank rename`'s alone
    return Status::InvalidArgument(fmt::format(
        "unknown op \"{}\": expected open, deposit, withdraw, transfer or close", name));
  }
  Op op;
  op.kind = *kind;
  DB_RETURN_IF_ERROR(CheckFieldNames(j, op, name));
  DB_RETURN_IF_ERROR(ReadOpValues(j, &op));
  if (j.contains("memo")) {
    DB_ASSIGN_OR_RETURN(op.memo, JsonString(j["memo"], "memo"));
    DB_RETURN_IF_ERROR(ValidateMemo(op.memo));
  }
  if (j.contains("key")) DB_RETURN_IF_ERROR(ReadKey(j, event));
  event->ops.push_back(std::move(op));
  return Status::Ok();
}

ordered ErrorLine(size_t line, const Status& s) {
  return ordered{{"line", line},
                 {"ok", false},
                 {"error", {{"code", CodeName(s.code())}, {"message", s.message()}}}};
}

ordered SuccessLine(size_t line, const EventResult& res) {
  ordered j{{"line", line}, {"ok", true}, {"txn", res.record.txn}};
  const Op& op = res.record.ops.at(0);
  j["op"] = OpKindName(op.kind);
  j["id"] = op.id;
  j["balance"] = FormatCents(op.after);
  if (op.kind == OpKind::kTransfer) {
    j["to"] = op.to;
    j["to_balance"] = FormatCents(op.to_after);
  }
  if (!res.record.key.empty()) j["key"] = res.record.key;
  if (res.replayed) j["replayed"] = true;
  return j;
}

void Emit(std::FILE* out, const ordered& j) {
  std::string s = j.dump(-1, ' ', false, ordered::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), out);
}

void NoteFailure(BatchSummary* summary, const Status& s) {
  if (summary->first_failure.ok()) summary->first_failure = s;
}

}  // namespace

OpLine ParseOpLine(std::string_view text, size_t line) {
  auto j = ParseExactJson(text);
  if (!j.ok()) return OpLine{.line = line, .status = j.status(), .event = {}};
  return ParseOpObject(*j, line);
}

OpLine ParseOpObject(const nlohmann::json& j, size_t line) {
  OpLine out;
  out.line = line;
  out.status = ParseOpFields(j, &out.event);
  return out;
}

namespace {

// One group of lines: its valid events committed with one CommitGroup, then every line's
// result printed in input order.
class OpsGroup {
 public:
  OpsGroup(Store* store, std::FILE* out, BatchSummary* summary)
      : store_(store), out_(out), summary_(summary) {}

  size_t size() const { return pending_.size(); }
  // Takes the line, or leaves it and returns false when its key is in this group already
  // (flush first: in separate groups the second replays the first, whatever the group size).
  bool Add(OpLine* l) {
    if (l->status.ok()) {
      if (!l->event.key.empty() && !keys_.insert(l->event.key).second) return false;
      ++valid_;
    }
    pending_.push_back(std::move(*l));
    return true;
  }

  Status Flush() {
    std::vector<Event> events;
    events.reserve(valid_);
    for (OpLine& l : pending_) {
      if (l.status.ok()) events.push_back(std::move(l.event));
    }
    std::vector<EventResult> results;
    if (!events.empty()) {
      DB_ASSIGN_OR_RETURN(results, store_->CommitGroup(std::move(events)));
    }
    size_t k = 0;
    bool wrote = false;
    for (const OpLine& l : pending_) {
      if (!l.status.ok()) {
        ++summary_->invalid;
        NoteFailure(summary_, l.status);
        Emit(out_, ErrorLine(l.line, l.status));
        continue;
      }
      const EventResult& r = results[k++];
      if (!r.status.ok()) {
        ++summary_->refused;
        NoteFailure(summary_, r.status);
        Emit(out_, ErrorLine(l.line, r.status));
      } else {
        ++(r.replayed ? summary_->replayed : summary_->applied);
        wrote = wrote || !r.replayed;
        Emit(out_, SuccessLine(l.line, r));
      }
    }
    if (wrote) ++summary_->groups;
    std::fflush(out_);
    pending_.clear();
    keys_.clear();
    valid_ = 0;
    return Status::Ok();
  }

 private:
  Store* store_;
  std::FILE* out_;
  BatchSummary* summary_;
  std::vector<OpLine> pending_;  // every line of the group, valid or not, in order
  size_t valid_ = 0;
  std::set<std::string> keys_;
};

}  // namespace

Status RunOpsBatch(BatchInput* input, const BatchOptions& options, std::FILE* out,
                   BatchSummary* summary) {
  DB_FAULT_PATH("batch");
  DB_ASSIGN_OR_RETURN(Store * store, options.open_store());
  size_t group_size = std::max<size_t>(1, options.group_size);
  OpsGroup group(store, out, summary);
  std::string text;
  size_t line = 0;
  std::optional<CsvHeader> header;  // CSV: the first non-blank line names the columns
  while (input->NextLine(&text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (input->format() == BatchFormat::kCsv && !header) {
      auto h = ParseCsvHeader(text);
      if (!h.ok()) return h.status().Annotate(fmt::format("line {}", line));
      header = std::move(h).value();
      continue;
    }
    ++summary->events;
    OpLine l = header ? ParseCsvOpLine(*header, text, line) : ParseOpLine(text, line);
    if (l.status.ok() && l.event.key.empty() && options.auto_keys) {
      l.event.key = AutoKey(options.key_root.empty() ? input->hash() : options.key_root,
                            std::to_string(line));
    }
    if (!group.Add(&l)) {
      DB_RETURN_IF_ERROR(group.Flush());
      group.Add(&l);
    }
    if (group.size() >= group_size) DB_RETURN_IF_ERROR(group.Flush());
  }
  if (group.size() > 0) DB_RETURN_IF_ERROR(group.Flush());
  return Status::Ok();
}

}  // namespace drovebank
