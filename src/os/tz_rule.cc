#include "tz_rule.h"

namespace drovebank {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Reads 1 to `max_digits` digits into *v, at most `max`.
bool Number(std::string_view& s, int max_digits, int max, int* v) {
  int n = 0;
  *v = 0;
  while (n < max_digits && !s.empty() && IsDigit(s[0])) {
    *v = *v * 10 + (s[0] - '0');
    s.remove_prefix(1);
    ++n;
  }
  return n > 0 && *v <= max;
}

bool Name(std::string_view& s) {
  size_t n = 0;
  if (!s.empty() && s[0] == '<') {
    while (n + 1 < s.size() &&
           (IsAlpha(s[n + 1]) || IsDigit(s[n + 1]) || s[n + 1] == '+' || s[n + 1] == '-')) {
      ++n;
    }
    if (n < 3 || n + 1 >= s.size() || s[n + 1] != '>') return false;
    s.remove_prefix(n + 2);
    return true;
  }
  while (n < s.size() && IsAlpha(s[n])) ++n;
  s.remove_prefix(n);
  return n >= 3;
}

// [+-]h[h][:mm[:ss]], hours at most `max_hours`.
bool Offset(std::string_view& s, int max_hours) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  int v;
  if (!Number(s, max_hours > 99 ? 3 : 2, max_hours, &v)) return false;
  for (int part = 0; part < 2 && !s.empty() && s[0] == ':'; ++part) {
    s.remove_prefix(1);
    if (!Number(s, 2, 59, &v)) return false;
  }
  return true;
}

bool Rule(std::string_view& s) {
  int v;
  if (!s.empty() && s[0] == 'J') {
    s.remove_prefix(1);
    if (!Number(s, 3, 365, &v) || v < 1) return false;
  } else if (!s.empty() && s[0] == 'M') {
    s.remove_prefix(1);
    if (!Number(s, 2, 12, &v) || v < 1 || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!Number(s, 1, 5, &v) || v < 1 || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!Number(s, 1, 6, &v)) return false;
  } else if (!Number(s, 3, 365, &v)) {
    return false;
  }
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    return Offset(s, 167);
  }
  return true;
}

}  // namespace

bool IsPosixTzRule(std::string_view s) {
  if (!Name(s) || !Offset(s, 24)) return false;
  if (s.empty()) return true;
  if (!Name(s)) return false;
  if (!s.empty() && s[0] != ',' && !Offset(s, 24)) return false;
  if (s.empty()) return true;  // the default rules (glibc's posixrules)
  if (s[0] != ',') return false;
  s.remove_prefix(1);
  if (!Rule(s) || s.empty() || s[0] != ',') return false;
  s.remove_prefix(1);
  return Rule(s) && s.empty();
}

}  // namespace drovebank
