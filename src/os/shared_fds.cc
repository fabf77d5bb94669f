#include "shared_fds.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "drovebank/env.h"

namespace drovebank {
namespace {

int Reopen(int fd, int flags) {
  std::string self = fmt::format("/proc/self/fd/{}", fd);
  int r;
  do {
    r = ::open(self.c_str(), flags | O_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace

AlignedBuf AllocAligned(size_t n) {
  return AlignedBuf(static_cast<char*>(std::aligned_alloc(kDirectAlign, n)));
}

Result<size_t> DirectPRead(int direct, char* buf, size_t n, std::uint64_t offset) {
  std::uint64_t start = offset & ~static_cast<std::uint64_t>(kDirectAlign - 1);
  size_t lead = static_cast<size_t>(offset - start);
  size_t len = (lead + n + kDirectAlign - 1) & ~(kDirectAlign - 1);
  AlignedBuf a = AllocAligned(len);
  if (!a) return Status::IOError("out of memory for a direct read");
  ssize_t r;
  do {
    r = ::pread(direct, a.get(), len, static_cast<off_t>(start));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrnoStatus(errno, "pread (O_DIRECT)");
  size_t got = static_cast<size_t>(r) > lead ? std::min(n, static_cast<size_t>(r) - lead) : 0;
  std::memcpy(buf, a.get() + lead, got);
  return got;
}

SharedFds::~SharedFds() {
  for (auto& [fd, sf] : fds_) {
    if (sf.direct >= 0 && sf.direct != fd) ::close(sf.direct);
    if (sf.refresh >= 0) ::close(sf.refresh);
  }
}

void SharedFds::Add(int fd, bool writable, bool no_refresh, bool opened_direct) {
  std::lock_guard<std::mutex> l(mu_);
  any_.store(true, std::memory_order_relaxed);
  fds_[fd] = SharedFd{.writable = writable, .no_refresh = no_refresh,
                      .direct = opened_direct ? fd : -1};
}

void SharedFds::Remove(int fd) {
  if (!any_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = fds_.find(fd); it != fds_.end()) {
    let_go_.Forget(fd);
    if (it->second.direct >= 0 && it->second.direct != fd) ::close(it->second.direct);
    if (it->second.refresh >= 0) {
      let_go_.Forget(it->second.refresh);
      ::close(it->second.refresh);
    }
    fds_.erase(it);
  }
}

bool SharedFds::Has(int fd) {
  if (!any_.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> l(mu_);
  return fds_.count(fd) != 0;
}

// Makes the client forget what it cached of the file: its size and, for a small file, its
// content. A GlusterFS client serves reads of a file under 64 KiB from the content its
// quick-read cache took at the last lookup, O_DIRECT ones too, for a second (measured: a
// counter incremented under a lock by six processes on two mounts lost 1 to 3 of 180);
// and it trusts its cached size for as long, clamping every read to it (an account file
// another host lengthened read cut short 40 times in 40). A setattr refreshes the size but
// not quick-read; an fallocate that allocates nothing (KEEP_SIZE, the first byte) goes to
// the servers, drops quick-read's copy and brings back the servers' attributes (0 lost in
// 3 x 180). It needs a writable descriptor: a read-only one gets a writable twin; where
// none can be had (a read-only store), reads may lag another host by that second.
void SharedFds::Refresh(int fd) {
  int target = -1;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) return;
    SharedFd& sf = it->second;
    if (sf.no_refresh) return;
    if (sf.writable) {
      target = fd;
    } else {
      if (sf.refresh < 0 && !sf.no_refresh) {
        sf.refresh = Reopen(fd, O_WRONLY);
        sf.no_refresh = sf.refresh < 0;
      }
      target = sf.refresh;
    }
  }
  if (target >= 0) {
    auto start = std::chrono::steady_clock::now();
    (void)::fallocate(target, FALLOC_FL_KEEP_SIZE, 0, 1);
    // The fallocate takes the file's write lock, as a write does. `target` may be the
    // writable twin, which is not registered itself.
    WroteShared(target, std::chrono::steady_clock::now() - start);
  }
}

void SharedFds::Wrote(int fd, std::chrono::steady_clock::duration took) {
  if (Has(fd)) WroteShared(fd, took);
}

void SharedFds::WroteShared(int fd, std::chrono::steady_clock::duration took) {
  if (took >= hand_over_) contended_.store(true, std::memory_order_relaxed);
  if (contended()) let_go_.After(fd);
}

void SharedFds::Waited(int fd, std::chrono::steady_clock::duration took) {
  if (took >= hand_over_ && Has(fd)) contended_.store(true, std::memory_order_relaxed);
}

int SharedFds::DirectOf(int fd) {
  if (!any_.load(std::memory_order_relaxed)) return -1;
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return -1;
  SharedFd& sf = it->second;
  if (sf.direct < 0 && !sf.no_direct) {
    sf.direct = Reopen(fd, O_RDONLY | O_DIRECT);
    sf.no_direct = sf.direct < 0;
  }
  return sf.direct;
}

void SharedFds::RefuseDirect(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  if (it->second.direct >= 0 && it->second.direct != fd) ::close(it->second.direct);
  // A descriptor opened O_DIRECT itself reads plainly once the flag is off (F_SETFL may
  // change O_DIRECT).
  if (int fl = ::fcntl(fd, F_GETFL); fl >= 0 && (fl & O_DIRECT)) (void)::fcntl(fd, F_SETFL, fl & ~O_DIRECT);
  it->second.direct = -1;
  it->second.no_direct = true;
}

std::uint64_t SharedFds::UncachedSize(int fd) {
  if (!any_.load(std::memory_order_relaxed)) return 0;
  std::lock_guard<std::mutex> l(mu_);
  auto it = fds_.find(fd);
  return it == fds_.end() ? 0 : it->second.uncached_size;
}

void SharedFds::SawSize(int fd, std::uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = fds_.find(fd); it != fds_.end()) {
    it->second.uncached_size = size >= Env::kUncachedBytes ? size : 0;
  }
}

}  // namespace drovebank
