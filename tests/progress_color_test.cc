// The terminal helpers: the progress bar draws only where asked and erases itself; colour
// never reaches a file.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/color.h"
#include "cli/progress.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Contents;

ProgressOptions Forced(std::FILE* f, std::chrono::milliseconds interval) {
  ProgressOptions o;
  o.stream = f;
  o.force = true;
  o.min_interval = interval;
  o.width = 60;
  return o;
}

}  // namespace

TEST_CASE("progress: the rendered line fits the width and counts up to the total", "[progress]") {
  for (int width : {20, 40, 80, 200}) {
    for (std::uint64_t total : {0ULL, 1ULL, 7ULL, 1000000ULL}) {
      for (std::uint64_t done : {0ULL, 1ULL, 3ULL, 7ULL, 1000000ULL, 2000000ULL}) {
        std::string line = ProgressBar::Render("importing accounts", done, total, width);
        INFO("width " << width << " total " << total << " done " << done << ": " << line);
        CHECK(line.size() <= static_cast<size_t>(width - 1));
        CHECK(line.find('\n') == std::string::npos);
        CHECK(line.find('\033') == std::string::npos);
        if (total == 0) {
          CHECK(line.ends_with(" " + std::to_string(done)));
        } else if (width >= 80) {
          std::uint64_t shown = std::min(done, total);
          CHECK(line.find(std::to_string(shown) + "/" + std::to_string(total)) !=
                std::string::npos);
          CHECK(line.ends_with(std::to_string(shown * 100 / total) + "%"));
          size_t open = line.find('['), close = line.find(']');
          REQUIRE(open != std::string::npos);
          REQUIRE(close != std::string::npos);
          std::string cells = line.substr(open + 1, close - open - 1);
          CHECK(cells.find_first_not_of("#.") == std::string::npos);
          CHECK((cells.find('.') == std::string::npos) == (shown == total));
          if (shown == 0) CHECK(cells.find('#') == std::string::npos);
        }
      }
    }
  }
}

TEST_CASE("progress: nothing is written to a stream that is not a terminal", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    ProgressOptions o;
    o.stream = f;
    o.min_interval = std::chrono::milliseconds(0);
    ProgressBar bar("work", 10, o);
    CHECK_FALSE(bar.enabled());
    for (int i = 0; i <= 10; ++i) bar.Update(i);
  }
  CHECK(Contents(f).empty());
  std::fclose(f);
}

TEST_CASE("progress: a forced bar redraws in place and erases itself", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  ProgressBar bar("work", 10, Forced(f, std::chrono::milliseconds(0)));
  REQUIRE(bar.enabled());
  for (int i = 1; i <= 10; ++i) bar.Update(i);
  bar.Done();
  bar.Update(3);  // after Done: ignored
  std::string out = Contents(f);
  CHECK(out.find('\n') == std::string::npos);
  CHECK(out.find("3/10") != std::string::npos);
  CHECK(out.find("10/10 100%") != std::string::npos);
  // Ends by blanking the line and returning to its start.
  size_t last_cr = out.rfind('\r');
  REQUIRE(last_cr != std::string::npos);
  CHECK(last_cr == out.size() - 1);
  size_t blank_start = out.rfind('\r', last_cr - 1);
  std::string blank = out.substr(blank_start + 1, last_cr - blank_start - 1);
  CHECK(!blank.empty());
  CHECK(blank.find_first_not_of(' ') == std::string::npos);
  std::fclose(f);
}

TEST_CASE("progress: a long interval draws nothing for a quick operation", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    ProgressBar bar("work", 3, Forced(f, std::chrono::hours(1)));
    for (int i = 1; i <= 3; ++i) bar.Update(i);
  }
  CHECK(Contents(f).empty());
  std::fclose(f);
}

TEST_CASE("color: a file never gets escape sequences", "[color]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  const char* was = std::getenv("NO_COLOR");
  std::string saved = was != nullptr ? was : "";
  for (const char* no_color : {static_cast<const char*>(nullptr), "", "1"}) {
    if (no_color == nullptr) {
      ::unsetenv("NO_COLOR");
    } else {
      ::setenv("NO_COLOR", no_color, 1);
    }
    CHECK_FALSE(ColorEnabled(f));
    for (Style s : {Style::kError, Style::kWarn, Style::kOk, Style::kHeader}) {
      CHECK(Paint(f, s, "drovebank:") == "drovebank:");
    }
  }
  CHECK_FALSE(ColorEnabled(nullptr));
  if (was != nullptr) {
    ::setenv("NO_COLOR", saved.c_str(), 1);
  } else {
    ::unsetenv("NO_COLOR");
  }
  std::fclose(f);
}

}  // namespace drovebank
