// Line input: GNU readline for people at a terminal, plain getline for scripts.
//
// Why our own getc for readline: with readline's signal handling on, Ctrl-C while typing
// would kill the program; with it off, readline just restarts its read. Reading the
// character ourselves lets Ctrl-C end the line (discarded, like psql) by returning a
// newline while the interrupt flag says the line does not count.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

// After <cstdio>: readline.h uses FILE without including it.
// clang-format off
#include <readline/history.h>
#include <readline/readline.h>
// clang-format on

#include "shell.h"
#include "shell_internal.h"

namespace drovebank {

InputLine StreamLineSource::Read(const std::string& prompt) {
  (void)prompt;
  char* buf = nullptr;
  size_t cap = 0;
  for (;;) {
    errno = 0;
    ssize_t n = ::getline(&buf, &cap, in_);
    if (n >= 0) {
      ++line_;
      std::string text(buf, static_cast<size_t>(n));
      std::free(buf);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      return {InputLine::kLine, std::move(text)};
    }
    if (errno == EINTR) {
      std::clearerr(in_);
      if (shell_interrupts::Take()) {
        std::free(buf);
        return {InputLine::kInterrupted, ""};
      }
      continue;
    }
    std::free(buf);
    return {InputLine::kEnd, ""};
  }
}

// Why glibc's FILE fields: stdio has no call that says whether a whole line is buffered
// (gnulib's freadahead reads the same two fields on glibc). Elsewhere the buffer is taken
// as empty, which at worst lets go of the store for a line that was there.
bool StreamLineSource::Ready() const {
#ifdef __GLIBC__
  const char* at = in_->_IO_read_ptr;
  const char* end = in_->_IO_read_end;
  if (at != nullptr && at < end && std::memchr(at, '\n', static_cast<size_t>(end - at)) != nullptr) {
    return true;
  }
#endif
  pollfd p = {::fileno(in_), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;  // a line's bytes, or the end of the input
}

std::string DefaultHistoryFile() {
  // Only $HOME: getpwuid would need NSS libraries that the static build cannot load.
  const char* home = std::getenv("HOME");
  return home == nullptr || *home == 0 ? "" : std::string(home) + "/.drovebank_history";
}

namespace {

// readline's callbacks are plain functions: they reach the shell through these.
CliContext* g_ctx = nullptr;
bool g_interrupted = false;
std::vector<std::string> g_candidates;
size_t g_next_candidate = 0;

int InterruptibleGetc(FILE* in) {
  for (;;) {
    unsigned char c;
    ssize_t n = ::read(::fileno(in), &c, 1);
    if (n == 1) return c;
    if (n == 0) return EOF;
    if (errno != EINTR) return EOF;
    if (shell_interrupts::Take()) {
      g_interrupted = true;
      rl_echo_signal_char(SIGINT);  // "^C", as bash shows it
      return '\n';
    }
  }
}

char* NextCandidate(const char* text, int state) {
  (void)text;
  if (state == 0) g_next_candidate = 0;
  if (g_next_candidate >= g_candidates.size()) return nullptr;
  return ::strdup(g_candidates[g_next_candidate++].c_str());
}

char** Complete(const char* text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1;  // no file names, unless the word is one
  if (g_ctx == nullptr) return nullptr;
  auto before = TokenizeShellLine(std::string_view(rl_line_buffer, static_cast<size_t>(start)));
  if (!before.ok()) return nullptr;
  Completion c = CompletionFor(*g_ctx, *before, text);
  if (c.files) {
    rl_attempted_completion_over = 0;  // readline's own file name completion
    return nullptr;
  }
  g_candidates = std::move(c.words);
  if (g_candidates.empty()) return nullptr;
  return rl_completion_matches(text, NextCandidate);
}

class ReadlineSource : public LineSource {
 public:
  ReadlineSource(CliContext& ctx, std::string history_file)
      : history_file_(std::move(history_file)) {
    g_ctx = &ctx;
    rl_readline_name = "drovebank";
    rl_catch_signals = 0;
    rl_getc_function = InterruptibleGetc;
    rl_attempted_completion_function = Complete;
    // Why: by default a Tab that completes part of a word (`--p` to `--page`) hides that
    // `--page-size` fits too until a third Tab. Listing the choices at once is what the
    // shell's user needs; an ~/.inputrc, read at the first readline(), still decides.
    rl_variable_bind("show-all-if-ambiguous", "on");
    using_history();
    stifle_history(kHistoryLines);
    if (!history_file_.empty()) {
      // The history names accounts and amounts: private to its owner from the start.
      int fd = ::open(history_file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0) ::close(fd);
      (void)read_history(history_file_.c_str());
    }
    shell_interrupts::Install();
  }

  ~ReadlineSource() override {
    if (!history_file_.empty()) (void)history_truncate_file(history_file_.c_str(), kHistoryLines);
    shell_interrupts::Restore();
    rl_attempted_completion_function = nullptr;
    rl_getc_function = rl_getc;
    g_ctx = nullptr;
  }

  InputLine Read(const std::string& prompt) override {
    (void)shell_interrupts::Take();  // a Ctrl-C during the last command is spent
    g_interrupted = false;
    char* line = ::readline(prompt.c_str());
    if (g_interrupted) {
      std::free(line);
      return {InputLine::kInterrupted, ""};
    }
    if (line == nullptr) return {InputLine::kEnd, ""};
    ++line_;
    std::string text = line;
    std::free(line);
    return {InputLine::kLine, std::move(text)};
  }

  bool interactive() const override { return true; }
  size_t line_number() const override { return line_; }

  void Remember(const std::string& line) override {
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    HIST_ENTRY* last =
        history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
    if (last != nullptr && line == last->line) return;
    add_history(line.c_str());
    // Appended at once, so a killed session keeps its history and parallel sessions
    // interleave (as bash's histappend does).
    if (!history_file_.empty()) (void)append_history(1, history_file_.c_str());
  }

 private:
  static constexpr int kHistoryLines = 1000;
  std::string history_file_;
  size_t line_ = 0;
};

}  // namespace

std::unique_ptr<LineSource> MakeReadlineSource(CliContext& ctx, std::string history_file) {
  return std::make_unique<ReadlineSource>(ctx, std::move(history_file));
}

}  // namespace drovebank
