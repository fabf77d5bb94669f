// keys/index as a module (src/store/key_index.h): a slot's head and an account's head are
// 8-byte little-endian entries of one file, a missing file holds nothing, and a file cut
// inside an entry is corruption. The key look-ups built on it are in store_test.cc.
#include "store/key_index.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "store/lock_table.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Slurp;
using testing::Spit;
using testing::TempDir;

TEST_CASE("key index: a missing file holds no keys and no account heads", "[key_index]") {
  TempDir dir;
  KeyIndex index(DefaultEnv(), dir / "index");
  auto head = index.Head(7);
  REQUIRE(head.ok());
  CHECK(*head == 0);
  auto account = index.AccountHead(3);
  REQUIRE(account.ok());
  CHECK(*account == 0);
  CHECK_FALSE(testing::PathExists(dir / "index"));  // reading creates nothing
}

TEST_CASE("key index: slot and account heads are set apart and read back, across a reopen",
          "[key_index]") {
  TempDir dir;
  KeyIndex index(DefaultEnv(), dir / "index");
  const std::uint64_t big = 0x0102030405060708ULL;
  REQUIRE(index.SetHead(0, 11).ok());
  REQUIRE(index.SetHead(kKeySlots - 1, big).ok());
  REQUIRE(index.SetAccountHead(0, 22).ok());
  REQUIRE(index.SetAccountHead(5, 33).ok());

  KeyIndex again(DefaultEnv(), dir / "index");
  for (KeyIndex* i : {&index, &again}) {
    CHECK(*i->Head(0) == 11);
    CHECK(*i->Head(1) == 0);
    CHECK(*i->Head(kKeySlots - 1) == big);
    CHECK(*i->AccountHead(0) == 22);  // entry kKeySlots: past every key slot
    CHECK(*i->AccountHead(5) == 33);
    CHECK(*i->AccountHead(4) == 0);
  }
  index.Reopen();
  CHECK(*index.Head(kKeySlots - 1) == big);

  // Little-endian entries of 8 bytes: the file may be copied between machines.
  std::string bytes = Slurp(dir / "index");
  REQUIRE(bytes.size() == (kKeySlots + 6) * 8);
  CHECK(bytes.substr(0, 8) == std::string("\x0b\0\0\0\0\0\0\0", 8));
  CHECK(bytes.substr((kKeySlots - 1) * 8, 8) == "\x08\x07\x06\x05\x04\x03\x02\x01");
  CHECK(bytes.substr((kKeySlots + 5) * 8, 8) == std::string("\x21\0\0\0\0\0\0\0", 8));
}

TEST_CASE("key index: a slot out of range is refused, a file cut inside an entry is corruption",
          "[key_index]") {
  TempDir dir;
  KeyIndex index(DefaultEnv(), dir / "index");
  CHECK(index.Head(kKeySlots).status().code() == Code::kInternal);
  CHECK(index.SetHead(kKeySlots, 1).code() == Code::kInternal);
  CHECK_FALSE(testing::PathExists(dir / "index"));

  Spit(dir / "index", std::string(8 + 3, '\x01'));
  KeyIndex cut(DefaultEnv(), dir / "index");
  CHECK(*cut.Head(0) == 0x0101010101010101ULL);
  CHECK(cut.Head(1).status().code() == Code::kCorruption);
  CHECK(*cut.Head(2) == 0);  // past the end: never written
}

// A store whose journal holds records this format's writers committed has a whole
// keys/index from its start (CreateKeyIndex): missing, or shorter than its key slots, it
// was deleted or cut, and reading it as "no keys" would let a used key commit twice.
TEST_CASE("key index: required, a missing or cut-short file is corruption, never no keys",
          "[key_index]") {
  TempDir dir;
  const std::string path = dir / "index";
  {
    KeyIndex index(DefaultEnv(), path);
    index.set_required(true);
    auto head = index.Head(7);
    CHECK(head.status().code() == Code::kCorruption);
    CHECK(head.status().message().find(path + " is missing") != std::string::npos);
    // Nor does a write make it anew.
    CHECK(index.SetHead(7, 3).code() == Code::kCorruption);
    CHECK_FALSE(testing::PathExists(path));
  }
  REQUIRE(CreateKeyIndex(DefaultEnv(), path).ok());
  CHECK(static_cast<std::uint64_t>(testing::FileSize(path)) == kKeyIndexWholeBytes);
  {
    KeyIndex index(DefaultEnv(), path);
    index.set_required(true);
    REQUIRE(index.SetHead(7, 3).ok());
    CHECK(*index.Head(7) == 3);
  }
  // Every cut short of the key slots, from nothing to one byte short.
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{8}, std::uint64_t{4096},
                             kKeyIndexWholeBytes - 8, kKeyIndexWholeBytes - 1}) {
    INFO(size << " bytes");
    REQUIRE(::truncate(path.c_str(), static_cast<off_t>(size)) == 0);
    KeyIndex index(DefaultEnv(), path);
    index.set_required(true);
    auto head = index.Head(0);
    CHECK(head.status().code() == Code::kCorruption);
    CHECK(head.status().message().find("is cut short") != std::string::npos);
    KeyIndex optional(DefaultEnv(), path);  // not required: a short file is read as it is
    CHECK(optional.Head(0).ok());
  }
  // CreateKeyIndex grows a short file back without touching what it holds.
  REQUIRE(CreateKeyIndex(DefaultEnv(), path).ok());
  CHECK(static_cast<std::uint64_t>(testing::FileSize(path)) == kKeyIndexWholeBytes);
  KeyIndex index(DefaultEnv(), path);
  index.set_required(true);
  CHECK(*index.Head(0) == 0);
}

}  // namespace
}  // namespace drovebank
