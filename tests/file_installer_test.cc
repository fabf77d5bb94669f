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

// A store's layout in a scratch directory, its lock table with its spare, and a target
// file x in the data directory holding `old`.
struct Installing {
  explicit Installing(const std::string& old) { Spit(target, old); }
  TempDir dir;
  Layout layout = NewLayout(dir);
  std::unique_ptr<LockTable> table = Table(layout);
  std::string target = layout.root() + "/x";
  std::string spare = *table->SparePath();
};

ino_t InodeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_ino;
}

TEST_CASE("file installer: the spare takes the target's place, the old version becomes the "
          "spare",
          "[file_installer]") {
  Installing f("old version");

  FileInstaller in(f.table.get(), f.target);
  CHECK_FALSE(in.written());
  REQUIRE(in.WriteTemp("new version").ok());
  CHECK(in.written());
  CHECK(Slurp(f.target) == "old version");  // nothing installed yet
  CHECK(Slurp(f.spare) == "new version");
  REQUIRE(in.InstallOver(f.target).ok());
  CHECK_FALSE(in.written());
  CHECK(Slurp(f.target) == "new version");
  CHECK(Slurp(f.spare) == "old version");  // exchanged, reused next time

  // A shorter version is cut to its own length.
  REQUIRE(in.WriteTemp("v3").ok());
  REQUIRE(in.InstallOver(f.target).ok());
  CHECK(Slurp(f.target) == "v3");

  // Forget leaves the target as it is; a moved-from installer has nothing written.
  REQUIRE(in.WriteTemp("never installed").ok());
  FileInstaller moved(std::move(in));
  CHECK(moved.written());
  CHECK_FALSE(in.written());  // NOLINT(bugprone-use-after-move): the contract says so
  moved.Forget();
  CHECK_FALSE(moved.written());
  CHECK(Slurp(f.target) == "v3");
}

TEST_CASE("file installer: a spare that is a hard link or a symbolic link is replaced, never "
          "written through",
          "[file_installer]") {
  Installing f("old");

  Spit(f.dir / "backup", "a backup's bytes");
  ::unlink(f.spare.c_str());
  REQUIRE(::link((f.dir / "backup").c_str(), f.spare.c_str()) == 0);
  FileInstaller in(f.table.get(), f.target);
  REQUIRE(in.WriteTemp("new").ok());
  CHECK(Slurp(f.dir / "backup") == "a backup's bytes");
  CHECK(InodeOf(f.spare) != InodeOf(f.dir / "backup"));
  REQUIRE(in.InstallOver(f.target).ok());
  CHECK(Slurp(f.target) == "new");

  Spit(f.dir / "victim", "not yours");
  ::unlink(f.spare.c_str());
  REQUIRE(::symlink((f.dir / "victim").c_str(), f.spare.c_str()) == 0);
  REQUIRE(in.WriteTemp("newer").ok());
  CHECK(Slurp(f.dir / "victim") == "not yours");
  REQUIRE(in.InstallOver(f.target).ok());
  CHECK(Slurp(f.target) == "newer");
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
