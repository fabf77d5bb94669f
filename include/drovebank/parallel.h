// Spreading independent blocking calls (file syncs, cache warming) over a few threads: a
// helper of the os and store libraries (PosixEnv warms inodes, repair syncs files), public
// because each library sees only its own folder of src/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <system_error>
#include <thread>
#include <vector>

namespace drovebank {

// Calls fn(i) for every i in [0, count) on at most `max_threads` threads, this one
// included, thread t taking i = t, t + threads, ...; returns when every call has returned.
// Where a thread cannot be made, its share runs on this one: only slower.
inline void ParallelFor(size_t count, size_t max_threads, const std::function<void(size_t)>& fn) {
  const size_t threads = std::min(count, max_threads);
  auto share = [&](size_t first) {
    for (size_t i = first; i < count; i += threads) fn(i);
  };
  std::vector<std::jthread> pool;  // joined as it goes out of scope
  for (size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(share, t);
    } catch (const std::system_error&) {
      share(t);
    }
  }
  if (threads > 0) share(0);
}

}  // namespace drovebank
