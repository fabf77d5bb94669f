// The branch/customer input format: parsing and validation of the whole file up front, so
// a bad input changes nothing.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "drovebank/batch.h"
#include "batch_parse.h"
#include "exact_json.h"

namespace drovebank {

namespace {

using json = nlohmann::json;

Status OnlyFields(const json& j, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
  for (const auto& [field, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
      return Status::InvalidArgument(fmt::format("{}: unexpected field \"{}\"", where, field));
    }
  }
  return Status::Ok();
}

Result<std::uint64_t> IdField(const json& j, std::string_view where) {
  if (!j.contains("id") || !j["id"].is_number_unsigned()) {
    return Status::InvalidArgument(
        fmt::format("{}: \"id\" must be a non-negative integer", where));
  }
  return j["id"].get<std::uint64_t>();
}

Result<CustomerEvent> ParseEvent(const json& e, std::string_view where) {
  if (!e.is_object()) return Status::InvalidArgument(fmt::format("{}: not an object", where));
  DB_RETURN_IF_ERROR(OnlyFields(e, {"id", "interface", "money"}, where));
  CustomerEvent ev;
  DB_ASSIGN_OR_RETURN(ev.id, IdField(e, where));
  std::string w = fmt::format("{} (event {})", where, ev.id);
  if (!e.contains("interface") || !e["interface"].is_string()) {
    return Status::InvalidArgument(fmt::format("{}: \"interface\" must be a string", w));
  }
  std::string name = e["interface"].get<std::string>();
  if (name == "query") {
    ev.interface = Interface::kQuery;
  } else if (name == "deposit") {
    ev.interface = Interface::kDeposit;
  } else if (name == "withdraw") {
    ev.interface = Interface::kWithdraw;
  } else {
    return Status::InvalidArgument(fmt::format(
        "{}: unknown interface \"{}\" (expected query, deposit or withdraw)", w, name));
  }
  if (ev.interface == Interface::kQuery) {
    if (e.contains("money")) {
      return Status::InvalidArgument(fmt::format("{}: a query takes no \"money\"", w));
    }
    return ev;
  }
  if (!e.contains("money")) {
    return Status::InvalidArgument(fmt::format("{}: a {} needs \"money\"", w, name));
  }
  DB_ASSIGN_OR_RETURN(ev.money, JsonMoney(e["money"], fmt::format("{}: money", w)));
  if (ev.money == 0) {
    return Status::InvalidArgument(fmt::format("{}: money must be above 0", w));
  }
  return ev;
}

Result<Customer> ParseCustomer(const json& item, std::string_view where) {
  DB_RETURN_IF_ERROR(OnlyFields(item, {"id", "type", "events"}, where));
  Customer c;
  DB_ASSIGN_OR_RETURN(c.id, IdField(item, where));
  std::string w = fmt::format("customer {}", c.id);
  if (!item.contains("events") || !item["events"].is_array()) {
    return Status::InvalidArgument(fmt::format("{}: \"events\" must be an array", w));
  }
  std::set<std::uint64_t> ids;
  size_t n = 0;
  for (const json& e : item["events"]) {
    DB_ASSIGN_OR_RETURN(CustomerEvent ev, ParseEvent(e, fmt::format("{}, event #{}", w, ++n)));
    if (!ids.insert(ev.id).second) {
      return Status::InvalidArgument(fmt::format("{}: event id {} appears twice", w, ev.id));
    }
    c.events.push_back(ev);
  }
  std::sort(c.events.begin(), c.events.end(),
            [](const CustomerEvent& a, const CustomerEvent& b) { return a.id < b.id; });
  return c;
}

}  // namespace

Result<CustomerBatch> ParseCustomerBatch(std::string_view text) {
  DB_ASSIGN_OR_RETURN(json root, ParseExactJson(text));
  if (!root.is_array()) {
    return Status::InvalidArgument("the input must be a JSON array of branches and customers");
  }
  CustomerBatch batch;
  std::set<std::uint64_t> customer_ids;
  std::optional<std::uint64_t> first_branch;
  size_t n = 0;
  for (const json& item : root) {
    std::string where = fmt::format("entry #{}", ++n);
    if (!item.is_object() || !item.contains("type") || !item["type"].is_string()) {
      return Status::InvalidArgument(
          fmt::format("{}: expected an object with \"type\": \"customer\" or \"branch\"", where));
    }
    std::string type = item["type"].get<std::string>();
    if (type == "customer") {
      DB_ASSIGN_OR_RETURN(Customer c, ParseCustomer(item, where));
      if (!customer_ids.insert(c.id).second) {
        return Status::InvalidArgument(fmt::format("customer {} appears twice", c.id));
      }
      batch.customers.push_back(std::move(c));
    } else if (type == "branch") {
      DB_RETURN_IF_ERROR(OnlyFields(item, {"id", "type", "balance"}, where));
      DB_ASSIGN_OR_RETURN(std::uint64_t id, IdField(item, where));
      if (!item.contains("balance")) {
        return Status::InvalidArgument(fmt::format("branch {}: missing \"balance\"", id));
      }
      DB_ASSIGN_OR_RETURN(Cents balance,
                          JsonMoney(item["balance"], fmt::format("branch {}: balance", id)));
      if (batch.branch_balance && *batch.branch_balance != balance) {
        return Status::InvalidArgument(fmt::format(
            "branches disagree on the balance: branch {} has {}, branch {} has {}",
            *first_branch, FormatExactMoney(*batch.branch_balance), id,
            FormatExactMoney(balance)));
      }
      batch.branch_balance = balance;
      if (!first_branch) first_branch = id;
    } else {
      return Status::InvalidArgument(fmt::format(
          "{}: unknown type \"{}\" (expected customer or branch)", where, type));
    }
  }
  return batch;
}

std::string CustomerResultJson(std::uint64_t id, const std::vector<std::string>& recv) {
  std::string s = fmt::format("{{\"id\": {}, \"recv\": [", id);
  for (size_t i = 0; i < recv.size(); ++i) {
    if (i > 0) s += ", ";
    s += recv[i];
  }
  s += "]}";
  return s;
}

}  // namespace drovebank
