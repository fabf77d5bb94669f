// The one walk of accounts/: what counts as an account file, the prefix filter, and a folder
// that cannot be listed, through the walker itself and through its callers (Store, recover).
#include "store/account_tree.h"

#include <boost/filesystem.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "drovebank/recovery.h"
#include "drovebank/store.h"
#include "drovebank/env_wrapper.h"
#include "test_util.h"
#include "os/posix_env.h"

namespace drovebank {
namespace {

using testing::TempDir;

std::string Padded(AccountId id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08u", static_cast<unsigned>(id));
  return buf;
}

// accounts/AA/BB/CC/DD.csv, written out here rather than taken from the store's layout code,
// so that the walker is checked against the format document, not against itself.
std::string AccountPath(AccountId id) {
  std::string p = Padded(id);
  return p.substr(0, 2) + "/" + p.substr(2, 2) + "/" + p.substr(4, 2) + "/" + p.substr(6, 2) +
         ".csv";
}

void Touch(const std::string& path) {
  boost::filesystem::create_directories(boost::filesystem::path(path).parent_path());
  std::ofstream(path) << "x\n";
}

std::vector<AccountId> Walk(Env* env, const std::string& dir, std::string_view prefix,
                            Status* status = nullptr) {
  std::vector<AccountId> ids;
  Status s =
      WalkAccountTree(env, dir, prefix, [&](AccountId id, const std::string&) -> Result<bool> {
        ids.push_back(id);
        return true;
      });
  if (status != nullptr)
    *status = s;
  else
    REQUIRE(s.ok());
  return ids;
}

// Fails ListDir of one folder with an I/O error, as a damaged disk or a permission would.
class UnlistableEnv : public EnvWrapper {
 public:
  explicit UnlistableEnv(std::string bad) : EnvWrapper(PosixEnv()), bad_(std::move(bad)) {}
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    if (p == bad_) return Status::IOError("listing " + p + ": Input/output error");
    return target()->ListDir(p);
  }

 private:
  std::string bad_;
};

TEST_CASE("account tree: only two-digit folders and DD.csv files are accounts, in id order",
          "[account_tree]") {
  TempDir t;
  const std::string acc = t / "accounts";
  for (const char* f : {"00/00/10/01.csv", "00/00/00/02.csv", "12/34/56/78.csv",
                        "00/00/00/00.csv",       // id 0: none
                        "00/00/00/03.csv.orig",  // an editor's backup
                        "00/00/00/3.csv",        // one digit
                        "00/00/00/04.txt",       // not .csv
                        "00/00/0a/05.csv",       // not digits
                        "00/000/00/06.csv",      // three-digit folder
                        "README", "00/notes.csv"}) {
    Touch(acc + "/" + f);
  }
  CHECK(Walk(PosixEnv(), acc, "") == std::vector<AccountId>{2, 1001, 12345678});
}

TEST_CASE("account tree: a prefix visits exactly the ids whose padded digits start with it",
          "[account_tree]") {
  TempDir t;
  const std::string acc = t / "accounts";
  std::vector<AccountId> all = {1, 9, 10, 19, 100, 101, 1001, 1010, 10000001, 99999999};
  for (AccountId id : all) Touch(acc + "/" + AccountPath(id));
  // Every prefix of every id's padded form, and some that match nothing.
  std::vector<std::string> prefixes = {"", "0", "9", "99999999", "000000", "0000001", "1"};
  for (AccountId id : all) {
    std::string padded = Padded(id);
    for (size_t n = 1; n <= 8; ++n) prefixes.push_back(padded.substr(0, n));
  }
  for (const std::string& p : prefixes) {
    std::vector<AccountId> want;
    for (AccountId id : all) {
      if (Padded(id).compare(0, p.size(), p) == 0) want.push_back(id);
    }
    INFO("prefix '" << p << "'");
    CHECK(Walk(PosixEnv(), acc, p) == want);
  }
}

TEST_CASE("account tree: a missing tree is empty, a folder that cannot be listed is an error",
          "[account_tree]") {
  TempDir t;
  const std::string acc = t / "accounts";
  CHECK(Walk(PosixEnv(), acc, "").empty());
  Touch(acc + "/00/00/00/01.csv");
  Touch(acc + "/00/00/00/02.csv");
  Touch(acc + "/00/01/00/01.csv");
  UnlistableEnv env(acc + "/00/00/00");
  Status s;
  Walk(&env, acc, "", &s);
  CHECK(s.code() == Code::kIOError);
  // A prefix that never reaches the bad folder does not list it.
  CHECK(Walk(&env, acc, "0001") == std::vector<AccountId>{10001});
}

TEST_CASE("account tree: a visitor's stop and its error end the walk", "[account_tree]") {
  TempDir t;
  const std::string acc = t / "accounts";
  for (AccountId id : {1u, 2u, 3u}) Touch(acc + "/" + AccountPath(id));
  std::vector<AccountId> seen;
  Status s =
      WalkAccountTree(PosixEnv(), acc, "", [&](AccountId id, const std::string&) -> Result<bool> {
        seen.push_back(id);
        return id < 2;
      });
  CHECK(s.ok());
  CHECK(seen == std::vector<AccountId>{1, 2});
  seen.clear();
  s = WalkAccountTree(PosixEnv(), acc, "", [&](AccountId id, const std::string&) -> Result<bool> {
    seen.push_back(id);
    if (id == 2) return Status::IOError("stop here");
    return true;
  });
  CHECK(s.code() == Code::kIOError);
  CHECK(seen == std::vector<AccountId>{1, 2});
}

TEST_CASE("account tree: recover --full fails on a shard folder it cannot list, and list does too",
          "[account_tree]") {
  TempDir t;
  {
    StoreOptions o;
    o.data_dir = t.path();
    auto s = Store::Open(o);
    REQUIRE(s.ok());
    for (int i = 0; i < 3; ++i) {
      Op op;
      op.kind = OpKind::kOpen;
      op.first = "Ada";
      op.last = "Lovelace";
      op.amount = 100;
      REQUIRE((*s)->Commit(Event{{op}, ""}).ok());
    }
  }
  UnlistableEnv env(t / "accounts/00/00/00");
  RecoverOptions ro;
  ro.data_dir = t.path();
  ro.env = &env;
  ro.full = true;
  ro.check_only = true;
  RecoverReport report;
  CHECK(Recover(ro, &report).code() == Code::kIOError);

  StoreOptions o;
  o.data_dir = t.path();
  o.env = &env;
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  auto listed = (*s)->List(0, 10);
  CHECK_FALSE(listed.ok());
}

}  // namespace
}  // namespace drovebank
