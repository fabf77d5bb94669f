// The one walk of the sharded account tree (accounts/AA/BB/CC/DD.csv, docs/FORMAT.md): every
// reader of "which accounts have files" (list, search, reports, tab completion, recover)
// goes through it, so they all agree on what counts as an account file.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "drovebank/env.h"
#include "drovebank/status.h"
#include "drovebank/validate.h"

namespace drovebank {

// Visits account files in ascending id order, with the path of each. Only two-digit shard
// folders and DD.csv names count, and id 0 is none: anything else under accounts/ is not
// an account and is neither visited nor touched. A folder that does not exist (no accounts
// yet, or removed while walking) is empty; one that cannot be listed for another reason
// fails the walk. Only ids whose zero-padded 8 digits start with `padded_prefix` are
// visited ("" for all), and folders that cannot hold one are not listed. `visit` returns
// false to stop; its error stops the walk and is returned.
Status WalkAccountTree(
    Env* env, const std::string& accounts_dir, std::string_view padded_prefix,
    const std::function<Result<bool>(AccountId, const std::string& path)>& visit);

}  // namespace drovebank
