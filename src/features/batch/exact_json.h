// Batch input's JSON with exact numbers: the parsing behind ParseOpLine and the customer
// format (drovebank/batch.h), private to the features library so that no public header
// carries nlohmann::json. The tests and fuzz_batch reach it as white-box code.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "drovebank/batch.h"
#include "batch_parse.h"
#include "drovebank/money.h"
#include "drovebank/status.h"

namespace drovebank {

// Parses JSON text like nlohmann::json::parse, except that every non-integer number
// (fraction or exponent, or an integer too large for 64 bits) is kept as its original
// text in a binary value (which JSON text itself can never produce), so money is never
// rounded through a double. InvalidArgument with the position on a syntax error.
Result<nlohmann::json> ParseExactJson(std::string_view text);

// Money from a value of ParseExactJson: an integer (whole units), an exact number text
// ("570.25") or a string ("570.25"); at most two decimals, no sign or exponent, at most
// kMaxCents. InvalidArgument naming `what` otherwise.
Result<Cents> JsonMoney(const nlohmann::json& v, std::string_view what);

// ParseOpLine (drovebank/batch.h) for an object already parsed (ParseExactJson), e.g.
// built from a CSV row.
OpLine ParseOpObject(const nlohmann::json& object, size_t line);

}  // namespace drovebank
