#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "drovebank/process_info.h"
#include "drovebank/cli.h"
#include "drovebank/color.h"
#include "drovebank/exit_codes.h"

namespace drovebank {

Result<Store*> CliContext::GetStore() {
  if (store) return store.get();
  StoreOptions opts;
  opts.data_dir = ResolveDataDir(data_dir);
  opts.lock_wait = extra_wait;
  opts.lock_wait.timeout_seconds = lock_timeout;
#ifdef DROVEBANK_FAULT_INJECTION
  // Tests shrink segments to exercise rotation and checkpoints; never in a release build.
  if (const char* seg = std::getenv("DROVEBANK_SEGMENT_BYTES")) {
    opts.segment_bytes = std::max<std::uint64_t>(1024, std::strtoull(seg, nullptr, 10));
  }
#endif
  DB_ASSIGN_OR_RETURN(store, Store::Open(opts));
  return store.get();
}

void CliContext::Fail(const Status& s) {
  exit_code = ExitCodeFor(s.code());
  std::string msg = s.message();
  if (s.code() == Code::kIOError || s.code() == Code::kInternal) {
    msg += s.maybe_applied() ? " (the change may have been applied: run `recover`)"
                             : " (nothing was changed)";
  }
  fmt::print(err, "{} {}\n", Paint(err, Style::kError, program + ":"), msg);
  if (json) {
    nlohmann::json j = {{"error", {{"code", CodeName(s.code())},
                                   {"message", msg},
                                   {"exit", exit_code},
                                   {"maybe_applied", s.maybe_applied()}}}};
    fmt::print(out, "{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  std::fflush(out);
  std::fflush(err);
}

void CliContext::Print(const nlohmann::json& value, const std::string& text) {
  exit_code = kExitOk;
  if (json) {
    fmt::print(out, "{}\n", value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print(out, "{}\n", text);
  }
  std::fflush(out);
}

nlohmann::json AccountJson(const Account& a) {
  return {{"id", a.id},
          {"first", a.first},
          {"last", a.last},
          {"balance", FormatCents(a.balance)},
          {"status", a.closed ? "closed" : "open"},
          {"version", a.version},
          {"last_txn", a.last_txn}};
}

nlohmann::json RecordJsonView(const Record& r) {
  nlohmann::json ops = nlohmann::json::array();
  for (const Op& op : r.ops) {
    nlohmann::json o = {{"kind", OpKindName(op.kind)},
                        {"id", op.id},
                        {"amount", FormatCents(op.amount)},
                        {"balance_after", FormatCents(op.after)}};
    if (op.kind == OpKind::kTransfer) {
      o["to"] = op.to;
      o["to_balance_after"] = FormatCents(op.to_after);
    }
    if (op.kind == OpKind::kOpen) {
      o["first"] = op.first;
      o["last"] = op.last;
    }
    if (!op.memo.empty()) o["memo"] = op.memo;
    ops.push_back(std::move(o));
  }
  nlohmann::json j = {{"txn", r.txn}, {"time", FormatTime(r.time_ms)}, {"ops", ops}};
  if (!r.key.empty()) j["key"] = r.key;
  if (r.reserve_ids != 0) j["reserve_ids"] = r.reserve_ids;
  if (r.reverses != 0) j["reverses"] = r.reverses;
  return j;
}

}  // namespace drovebank
