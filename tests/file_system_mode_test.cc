// Telling a shared file system from a local one as a module (src/os/file_system_mode.cc):
// DROVEBANK_FS forces either mode, a store not made yet is classified by its nearest
// existing folder, O_DIRECT reads are tried only in shared mode and only on a store, and
// the line for people says all of it. PosixEnv's behaviour in each mode is
// shared_fs_test.cc.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "drovebank/env.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::TempDir;

// DROVEBANK_FS set (nullopt: unset) for one scope, and put back.
struct FsScope : testing::EnvScope {
  explicit FsScope(std::optional<std::string> v) : EnvScope("DROVEBANK_FS", std::move(v)) {}
};

TEST_CASE("file system mode: DROVEBANK_FS forces the mode, and O_DIRECT is tried only on a "
          "shared store",
          "[file_system_mode]") {
  TempDir dir;
  {
    FsScope fs("shared");
    SharedFsMode none = FileSystemMode(dir / "data");  // no store yet: nothing to try
    CHECK(none.shared);
    CHECK(none.reason == "DROVEBANK_FS=shared");
    CHECK(none.reads.empty());
    REQUIRE(dir.Write("data/FORMAT", std::string(4096, 'f')));
    SharedFsMode store = FileSystemMode(dir / "data");
    CHECK(store.shared);
    CHECK((store.reads == "direct reads" ||
           store.reads.rfind("plain reads: the file system refuses O_DIRECT", 0) == 0));
  }
  {
    FsScope fs("local");
    SharedFsMode local = FileSystemMode(dir / "data");
    CHECK_FALSE(local.shared);
    CHECK(local.reason == "DROVEBANK_FS=local");
    CHECK(local.reads.empty());
  }
}

TEST_CASE("file system mode: a store not made yet is classified by its nearest existing folder",
          "[file_system_mode]") {
  TempDir dir;
  FsScope fs(std::nullopt);
  SharedFsMode here = FileSystemMode(dir.path());
  CHECK(here.type != "unknown");
  CHECK_FALSE(here.type.empty());
  SharedFsMode deep = FileSystemMode(dir / "not/made/yet");
  CHECK(deep.type == here.type);
  CHECK(deep.shared == here.shared);
  CHECK(deep.reason == here.reason);
}

TEST_CASE("file system mode: the line for people names the type, the mode and why",
          "[file_system_mode]") {
  SharedFsMode local;
  local.type = "ext4";
  local.reason = "a local file system";
  CHECK(FileSystemModeLine(local) == "file system: ext4, local mode (a local file system)");
  SharedFsMode shared;
  shared.shared = true;
  shared.type = "fuse.glusterfs";
  shared.reason = "a FUSE file system: other clients' caches are not coherent with ours";
  shared.reads = "direct reads";
  CHECK(FileSystemModeLine(shared) ==
        "file system: fuse.glusterfs, shared mode (a FUSE file system: other clients' caches "
        "are not coherent with ours; writes go through to the servers, reads bypass client "
        "caches, account files are rewritten in place; direct reads)");
}

}  // namespace
}  // namespace drovebank
