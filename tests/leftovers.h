// What a settled store must not hold: in locks/ anything but the three lock tables, a
// repair flag still set in them, in tmp/ anything but the reusable spares, a *.tmp file
// anywhere else, NEEDS_RECOVERY. The same rules as scripts/settled.py's leftovers(), the
// Python drivers' settled-store check (which adds recover --check --full and the journal's
// agreement with the account files); change both together.
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
    bool table = e.path().parent_path() == fs::path(dir + "/locks") &&
                 (name == "accounts" || name == "keys" || name == "owners");
    if (!table) out.push_back(e.path().string());
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
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->path() == fs::path(dir + "/tmp")) {
      it.disable_recursion_pending();  // tmp/ has its own rule, above
      continue;
    }
    if (it->path().extension() == ".tmp") out.push_back(it->path().string());
  }
  if (fs::exists(dir + "/NEEDS_RECOVERY")) out.push_back("NEEDS_RECOVERY");
  return out;
}

}  // namespace drovebank::testing
