// The side table of descriptors below a shared root as a module (src/os/shared_fds.h): a
// descriptor never registered is not shared; a registered one gets an O_DIRECT twin on
// first ask (or none, once refused), remembers a size only from Env::kUncachedBytes up, and
// is forgotten with its twins; DirectPRead reads any unaligned range through a bounce
// buffer. PosixEnv's use of it is shared_fs_test.cc.
#include "os/shared_fds.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "drovebank/env.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Spit;
using testing::TempDir;

// The file's bytes: 3 blocks and a bit of a pattern no two offsets share in a row.
std::string Pattern() {
  std::string s(3 * kDirectAlign + 100, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

TEST_CASE("shared fds: registered descriptors only, a twin on first ask, sizes from the "
          "uncached size up",
          "[shared_fds]") {
  TempDir dir;
  Spit(dir / "f", Pattern());
  int fd = ::open((dir / "f").c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  SharedFds fds;
  CHECK_FALSE(fds.Has(fd));
  CHECK(fds.DirectOf(fd) == -1);
  CHECK(fds.UncachedSize(fd) == 0);
  fds.SawSize(fd, Env::kUncachedBytes);  // not registered: nothing kept
  CHECK(fds.UncachedSize(fd) == 0);

  fds.Add(fd, /*writable=*/true, /*no_refresh=*/false, /*opened_direct=*/false);
  CHECK(fds.Has(fd));
  fds.SawSize(fd, Env::kUncachedBytes - 1);
  CHECK(fds.UncachedSize(fd) == 0);
  fds.SawSize(fd, Env::kUncachedBytes + 7);
  CHECK(fds.UncachedSize(fd) == Env::kUncachedBytes + 7);

  int twin = fds.DirectOf(fd);
  if (twin >= 0) {  // the file system has O_DIRECT
    CHECK(twin != fd);
    CHECK((::fcntl(twin, F_GETFL) & O_DIRECT) == O_DIRECT);
    CHECK(fds.DirectOf(fd) == twin);  // kept, not reopened
  }
  fds.RefuseDirect(fd);
  CHECK(fds.DirectOf(fd) == -1);  // read plainly from now on
  fds.Refresh(fd);                // a writable descriptor: nothing to open, nothing breaks
  fds.Remove(fd);
  CHECK_FALSE(fds.Has(fd));
  CHECK(fds.UncachedSize(fd) == 0);
  ::close(fd);
}

TEST_CASE("shared fds: DirectPRead gives any range of the file, unaligned and past its end",
          "[shared_fds]") {
  TempDir dir;
  const std::string bytes = Pattern();
  Spit(dir / "f", bytes);
  int direct = ::open((dir / "f").c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (direct < 0) {
    WARN("no O_DIRECT on " << dir.path() << ": DirectPRead not tried");
    return;
  }
  struct Range {
    std::uint64_t offset;
    size_t n;
  };
  for (Range r : {Range{0, 10}, Range{5, 4096}, Range{4095, 2}, Range{4000, 5000},
                  Range{3 * 4096 + 90, 50}, Range{bytes.size(), 10}, Range{0, bytes.size()}}) {
    INFO(r.offset << "+" << r.n);
    std::string buf(r.n, '\0');
    auto got = DirectPRead(direct, buf.data(), r.n, r.offset);
    REQUIRE(got.ok());
    std::string want = r.offset < bytes.size() ? bytes.substr(r.offset, r.n) : "";
    CHECK(*got == want.size());
    CHECK(buf.substr(0, *got) == want);
  }
  ::close(direct);
  AlignedBuf a = AllocAligned(kDirectAlign);
  REQUIRE(a);
  CHECK(reinterpret_cast<std::uintptr_t>(a.get()) % kDirectAlign == 0);
}

}  // namespace
}  // namespace drovebank
