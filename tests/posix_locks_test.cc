// PosixEnv's byte locks as a module (src/os/posix_locks.cc): open-file-description locks
// of one byte, exclusive or shared, seen from another description, released by unlock or
// close. The waits built on them are byte_wait_test.cc and lock_fairness_test.cc.
#include <fcntl.h>

#include <catch2/catch.hpp>
#include <string>

#include "drovebank/env.h"
#include "os/posix_env.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::TempDir;

TEST_CASE("posix env: ByteLocked sees another description's lock, also on a read-only one") {
  TempDir dir;
  Env* env = PosixEnv();
  auto a = env->Open(dir / "t", O_RDWR | O_CREAT, 0600);
  auto b = env->Open(dir / "t", O_RDONLY, 0);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK_FALSE(*env->ByteLocked(*b, 7));
  REQUIRE(env->LockByte(*a, 7, false).ok());
  CHECK(*env->ByteLocked(*b, 7));
  CHECK_FALSE(*env->ByteLocked(*b, 8));
  CHECK_FALSE(*env->ByteLocked(*a, 7));  // its own lock is no conflict
  REQUIRE(env->Close(*a).ok());          // closing releases it
  CHECK_FALSE(*env->ByteLocked(*b, 7));
  REQUIRE(env->Close(*b).ok());
}

TEST_CASE("posix locks: shared holds coexist and keep an exclusive one out, per byte",
          "[posix_locks]") {
  TempDir dir;
  Env* env = PosixEnv();
  int a = *env->Open(dir / "t", O_RDWR | O_CREAT, 0600);
  int b = *env->Open(dir / "t", O_RDONLY, 0);  // a reader's description
  int c = *env->Open(dir / "t", O_RDWR, 0);
  REQUIRE(env->LockByteShared(a, 3).ok());
  REQUIRE(env->LockByteShared(b, 3).ok());      // a read lock on a read-only descriptor
  CHECK(env->LockByte(c, 3, /*wait=*/false).code() == Code::kBusy);
  CHECK(*env->ByteLocked(c, 3));
  CHECK(env->LockByte(c, 4, /*wait=*/false).ok());  // the next byte is another lock
  CHECK(env->LockByteShared(a, 4).code() == Code::kBusy);
  REQUIRE(env->UnlockByte(a, 3).ok());
  CHECK(env->LockByte(c, 3, /*wait=*/false).code() == Code::kBusy);  // b still holds it
  REQUIRE(env->UnlockByte(b, 3).ok());
  CHECK(env->LockByte(c, 3, /*wait=*/false).ok());
  CHECK(env->LockByte(c, 3, /*wait=*/false).ok());  // its own lock again: no conflict
  CHECK(env->WaitLockByte(c, 3).ok());
  CHECK(env->LockByteShared(b, 3).code() == Code::kBusy);
  for (int fd : {a, b, c}) REQUIRE(env->Close(fd).ok());
}

}  // namespace
}  // namespace drovebank
