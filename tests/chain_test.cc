// Format 3's tamper-evident journal and what rests on it, attacked through the real
// programs: journal records forged with their CRC fixed, removed, swapped or repeated; the
// last record rotted, with and without journal/state; the chain head given back; the
// upgrade of a format 2 store, with a crash at each of its steps; `recover` on folders that
// are not stores or have lost their journal; hard-link backups and planted links; a
// reader's locks on the spare slots; and reports taken while another session transfers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/money.h"
#include "drovebank/record.h"
#include "drovebank/store.h"
#include "store/chain.h"
#include "store/store_impl.h"
#include "store_ops.h"
#include "require_run.h"
#include "small_store.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Must;
using testing::Drovebank;
using testing::RunResult;
using testing::Recover;
using testing::TempDir;

const char* kSegment = "journal/0000000000000001.log";

using testing::Slurp;
using testing::Spit;
bool Exists(const std::string& path) { return testing::PathExists(path); }


std::vector<std::string> Lines(const std::string& bytes) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string::npos) nl = bytes.size() - 1;
    out.push_back(bytes.substr(pos, nl + 1 - pos));
    pos = nl + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l;
  return out;
}

// A record line whose JSON `edit` changed, written the way drovebank writes one, its CRC
// recomputed: a forgery that the CRC cannot tell.
std::string Forge(const std::string& line, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(line.substr(9, line.size() - 10));
  edit(j);
  return EncodeRecordJson(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void MakeStore(const std::string& data) { testing::MakeSmallStore(data); }

std::string CheckHead(const std::string& data) {
  RunResult r = Recover(data, {"--check", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["chain_head"].is_string());
  return j["chain_head"].get<std::string>();
}

TEST_CASE("chain: recover --check prints a head that grows with every record and can be given back",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  std::string head5 = CheckHead(data);
  CHECK(head5.starts_with("5:"));
  CHECK(head5.size() == 2 + 64);
  RunResult text = Recover(data, {"--check"});
  CHECK(text.out.find("head " + head5) != std::string::npos);
  Must(Drovebank(data, {"deposit", "2", "1"}));
  std::string head6 = CheckHead(data);
  CHECK(head6.starts_with("6:"));
  // The head written down at txn 5 still proves the history up to it.
  Must(Recover(data, {"--check", "--expect-head", head5}));
  Must(Recover(data, {"--expect-head", head6}));
  // Another hash, or a txn the journal does not reach, is refused.
  std::string wrong = head5;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  RunResult bad = Recover(data, {"--check", "--expect-head", wrong});
  CHECK(bad.exit_code == 5);
  CHECK(bad.err.find("txn 5") != std::string::npos);
  CHECK(Recover(data, {"--check", "--expect-head", "9:" + head5.substr(2)}).exit_code == 5);
  CHECK(Recover(data, {"--check", "--expect-head", "five"}).exit_code == 2);
}

using Edits = std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>>;

// The edits of a record's money and accounts that the bank's rules forbid, each applied
// where the record has the field (both forgery sweeps below start from these).
Edits RuleBreakingEdits() {
  return {
      {"op amount", [](nlohmann::json& j) { j["ops"][0]["amount"] = 1; }},
      {"op after", [](nlohmann::json& j) { j["ops"][0]["after"] = 99999999; }},
      {"account balance", [](nlohmann::json& j) { j["accounts"][0]["balance"] = 99999999; }},
      {"account name", [](nlohmann::json& j) { j["accounts"][0]["last"] = "Forged"; }},
      {"account version", [](nlohmann::json& j) { j["accounts"][0]["version"] = 7; }},
  };
}

TEST_CASE("chain: every field of every record but the last, forged with its CRC fixed, breaks the chain",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  const std::string original = Slurp(data + "/" + kSegment);
  std::vector<std::string> lines = Lines(original);
  REQUIRE(lines.size() == 5);
  // Each field a forger could change; each edit is applied where the record has the field.
  Edits edits = RuleBreakingEdits();
  edits.insert(edits.end(), {
      {"time", [](nlohmann::json& j) { j["time"] = j["time"].get<std::int64_t>() + 1; }},
      {"req", [](nlohmann::json& j) { j["req"] = j["req"].get<std::string>() + " "; }},
      {"key", [](nlohmann::json& j) { j["key"] = "forged"; j["key_prev"] = 0; }},
      {"account prev_txn", [](nlohmann::json& j) { j["accounts"][0]["prev_txn"] = 0; }},
      {"prev_hash", [](nlohmann::json& j) { j["prev_hash"] = std::string(64, 'a'); }},
  });
  for (size_t k = 0; k + 1 < lines.size(); ++k) {
    for (const auto& [what, edit] : edits) {
      std::vector<std::string> forged = lines;
      forged[k] = Forge(lines[k], edit);
      if (forged[k] == lines[k]) continue;
      DYNAMIC_SECTION("record " << k + 1 << ": " << what) {
        Spit(data + "/" + kSegment, Join(forged));
        RunResult r = Recover(data, {"--check"});
        INFO(r.out << r.err);
        CHECK(r.exit_code == 5);
        // The break is named: the record changed or the one after it.
        bool named = r.err.find("txn " + std::to_string(k + 1)) != std::string::npos ||
                     r.err.find("txn " + std::to_string(k + 2)) != std::string::npos;
        CHECK(named);
        Spit(data + "/" + kSegment, original);
      }
    }
  }
}

// Whoever can write the directory can also rebuild the whole chain after a forgery (the
// hash has no key). Then each account's history must give it away: every record must be
// what the bank's rules make of the account's record before it. Swept: every record, each
// field a forger would change, the chain rebuilt after it; and one forgery that keeps its
// own record consistent (a deposit of 500.00 instead of 5.00), which the account's next
// record contradicts.
TEST_CASE("chain: a record forged with the whole chain rebuilt breaks its account's history",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  const std::string original = Slurp(data + "/" + kSegment);
  std::vector<std::string> lines = Lines(original);
  REQUIRE(lines.size() == 5);
  auto rechain = [](std::vector<std::string> ls) {
    ChainHash h = kChainStart;
    for (std::string& l : ls) {
      l = Forge(l, [&](nlohmann::json& j) { j["prev_hash"] = HashHex(h); });
      h = ChainStep(h, std::string_view(l).substr(9, l.size() - 10));
    }
    return ls;
  };
  REQUIRE(rechain(lines) == lines);  // the rebuild is drovebank's own chain
  Edits edits = RuleBreakingEdits();
  edits.insert(edits.end(), {
      {"account status", [](nlohmann::json& j) { j["accounts"][0]["closed"] = true; }},
      {"account prev_txn", [](nlohmann::json& j) { j["accounts"][0]["prev_txn"] = 3; }},
      {"an account dropped", [](nlohmann::json& j) { j["accounts"].erase(j["accounts"].size() - 1); }},
  });
  for (size_t k = 0; k < lines.size(); ++k) {
    for (const auto& [what, edit] : edits) {
      std::vector<std::string> forged = lines;
      forged[k] = Forge(lines[k], edit);
      if (forged[k] == lines[k]) continue;
      forged = rechain(forged);
      DYNAMIC_SECTION("record " << k + 1 << ": " << what) {
        Spit(data + "/" + kSegment, Join(forged));
        RunResult r = Recover(data, {"--check"});
        INFO(r.out << r.err);
        CHECK(r.exit_code == 5);
        CHECK(r.err.find("txn " + std::to_string(k + 1) + " does not follow from account") !=
              std::string::npos);
      }
    }
  }
  SECTION("a deposit of 500.00 written for 5.00, consistent in its own record") {
    std::vector<std::string> forged = lines;
    forged[2] = Forge(lines[2], [](nlohmann::json& j) {
      j["ops"][0]["amount"] = 50000;
      j["ops"][0]["after"] = 60000;
      j["accounts"][0]["balance"] = 60000;
    });
    Spit(data + "/" + kSegment, Join(rechain(forged)));
    RunResult r = Recover(data, {"--check"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("txn 4 does not follow from account 1") != std::string::npos);
  }
}

TEST_CASE("chain: the last record forged is caught by its account file or by the head written down",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  std::string head = CheckHead(data);
  std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
  SECTION("its time: only the head can tell") {
    lines.back() = Forge(lines.back(), [](nlohmann::json& j) { j["time"] = 0; });
    Spit(data + "/" + kSegment, Join(lines));
    RunResult r = Recover(data, {"--check", "--expect-head", head});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("txn 5") != std::string::npos);
  }
  SECTION("its balance: the account file no longer matches it") {
    lines.back() = Forge(lines.back(), [](nlohmann::json& j) {
      j["accounts"][0]["balance"] = 100000;
      j["ops"][0]["after"] = 100000;
    });
    Spit(data + "/" + kSegment, Join(lines));
    RunResult r = Drovebank(data, {"withdraw", "2", "900"});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("accounts/00/00/00/02.csv") != std::string::npos);
    RunResult check = Recover(data, {"--check", "--expect-head", head});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 5);
  }
}

// The last record forged with its checksum fixed follows the record before it on the
// chain (its prev_hash is untouched), so only the head journal/state wrote down when it
// was published tells it was changed. A plain `recover` replays the journal's tail into
// the account files, and until 2026-12-07 it replayed the forged state: once anything had
// marked the store (the proof of the account's file refusing the forged record, or a
// NEEDS_RECOVERY file made by hand), recover rebuilt the state from the segments,
// forgetting that head, and wrote the forged balance into the file (60.00 made, exit 0).
// Swept: a balance forged at the same length and longer (the segment then grows past its
// published end), with the store marked by a refused command, by hand, or not at all.
TEST_CASE("chain: a forged last record is never replayed into its account's file by recover",
          "[e2e][integrity]") {
  for (std::string balance : {"9850", "100000"}) {
    for (std::string marked : {"by a refused command", "by hand", "not"}) {
      DYNAMIC_SECTION("balance forged to " << balance << ", the store marked " << marked) {
        TempDir dir;
        std::string data = dir / "data";
        MakeStore(data);  // txn 5: withdraw 1.50 from account 2, leaving 38.50
        const std::string file = data + "/accounts/00/00/00/02.csv";
        const std::string before = Slurp(file);
        std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
        lines.back() = Forge(lines.back(), [&](nlohmann::json& j) {
          j["accounts"][0]["balance"] = std::stoll(balance);
          j["ops"][0]["after"] = std::stoll(balance);
        });
        Spit(data + "/" + kSegment, Join(lines));
        if (marked == "by a refused command") {
          RunResult r = Drovebank(data, {"withdraw", "2", "90"});
          INFO(r.out << r.err);
          CHECK(r.exit_code == 5);
        } else if (marked == "by hand") {
          Spit(data + "/NEEDS_RECOVERY", "made by hand\n");
        }
        RunResult rec = Recover(data);
        INFO("recover: " << rec.out << rec.err);
        CHECK(rec.exit_code == 5);
        // The record named; or, when it grew past the published end, the byte where the
        // published end says a record ends and none does.
        CHECK((rec.err.find("txn 5") != std::string::npos ||
               rec.err.find("bad record at byte 1525") != std::string::npos));
        CHECK(Slurp(file) == before);  // the forged state was never written into the file
        RunResult full = Recover(data, {"--full"});
        INFO("recover --full: " << full.out << full.err);
        CHECK(full.exit_code == 5);
        CHECK(Slurp(file) == before);
        RunResult show = Drovebank(data, {"show", "2"});
        INFO("show: " << show.out << show.err);
        CHECK(show.out.find(balance == "9850" ? "98.50" : "1000.00") == std::string::npos);
      }
    }
  }
}

// A forgery of the newest record that obeys the bank's rules (the withdrawal's amount and
// the balance after it changed together, the CRC fixed): no later record names its hash
// and the rules hold, so only the head journal/state wrote down when it was published
// tells it. `recover --check` compares that head as `recover` does (until 2026-12-08 it
// did not: "consistent", exit 0, and `recover` then exited 5).
TEST_CASE("chain: a forged newest record obeying the bank's rules is told by recover --check",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);  // txn 5: withdraw 1.50 from account 2, leaving 38.50
  const std::string file = data + "/accounts/00/00/00/02.csv";
  const std::string before = Slurp(file);
  std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
  const std::string genuine = lines.back();
  lines.back() = Forge(lines.back(), [](nlohmann::json& j) {
    j["accounts"][0]["balance"] = 3050;  // the same length: 8.00 more withdrawn
    j["ops"][0]["after"] = 3050;
    j["ops"][0]["amount"] = 950;
    j["req"] = "withdraw 2 950";
  });
  REQUIRE(lines.back().size() == genuine.size());
  Spit(data + "/" + kSegment, Join(lines));
  const std::string segment = Slurp(data + "/" + kSegment);
  RunResult check = Recover(data, {"--check"});
  INFO("recover --check: " << check.out << check.err);
  CHECK(check.exit_code == 5);
  CHECK(check.err.find("txn 5 was changed after it was written") != std::string::npos);
  CHECK(Slurp(data + "/" + kSegment) == segment);  // the check changes nothing
  CHECK(!Exists(data + "/NEEDS_RECOVERY"));
  RunResult json = Recover(data, {"--check", "--json"});
  CHECK(json.exit_code == 5);
  RunResult rec = Recover(data);
  INFO("recover: " << rec.out << rec.err);
  CHECK(rec.exit_code == 5);
  CHECK(Slurp(file) == before);
  // The genuine record put back: both agree it is whole again.
  lines.back() = genuine;
  Spit(data + "/" + kSegment, Join(lines));
  Must(Recover(data, {"--check"}));
}

// The same for a record before the checkpoint, in the middle of the journal: the record
// after it names its hash, so the chain tells it. A marked store's plain `recover`
// rebuilds each file that fails its proof from its account's newest record, which may be
// such a record: it follows the whole chain first (until 2026-12-07 it did not, and wrote
// the forged balance into the file, exit 0).
TEST_CASE("chain: a forged record before the checkpoint is never rebuilt into its account's "
          "file by recover",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);  // txn 4: transfer 10.00 from account 2 to 1, leaving account 1 at 115.00
  Must(Recover(data));  // a checkpoint past every record
  const std::string file = data + "/accounts/00/00/00/01.csv";
  const std::string before = Slurp(file);
  std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
  REQUIRE(lines.size() >= 4);
  lines[3] = Forge(lines[3], [](nlohmann::json& j) {
    for (auto& a : j["accounts"]) {
      if (a["id"] == 1) a["balance"] = 19500;  // the same length: 80.00 made
    }
    j["ops"][0]["to_after"] = 19500;
  });
  Spit(data + "/" + kSegment, Join(lines));
  RunResult spend = Drovebank(data, {"withdraw", "1", "150"});  // refused: marks the store
  INFO(spend.out << spend.err);
  CHECK(spend.exit_code == 5);
  RunResult rec = Recover(data);
  INFO("recover: " << rec.out << rec.err);
  CHECK(rec.exit_code == 5);
  CHECK(rec.err.find("txn 4") != std::string::npos);
  CHECK(Slurp(file) == before);
  CHECK(Drovebank(data, {"show", "1"}).out.find("195.00") == std::string::npos);
}

TEST_CASE("chain: a record removed, swapped or repeated is found by recover --check",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
  std::vector<std::string> changed = lines;
  SECTION("removed") { changed.erase(changed.begin() + 2); }
  SECTION("swapped") { std::swap(changed[2], changed[3]); }
  SECTION("repeated") { changed.insert(changed.begin() + 3, changed[2]); }
  Spit(data + "/" + kSegment, Join(changed));
  RunResult r = Recover(data, {"--check"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("txn") != std::string::npos);
}

// An acknowledged deposit whose record then rots: one byte of it changed (one bit each,
// every byte of the record swept), with journal/state removed as by a reboot. Rot is never
// mistaken for a torn write: the record is not cut, its txn is never issued again, and no
// command goes on as if it had not been.
TEST_CASE("chain: a rotten last record is never cut as a torn write, nor its txn issued again",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  Must(Drovebank(data, {"deposit", "2", "7"}));  // txn 6, acknowledged
  const std::string segment = Slurp(data + "/" + kSegment);
  const std::string ok_state = Slurp(data + "/journal/state");
  std::vector<std::string> lines = Lines(segment);
  size_t last_at = segment.size() - lines.back().size();
  for (size_t i = 0; i < lines.back().size(); i += 3) {
    for (bool with_state : {false, true}) {
      DYNAMIC_SECTION("byte " << i << (with_state ? " with" : " without") << " journal/state") {
        std::string rotten = segment;
        rotten[last_at + i] = static_cast<char>(rotten[last_at + i] ^ (1 << (i % 8)));
        Spit(data + "/" + kSegment, rotten);
        if (!with_state) ::unlink((data + "/journal/state").c_str());
        RunResult w = Drovebank(data, {"deposit", "1", "1"});
        INFO("deposit: " << w.out << w.err);
        // The deposit may never become txn 6 over the rotten record.
        CHECK(w.out.find("txn 6") == std::string::npos);
        std::string now = Slurp(data + "/" + kSegment);
        CHECK(now.substr(0, rotten.size()) == rotten);  // nothing of it cut
        CHECK(Recover(data, {"--check"}).exit_code != 0);
        Spit(data + "/" + kSegment, segment);
        Spit(data + "/journal/state", ok_state);
        ::unlink((data + "/NEEDS_RECOVERY").c_str());
      }
    }
  }
}

// A format 2 store, made from a format 3 one as the older build left it: no prev_hash in
// any record, no head in the checkpoint, no FORMAT marker, the older state file.
void MakeFormat2(const std::string& data) {
  std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
  for (std::string& l : lines) l = Forge(l, [](nlohmann::json& j) { j.erase("prev_hash"); });
  Spit(data + "/" + kSegment, Join(lines));
  ::unlink((data + "/FORMAT").c_str());
  ::unlink((data + "/journal/state").c_str());
  ::unlink((data + "/journal/CHECKPOINT").c_str());
}

TEST_CASE("chain: a format 2 store is upgraded in place by recover, with a crash at each step",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  MakeFormat2(data);
  RunResult refused = Drovebank(data, {"deposit", "1", "1"});
  CHECK(refused.exit_code == 5);
  CHECK(refused.err.find("recover") != std::string::npos);
  CHECK(Drovebank(data, {"show", "1"}).exit_code == 5);
  SECTION("a crash after the marker") {
    RunResult crashed =
        Recover(data, {}, {{"DROVEBANK_FAULT", "recover:after_format_marker:crash"}});
    CHECK(crashed.exit_code != 0);
    CHECK(Exists(data + "/FORMAT"));
  }
  SECTION("a crash after the journal's rebuild, before the marker") {
    RunResult crashed = Recover(data, {}, {{"DROVEBANK_FAULT", "recover:before_format_marker:crash"}});
    CHECK(crashed.exit_code != 0);
    CHECK(!Exists(data + "/FORMAT"));
  }
  SECTION("no crash") {}
  Must(Recover(data));
  CHECK(Slurp(data + "/FORMAT").find("chained-from 6") != std::string::npos);
  Must(Drovebank(data, {"deposit", "1", "1"}));
  std::string head = CheckHead(data);
  CHECK(head.starts_with("6:"));
  // The records from before the upgrade carry no prev_hash, yet the first chained record
  // vouches for them: a forged old record (CRC fixed) is found.
  std::vector<std::string> lines = Lines(Slurp(data + "/" + kSegment));
  // The same length, so no later offset moves: only the chain can tell.
  lines[1] = Forge(lines[1], [](nlohmann::json& j) { j["time"] = j["time"].get<std::int64_t>() + 1; });
  Spit(data + "/" + kSegment, Join(lines));
  RunResult r = Recover(data, {"--check"});
  INFO(r.err);
  CHECK(r.exit_code == 5);
  // Found at the checkpoint's head (txn 5, written by the upgrade) or at the first chained
  // record (txn 6), whichever the walk meets first.
  CHECK((r.err.find("txn 5") != std::string::npos || r.err.find("txn 6") != std::string::npos));
  // Without the checkpoint's head, the first chained record still finds it.
  ::unlink((data + "/journal/CHECKPOINT").c_str());
  RunResult r2 = Recover(data, {"--check"});
  INFO(r2.err);
  CHECK(r2.exit_code == 5);
  CHECK(r2.err.find("txn 6") != std::string::npos);
}

// When the journal has lost records that the account files were built from and there is
// no backup of it, `recover --accept-loss` is the documented way out: the journal is cut
// back to its whole history, every account is rebuilt from that, and what is cut (journal
// bytes, newer account files) is kept in quarantine/. Before, every command and recover
// stayed at exit 5 with no way out but a backup.
TEST_CASE("recover --accept-loss: a journal that lost acknowledged records is rebuilt from what is left",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);  // txns 1-5: account 1 ends at 115.00 (txn 4), account 2 at 38.50 (txn 5)
  const std::string original = Slurp(data + "/" + kSegment);
  std::vector<std::string> lines = Lines(original);
  auto quarantined = [&] {
    size_t n = 0;
    if (!Exists(data + "/quarantine")) return n;
    for (boost::filesystem::directory_iterator it(data + "/quarantine"), end; it != end; ++it) ++n;
    return n;
  };
  auto balance = [&](const std::string& id) {
    RunResult show = Drovebank(data, {"-O", "json", "show", id});
    INFO(show.out << show.err);
    REQUIRE(show.exit_code == 0);
    return *ParseAmount(nlohmann::json::parse(show.out)["balance"].get<std::string>());
  };
  SECTION("a segment shorter than the checkpoint") {
    Must(Recover(data));  // the checkpoint: every record is in the files
    Spit(data + "/" + kSegment, lines[0] + lines[1] + lines[2] + lines[3]);  // txn 5 is gone
    CHECK(Drovebank(data, {"show", "2"}).exit_code == 5);
    RunResult stuck = Recover(data);
    INFO(stuck.out << stuck.err);
    CHECK(stuck.exit_code == 5);
    CHECK(stuck.err.find("recover --accept-loss") != std::string::npos);
    RunResult out = Recover(data, {"--accept-loss"});
    INFO(out.out << out.err);
    CHECK(out.exit_code == 0);
    CHECK(balance("2") == 4000);  // as of txn 4, the last record left
    CHECK(balance("1") == 11500);
    CHECK(quarantined() == 1);  // account 2's file of txn 5
    Must(Recover(data, {"--check"}));
    Must(Drovebank(data, {"deposit", "2", "1"}));
    CHECK(balance("2") == 4100);
  }
  SECTION("an acknowledged last record rotted") {
    std::string rotten = lines[4];
    rotten[rotten.size() / 2] ^= 0x04;
    lines[4] = rotten;
    Spit(data + "/" + kSegment, Join(lines));
    ::unlink((data + "/journal/state").c_str());  // a reboot: the state is rebuilt
    CHECK(Drovebank(data, {"deposit", "1", "1"}).exit_code == 5);
    RunResult out = Recover(data, {"--accept-loss"});
    INFO(out.out << out.err);
    CHECK(out.exit_code == 0);
    CHECK(balance("2") == 4000);
    CHECK(quarantined() == 2);  // the cut record and account 2's newer file
    Must(Recover(data, {"--check"}));
  }
  SECTION("refused on a store that is not marked, and with --check") {
    RunResult healthy = Recover(data, {"--accept-loss"});
    CHECK(healthy.exit_code == 2);
    CHECK(Recover(data, {"--check", "--accept-loss"}).exit_code == 2);
    CHECK(Slurp(data + "/" + kSegment) == original);
    CHECK(quarantined() == 0);
  }
}

TEST_CASE("recover: never makes a store where there is none, and never moves every account away",
          "[e2e][integrity]") {
  TempDir dir;
  SECTION("a folder that does not exist") {
    RunResult r = Recover(dir / "missing");
    CHECK(r.exit_code != 0);
    CHECK(!Exists(dir / "missing"));
  }
  SECTION("a folder with tmp/, locks/ and journal/ but no store") {
    std::string d = dir / "look-alike";
    for (const char* sub : {"", "/tmp", "/locks", "/journal"}) ::mkdir((d + sub).c_str(), 0700);
    Spit(d + "/tmp/notes.txt", "mine");
    RunResult r = Recover(d);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("not a drovebank data directory") != std::string::npos);
    CHECK(Slurp(d + "/tmp/notes.txt") == "mine");
    CHECK(Recover(d, {"--check"}).exit_code != 0);
  }
  SECTION("a store with a folder in tmp/, a link at a spare, a stranger's file in locks/") {
    std::string data = dir / "data";
    MakeStore(data);
    ::mkdir((data + "/tmp/somedir").c_str(), 0700);
    Spit(data + "/tmp/notes.txt", "mine");
    Spit(data + "/locks/foo.lock", "theirs");
    RunResult before = Recover(data, {"--check"});
    CHECK(before.exit_code == 1);
    RunResult r = Recover(data);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    // Moved, not deleted: each is in quarantine/ under its own name.
    std::vector<std::string> kept;
    for (boost::filesystem::directory_iterator it(data + "/quarantine"), end; it != end; ++it) {
      kept.push_back(it->path().filename().string());
    }
    auto has = [&](const std::string& prefix) {
      return std::any_of(kept.begin(), kept.end(),
                         [&](const std::string& k) { return k.starts_with(prefix); });
    };
    CHECK(has("somedir-"));
    CHECK(has("notes.txt-"));
    CHECK(has("foo.lock-"));
    // And the next check and recover find nothing left to do.
    RunResult after = Recover(data, {"--check"});
    INFO(after.out << after.err);
    CHECK(after.exit_code == 0);
    Must(Drovebank(data, {"deposit", "1", "1"}));
  }
  SECTION("a store whose journal segment was emptied") {
    std::string data = dir / "data";
    MakeStore(data);
    Spit(data + "/" + kSegment, "");
    ::unlink((data + "/journal/CHECKPOINT").c_str());
    RunResult r = Recover(data, {"--full"});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK(Exists(data + "/accounts/00/00/00/01.csv"));
    CHECK(Exists(data + "/accounts/00/00/00/02.csv"));
  }
}

// A copy of an older state of one account file (last week's backup of it, put back)
// proves against the older record it names: every field of it is genuine. keys/index's
// entry for the account says a newer state was installed, so the file is caught before
// anyone shows it or builds on it (a withdrawal on it would spend money taken out since).
// Swept: account 1 set back to each of its earlier versions.
TEST_CASE("set back: an account file replaced by an older genuine copy is caught, and recover restores it",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  const std::string file = data + "/accounts/00/00/00/01.csv";
  std::vector<std::string> versions;  // account 1's file after each of its changes
  Must(Drovebank(data, {"open", "Ada", "Lovelace", "100"}));
  versions.push_back(Slurp(file));
  Must(Drovebank(data, {"open", "Mary", "Somerville", "50"}));
  Must(Drovebank(data, {"deposit", "1", "5"}));
  versions.push_back(Slurp(file));
  Must(Drovebank(data, {"transfer", "2", "1", "10"}));
  versions.push_back(Slurp(file));
  Must(Recover(data));  // a checkpoint: what follows is not in a replayed tail
  Must(Drovebank(data, {"withdraw", "1", "100"}));
  const std::string newest = Slurp(file);
  for (size_t v = 0; v < versions.size(); ++v) {
    DYNAMIC_SECTION("set back to version " << v + 1) {
      const std::string segment = Slurp(data + "/" + kSegment);
      Spit(file, versions[v]);
      RunResult show = Drovebank(data, {"show", "1"});
      INFO(show.out << show.err);
      CHECK(show.exit_code == 5);
      CHECK(show.err.find("was set back") != std::string::npos);
      RunResult spend = Drovebank(data, {"withdraw", "1", "10"});
      INFO(spend.out << spend.err);
      CHECK(spend.exit_code == 5);
      CHECK(Slurp(data + "/" + kSegment) == segment);  // nothing built on it
      Must(Recover(data));
      CHECK(Slurp(file) == newest);
      Must(Recover(data, {"--check"}));
      Must(Drovebank(data, {"withdraw", "1", "15"}));  // 15.00 is all that is left
      CHECK(Drovebank(data, {"withdraw", "1", "0.01"}).exit_code == 3);
    }
  }
  SECTION("recover --full finds it without a marker") {
    Spit(file, versions[1]);
    RunResult full = Recover(data, {"--full"});
    INFO(full.out << full.err);
    CHECK(full.exit_code == 0);
    CHECK(Slurp(file) == newest);
  }
}

// The same, with keys/index put back beside the file: a copy of both taken together (a
// backup of the directory, restored for these two files only). The entry then names the
// file's own state, so the file alone proves nothing wrong; keys/index's mark, older too,
// has every record since checked against the entries before any file is read or shown
// (key_vouch.cc), and the records that changed account 1 since tell the file set back.
// Swept: both set back to each earlier version, before and after a checkpoint; read by a
// one-account read and a report, built on by a shell session and a one-shot command.
TEST_CASE("set back: an account file put back together with keys/index from the same older "
          "copy is caught, and recover restores it",
          "[e2e][integrity]") {
  TempDir dir;
  std::string data = dir / "data";
  const std::string file = data + "/accounts/00/00/00/01.csv";
  const std::string index = data + "/keys/index";
  std::vector<std::pair<std::string, std::string>> versions;  // account 1's file, keys/index
  auto keep = [&] { versions.emplace_back(Slurp(file), Slurp(index)); };
  Must(Drovebank(data, {"open", "Ada", "Lovelace", "100"}));
  keep();
  Must(Drovebank(data, {"open", "Mary", "Somerville", "50"}));
  Must(Drovebank(data, {"deposit", "1", "5"}));
  keep();
  Must(Drovebank(data, {"transfer", "2", "1", "10"}));
  keep();
  Must(Recover(data));  // a checkpoint: what follows is not in a replayed tail
  Must(Drovebank(data, {"withdraw", "1", "100"}));
  keep();
  Must(Drovebank(data, {"deposit", "1", "7"}));  // 22.00
  const std::string newest = Slurp(file);
  for (size_t v = 0; v < versions.size(); ++v) {
    DYNAMIC_SECTION("both set back to version " << v + 1) {
      const std::string segment = Slurp(data + "/" + kSegment);
      Spit(file, versions[v].first);
      Spit(index, versions[v].second);
      RunResult show = Drovebank(data, {"show", "1"});
      INFO(show.out << show.err);
      CHECK(show.exit_code == 5);
      CHECK(show.err.find("was set back") != std::string::npos);
      RunResult report = Drovebank(data, {"balance"});
      INFO(report.out << report.err);
      CHECK(report.exit_code == 5);
      RunResult session = Drovebank(data, {"shell"}, {}, "deposit 1 1\n");
      INFO(session.out << session.err);
      CHECK(session.exit_code != 0);
      CHECK(session.err.find("was set back") != std::string::npos);
      RunResult spend = Drovebank(data, {"withdraw", "1", "10"});
      INFO(spend.out << spend.err);
      CHECK(spend.exit_code == 5);
      CHECK(Slurp(data + "/" + kSegment) == segment);  // nothing built on it
      RunResult recovered = Recover(data);
      INFO(recovered.out << recovered.err);
      CHECK(recovered.exit_code == 0);
      CHECK(Slurp(file) == newest);
      Must(Recover(data, {"--check", "--full"}));
      Must(Drovebank(data, {"withdraw", "1", "22"}));  // 22.00 is all that is left
      CHECK(Drovebank(data, {"withdraw", "1", "0.01"}).exit_code == 3);
    }
  }
  // What must not be refused: keys/index put back alone (every file current), and an
  // entry left behind by an earlier build (its sessions set it at their first commit to
  // an account only). Nothing was set back, so every command goes on; the entries behind
  // are raised by the first commit, and the mark moves.
  for (size_t v = 0; v < versions.size(); ++v) {
    DYNAMIC_SECTION("keys/index alone set back to version " << v + 1) {
      Spit(index, versions[v].second);
      Must(Drovebank(data, {"show", "1"}));
      Must(Drovebank(data, {"balance"}));
      Must(Drovebank(data, {"shell"}, {}, "deposit 2 1\n"));
      Must(Drovebank(data, {"withdraw", "1", "2"}));
      Must(Recover(data, {"--check"}));
      CHECK(Must(Drovebank(data, {"show", "1"})).out.find("20.00") != std::string::npos);
    }
  }
  SECTION("an entry an earlier build left behind") {
    std::string bytes = Slurp(index);
    REQUIRE(bytes.size() >= 8 * (kKeySlots + 2));
    std::fill_n(bytes.begin() + 8 * (kKeySlots + 1), 8, '\0');  // account 1's entry: 0
    std::fill_n(bytes.begin() + 8 * kKeySlots, 8, '\0');        // the mark: 0
    Spit(index, bytes);
    Must(Drovebank(data, {"show", "1"}));
    Must(Drovebank(data, {"deposit", "2", "1"}));
    Must(Drovebank(data, {"withdraw", "1", "2"}));
    Must(Recover(data, {"--check", "--full"}));
  }
}

TEST_CASE("links: a link planted at a spare's name is never written through", "[e2e][integrity][local-only]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  std::string outside = dir / "outside.txt";
  Spit(outside, "not the bank's");
  for (int k = 0; k < 4; ++k) {
    std::string spare = data + "/tmp/spare-" + std::to_string(k);
    ::unlink(spare.c_str());
    REQUIRE(::link(outside.c_str(), spare.c_str()) == 0);
  }
  Must(Drovebank(data, {"deposit", "1", "1"}));
  Must(Drovebank(data, {"deposit", "2", "1"}));
  CHECK(Slurp(outside) == "not the bank's");
  for (int k = 0; k < 4; ++k) {
    std::string spare = data + "/tmp/spare-" + std::to_string(k);
    ::unlink(spare.c_str());
    REQUIRE(::symlink(outside.c_str(), spare.c_str()) == 0);
  }
  Must(Drovebank(data, {"deposit", "1", "1"}));
  CHECK(Slurp(outside) == "not the bank's");
  Must(Recover(data, {"--check"}));
}

// Any process that can read locks/keys can lock bytes of it. One holding every spare
// slot makes a deposit wait and give up, and then nothing may have changed: exit 4 means
// nothing changed, the store is not marked, and the balance is as it was.
TEST_CASE("readers: a read-only process holding the spare slots cannot turn a commit into exit 4",
          "[e2e][integrity][local-only]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  int fd = ::open((data + "/locks/keys").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  struct flock fl = {};
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 1 << 20;  // the spare slots (docs/FORMAT.md, lock tables)
  fl.l_len = 4096;
  REQUIRE(::fcntl(fd, F_OFD_SETLK, &fl) == 0);
  const std::string segment = Slurp(data + "/" + kSegment);
  RunResult r = Drovebank(data, {"deposit", "1", "1", "--lock-timeout", "1"});
  ::close(fd);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 4);
  CHECK(Slurp(data + "/" + kSegment) == segment);  // nothing reached the journal
  CHECK(!Exists(data + "/NEEDS_RECOVERY"));
  RunResult show = Drovebank(data, {"show", "1"});
  CHECK(show.out.find("115.00") != std::string::npos);
  Must(Drovebank(data, {"deposit", "1", "1"}));
}

// A read-only descriptor is enough for fcntl to grant a shared lock, on any file of the
// store. Swept: a whole-file shared lock on every file a deposit touches, and on each of
// journal/state's lock bytes alone (the append mutex, the sync leader, the checkpointer).
// Each time the deposit must end by itself (the kill at 60 s is only a backstop, 60 times
// its --lock-timeout), and either commit (exit 0) or change nothing (exit 4, journal
// unchanged, store not marked). Before the journal's waits were bounded, a lock on
// journal/state kept the deposit waiting until it was killed.
TEST_CASE("readers: a shared lock on any file of the store cannot hold a writer past --lock-timeout",
          "[e2e][integrity][local-only]") {
  TempDir dir;
  std::string data = dir / "data";
  MakeStore(data);
  struct Target {
    std::string file;
    off_t start, len;  // len 0: to the end of the file and beyond
  };
  std::vector<Target> targets = {{"journal/state", 100, 1}, {"journal/state", 101, 1},
                                 {"journal/state", 102, 1}};
  for (const char* f : {"journal/state", kSegment, "locks/accounts", "locks/keys", "locks/owners",
                        "keys/index", "FORMAT", "accounts/00/00/00/01.csv"}) {
    targets.push_back({f, 0, 0});
  }
  Cents expected = 11500;
  for (const Target& t : targets) {
    DYNAMIC_SECTION(t.file << " bytes " << t.start << "+" << t.len) {
      int fd = ::open((data + "/" + t.file).c_str(), O_RDONLY);
      REQUIRE(fd >= 0);
      struct flock fl = {};
      fl.l_type = F_RDLCK;
      fl.l_whence = SEEK_SET;
      fl.l_start = t.start;
      fl.l_len = t.len;
      REQUIRE(::fcntl(fd, F_OFD_SETLK, &fl) == 0);
      const std::string segment = Slurp(data + "/" + kSegment);
      RunResult r = testing::Drovebank(data, {"deposit", "1", "1", "--lock-timeout", "1"});
      ::close(fd);
      INFO(r.out << r.err);
      CHECK(!r.timed_out);
      CHECK((r.exit_code == 0 || r.exit_code == 4));
      CHECK(!Exists(data + "/NEEDS_RECOVERY"));
      if (r.exit_code == 4) {
        CHECK(Slurp(data + "/" + kSegment) == segment);  // nothing reached the journal
        CHECK(r.err.find("nothing changed") != std::string::npos);
      } else {
        expected += 100;
      }
      // The sync leader and the checkpointer only share work: the commit goes on without them.
      if (t.file == "journal/state" && t.len == 1 && t.start != 100) CHECK(r.exit_code == 0);
      RunResult show = Drovebank(data, {"-O", "json", "show", "1"});
      REQUIRE(show.exit_code == 0);
      CHECK(*ParseAmount(nlohmann::json::parse(show.out)["balance"].get<std::string>()) == expected);
      Must(Recover(data, {"--check"}));
    }
  }
}

// Jepsen's bank test, with the moment under control: a report walks the accounts in id
// order, and between its visits another session transfers from an account it has yet to
// visit to one it has already visited. Without one journal position for the whole report
// the transferred money is seen twice or not at all.
//
// Swept over the two ways a report reads: the account files, and journal/SNAPSHOT with the
// journal's tail (every checkpoint writes one here) — the latter also with the writer's
// checkpoint writing a new snapshot over the one being read, mid-walk.
TEST_CASE("reports: a walk of every account adds up while another session transfers",
          "[integrity]") {
  enum Path { kFiles, kSnapshot, kSnapshotReplaced };
  Path path = GENERATE(kFiles, kSnapshot, kSnapshotReplaced);
  CAPTURE(static_cast<int>(path));
  TempDir dir;
  StoreOptions so;
  so.data_dir = dir / "data";
  if (path != kFiles) so.snapshot_every = 1;
  auto reader = Store::Open(so);
  REQUIRE(reader.ok());
  for (int i = 0; i < 6; ++i) testing::MustOpen(**reader, 10000);
  auto writer = Store::Open(so);
  REQUIRE(writer.ok());
  for (int back = 1; back <= 5; ++back) {
    DYNAMIC_SECTION("a transfer from account 6 to account " << back << " mid-walk") {
      REQUIRE((*reader)->Checkpoint(/*wait=*/true).ok());
      auto proven = Impl(**reader).ProvenSnapshotAt();
      REQUIRE(proven.ok());
      REQUIRE(proven->has_value() == (path != kFiles));
      Cents total = 0;
      int visited = 0;
      Status s = (*reader)->ForEachAccount([&](const Account& a) -> Result<bool> {
        total += a.balance;
        if (++visited == back) {
          auto t = (*writer)->Commit(
              Event{{testing::Money(OpKind::kTransfer, 6, 2500, back)}, ""});
          REQUIRE(t.ok());
          if (path == kSnapshotReplaced) {
            REQUIRE((*writer)->Checkpoint(/*wait=*/true).ok());
            auto now = Impl(**writer).ProvenSnapshotAt();
            REQUIRE(now.ok());
            REQUIRE(now->has_value());
            CHECK(**now > **proven);  // a new file renamed over the one being read
          }
        }
        return true;
      });
      REQUIRE(s.ok());
      CHECK(visited == 6);
      CHECK(total == 60000);
      // The next walk sees the transfer, and still adds up.
      Cents after = 0;
      REQUIRE((*reader)->ForEachAccount([&](const Account& a) -> Result<bool> {
                  after += a.balance;
                  return true;
                }).ok());
      CHECK(after == 60000);
    }
  }
}

}  // namespace
}  // namespace drovebank
