// Shared by the libFuzzer targets: a property check that stops the run with a message.
// A failed FUZZ_CHECK is a finding exactly like a sanitizer report: libFuzzer saves the
// input as crash-* and scripts/fuzz counts the target as failed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace drovebank::fuzz {

inline std::string_view AsView(const std::uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// A small number taken from the front of the input (consumed), for targets that need a
// parameter besides the text.
inline std::uint32_t TakeU32(std::string_view* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4 && !in->empty(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
  }
  return v;
}

}  // namespace drovebank::fuzz
