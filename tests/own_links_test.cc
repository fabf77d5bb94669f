// src/store/own_links.cc: a hard-link backup of a store (cp -al, rsync --link-dest,
// rsnapshot) is never changed by later writes to the store, the files written in place
// (journal/state, the lock tables, keys/index) included; the attach lock that makes copying
// them safe; a crash at each step of the copies; a backup taken while a shell session has
// the store open.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "drovebank/store.h"
#include "store_ops.h"
#include "shell_test_util.h"
#include "small_store.h"
#include "store/key_index.h"
#include "test_util.h"

namespace drovebank {
namespace {

using testing::Drovebank;
using testing::RunResult;
using testing::Recover;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;
using testing::ScriptSource;
using testing::TestSession;

const char* kSegment = "journal/0000000000000001.log";

using testing::Must;
void MakeStore(const std::string& data) { testing::MakeSmallStore(data); }

// A small store at dir/data, and Backup(): its hard-link backup (cp -al) at dir/snap.
struct LinkedStore {
  TempDir dir;
  std::string data = dir / "data";
  std::string snap = dir / "snap";
  LinkedStore() { MakeStore(data); }
  void Backup() { REQUIRE(std::system(("cp -al '" + data + "' '" + snap + "'").c_str()) == 0); }
};

// Every regular file under `root`, byte for byte.
std::map<std::string, std::string> FilesUnder(const std::string& root) {
  std::map<std::string, std::string> files;
  for (boost::filesystem::recursive_directory_iterator it(root), end; it != end; ++it) {
    if (boost::filesystem::is_regular_file(it->symlink_status())) {
      files[it->path().string()] = Slurp(it->path().string());
    }
  }
  return files;
}

std::uint64_t Links(const std::string& path) {
  struct stat st = {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_nlink;
}

// An OFD lock request `cmd` (F_OFD_SETLK, F_OFD_GETLK) of `type` on one byte of the store's
// journal/state, through `fd`.
void LockStateByte(int fd, int cmd, short* type, off_t byte) {
  struct flock fl = {};
  fl.l_type = *type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  REQUIRE(::fcntl(fd, cmd, &fl) == 0);
  *type = fl.l_type;
}

// What a process that has the store open holds (src/store/own_links.h): a lock on byte
// 103 of journal/state, shared, or exclusive while it gives the files inodes of their own.
struct AttachHolder {
  int fd = -1;
  AttachHolder(const std::string& data, short type) {
    fd = ::open((data + "/journal/state").c_str(), type == F_RDLCK ? O_RDONLY : O_RDWR);
    REQUIRE(fd >= 0);
    LockStateByte(fd, F_OFD_SETLK, &type, 103);
  }
  ~AttachHolder() { ::close(fd); }
};

// Whether a process holds byte 104 of the store's journal/state: a writer that found a
// hard-link copy and waits for every other process to let go (kCopyByte, own_links.h).
bool CopierWaiting(const std::string& data) {
  int fd = ::open((data + "/journal/state").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  short type = F_WRLCK;
  LockStateByte(fd, F_OFD_GETLK, &type, 104);
  ::close(fd);
  return type != F_UNLCK;
}

// A one-shot `deposit 1 5` on `data`, run on a thread of its own; Wait() gives its result.
// Started while this process has the store open, it finds the hard-link copy, takes byte
// 104 and waits for this process to let go: Start returns once it does, so the moment the
// test controls (this process's next check point) comes after it.
struct CopyingWriter {
  std::thread thread;
  RunResult result;
  void Start(const std::string& data) {
    thread = std::thread([this, data] { result = Drovebank(data, {"deposit", "1", "5"}); });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!CopierWaiting(data) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(CopierWaiting(data));
  }
  RunResult Wait() {
    thread.join();
    return result;
  }
};

const char* const kInPlaceFiles[] = {"journal/state", "locks/accounts", "locks/keys",
                                     "locks/owners", "keys/index"};

// Each file of `before` (FilesUnder) still holds what it held.
void CheckUnchanged(const std::map<std::string, std::string>& before) {
  for (const auto& [path, bytes] : before) {
    INFO(path);
    CHECK((Slurp(path) == bytes));  // not decomposed: keys/index is 8 MiB
  }
}

// Each in-place file of the store at `data` has `links` links.
void CheckLinks(const std::string& data, std::uint64_t links) {
  for (const char* f : kInPlaceFiles) {
    INFO(f);
    CHECK(Links(data + "/" + f) == links);
  }
}

// After a shell session across a backup of `store`: the backup byte for byte as it was
// taken (`before`), the store with inodes of its own, `balance` among what the session
// printed, and both stores consistent.
void CheckSessionKeptBackup(const LinkedStore& store,
                            const std::map<std::string, std::string>& before,
                            TestSession& session, const std::string& balance) {
  INFO(session.out.text() << session.err.text());
  REQUIRE(!before.empty());
  CheckUnchanged(before);
  CheckLinks(store.data, 1);
  CHECK(session.out.text().find(balance) != std::string::npos);
  Must(Recover(store.data, {"--check"}));
  Must(Recover(store.snap, {"--check"}));
}

TEST_CASE("links: a hard-link backup of a store is never changed by later writes",
          "[e2e][integrity][local-only]") {
  LinkedStore store;
  store.Backup();
  const std::string& data = store.data;
  const std::string& snap = store.snap;
  const std::map<std::string, std::string> before = FilesUnder(snap);
  for (int i = 0; i < 4; ++i) {
    Must(Drovebank(data, {"deposit", std::to_string(1 + i % 2), "1"}));
  }
  Must(Drovebank(data, {}, {}, "deposit 1 1\ntransfer 1 2 1\n"));
  // Every file, the ones written in place (journal/state, the lock tables, keys/index)
  // included: the first writer gave the store inodes of its own before writing any.
  CheckUnchanged(before);
  CheckLinks(data, 1);
  CheckLinks(snap, 1);
  RunResult show = Drovebank(snap, {"--read-only", "show", "1"});
  INFO(show.err);
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("115.00") != std::string::npos);
  Must(Recover(data, {"--check"}));
  Must(Recover(snap, {"--check"}));
  CHECK(Drovebank(data, {"show", "1"}).out.find("117.00") != std::string::npos);
}

// Copying a file that another process has open would split its locks between two inodes,
// so the copies wait for a writer that opens the store alone; and a process opening the
// store while a writer makes them waits (bounded by --lock-timeout) rather than lock the
// old inodes.
TEST_CASE("links: in-place files get inodes of their own only while no other process has the store open",
          "[e2e][integrity][local-only]") {
  LinkedStore store;
  store.Backup();
  const std::string& data = store.data;
  const std::string& snap = store.snap;
  SECTION("another process attached: written in place, copied by the next writer alone") {
    {
      AttachHolder session(data, F_RDLCK);
      Must(Drovebank(data, {"deposit", "1", "1"}));
      CheckLinks(data, 2);
    }
    const std::map<std::string, std::string> before = FilesUnder(snap);
    Must(Drovebank(data, {"deposit", "2", "1"}));
    CheckLinks(data, 1);
    CheckUnchanged(before);
    Must(Recover(data, {"--check"}));
  }
  SECTION("a writer making copies: others wait, then give up with nothing changed") {
    AttachHolder breaker(data, F_WRLCK);
    const std::string segment = Slurp(data + "/" + kSegment);
    RunResult w = Drovebank(data, {"deposit", "1", "1", "--lock-timeout", "1"});
    INFO(w.out << w.err);
    CHECK(w.exit_code == 4);
    CHECK(w.err.find("nothing changed") != std::string::npos);
    RunResult r = Drovebank(data, {"show", "1", "--lock-timeout", "1"});
    CHECK(r.exit_code == 4);
    CHECK(Slurp(data + "/" + kSegment) == segment);
    CHECK(!testing::PathExists(data + "/NEEDS_RECOVERY"));
  }
  SECTION("a link planted on one of them is never written through") {
    // keys/index's stand-in is a copy of the store's own (a shorter one is damage the
    // command refuses to read, "keys/index deleted or cut short", and one whose slots lack
    // the keys used is a file set back, "keys/index put back from an older copy", both in
    // security_test.cc).
    std::string outside = store.dir / "outside", outside_index = store.dir / "outside-index";
    Spit(outside, std::string(384, 'x'));
    Spit(outside_index, Slurp(data + "/keys/index"));
    REQUIRE(Slurp(outside_index).size() >= kKeyIndexWholeBytes);
    const std::string index_before = Slurp(outside_index);
    for (auto [f, from] : {std::pair{"locks/owners", outside}, {"keys/index", outside_index}}) {
      std::string p = data + "/" + f;
      REQUIRE(::unlink(p.c_str()) == 0);
      REQUIRE(::link(from.c_str(), p.c_str()) == 0);
    }
    Must(Drovebank(data, {"deposit", "1", "1", "--txn", "planted"}));
    CHECK(Slurp(outside) == std::string(384, 'x'));
    CHECK(Links(outside) == 1);
    CHECK(Slurp(outside_index) == index_before);
    CHECK(Links(outside_index) == 1);
  }
}

// Each step of giving the store its own inodes killed: no step leaves a half-copied file
// at a store's name, and the next writer finishes the job.
TEST_CASE("links: a crash at each step of giving the store its own inodes loses nothing",
          "[e2e][integrity][local-only][crash]") {
  for (const char* step : {"begin", "before_rename", "after_rename", "done"}) {
    DYNAMIC_SECTION(step) {
      LinkedStore store;
      store.Backup();
      const std::string& data = store.data;
      const std::string& snap = store.snap;
      const std::map<std::string, std::string> before = FilesUnder(snap);
      RunResult crashed = Drovebank(data, {"deposit", "1", "1"},
                                        {{"DROVEBANK_FAULT", std::string("own_links:") + step + ":crash"}});
      INFO(crashed.out << crashed.err);
      CHECK(crashed.exit_code == 86);
      Must(Drovebank(data, {"deposit", "1", "2"}));
      CheckLinks(data, 1);
      CheckUnchanged(before);
      Must(Recover(data));
      Must(Recover(data, {"--check"}));
      CHECK(Drovebank(data, {"show", "1"}).out.find("117.00") != std::string::npos);
    }
  }
}


TEST_CASE("links: a backup taken while a shell session has the store open is not written by its next commits",
          "[integrity][local-only][shell]") {
  LinkedStore store;
  const std::string& data = store.data;
  const std::string& snap = store.snap;
  std::map<std::string, std::string> before;
  TestSession session(data);
  ScriptSource src({"deposit 1 1", "deposit 2 1", "transfer 1 2 1", "show 1"}, false);
  src.before[1] = [&] {  // the backup, between two commands of the session
    store.Backup();
    before = FilesUnder(snap);
  };
  CHECK(session.Run(src) == 0);
  CheckSessionKeptBackup(store, before, session, "115.00");
}

// A session lets go of the store while it waits for its next line (Store::Pause): at a
// terminal while its user types, in a script while the line is not there yet. Another
// writer, alone then, gives the store files of its own, and the session takes up the new
// ones at its next command. A script whose lines are there at once keeps the store open:
// the writer takes byte 104 and waits, and the session, at its next command, sees the
// links and makes way (lets go, waits for the copies, takes up the new inodes). Without
// either, the writer would find the session attached and write the backup's inodes in
// place.
TEST_CASE("links: a backup taken while a shell session has the store open is not written by "
          "another writer, nor by the session after",
          "[integrity][local-only][shell]") {
  struct Way {
    const char* name;
    bool interactive, read_only, ready;
  };
  for (Way way : {Way{"a terminal session at its prompt", true, false, true},
                  Way{"a read-only terminal session at its prompt", true, true, true},
                  Way{"a script session, its next line not there yet", false, false, false},
                  Way{"a script session, its next line there at once", false, false, true}}) {
    DYNAMIC_SECTION(way.name) {
      LinkedStore store;
      const std::string& data = store.data;
      std::map<std::string, std::string> before;
      TestSession session(data);
      session.ctx.read_only = way.read_only;
      std::vector<std::string> lines = way.read_only
          ? std::vector<std::string>{"show 1", "show 2", "show 1"}
          : std::vector<std::string>{"deposit 1 1", "deposit 2 1", "transfer 1 2 1", "show 1"};
      ScriptSource src(lines, way.interactive);
      src.ready = way.ready;
      const bool keeps_store = !way.interactive && way.ready;
      CopyingWriter writer;
      src.before[1] = [&] {
        store.Backup();
        before = FilesUnder(store.snap);
        if (keeps_store) {
          writer.Start(data);  // waits for the session's next command
        } else {
          Must(Drovebank(data, {"deposit", "1", "5", "--lock-timeout", "2"}));  // alone
          CheckLinks(data, 1);
        }
      };
      CHECK(session.Run(src) == 0);
      if (keeps_store) {
        RunResult w = writer.Wait();
        INFO(w.out << w.err);
        CHECK(w.exit_code == 0);
      }
      CheckSessionKeptBackup(store, before, session, "120.00");
      // The session's descriptors moved to the store's new inodes: another writer alone
      // again, and the store still consistent after it.
      Must(Drovebank(data, {"deposit", "2", "1"}));
      Must(Recover(data, {"--check"}));
    }
  }
}

// A long read (a report, an export, a history) is a check point every 256 accounts or
// records: a writer that finds a hard-link backup while the read runs waits for it there,
// not for its end, and the read goes on with the store's new inodes, as of one journal
// position still.
TEST_CASE("links: a long read makes way for a writer that gives a new backup's store files of its own",
          "[integrity][local-only]") {
  constexpr int kAccounts = 600;
  for (bool read_only : {false, true}) {
    DYNAMIC_SECTION((read_only ? "a read-only reader" : "a reader that may write")) {
      TempDir dir;
      std::string data = dir / "data";
      std::string snap = dir / "snap";
      {
        auto s = testing::MustOpenStore(data, DefaultEnv());
        for (int i = 0; i < kAccounts; ++i) testing::MustOpen(*s, 100);
      }
      StoreOptions so;
      so.data_dir = data;
      so.read_only = read_only;
      auto reader = Store::Open(so);
      REQUIRE(reader.ok());
      std::map<std::string, std::string> before;
      CopyingWriter writer;
      Cents total = 0;
      int visited = 0;
      Status walked = (*reader)->ForEachAccount([&](const Account& a) -> Result<bool> {
        total += a.balance;
        if (++visited == 1) {
          REQUIRE(std::system(("cp -al '" + data + "' '" + snap + "'").c_str()) == 0);
          before = FilesUnder(snap);
          writer.Start(data);  // waits for the walk's next check point
        }
        return true;
      });
      RunResult w = writer.Wait();
      INFO(w.out << w.err);
      REQUIRE(walked.ok());
      CHECK(w.exit_code == 0);
      CHECK(visited == kAccounts);
      CHECK(total == Cents{100} * kAccounts);  // the walk's journal position: before the deposit
      CheckUnchanged(before);
      CheckLinks(data, 1);
      // The reader is on the store's new inodes: it sees the deposit, and a writer after it
      // is alone at once.
      auto one = (*reader)->Get(1);
      REQUIRE(one.ok());
      CHECK(one->balance == 600);
      reader->reset();
      Must(Drovebank(data, {"deposit", "2", "1"}));
      CheckUnchanged(before);
      Must(Recover(data, {"--check"}));
      Must(Recover(snap, {"--check"}));
    }
  }
}

// On a shared file system the store's files are written in place, and giving them inodes
// of their own would leave other hosts' cached names on the old ones for a while: a store
// with a hard-link copy there is only read until the copy is gone. Nothing is written
// through, reads go on, and the refusal names the copy and the way out.
TEST_CASE("links: on a shared file system a store with a hard-link copy is read, and never "
          "written until the copy is gone",
          "[integrity][local-only][shell]") {
  testing::EnvScope shared("DROVEBANK_FS", std::string("shared"));
  LinkedStore store;
  const std::string& data = store.data;
  const std::string& snap = store.snap;
  SECTION("one-shot commands and recover") {
    store.Backup();
    const std::map<std::string, std::string> before = FilesUnder(snap);
    RunResult w = Drovebank(data, {"deposit", "1", "1"});
    INFO(w.out << w.err);
    CHECK(w.exit_code == 1);
    CHECK(w.err.find("hard-link copy") != std::string::npos);
    CHECK(w.err.find("nothing changed") != std::string::npos);
    RunResult r = Recover(data);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("hard-link copy") != std::string::npos);
    RunResult show = Drovebank(data, {"show", "1"});
    CHECK(show.exit_code == 0);
    CHECK(show.out.find("115.00") != std::string::npos);
    CheckUnchanged(before);
    boost::filesystem::remove_all(snap);
    Must(Drovebank(data, {"deposit", "1", "1"}));
    CHECK(Drovebank(data, {"show", "1"}).out.find("116.00") != std::string::npos);
    Must(Recover(data, {"--check"}));
  }
  for (bool terminal : {false, true}) {
    DYNAMIC_SECTION((terminal ? "a terminal session waiting at its prompt"
                              : "a script session that was running when the copy was made")) {
      std::map<std::string, std::string> before;
      TestSession session(data);
      // Each deposit is followed by a `show`, which commits a script's waiting lines (the
      // shell's group commit) before it reads: the first deposit is committed when the copy
      // is made, the second is tried while it is there, the third once it is gone.
      ScriptSource src(
          {"deposit 1 1", "show 1", "deposit 1 1", "show 1", "deposit 1 1", "show 1"}, terminal);
      src.before[2] = [&] {  // a script session has the store open: its next line is there
        store.Backup();
        before = FilesUnder(snap);
      };
      src.before[4] = [&] {
        // Every file as it was taken; but a script's refused commit took its account's slot
        // before its append refused: its owner note and repair flag are in the lock tables,
        // which the copy shares (advisory: a recover of the copy rebuilds the flagged
        // account from the copy's own journal, to the same state).
        std::map<std::string, std::string> kept = before;
        if (!terminal) {
          kept.erase(snap + "/locks/accounts");
          kept.erase(snap + "/locks/owners");
        }
        CheckUnchanged(kept);
        boost::filesystem::remove_all(snap);
      };
      // A script's refused lines decide its exit status; at a terminal they do not.
      CHECK(session.Run(src) == (terminal ? 0 : 1));
      INFO(session.out.text() << session.err.text());
      REQUIRE(!before.empty());
      CHECK(session.err.text().find("hard-link copy") != std::string::npos);
      CHECK(session.out.text().find("117.00") != std::string::npos);
      CHECK(Drovebank(data, {"show", "1"}).out.find("117.00") != std::string::npos);
      Must(Recover(data, {"--check"}));
    }
  }
}

}  // namespace
}  // namespace drovebank
