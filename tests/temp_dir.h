// The tests' one scratch directory: a fresh directory under $TMPDIR (else /tmp), mode
// 0700, removed with everything in it at scope end.
//
//   TempDir dir;                     // drovebank-test-XXXXXX
//   std::string data = dir / "data"; // or dir.Path("data")
//   dir.Write("plan.csv", "...");    // makes parent directories
//
// Throws std::runtime_error when the directory cannot be made, so a test never runs on "".
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace drovebank::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "drovebank-test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& rel) const { return path_ + "/" + rel; }
  std::string operator/(const std::string& rel) const { return Path(rel); }
  // Writes `content` to Path(rel), creating parent directories; false on failure.
  bool Write(const std::string& rel, const std::string& content) const {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(Path(rel)).parent_path(), ec);
    std::ofstream f(Path(rel), std::ios::binary | std::ios::trunc);
    f << content;
    return static_cast<bool>(f);
  }

 private:
  std::string path_;
};

}  // namespace drovebank::testing
