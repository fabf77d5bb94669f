// What `search TEXT` finds: the one test of Store::Search and of `search --all`.
#pragma once

#include <string>
#include <string_view>

#include "drovebank/account.h"
#include "drovebank/status.h"

namespace drovebank {

// An account matches when its name, "FIRST LAST" or "LAST FIRST", contains TEXT compared
// by Unicode rules: both folded by NFKC_Casefold (full case folding: "ÅNGSTRÖM" finds
// "Ångström", "STRASSE" finds "Straße"; compatibility forms: "ﬁ" finds "fi"), each run of
// white space one space. Accents are letters like any other: "angstrom" does not find
// "Ångström". A TEXT of digits only (after folding: fullwidth digits too) that is an
// account id also finds the account of that id, whatever its name.
class AccountQuery {
 public:
  // InvalidArgument for TEXT that is not UTF-8 or that has nothing but white space.
  static Result<AccountQuery> Parse(std::string_view text);

  bool Matches(const Account& a) const;

 private:
  AccountQuery() = default;
  std::string folded_;
  AccountId id_ = 0;  // the account an all-digit TEXT names; 0: none
};

}  // namespace drovebank
