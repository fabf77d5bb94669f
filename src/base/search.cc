#include "drovebank/search.h"

#include "unicode.h"

namespace drovebank {

Result<AccountQuery> AccountQuery::Parse(std::string_view text) {
  if (!IsUtf8(text)) return Status::InvalidArgument("search text is not valid UTF-8");
  AccountQuery q;
  q.folded_ = SearchFold(text);
  if (q.folded_.empty()) {
    return Status::InvalidArgument("search needs some text (not only spaces)");
  }
  if (q.folded_.find_first_not_of("0123456789") == std::string::npos) {
    if (auto id = ParseAccountId(q.folded_); id.ok()) q.id_ = *id;
  }
  return q;
}

bool AccountQuery::Matches(const Account& a) const {
  if (id_ != 0 && a.id == id_) return true;
  std::string first = SearchFold(a.first), last = SearchFold(a.last);
  auto joined = [](const std::string& x, const std::string& y) {
    return x.empty() || y.empty() ? x + y : x + " " + y;
  };
  return joined(first, last).find(folded_) != std::string::npos ||
         joined(last, first).find(folded_) != std::string::npos;
}

}  // namespace drovebank
