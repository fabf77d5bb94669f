// Installing a file as a module (src/store/file_installer.h): the content goes to this
// table's spare and takes the target's place in one exchange (the old version becomes the
// spare), a hard-linked or symbolic-link spare is never written through, and on a shared
// file system the target is rewritten in place, keeping its inode.
#include "store/file_installer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "lock_test_util.h"
#include "store/layout.h"

namespace drovebank {
namespace {

using testing::NewLayout;
using testing::Slurp;
using testing::Spit;
using testing::Table;
using testing::TempDir;

ino_t InodeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_ino;
}

TEST_CASE("file installer: the spare takes the target's place, the old version becomes the "
          "spare",
          "[file_installer]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto table = Table(layout);
  std::string target = layout.root() + "/x";
  Spit(target, "old version");
  std::string spare = *table->SparePath();

  FileInstaller in(table.get(), target);
  CHECK_FALSE(in.written());
  REQUIRE(in.WriteTemp("new version").ok());
  CHECK(in.written());
  CHECK(Slurp(target) == "old version");  // nothing installed yet
  CHECK(Slurp(spare) == "new version");
  REQUIRE(in.InstallOver(target).ok());
  CHECK_FALSE(in.written());
  CHECK(Slurp(target) == "new version");
  CHECK(Slurp(spare) == "old version");  // exchanged, reused next time

  // A shorter version is cut to its own length.
  REQUIRE(in.WriteTemp("v3").ok());
  REQUIRE(in.InstallOver(target).ok());
  CHECK(Slurp(target) == "v3");

  // Forget leaves the target as it is; a moved-from installer has nothing written.
  REQUIRE(in.WriteTemp("never installed").ok());
  FileInstaller moved(std::move(in));
  CHECK(moved.written());
  CHECK_FALSE(in.written());  // NOLINT(bugprone-use-after-move): the contract says so
  moved.Forget();
  CHECK_FALSE(moved.written());
  CHECK(Slurp(target) == "v3");
}

TEST_CASE("file installer: a spare that is a hard link or a symbolic link is replaced, never "
          "written through",
          "[file_installer]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto table = Table(layout);
  std::string target = layout.root() + "/x";
  std::string spare = *table->SparePath();
  Spit(target, "old");

  Spit(dir / "backup", "a backup's bytes");
  ::unlink(spare.c_str());
  REQUIRE(::link((dir / "backup").c_str(), spare.c_str()) == 0);
  FileInstaller in(table.get(), target);
  REQUIRE(in.WriteTemp("new").ok());
  CHECK(Slurp(dir / "backup") == "a backup's bytes");
  CHECK(InodeOf(spare) != InodeOf(dir / "backup"));
  REQUIRE(in.InstallOver(target).ok());
  CHECK(Slurp(target) == "new");

  Spit(dir / "victim", "not yours");
  ::unlink(spare.c_str());
  REQUIRE(::symlink((dir / "victim").c_str(), spare.c_str()) == 0);
  REQUIRE(in.WriteTemp("newer").ok());
  CHECK(Slurp(dir / "victim") == "not yours");
  REQUIRE(in.InstallOver(target).ok());
  CHECK(Slurp(target) == "newer");
}

TEST_CASE("file installer: on a shared file system the target is rewritten in place",
          "[file_installer]") {
  TempDir dir;
  Layout layout = NewLayout(dir);
  auto t = LockTable::Open(DefaultEnv(), layout, StorageMode{.shared = true}, false);
  REQUIRE(t.ok());
  std::string target = layout.root() + "/x";
  Spit(target, "a longer old version");
  ino_t before = InodeOf(target);

  FileInstaller in(t->get(), target);
  REQUIRE(in.WriteTemp("new").ok());
  CHECK(in.written());
  CHECK(Slurp(target) == "a longer old version");
  REQUIRE(in.InstallOver(target).ok());
  CHECK_FALSE(in.written());
  CHECK(Slurp(target) == "new");  // cut to the new length
  CHECK(InodeOf(target) == before);
  CHECK_FALSE(testing::PathExists(layout.tmp() + "/spare-0"));  // no spare in shared mode
}

}  // namespace
}  // namespace drovebank
