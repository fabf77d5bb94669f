// The storage mode as a module (src/store/storage_mode.h): the mode is what the Env says of
// the data directory's accounts folder, and KeepUncached grows a writable file of fixed
// layout (never a read-only one, never in local mode). What shared mode changes end to end
// is shared_fs_test.cc.
#include "store/storage_mode.h"

#include <fcntl.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "drovebank/env_wrapper.h"
#include "store/layout.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::TempDir;

// An Env that says every path is on a shared file system, or none, and notes what it was
// asked about.
class SharedSays final : public EnvWrapper {
 public:
  SharedSays(bool shared) : EnvWrapper(DefaultEnv()), shared_(shared) {}
  bool IsShared(const std::string& path) override {
    asked.push_back(path);
    return shared_;
  }
  std::vector<std::string> asked;

 private:
  bool shared_;
};

std::uint64_t SizeOf(Env* env, int fd) { return env->StatFd(fd)->size; }

TEST_CASE("storage mode: shared exactly when the Env says the accounts folder is",
          "[storage_mode]") {
  Layout layout("/somewhere/data");
  for (bool shared : {false, true}) {
    SharedSays env(shared);
    CHECK(DecideStorageMode(&env, layout).shared == shared);
    CHECK(env.asked == std::vector<std::string>{layout.accounts()});
  }
}

TEST_CASE("storage mode: KeepUncached grows a writable file in shared mode only",
          "[storage_mode]") {
  TempDir dir;
  Env* env = DefaultEnv();
  auto open = [&](const std::string& name, int flags) {
    auto fd = env->Open(dir / name, flags, 0600);
    REQUIRE(fd.ok());
    return *fd;
  };
  REQUIRE(dir.Write("local", "abc"));
  REQUIRE(dir.Write("shared", "abc"));
  REQUIRE(dir.Write("reader", "abc"));
  REQUIRE(dir.Write("big", ""));

  int local = open("local", O_RDWR);
  KeepUncached(env, StorageMode{.shared = false}, local, /*writable=*/true);
  CHECK(SizeOf(env, local) == 3);

  int shared = open("shared", O_RDWR);
  KeepUncached(env, StorageMode{.shared = true}, shared, /*writable=*/true);
  CHECK(SizeOf(env, shared) == Env::kUncachedBytes);
  CHECK(*env->ReadFile(dir / "shared") == "abc" + std::string(Env::kUncachedBytes - 3, '\0'));

  int reader = open("reader", O_RDONLY);
  KeepUncached(env, StorageMode{.shared = true}, reader, /*writable=*/false);
  CHECK(SizeOf(env, reader) == 3);  // a reader leaves the store as it found it

  int big = open("big", O_RDWR);
  REQUIRE(env->Truncate(big, Env::kUncachedBytes + 5).ok());
  KeepUncached(env, StorageMode{.shared = true}, big, /*writable=*/true);
  CHECK(SizeOf(env, big) == Env::kUncachedBytes + 5);  // never shortened

  for (int fd : {local, shared, reader, big}) REQUIRE(env->Close(fd).ok());
}

}  // namespace
}  // namespace drovebank
