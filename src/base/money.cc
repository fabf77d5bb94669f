#include "drovebank/money.h"

#include <fmt/format.h>

#include "drovebank/validate.h"

namespace drovebank {

Result<Cents> ParseAmount(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("amount is empty");
  // Bounded before accumulating: 15 integer digits would already pass the maximum,
  // so a long run of digits can never overflow the int64.
  Cents whole = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '.'; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return Status::InvalidArgument(fmt::format(
          "amount '{}' is not a plain decimal number like 12.34", EscapeForTerminal(text)));
    }
    if (i >= 13) {
      return Status::InvalidArgument(fmt::format("amount '{}' exceeds the maximum of {}",
                                                 EscapeForTerminal(text), FormatCents(kMaxCents)));
    }
    whole = whole * 10 + (c - '0');
  }
  if (i == 0) {
    return Status::InvalidArgument(
        fmt::format("amount '{}' has no whole part", EscapeForTerminal(text)));
  }
  Cents frac = 0;
  if (i < text.size()) {
    std::string_view decimals = text.substr(i + 1);
    if (decimals.empty() || decimals.size() > 2) {
      return Status::InvalidArgument(
          fmt::format("amount '{}' must have one or two decimal places", EscapeForTerminal(text)));
    }
    for (char c : decimals) {
      if (c < '0' || c > '9') {
        return Status::InvalidArgument(fmt::format(
            "amount '{}' is not a plain decimal number like 12.34", EscapeForTerminal(text)));
      }
      frac = frac * 10 + (c - '0');
    }
    if (decimals.size() == 1) frac *= 10;
  }
  Cents total = whole * 100 + frac;
  if (total > kMaxCents) {
    return Status::InvalidArgument(fmt::format("amount '{}' exceeds the maximum of {}",
                                               EscapeForTerminal(text), FormatCents(kMaxCents)));
  }
  return total;
}

std::string FormatCents(Cents cents) {
  bool neg = cents < 0;
  // Unsigned arithmetic so INT64_MIN formats instead of overflowing.
  std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
  // By hand rather than fmt::format: a report of a million accounts formats a million.
  char buf[32];
  char* end = buf + sizeof buf;
  char* p = end;
  std::uint64_t c = u % 100;
  *--p = static_cast<char>('0' + c % 10);
  *--p = static_cast<char>('0' + c / 10);
  *--p = '.';
  std::uint64_t whole = u / 100;
  do {
    *--p = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  if (neg) *--p = '-';
  return std::string(p, end);
}

Result<Cents> AddCents(Cents a, Cents b) {
  if (a > kMaxCents - b) {
    return Status::Limit(fmt::format("the result would exceed the maximum balance of {}",
                                     FormatCents(kMaxCents)));
  }
  return a + b;
}

}  // namespace drovebank
