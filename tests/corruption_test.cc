// Hostile and damaged files, through the real programs: every flipped bit and every
// truncation of an account file, garbage, another account's file, files the journal never
// had, and journal records torn at the end or damaged in the middle. Each must be detected
// (exit 5, the file named), block writes until `recover`, and be repaired from the journal
// or moved to quarantine/; nothing is silently dropped or deleted.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "require_run.h"
#include "test_util.h"

namespace drovebank {
namespace {

namespace fs = boost::filesystem;
using testing::Must;
using testing::Drovebank;
using testing::RunResult;
using testing::Recover;
using testing::TempDir;

const char* kFile1 = "accounts/00/00/00/01.csv";
const char* kFile2 = "accounts/00/00/00/02.csv";
const char* kSegment = "journal/0000000000000001.log";

using testing::Slurp;
using testing::Spit;
bool Exists(const std::string& path) { return testing::PathExists(path); }

void CopyTree(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (fs::recursive_directory_iterator it(from), end; it != end; ++it) {
    fs::path dest = fs::path(to) / fs::relative(it->path(), from);
    if (fs::is_directory(it->symlink_status())) {
      fs::create_directories(dest);
    } else {
      fs::copy_file(it->path(), dest);
    }
  }
  ::chmod(to.c_str(), 0700);
}


// Three accounts with hostile names and six journal records (one with a key).
void MakeStore(const std::string& data) {
  Must(Drovebank(data, {"open", "Ada", "Lovelace", "100"}));
  Must(Drovebank(data, {"open", "Mary Ann", "O'Brien, Jr.", "50"}));
  Must(Drovebank(data, {"open", "\"Ziggy\"", "=Stardust", "0"}));
  Must(Drovebank(data, {"deposit", "1", "5", "--txn", "pay-1"}));
  Must(Drovebank(data, {"transfer", "2", "1", "10"}));
  Must(Drovebank(data, {"withdraw", "2", "1.50"}));
}

// Every command that writes, on accounts other than 1; rotated through by the sweeps.
const std::vector<std::vector<std::string>> kWriters = {{"open", "Eve", "Moneypenny", "1"},
                                                        {"deposit", "2", "1"},
                                                        {"withdraw", "2", "1"},
                                                        {"transfer", "2", "3", "1"},
                                                        {"close", "3"},
                                                        {"deposit", "3", "2", "--txn", "k9"}};

// The damaged account 1 is refused by `show` or `deposit` with exit 5 naming the file; the
// store is then marked, so a write elsewhere is refused too, while reads of healthy
// accounts still work; `recover` rebuilds the file byte for byte from the journal.
void ExpectDetectedAndRebuilt(const std::string& data, const std::string& original, size_t n,
                              bool full = false) {
  RunResult r = n % 2 ? Drovebank(data, {"show", "1"}) : Drovebank(data, {"deposit", "1", "1"});
  INFO("detector stderr: " << r.err);
  CHECK(r.exit_code == 5);
  CHECK(r.err.find(kFile1) != std::string::npos);
  CHECK(Exists(data + "/NEEDS_RECOVERY"));
  RunResult w = Drovebank(data, kWriters[n % kWriters.size()]);
  INFO("writer stderr: " << w.err);
  CHECK(w.exit_code == 5);
  CHECK(w.err.find("recover") != std::string::npos);
  if (n % 4 == 0) CHECK(Drovebank(data, {"show", "2"}).exit_code == 0);
  RunResult rec = full ? Recover(data, {"--full"}) : Recover(data);
  INFO("recover: " << rec.out << rec.err);
  CHECK(rec.exit_code == 0);
  CHECK(Slurp(data + "/" + kFile1) == original);
  CHECK(!Exists(data + "/NEEDS_RECOVERY"));
  if (n % 8 == 0) {
    CHECK(Drovebank(data, {"show", "1"}).exit_code == 0);
    CHECK(Drovebank(data, kWriters[n % kWriters.size()]).exit_code == 0);
  }
}

TEST_CASE("corruption: every flipped bit of an account file is detected and rebuilt",
          "[corruption]") {
  TempDir tmp;
  std::string base = tmp / "base";
  MakeStore(base);
  const std::string original = Slurp(base + "/" + kFile1);
  REQUIRE(original.size() > 60);
  for (size_t pos = 0; pos < original.size(); ++pos) {
    std::string data = tmp / ("flip" + std::to_string(pos));
    CopyTree(base, data);
    std::string bad = original;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
    Spit(data + "/" + kFile1, bad);
    INFO("byte " << pos << " bit " << pos % 8);
    ExpectDetectedAndRebuilt(data, original, pos);
    fs::remove_all(data);
  }
}

// A forgery, not damage: every field of the account file changed by someone who knows the
// format and recomputes the CRC (EncodeAccountFile does exactly that). The CRC passes, so
// only the proof against the journal's record can tell; each must be refused like damage.
TEST_CASE("corruption: every field of an account file forged with its CRC fixed is detected and rebuilt",
          "[e2e][corruption][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  const std::string original = Slurp(data + "/" + kFile1);
  auto genuine = DecodeAccountFile(original, 1);
  REQUIRE(genuine.ok());
  std::vector<std::pair<std::string, std::function<void(Account&)>>> forgeries = {
      {"balance", [](Account& a) { a.balance = 100000000; }},
      {"balance by a cent", [](Account& a) { a.balance += 1; }},
      {"first name", [](Account& a) { a.first = "Mallory"; }},
      {"last name", [](Account& a) { a.last = "Lovelace-Forged"; }},
      {"status", [](Account& a) { a.closed = !a.closed; }},
      {"version", [](Account& a) { a.version += 1; }},
      {"last_txn to another record", [](Account& a) { a.last_txn = 2; }},
      {"last_txn past the journal", [](Account& a) { a.last_txn = 99; }},
      {"balance and version, as after a deposit", [](Account& a) {
         a.balance += 100000;
         a.version += 1;
         a.last_txn += 1;
       }},
  };
  size_t n = 0;
  for (const auto& [what, forge] : forgeries) {
    SECTION(what) {
      Account forged = *genuine;
      forge(forged);
      Spit(data + "/" + kFile1, EncodeAccountFile(forged));
      REQUIRE(DecodeAccountFile(Slurp(data + "/" + kFile1), 1).ok());  // the CRC passes
      // `recover --check` says so before anything reads it, naming the file (until
      // 2026-12-08 a plain check compared versions only: "consistent", exit 0, for every
      // forgery here).
      RunResult check = Recover(data, {"--check"});
      INFO("recover --check: " << check.out << check.err);
      CHECK(check.exit_code == 1);
      CHECK((check.out + check.err).find(kFile1) != std::string::npos);
      CHECK(!Exists(data + "/NEEDS_RECOVERY"));  // the check changes nothing
      ExpectDetectedAndRebuilt(data, original, n);
      // The forged bytes are kept, never deleted.
      CHECK(Exists(data + "/quarantine"));
    }
    ++n;
  }
}

// Reports read every account file, and most were last changed before the journal's
// checkpoint, where no record of the tail vouches for them: each file is proven against
// the record it names, as `show` proves it. A forged balance (CRC fixed) must never reach a
// total, a page or a search result.
TEST_CASE("corruption: a forged account file behind the checkpoint is refused by every report",
          "[e2e][corruption][integrity][reports]") {
  TempDir dir;
  std::string base = dir / "base";
  MakeStore(base);
  // A shell session checkpoints the journal when it ends: every record is behind it then.
  Must(testing::Drovebank(base, {}, {}, "show 2\n"));
  REQUIRE(Slurp(base + "/journal/CHECKPOINT").size() > 0);
  const std::string original = Slurp(base + "/" + kFile1);
  auto genuine = DecodeAccountFile(original, 1);
  REQUIRE(genuine.ok());
  const std::vector<std::vector<std::string>> reports = {
      {"balance"}, {"-O", "json", "balance"}, {"list"}, {"list", "--all"},
      {"search", "Lovelace"}, {"search", "1"}};
  size_t n = 0;
  for (const auto& report : reports) {
    std::string data = dir / ("r" + std::to_string(n++));
    CopyTree(base, data);
    Account forged = *genuine;
    forged.balance += 100000000;  // a million more
    Spit(data + "/" + kFile1, EncodeAccountFile(forged));
    RunResult r = Drovebank(data, report);
    INFO(report[0] << (report.size() > 1 ? " " + report[1] : "") << ": " << r.out << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.err.find(kFile1) != std::string::npos);
    // No forged million anywhere but in the error that names it (JSON output puts it there).
    std::string shown = r.out.substr(0, r.out.find("differs from the journal"));
    CHECK(shown.find("1000") == std::string::npos);
    RunResult rec = Recover(data);
    CHECK(rec.exit_code == 0);
    CHECK(Slurp(data + "/" + kFile1) == original);
    CHECK(Drovebank(data, report).exit_code == 0);
  }
}

TEST_CASE("corruption: every truncation of an account file is detected and rebuilt",
          "[corruption]") {
  TempDir tmp;
  std::string base = tmp / "base";
  MakeStore(base);
  const std::string original = Slurp(base + "/" + kFile1);
  for (size_t len = 0; len < original.size(); ++len) {
    std::string data = tmp / ("cut" + std::to_string(len));
    CopyTree(base, data);
    Spit(data + "/" + kFile1, original.substr(0, len));
    INFO("length " << len);
    ExpectDetectedAndRebuilt(data, original, len);
    fs::remove_all(data);
  }
}

TEST_CASE("corruption: garbage appended to an account file is detected and rebuilt",
          "[corruption]") {
  TempDir tmp;
  std::string base = tmp / "base";
  MakeStore(base);
  const std::string original = Slurp(base + "/" + kFile1);
  const std::string record = original.substr(original.find('\n') + 1);
  size_t n = 0;
  for (const std::string& junk : {std::string("x"), std::string("\n"), std::string("\r\n"), record,
                                  std::string(4096, '\0'), std::string("\x1b[2J")}) {
    std::string data = tmp / ("junk" + std::to_string(n));
    CopyTree(base, data);
    Spit(data + "/" + kFile1, original + junk);
    ExpectDetectedAndRebuilt(data, original, n++);
  }
}

TEST_CASE("corruption: another account's file in its place is detected and rebuilt",
          "[corruption]") {
  TempDir tmp;
  std::string data = tmp / "data";
  MakeStore(data);
  const std::string original = Slurp(data + "/" + kFile1);
  Spit(data + "/" + kFile1, Slurp(data + "/" + kFile2));
  RunResult r = Drovebank(data, {"show", "1"});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("holds account 2 instead of 1") != std::string::npos);
  CHECK(r.err.find(kFile1) != std::string::npos);
  ExpectDetectedAndRebuilt(data, original, 1);  // 1: detected again by `show`
}

// The sum of every account's balance, as `balance --json` reports it.
std::string TotalBalance(const std::string& data) {
  RunResult r = Drovebank(data, {"--json", "balance"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

TEST_CASE("corruption: a file unchanged since the checkpoint is rebuilt by a plain recover",
          "[corruption]") {
  TempDir tmp;
  std::string base = tmp / "base";
  MakeStore(base);
  Must(Recover(base));  // checkpoint: account 1's records are no longer in the journal tail
  // Later records of another account in segments of their own, so account 1's newest is
  // found segments back from the end.
  for (int i = 0; i < 12; ++i) {
    Must(Drovebank(base, {"deposit", "2", "3"}, {{"DROVEBANK_SEGMENT_BYTES", "1024"}}));
  }
  size_t segments = 0;
  for (fs::directory_iterator it(base + "/journal"), end; it != end; ++it) {
    segments += it->path().extension() == ".log";
  }
  REQUIRE(segments >= 3);
  const std::string original = Slurp(base + "/" + kFile1);
  const std::string total = TotalBalance(base);
  std::string half = original.substr(0, original.size() / 2);
  std::string flipped = original;
  flipped[flipped.size() / 2] ^= 0x04;
  size_t n = 0;
  for (const std::string& bad : {std::string(), half, flipped, original + "garbage\n",
                                 std::string(64, '\0')}) {
    INFO("variant " << n);
    std::string data = tmp / ("v" + std::to_string(n++));
    CopyTree(base, data);
    Spit(data + "/" + kFile1, bad);
    CHECK(Drovebank(data, {"show", "1"}).exit_code == 5);  // found, and the store marked
    CHECK(Drovebank(data, {"deposit", "2", "1"}).exit_code == 5);
    CHECK(Recover(data, {"--check"}).exit_code == 1);
    RunResult plain = Recover(data);
    INFO(plain.out << plain.err);
    CHECK(plain.exit_code == 0);
    CHECK(plain.out.find("account 1: ") != std::string::npos);
    CHECK(plain.out.find("1 file(s) repaired") != std::string::npos);
    CHECK(Slurp(data + "/" + kFile1) == original);
    CHECK(!Exists(data + "/NEEDS_RECOVERY"));
    CHECK(TotalBalance(data) == total);  // money conserved
    // What the damaged file held is kept, byte for byte.
    std::vector<std::string> kept;
    for (fs::directory_iterator it(data + "/quarantine"), end; it != end; ++it) {
      kept.push_back(Slurp(it->path().string()));
    }
    CHECK(kept == std::vector<std::string>{bad});
    CHECK(Recover(data, {"--check", "--full"}).exit_code == 0);
    CHECK(Drovebank(data, {"deposit", "1", "1"}).exit_code == 0);
  }
}

TEST_CASE("corruption: files the journal cannot rebuild are quarantined, never deleted",
          "[corruption]") {
  TempDir tmp;
  std::string data = tmp / "data";
  MakeStore(data);
  const std::string planted_corrupt = "id,first,last\nnot an account\n";
  Account seven;
  seven.id = 7;
  seven.first = "Mallory";
  seven.last = "Planted";
  seven.balance = 99999;
  seven.version = 1;
  seven.last_txn = 2;
  const std::string planted_valid = EncodeAccountFile(seven);
  // Account 1 rewritten with a valid checksum but a balance the journal never committed.
  Account forged;
  forged.id = 1;
  forged.first = "Ada";
  forged.last = "Lovelace";
  forged.balance = 100000000;
  forged.version = 99;
  forged.last_txn = 5;
  const std::string original1 = Slurp(data + "/" + kFile1);
  Spit(data + "/accounts/00/00/00/07.csv", planted_valid);
  Spit(data + "/accounts/00/00/00/08.csv", planted_corrupt);
  Spit(data + "/" + kFile1, EncodeAccountFile(forged));

  RunResult shown = Drovebank(data, {"show", "8"});
  CHECK(shown.exit_code == 5);
  CHECK(shown.err.find("accounts/00/00/00/08.csv") != std::string::npos);
  CHECK(Recover(data, {"--check", "--full"}).exit_code == 1);
  CHECK(Recover(data).exit_code == 5);  // the plain recover cannot rebuild 08: says --full

  RunResult full = Recover(data, {"--full"});
  INFO(full.out << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(!Exists(data + "/accounts/00/00/00/07.csv"));
  CHECK(!Exists(data + "/accounts/00/00/00/08.csv"));
  CHECK(Slurp(data + "/" + kFile1) == original1);
  // Every moved file is in quarantine/ with its bytes intact.
  std::vector<std::string> kept;
  for (fs::directory_iterator it(data + "/quarantine"), end; it != end; ++it) {
    kept.push_back(Slurp(it->path().string()));
  }
  CHECK(kept.size() == 3);
  CHECK(std::count(kept.begin(), kept.end(), planted_valid) == 1);
  CHECK(std::count(kept.begin(), kept.end(), planted_corrupt) == 1);
  CHECK(std::count(kept.begin(), kept.end(), EncodeAccountFile(forged)) == 1);
  CHECK(Drovebank(data, {"show", "7"}).exit_code == 3);
  CHECK(Drovebank(data, {"show", "8"}).exit_code == 3);
  CHECK(Recover(data, {"--check", "--full"}).exit_code == 0);
  CHECK(Drovebank(data, {"deposit", "1", "1"}).exit_code == 0);
}

// A store whose last journal record was written by a process that crashed before the
// sync (so it was never acknowledged), and the offset where that record starts. Removing
// journal/state makes the next process read the journal as after a reboot, which is when a
// torn write can be found.
std::string CrashedStore(const TempDir& tmp, size_t* last_start) {
  std::string base = tmp / "base";
  MakeStore(base);
  *last_start = Slurp(base + "/" + kSegment).size();
  RunResult crash = Drovebank(base, {"deposit", "1", "7"},
                                  {{"DROVEBANK_FAULT", "deposit:after_journal_write:crash"}});
  REQUIRE(crash.exit_code == 86);
  REQUIRE(Slurp(base + "/" + kSegment).size() > *last_start + 100);
  fs::remove(base + "/journal/state");
  return base;
}

void ExpectTornTailCut(const std::string& data, size_t last_start, size_t n) {
  RunResult r = Drovebank(data, {"--json", "show", "1"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\"balance\":\"115.00\"") != std::string::npos);  // 100 + 5 + 10
  CHECK(Slurp(data + "/" + kSegment).size() == last_start);
  CHECK(!Exists(data + "/NEEDS_RECOVERY"));
  if (n % 16 == 0) {
    CHECK(Recover(data, {"--check"}).exit_code == 0);
    CHECK(Drovebank(data, {"deposit", "1", "1"}).exit_code == 0);
    CHECK(Drovebank(data, {"history", "1"}).exit_code == 0);
  }
}

TEST_CASE("corruption: a journal cut at any length within its last record is a torn tail",
          "[corruption][journal]") {
  TempDir tmp;
  size_t start = 0;
  std::string base = CrashedStore(tmp, &start);
  const std::string seg = Slurp(base + "/" + kSegment);
  for (size_t len = start + 1; len < seg.size(); ++len) {
    std::string data = tmp / ("torn" + std::to_string(len));
    CopyTree(base, data);
    Spit(data + "/" + kSegment, seg.substr(0, len));
    INFO("length " << len << " of " << seg.size());
    ExpectTornTailCut(data, start, len);
    fs::remove_all(data);
  }
}

TEST_CASE("corruption: any damaged byte of the last journal record is a torn tail",
          "[corruption][journal]") {
  TempDir tmp;
  size_t start = 0;
  std::string base = CrashedStore(tmp, &start);
  const std::string seg = Slurp(base + "/" + kSegment);
  for (size_t pos = start; pos < seg.size(); ++pos) {
    std::string data = tmp / ("flip" + std::to_string(pos));
    CopyTree(base, data);
    std::string bad = seg;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
    Spit(data + "/" + kSegment, bad);
    INFO("byte " << pos);
    ExpectTornTailCut(data, start, pos);
    fs::remove_all(data);
  }
}

// Offsets where each record of the segment starts.
std::vector<size_t> RecordStarts(const std::string& seg) {
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i + 1 < seg.size(); ++i) {
    if (seg[i] == '\n') starts.push_back(i + 1);
  }
  return starts;
}

TEST_CASE("corruption: a damaged middle journal record stops everything, nothing is cut",
          "[corruption][journal]") {
  TempDir tmp;
  std::string base = tmp / "base";
  MakeStore(base);
  fs::remove(base + "/journal/state");
  const std::string seg = Slurp(base + "/" + kSegment);
  std::vector<size_t> starts = RecordStarts(seg);
  REQUIRE(starts.size() == 6);
  // Record 5 of 6: even its newline, whose damage merges it with the last record.
  for (size_t pos = starts[4]; pos < starts[5]; ++pos) {
    std::string data = tmp / ("mid" + std::to_string(pos));
    CopyTree(base, data);
    std::string bad = seg;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
    Spit(data + "/" + kSegment, bad);
    INFO("byte " << pos);
    RunResult r = Drovebank(data, {"show", "1"});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find(kSegment) != std::string::npos);
    CHECK(Exists(data + "/NEEDS_RECOVERY"));
    if (pos % 8 == 0) {
      CHECK(Drovebank(data, {"deposit", "2", "1"}).exit_code == 5);
      RunResult rec = Recover(data);
      INFO(rec.out << rec.err);
      CHECK(rec.exit_code == 5);
      CHECK(rec.err.find(kSegment) != std::string::npos);
      CHECK(Exists(data + "/NEEDS_RECOVERY"));
    }
    CHECK(Slurp(data + "/" + kSegment) == bad);  // the later record is still there
    fs::remove_all(data);
  }
}

TEST_CASE("corruption: recover reports a damaged middle record found in the same boot",
          "[corruption][journal]") {
  TempDir tmp;
  std::string data = tmp / "data";
  MakeStore(data);
  std::string seg = Slurp(data + "/" + kSegment);
  std::vector<size_t> starts = RecordStarts(seg);
  seg[starts[2] + 20] ^= 0x01;
  Spit(data + "/" + kSegment, seg);
  RunResult rec = Recover(data);
  INFO(rec.out << rec.err);
  CHECK(rec.exit_code == 5);
  CHECK(rec.err.find(kSegment) != std::string::npos);
  CHECK(Slurp(data + "/" + kSegment) == seg);
  RunResult check = Recover(data, {"--check"});
  CHECK(check.exit_code != 0);
}

}  // namespace
}  // namespace drovebank

namespace drovebank {
namespace {

// `args` run by bash under an address-space limit of 1 GiB: a program that tried to read
// a file of gigabytes into memory fails at once (bad_alloc) instead of taking minutes.
RunResult Limited(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), {"-c", "ulimit -v 1048576; exec \"$@\"", "bash", program});
  return testing::RunProgram("/bin/bash", args, testing::PlainOptions());
}

}  // namespace

// A file of the store grown to 10 GB (sparse: made by `truncate`, by hand or by a broken
// tool) is refused by its size, never read into memory: until 2026-12-08 `show`, every
// report and `recover` read all of it (10 GB resident, two minutes each) before calling it
// corrupt. An account file: exit 5 naming it and its size, and `recover` moves it whole
// into quarantine/ and restores the account. FORMAT and journal/CHECKPOINT: exit 5 naming
// them. NEEDS_RECOVERY: `recover` clears it.
TEST_CASE("corruption: a store file grown to 10 GB is refused by its size, never read",
          "[e2e][corruption]") {
  TempDir dir;
  for (const std::string& name : {std::string(kFile1), std::string("FORMAT"),
                                 std::string("journal/CHECKPOINT"), std::string("NEEDS_RECOVERY")}) {
    DYNAMIC_SECTION(name) {
      std::string data = dir / "data";
      MakeStore(data);
      Must(Drovebank(data, {}, {}, "show 2\n"));  // a shell's exit writes journal/CHECKPOINT
      const std::string original = Slurp(data + "/" + kFile1);
      const std::string path = data + "/" + name;
      if (!Exists(path)) Spit(path, "made by hand\n");
      REQUIRE(::truncate(path.c_str(), 10LL << 30) == 0);
      const std::vector<std::vector<std::string>> reads = {{"show", "1"}, {"balance"}, {"deposit", "1", "1"}};
      for (const auto& args : reads) {
        std::vector<std::string> a = {"-d", data};
        a.insert(a.end(), args.begin(), args.end());
        RunResult r = Limited(DROVEBANK_BIN, a);
        INFO(args[0] << ": exit " << r.exit_code << ": " << r.out << r.err);
        // Only a report of many accounts (and a rebuild of journal/state) reads the
        // checkpoint; a marked store is still read, and refused to writers.
        const bool refused = name == kFile1 || name == "FORMAT" ||
                             (name == "journal/CHECKPOINT" && args[0] == "balance") ||
                             (name == "NEEDS_RECOVERY" && args[0] == "deposit");
        CHECK(r.exit_code == (refused ? 5 : 0));
        if (refused && name != "NEEDS_RECOVERY") {
          CHECK(r.err.find(name + " is 10737418240 bytes") != std::string::npos);
        }
      }
      RunResult rec = Limited(RECOVER_BIN, {"-d", data});
      INFO("recover: " << rec.out << rec.err);
      if (name == kFile1 || name == "NEEDS_RECOVERY") {
        CHECK(rec.exit_code == 0);
        CHECK(Slurp(data + "/" + kFile1) == original);
        CHECK(Limited(DROVEBANK_BIN, {"-d", data, "show", "1"}).exit_code == 0);
        if (name == kFile1) {
          CHECK(rec.out.find(".too-large") != std::string::npos);  // kept, whole, not copied
        }
      } else {
        CHECK(rec.exit_code == 5);
        CHECK(rec.err.find(name + " is 10737418240 bytes") != std::string::npos);
      }
      fs::remove_all(data);
    }
  }
}

}  // namespace drovebank
