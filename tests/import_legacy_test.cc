// The import-legacy engine as a module (ImportLegacy, include/drovebank/import_legacy.h,
// src/features/import/import_legacy.cc), in process: each planned account opened with its
// legacy id under the key legacy-<id>, in groups; a re-run or the same data already here is
// "already imported", other data a conflict left unchanged; the original's ids reserved; a
// directory that is not there refused with nothing changed. The planner is
// legacy_import_test.cc; the command through the real program import_legacy_e2e_test.cc.
#include "drovebank/import_legacy.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "store_ops.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::MustOpenStore;
using testing::OpenOp;
using testing::TempDir;

// An original data directory: accounts 1, 2 and 10, index.idx naming 12 as the last id.
std::string LegacyData(const TempDir& dir) {
  REQUIRE(dir.Write("legacy/1.txt", "Ann,Lee,100.0\n"));
  REQUIRE(dir.Write("legacy/2.txt", "Bob,Kay,50.25\n"));
  REQUIRE(dir.Write("legacy/10.txt", "Cy,Dee,7\n"));
  REQUIRE(dir.Write("legacy/index.idx", "12\n"));
  return dir / "legacy";
}

// LegacyData, and a store made beside it in `dir`/data.
struct LegacyAndStore {
  std::string legacy;
  std::unique_ptr<Store> store;
};
LegacyAndStore WithStore(const TempDir& dir) {
  std::string legacy = LegacyData(dir);
  return {legacy, MustOpenStore(dir / "data", DefaultEnv())};
}

std::vector<ImportOutcome> Outcomes(const ImportReport& r) {
  std::vector<ImportOutcome> out;
  for (const ImportedAccount& a : r.accounts) out.push_back(a.outcome);
  return out;
}

TEST_CASE("import legacy: accounts keep their ids and keys, ids are reserved, a re-run "
          "changes nothing",
          "[import_legacy]") {
  TempDir dir;
  auto [legacy, s] = WithStore(dir);
  ImportOptions o;
  o.group_size = 2;
  std::vector<size_t> progress;
  o.progress = [&](size_t done, size_t total) {
    CHECK(total == 3);
    progress.push_back(done);
  };
  auto r = ImportLegacy(s.get(), legacy, o);
  REQUIRE(r.ok());
  using O = ImportOutcome;
  CHECK(Outcomes(*r) == std::vector<O>{O::kImported, O::kImported, O::kImported});
  CHECK(progress == std::vector<size_t>{2, 3});
  CHECK(r->ExitCode() == 0);
  CHECK(r->reserve_txn != 0);
  CHECK(r->next_id == 13);
  CHECK(s->Get(2)->balance == 5025);
  CHECK(s->Get(10)->first == "Cy");
  auto keyed = s->FindKey(LegacyImportKey(10));
  REQUIRE(keyed.ok());
  REQUIRE(keyed->has_value());
  CHECK((*keyed)->ops[0].id == 10);
  CHECK(LegacyImportKey(10) == "legacy-10");
  auto fresh = s->Commit(Event{{OpenOp("New", "Person", 0)}, ""});
  REQUIRE(fresh.ok());
  CHECK(fresh->record.ops[0].id == 13);  // past index.idx, not past the largest file

  auto again = ImportLegacy(s.get(), legacy, ImportOptions{});
  REQUIRE(again.ok());
  CHECK(Outcomes(*again) ==
        std::vector<O>{O::kAlreadyImported, O::kAlreadyImported, O::kAlreadyImported});
  CHECK(again->reserve_txn == 0);
  CHECK(again->ExitCode() == 0);
  CHECK(again->Count(O::kAlreadyImported) == 3);
}

TEST_CASE("import legacy: the same account here is already imported, another is a conflict "
          "left unchanged",
          "[import_legacy]") {
  TempDir dir;
  auto [legacy, s] = WithStore(dir);
  // Opened here by other means: 1 as the legacy file says, 2 with other data.
  Op same = OpenOp("Ann", "Lee", 10000);
  same.id = 1;
  REQUIRE(s->Commit(Event{{same}, ""})->status.ok());
  Op other = OpenOp("Zed", "Other", 99);
  other.id = 2;
  REQUIRE(s->Commit(Event{{other}, ""})->status.ok());

  auto r = ImportLegacy(s.get(), legacy, ImportOptions{});
  REQUIRE(r.ok());
  using O = ImportOutcome;
  CHECK(Outcomes(*r) == std::vector<O>{O::kAlreadyImported, O::kConflict, O::kImported});
  CHECK(r->accounts[1].message.find("left unchanged") != std::string::npos);
  CHECK(s->Get(2)->first == "Zed");
  CHECK(s->Get(2)->balance == 99);
  CHECK(r->ExitCode() == 3);
  CHECK(ImportOutcomeName(O::kAlreadyImported) == "already-imported");
  CHECK(ImportOutcomeName(O::kConflict) == "conflict");
}

TEST_CASE("import legacy: a directory that is not there is refused, nothing committed",
          "[import_legacy]") {
  TempDir dir;
  auto s = MustOpenStore(dir / "data", DefaultEnv());
  auto r = ImportLegacy(s.get(), dir / "missing", ImportOptions{});
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().find("nothing changed") != std::string::npos);
  REQUIRE(dir.Write("file", "x"));
  CHECK(ImportLegacy(s.get(), dir / "file", ImportOptions{}).status().code() ==
        Code::kInvalidArgument);
  CHECK(s->MaxAccountId() == 0);
}

}  // namespace
}  // namespace drovebank
