// A one-line progress bar for long operations (import-legacy, recover --full).
//
// It draws only on a terminal: when the stream is not a tty (a pipe, a file, CI) nothing
// is ever written, so redirected output and --json stay byte-for-byte clean. Redraws are
// rate-limited (at most one per `min_interval`), and nothing is drawn before the first
// interval has passed, so quick operations never flash a bar. The bar uses only text,
// '\r' and spaces (no escape sequences), so NO_COLOR and dumb terminals are unaffected.
//
//   ProgressBar bar("importing accounts", total);
//   for (...) bar.Update(done);
//   bar.Done();  // erases the line (the destructor does it too)
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace drovebank {

struct ProgressOptions {
  std::FILE* stream = stderr;
  // Draw even when `stream` is not a terminal. Only for tests of the drawing itself.
  bool force = false;
  std::chrono::milliseconds min_interval{100};
  // Columns to fit in; 0 asks the terminal (TIOCGWINSZ), falling back to 80.
  int width = 0;
};

class ProgressBar {
 public:
  // `total` may be 0 when unknown (then only the count is shown); see set_total.
  ProgressBar(std::string label, std::uint64_t total, ProgressOptions options = {});
  ~ProgressBar() { Done(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records progress; redraws when the interval has passed since the last draw, or when
  // `done` reaches the total and a bar is already showing.
  void Update(std::uint64_t done);
  void set_total(std::uint64_t total) { total_ = total; }
  // Erases the bar if one is showing and stops drawing. Safe to call twice.
  void Done();

  bool enabled() const { return enabled_; }

  // The line for `done` of `total` fitted to `width` columns (exposed for tests).
  static std::string Render(const std::string& label, std::uint64_t done, std::uint64_t total,
                            int width);

 private:
  void Draw(std::uint64_t done);

  std::string label_;
  std::uint64_t total_;
  ProgressOptions options_;
  bool enabled_ = false;
  size_t shown_ = 0;  // characters of the line on screen, 0 when none
  std::chrono::steady_clock::time_point last_;
};

}  // namespace drovebank
