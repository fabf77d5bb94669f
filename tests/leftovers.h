// What a settled store must not hold: files in locks/ other than the three lock tables, a
// repair flag still set, files in tmp/ other than the reusable spares, NEEDS_RECOVERY.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/lockfile.h"

namespace drovebank::testing {

inline std::vector<std::string> Leftovers(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/locks")) {
    std::string name = e.path().filename().string();
    if (name == "accounts" || name == "keys" || name == "owners") continue;
    out.push_back(e.path().string());
  }
  for (const char* table : {"accounts", "keys"}) {
    std::ifstream in(dir + "/locks/" + table, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t end = std::string(table) == "keys" ? std::min<size_t>(bytes.size(), kKeySlots)
                                              : bytes.size();
    for (size_t i = 0; i < end; ++i) {
      if (bytes[i] == '1') out.push_back("repair flag set: " + std::string(table) + " slot " +
                                         std::to_string(i));
    }
  }
  for (const auto& e : fs::recursive_directory_iterator(dir + "/tmp")) {
    std::string name = e.path().filename().string();
    if (name.rfind("spare-", 0) == 0) continue;
    out.push_back(e.path().string());
  }
  if (fs::exists(dir + "/NEEDS_RECOVERY")) out.push_back("NEEDS_RECOVERY");
  return out;
}

}  // namespace drovebank::testing
