// Shell-style word splitting for the shell's command lines (contract in shell.h). Why not
// CLI11's own string parse: names like "Mary Ann" and O'Brien need the quoting people
// already know from sh, including the '"'"' idiom, and errors must be values.
#include <fmt/format.h>

#include "shell.h"

namespace drovebank {

Result<std::vector<std::string>> TokenizeShellLine(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // true once a word has started, even if it is "" so far
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    char c = line[i];
    if (blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '#' && !in_word) {
      break;  // comment to the end of the line
    } else if (c == '\'') {
      size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return Status::InvalidArgument(
            fmt::format("unterminated ' quote starting at column {}", i + 1));
      }
      word.append(line.substr(i + 1, end - i - 1));
      in_word = true;
      i = end + 1;
    } else if (c == '"') {
      size_t j = i + 1;
      for (;;) {
        if (j >= line.size()) {
          return Status::InvalidArgument(
              fmt::format("unterminated \" quote starting at column {}", i + 1));
        }
        char d = line[j];
        if (d == '"') break;
        if (d == '\\' && j + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[j + 1]) != std::string_view::npos) {
          word.push_back(line[j + 1]);
          j += 2;
          continue;
        }
        word.push_back(d);
        ++j;
      }
      in_word = true;
      i = j + 1;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) {
        return Status::InvalidArgument("a backslash at the end of the line escapes nothing");
      }
      word.push_back(line[i + 1]);
      in_word = true;
      i += 2;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace drovebank
