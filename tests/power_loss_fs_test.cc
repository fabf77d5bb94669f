// The power-loss model's raw file-system helpers as a module (src/testing/power_loss_fs.h):
// paths made absolute and normal, what an entry is and when two are the same, reading a
// file through any descriptor, rewriting and removing entries. The model built on them is
// power_loss_env_test.cc.
#include "testing/power_loss_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace drovebank {
namespace {

using namespace power_loss;
using testing::PathExists;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;

TEST_CASE("power loss fs: paths are absolute and normal; parent, base name and join agree",
          "[power_loss_fs]") {
  std::string cwd = std::filesystem::current_path().string();
  CHECK(Normalize("/a/b/") == "/a/b");
  CHECK(Normalize("/a/./b/../c") == "/a/c");
  CHECK(Normalize("/") == "/");
  CHECK(Normalize("d/") == cwd + "/d");
  CHECK(Normalize("./d") == cwd + "/d");
  CHECK(Parent("/a/b") == "/a");
  CHECK(Parent("/a") == "/");
  CHECK(Parent("a") == ".");
  CHECK(BaseName("/a/b") == "b");
  CHECK(BaseName("b") == "b");
  CHECK(Join("/", "a") == "/a");
  CHECK(Join("/a", "b") == "/a/b");
  for (const std::string p : {"/x/y/z", "/x"}) CHECK(Join(Parent(p), BaseName(p)) == p);
}

TEST_CASE("power loss fs: an entry is a file by inode, a link by target, a directory by kind",
          "[power_loss_fs]") {
  TempDir dir;
  Spit(dir / "f", "x");
  REQUIRE(::link((dir / "f").c_str(), (dir / "hard").c_str()) == 0);
  Spit(dir / "g", "x");
  REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
  REQUIRE(::mkdir((dir / "d").c_str(), 0750) == 0);

  auto f = LookUp(dir / "f");
  auto hard = LookUp(dir / "hard");
  auto g = LookUp(dir / "g");
  auto l = LookUp(dir / "l");
  auto d = LookUp(dir / "d");
  REQUIRE((f.ok() && hard.ok() && g.ok() && l.ok() && d.ok()));
  REQUIRE((f->has_value() && l->has_value() && d->has_value()));
  CHECK((*f)->kind == Kind::kFile);
  CHECK(SameEntry(**f, **hard));   // one inode under two names
  CHECK_FALSE(SameEntry(**f, **g));  // same bytes, another inode
  CHECK((*l)->kind == Kind::kSymlink);
  CHECK((*l)->target == "f");
  CHECK((*d)->kind == Kind::kDir);
  CHECK((*d)->mode == 0750);
  Entry other_link = **l;
  other_link.target = "g";
  CHECK_FALSE(SameEntry(**l, other_link));
  CHECK(SameEntry(**d, Entry{Kind::kDir, {}, 0700, ""}));
  CHECK_FALSE(SameEntry(**f, **l));

  auto none = LookUp(dir / "missing");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto under_file = LookUp(dir / "f/x");  // ENOTDIR: nothing by that name either
  REQUIRE(under_file.ok());
  CHECK_FALSE(under_file->has_value());
}

TEST_CASE("power loss fs: a file is read through any descriptor, rewritten and removed",
          "[power_loss_fs]") {
  TempDir dir;
  Spit(dir / "f", std::string(70000, 'a') + "end");  // longer than one read
  int wo = ::open((dir / "f").c_str(), O_WRONLY | O_CLOEXEC);
  int path_only = ::open((dir / "f").c_str(), O_PATH | O_CLOEXEC);
  REQUIRE((wo >= 0 && path_only >= 0));
  for (int fd : {wo, path_only}) {
    auto text = ReadFd(fd);
    REQUIRE(text.ok());
    CHECK(*text == std::string(70000, 'a') + "end");
  }
  ::close(wo);
  ::close(path_only);

  REQUIRE(WriteWhole(dir / "f", "short", 0600, /*create=*/false).ok());
  CHECK(Slurp(dir / "f") == "short");
  CHECK_FALSE(WriteWhole(dir / "f", "x", 0600, /*create=*/true).ok());  // exists already
  REQUIRE(WriteWhole(dir / "new", "made", 0640, /*create=*/true).ok());
  CHECK(Slurp(dir / "new") == "made");
  REQUIRE(::symlink((dir / "new").c_str(), (dir / "link").c_str()) == 0);
  CHECK_FALSE(WriteWhole(dir / "link", "through", 0600, false).ok());  // never through a link
  CHECK(Slurp(dir / "new") == "made");

  std::filesystem::create_directories(dir / "d/e");
  Spit(dir / "d/e/f", "x");
  REQUIRE(RemoveEntry(dir / "d", Kind::kDir).ok());
  CHECK_FALSE(PathExists(dir / "d"));
  REQUIRE(RemoveEntry(dir / "link", Kind::kSymlink).ok());
  CHECK_FALSE(PathExists(dir / "link"));
  CHECK(PathExists(dir / "new"));
  CHECK(RemoveEntry(dir / "gone", Kind::kFile).ok());  // already gone: fine
}

}  // namespace
}  // namespace drovebank
