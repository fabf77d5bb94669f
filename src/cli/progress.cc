#include "progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

namespace drovebank {

namespace {

int TerminalWidth(std::FILE* stream) {
  struct winsize ws {};
  if (::ioctl(::fileno(stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, std::uint64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(total), options_(options) {
  enabled_ =
      options_.stream != nullptr && (options_.force || ::isatty(::fileno(options_.stream)) == 1);
  // The first draw waits one interval: an operation that ends sooner shows nothing.
  last_ = std::chrono::steady_clock::now();
}

std::string ProgressBar::Render(const std::string& label, std::uint64_t done, std::uint64_t total,
                                int width) {
  // One column short of the width: writing the last column makes some terminals wrap.
  size_t room = static_cast<size_t>(std::max(width, 20) - 1);
  std::string counts;
  std::uint64_t shown_done = total > 0 ? std::min(done, total) : done;
  if (total > 0) {
    counts = fmt::format(" {}/{} {:>3}%", shown_done, total, shown_done * 100 / total);
  } else {
    counts = fmt::format(" {}", done);
  }
  std::string head = label.substr(0, room / 2);
  size_t fixed = head.size() + counts.size() + 3;  // " [" and "]"
  std::string line = head;
  if (total > 0 && room > fixed + 5) {
    size_t cells = room - fixed;
    size_t full = static_cast<size_t>(shown_done * cells / total);
    line += " [" + std::string(full, '#') + std::string(cells - full, '.') + "]";
  }
  line += counts;
  if (line.size() > room) line.resize(room);
  return line;
}

void ProgressBar::Draw(std::uint64_t done) {
  int width = options_.width > 0 ? options_.width : TerminalWidth(options_.stream);
  std::string line = Render(label_, done, total_, width);
  // Spaces over whatever the previous, longer line left, then back to the start.
  size_t pad = shown_ > line.size() ? shown_ - line.size() : 0;
  fmt::print(options_.stream, "\r{}{}", line, std::string(pad, ' '));
  std::fflush(options_.stream);
  shown_ = line.size();
  last_ = std::chrono::steady_clock::now();
}

void ProgressBar::Update(std::uint64_t done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  bool finished = total_ > 0 && done >= total_;
  if (now - last_ >= options_.min_interval || (finished && shown_ > 0)) Draw(done);
}

void ProgressBar::Done() {
  if (!enabled_) return;
  enabled_ = false;
  if (shown_ == 0) return;
  fmt::print(options_.stream, "\r{}\r", std::string(shown_, ' '));
  std::fflush(options_.stream);
  shown_ = 0;
}

}  // namespace drovebank
