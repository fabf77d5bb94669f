// Exact JSON numbers for batch inputs. nlohmann's DOM parser turns 570.1 into a double;
// its SAX interface still hands over the number's original text, which is what we keep.
#include <fmt/format.h>

#include "drovebank/batch.h"
#include "exact_json.h"

namespace drovebank {

namespace {

using json = nlohmann::json;

// Builds the DOM like nlohmann's own sax_dom_parser, except number_float.
class ExactSax : public nlohmann::json_sax<json> {
 public:
  explicit ExactSax(json* root) : root_(root) {}

  bool null() override { return Add(json(nullptr)); }
  bool boolean(bool v) override { return Add(json(v)); }
  bool number_integer(number_integer_t v) override { return Add(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Add(json(v)); }
  bool number_float(number_float_t, const string_t& s) override {
    return Add(json::binary(json::binary_t::container_type(s.begin(), s.end())));
  }
  bool string(string_t& v) override { return Add(json(std::move(v))); }
  bool binary(binary_t& v) override { return Add(json::binary(std::move(v))); }
  bool start_object(std::size_t) override {
    stack_.push_back(Add(json::object()) ? last_ : nullptr);
    return stack_.back() != nullptr;
  }
  bool key(string_t& k) override {
    if (stack_.back()->contains(k)) {
      error_ = fmt::format("duplicate key \"{}\"", k);
      return false;
    }
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    stack_.push_back(Add(json::array()) ? last_ : nullptr);
    return stack_.back() != nullptr;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& ex) override {
    error_ = fmt::format("invalid JSON at byte {} near '{}': {}", position,
                         token.substr(0, 20), ex.what());
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Add(json v) {
    if (stack_.empty()) {
      *root_ = std::move(v);
      last_ = root_;
    } else if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      last_ = &stack_.back()->back();
    } else {
      last_ = &((*stack_.back())[key_] = std::move(v));
    }
    return true;
  }

  json* root_;
  json* last_ = nullptr;
  std::vector<json*> stack_;
  std::string key_;
  std::string error_;
};

}  // namespace

Result<nlohmann::json> ParseExactJson(std::string_view text) {
  json root;
  ExactSax sax(&root);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const json::exception& e) {
    // sax_parse only throws for malformed UTF-8 handed to string(); report it as input.
    return Status::InvalidArgument(fmt::format("invalid JSON: {}", e.what()));
  }
  if (!ok) {
    return Status::InvalidArgument(sax.error().empty() ? "invalid JSON" : sax.error());
  }
  return root;
}

Result<Cents> JsonMoney(const nlohmann::json& v, std::string_view what) {
  if (v.is_number_unsigned()) {
    std::uint64_t u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(kMaxCents / 100)) {
      return Status::InvalidArgument(fmt::format("{} {} exceeds the maximum of {}", what, u,
                                                 FormatCents(kMaxCents)));
    }
    return static_cast<Cents>(u) * 100;
  }
  std::string text;
  if (v.is_binary()) {
    text.assign(v.get_binary().begin(), v.get_binary().end());
  } else if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer()) {
    return Status::InvalidArgument(fmt::format("{} must not be negative", what));
  } else {
    return Status::InvalidArgument(fmt::format("{} must be a number like 570.25", what));
  }
  auto cents = ParseAmount(text);
  if (!cents.ok()) return cents.status().Annotate(what);
  return cents;
}

std::string FormatExactMoney(Cents cents) {
  std::string s = FormatCents(cents);
  if (cents % 100 == 0) return s.substr(0, s.size() - 3);
  if (cents % 10 == 0) return s.substr(0, s.size() - 1);
  return s;
}

std::string AutoKey(const std::string& input_hash, std::string_view position) {
  return fmt::format("batch-{}-{}", input_hash, position);
}

}  // namespace drovebank
