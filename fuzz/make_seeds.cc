// Writes the seed corpora of the fuzz targets: OUT/<target>/seed-N, made with the real
// encoders so the seeds always match the current formats. Usage: fuzz_seeds OUT
#include <sys/stat.h>

#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include "drovebank/account.h"
#include "drovebank/record.h"

using namespace drovebank;

namespace {

const std::vector<std::pair<std::string, std::string>> kNames = {
    {"Ada", "Lovelace"},
    {"Mary Ann", "O'Brien, Jr."},
    {"\"Ziggy\"", "Stardust"},
    {"=SUM(A1)", "+1"},
    {"-2", "@cmd"},
    {"Zoë", "Ελληνικά"},
    {"名前", "😀 emoji"},
    {"a,b", "c\"d\"e"},
    {" lead", "trail "},
};

bool WriteSeeds(const std::string& out, const std::string& target,
                const std::vector<std::string>& seeds) {
  std::string dir = out + "/" + target;
  ::mkdir(out.c_str(), 0700);
  ::mkdir(dir.c_str(), 0700);
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::string path = dir + "/seed-" + std::to_string(i);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    std::fwrite(seeds[i].data(), 1, seeds[i].size(), f);
    if (std::fclose(f) != 0) return false;
  }
  return true;
}

Account MakeAccount(size_t i) {
  Account a;
  a.id = static_cast<AccountId>(i == 0 ? kMaxAccountId : i);
  a.first = kNames[i % kNames.size()].first;
  a.last = kNames[i % kNames.size()].second;
  a.balance = i == 1 ? kMaxCents : static_cast<Cents>(i * 12345);
  a.closed = i % 3 == 2;
  a.version = i + 1;
  a.last_txn = i * 7;
  return a;
}

std::vector<Record> MakeRecords() {
  std::vector<Record> out;
  for (size_t i = 0; i < 6; ++i) {
    Record r;
    r.txn = i + 1;
    r.time_ms = 1'700'000'000'000 + static_cast<std::int64_t>(i);
    r.key = i % 2 ? "pay-2026-" + std::to_string(i) : "";
    Op op;
    op.kind = static_cast<OpKind>(i % 5);
    op.id = static_cast<AccountId>(i + 1);
    op.to = op.kind == OpKind::kTransfer ? op.id + 1 : 0;
    op.amount = static_cast<Cents>(i * 100 + 5);
    op.after = op.amount;
    op.to_after = op.kind == OpKind::kTransfer ? 77 : 0;
    if (op.kind == OpKind::kOpen) {
      op.first = kNames[i % kNames.size()].first;
      op.last = kNames[i % kNames.size()].second;
    }
    r.ops.push_back(op);
    r.request = RequestText(r.ops);
    Account a = MakeAccount(i + 1);
    a.last_txn = r.txn;
    r.accounts.push_back({a, i});
    out.push_back(r);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR\n");
    return 2;
  }
  std::string out = argv[1];
  bool ok = true;

  ok &= WriteSeeds(out, "fuzz_amount",
                   {"0", "1", "12.34", "0.05", "999999999999.99", "1000000000000", "1.", ".5", "-1",
                    "1e3", "0x10", " 1", "1.234", "00012.30"});

  std::vector<std::string> files;
  for (size_t i = 0; i < kNames.size(); ++i) {
    std::string f = EncodeAccountFile(MakeAccount(i));
    files.push_back(f);
    // The body alone: the target frames it with the header and a correct checksum.
    std::string body = f.substr(kAccountHeader.size() + 1);
    files.push_back(body.substr(0, body.rfind(',')));
  }
  ok &= WriteSeeds(out, "fuzz_account_file", files);

  std::vector<Record> records = MakeRecords();
  std::vector<std::string> lines, scans;
  std::string all;
  for (const Record& r : records) {
    std::string line = EncodeRecord(r);
    lines.push_back(line.substr(0, line.size() - 1));
    lines.push_back(RecordJson(r));
    all += line;
  }
  ok &= WriteSeeds(out, "fuzz_record", lines);
  // Mask byte 0: the bytes as they are; 0xFF: every line re-checksummed (JSON bodies).
  scans.push_back(std::string(1, '\0') + all);
  scans.push_back(std::string(1, '\0') + all.substr(0, all.size() - 17));
  std::string bodies;
  for (const Record& r : records) bodies += RecordJson(r) + "\n";
  scans.push_back(std::string(1, '\xff') + bodies);
  scans.push_back(std::string(1, '\xfb') + bodies);
  ok &= WriteSeeds(out, "fuzz_scan_records", scans);

  ok &= WriteSeeds(
      out, "fuzz_legacy_line",
      {std::string("\0\0\0\x07", 4) + "Ada,Lovelace,100.0\n",
       std::string("\0\0\0\x02", 4) + "Mary Ann,O'Brien,50.25\r\n",
       std::string("\0\0\0\x03", 4) + "Zoë,Ελληνικά,7.", std::string("\0\0\0\x10", 4) + "a,b,1e3"});
  ok &= WriteSeeds(out, "fuzz_lock_owner",
                   {"7 4242 1700000000000 ledger-host                                   \n",
                    "0 1 0 x", "7 -1 99999999999999999999 a", "7 1 2"});
  ok &= WriteSeeds(out, "fuzz_validate",
                   {"1", "99999999", "00000001", "../x", "pay-2026:01.a", "Zoë", "\x1b[31m",
                    "\xc2\x9b", "名前"});
  ok &= WriteSeeds(out, "fuzz_shell_tokenize",
                   {"open 'Mary Ann' 'O'\"'\"'Brien, Jr.' 100", "deposit 1 5 # note",
                    "open \"\\\"Ziggy\\\"\" x\\ y \"\"", "transfer 1 2 3.50 --txn k1"});
  ok &= WriteSeeds(
      out, "fuzz_batch",
      {R"({"op":"deposit","id":1,"amount":"5.00","key":"k1"})",
       R"({"op":"open","first":"Ada","last":"O'Brien, Jr.","amount":12.5})",
       R"({"op":"transfer","from":"1","to":2,"amount":1e2})", R"({"op":"close","id":99999999})",
       R"([{"id":1,"type":"branch","balance":400},{"id":2,"type":"customer",)"
       R"("events":[{"id":1,"interface":"deposit","money":570.25},)"
       R"({"id":2,"interface":"query"}]}])"});
  // Whole batch inputs: JSON Lines (blank and CRLF lines included) and the customer array.
  ok &= WriteSeeds(
      out, "fuzz_batch_input",
      {"{\"op\":\"open\",\"first\":\"Ada\",\"last\":\"Lovelace\",\"amount\":\"10\"}\n"
       "\n{\"op\":\"deposit\",\"id\":1,\"amount\":5.25,\"key\":\"k1\"}\r\n"
       "{\"op\":\"transfer\",\"from\":1,\"to\":\"2\",\"amount\":1}\n{\"op\":\"close\",\"id\":2}",
       "  \n{\"op\":\"withdraw\",\"id\":\"7\",\"amount\":\"0.01\"}\n{bad\n",
       "[{\"id\":1,\"type\":\"branch\",\"balance\":400},\n {\"id\":2,\"type\":\"customer\","
       "\"events\":[{\"id\":1,\"interface\":\"deposit\",\"money\":570.25},"
       "{\"id\":2,\"interface\":\"query\"},{\"id\":3,\"interface\":\"withdraw\",\"money\":1}]}]\n",
       "\t[]", "x{}"});
  // Legacy directories (entries separated by NUL; "name/content" is a file, "@name" a
  // link, a bare name a directory): a clean one, an interrupted write, an interrupted
  // transfer, an index rewrite, and names the planner must refuse or skip.
  auto dir = [](std::initializer_list<std::string> entries) {
    std::string s;
    for (const std::string& e : entries) s += e + std::string(1, '\0');
    return s;
  };
  ok &= WriteSeeds(
      out, "fuzz_legacy_plan",
      {dir({"index.idx/3\n", "1.txt/Ada,Lovelace,100.0\n", "2.txt/Mary Ann,O'Brien,50.25\n'",
            "3.txt/Zoë,Ελληνικά,7."}),
       dir({"index.idx/2", "1.lock/", "1_abcd1234.txt.tmp/Ada,Lovelace,90.0\n",
            "2.txt/Bob,Smith,1.5", "2_zz99aa00.txt.old/Bob,Smith,1.0"}),
       dir({"4_Xy12Zw90.txt.xtmp/A,B,1.0", "5_Xy12Zw90.txt.xtmp/C,D,2.0", "5.txt/C,D,3.0",
            "4_Xy12Zw90.txt.xold/A,B,2.0", "5_Xy12Zw90.txt.xold/C,D,1.0"}),
       dir({"index.lock/", "index_a1b2c3d4.idx.tmp/9\n", "index_a1b2c3d4.idx.old/8\n",
            "9.txt/x,y,1e3", "07.txt/a,b,1", "0.txt/a,b,1", "100000000.txt/a,b,1",
            "6.atmp/a,b,1", "notes.md/hi", "@8.txt", "10.txt", "11_aaaaaaaa.txt.tmp/a,b,1",
            "11_bbbbbbbb.txt.tmp/a,b,2"})});
  if (!ok) {
    std::perror("fuzz_seeds");
    return 1;
  }
  return 0;
}
