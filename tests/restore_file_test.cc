// Rewriting an account file from the journal as a module (src/store/restore_file.cc,
// StoreImpl::ReplaceAccountFile, reached here through recover --full): each repaired file
// is reported once with what it held, a file that differs from the journal is copied to
// quarantine/ byte for byte before it is replaced, a file merely behind or missing is not
// kept, and the file written is the journal's state.
#include <filesystem>
#include <map>

#include <catch2/catch.hpp>
#include <string>

#include "drovebank/file_repair.h"
#include "drovebank/recovery.h"
#include "store/layout.h"
#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

namespace fs = std::filesystem;
using namespace testing;

TEST_CASE("restore file: edited, missing and set-back files are each restored and reported "
          "once; only the edited one is kept",
          "[restore_file]") {
  TempDir dir;
  std::string data = dir / "data";
  Layout layout(data);
  std::string old3;
  {
    auto s = MustOpenStore(data, DefaultEnv());
    for (int i = 0; i < 3; ++i) MustOpen(*s, 1000 * (i + 1));
    old3 = Slurp(layout.AccountPath(3));  // a genuine older state of account 3
    REQUIRE(s->Commit(Event{{Money(OpKind::kDeposit, 3, 7)}, ""}).ok());
  }
  std::map<AccountId, std::string> good;
  for (AccountId id : {1, 2, 3}) good[id] = Slurp(layout.AccountPath(id));

  std::string edited = good[1];
  size_t at = edited.find(",10.00,");
  REQUIRE(at != std::string::npos);
  edited.replace(at, 7, ",99.00,");
  Spit(layout.AccountPath(1), edited);
  REQUIRE(::unlink(layout.AccountPath(2).c_str()) == 0);
  Spit(layout.AccountPath(3), old3);

  RecoverOptions o;
  o.data_dir = data;
  o.full = true;
  RecoverReport r;
  REQUIRE(Recover(o, &r).ok());

  std::map<AccountId, int> reported;
  std::map<AccountId, FileRepair> repair;
  for (const FileRepair& f : r.repairs) {
    ++reported[f.id];
    repair[f.id] = f;
  }
  CHECK(reported == std::map<AccountId, int>{{1, 1}, {2, 1}, {3, 1}});
  CHECK(repair[1].found == FileRepair::Found::kEdited);
  CHECK(repair[1].file == "accounts/00/00/00/01.csv");
  REQUIRE(repair[1].file_said);
  CHECK(repair[1].file_said->balance == 9900);
  CHECK(repair[1].journal.balance == 1000);
  REQUIRE_FALSE(repair[1].kept_as.empty());
  CHECK(Slurp(data + "/" + repair[1].kept_as) == edited);  // byte for byte
  CHECK(repair[2].found == FileRepair::Found::kMissing);
  CHECK(repair[2].kept_as.empty());
  CHECK(repair[3].found == FileRepair::Found::kBehind);
  CHECK(repair[3].kept_as.empty());  // every state it held is in the journal

  size_t quarantined = 0;
  for (const auto& e : fs::directory_iterator(layout.quarantine())) {
    (void)e;
    ++quarantined;
  }
  CHECK(quarantined == 1);
  for (AccountId id : {1, 2, 3}) {
    INFO("account " << id);
    CHECK(Slurp(layout.AccountPath(id)) == good[id]);
  }
}

}  // namespace
}  // namespace drovebank
