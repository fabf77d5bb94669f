// Money is an exact count of minor units (cents) in an int64. No floating point anywhere.
//
// Contract: pure functions, no I/O. Parsing succeeds only for an exact amount within
// kMaxCents, else InvalidArgument and no value; AddCents past kMaxCents returns Limit
// instead of a sum. For 0 <= c <= kMaxCents, ParseAmount(FormatCents(c)) gives c back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "drovebank/status.h"

namespace drovebank {

using Cents = std::int64_t;

// The largest balance or amount drovebank accepts: 999,999,999,999.99.
// A result that would pass it is refused with Code::kLimit.
inline constexpr Cents kMaxCents = 99'999'999'999'999;

// Parses "123", "123.4" or "123.45" (digits, an optional point and one or two decimals).
// Refuses signs, exponents, hex, spaces, empty parts ("1.", ".5"), more than two decimals
// and anything above kMaxCents, with InvalidArgument naming the problem. Zero is accepted;
// callers that need a positive amount check that themselves.
Result<Cents> ParseAmount(std::string_view text);

// Formats as decimal text with exactly two places: 12345 -> "123.45", 5 -> "0.05".
// Negative values (never stored) format with a leading '-'.
std::string FormatCents(Cents cents);

// Adds within [0, kMaxCents]: Limit if the sum would pass the maximum.
Result<Cents> AddCents(Cents a, Cents b);

}  // namespace drovebank
