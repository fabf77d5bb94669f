// The SQLite side of scripts/bench: the same bank workloads as drovebank's, on a WAL
// database with synchronous=FULL (every commit durable), through libsqlite3.
//
//   sqlite_bench init DB N                       N accounts (ids 1..N, balance 1000.00)
//   sqlite_bench deposits DB COUNT FIRST RANGE   COUNT single-row transactions
//   sqlite_bench transfers DB COUNT FIRST RANGE  COUNT two-row transactions
//   sqlite_bench bulk DB COUNT FIRST RANGE       COUNT deposits in ONE transaction
//
// Operations cycle over accounts FIRST..FIRST+RANGE-1 (so concurrent processes can work on
// disjoint accounts). Each checks the same rules drovebank does (account open, funds
// cover a transfer, result within the maximum). Prints one line:
//   ops=N seconds=S ops_per_s=X
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void Die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "sqlite_bench: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_bench: %s: %s\n", sql, err ? err : "?");
    std::exit(1);
  }
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) Die(db, sql);
  return st;
}

// Runs a bound statement to completion; returns the rows it changed.
int Step(sqlite3* db, sqlite3_stmt* st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) Die(db, "step");
  sqlite3_reset(st);
  return sqlite3_changes(db);
}

sqlite3* OpenDb(const char* path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path, &db) != SQLITE_OK) Die(db, "open");
  sqlite3_busy_timeout(db, 10000);
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db, "PRAGMA synchronous=FULL");
  return db;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: sqlite_bench init DB N | {deposits|transfers|bulk} DB COUNT FIRST "
                 "RANGE\n");
    return 2;
  }
  std::string mode = argv[1];
  sqlite3* db = OpenDb(argv[2]);
  long long count = std::atoll(argv[3]);
  if (mode == "init") {
    Exec(db,
         "CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, first TEXT NOT NULL, "
         "last TEXT NOT NULL, balance INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0)");
    Exec(db, "BEGIN");
    sqlite3_stmt* ins =
        Prepare(db, "INSERT INTO accounts (id, first, last, balance) VALUES (?, ?, ?, 100000)");
    for (long long i = 1; i <= count; ++i) {
      std::string first = "First" + std::to_string(i), last = "Last" + std::to_string(i);
      sqlite3_bind_int64(ins, 1, i);
      sqlite3_bind_text(ins, 2, first.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 3, last.c_str(), -1, SQLITE_TRANSIENT);
      Step(db, ins);
    }
    sqlite3_finalize(ins);
    Exec(db, "COMMIT");
    sqlite3_close(db);
    return 0;
  }
  if (argc < 6) return 2;
  long long first = std::atoll(argv[4]), range = std::atoll(argv[5]);
  sqlite3_stmt* dep = Prepare(
      db, "UPDATE accounts SET balance = balance + ?1 WHERE id = ?2 AND closed = 0 AND "
          "balance + ?1 <= 99999999999999");
  sqlite3_stmt* take = Prepare(
      db, "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND closed = 0 AND "
          "balance >= ?1");
  sqlite3_stmt* begin = Prepare(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* commit = Prepare(db, "COMMIT");
  sqlite3_stmt* rollback = Prepare(db, "ROLLBACK");
  auto start = std::chrono::steady_clock::now();
  long long refused = 0;
  if (mode == "bulk") Step(db, begin);
  for (long long i = 0; i < count; ++i) {
    long long id = first + i % range;
    long long cents = 101 + i % 97;
    if (mode == "deposits" || mode == "bulk") {
      sqlite3_bind_int64(dep, 1, cents);
      sqlite3_bind_int64(dep, 2, id);
      refused += Step(db, dep) != 1;
    } else if (mode == "transfers") {
      long long to = first + (i + 1) % range;
      if (to == id) to = first + (i + 2) % range;
      Step(db, begin);
      sqlite3_bind_int64(take, 1, cents);
      sqlite3_bind_int64(take, 2, id);
      sqlite3_bind_int64(dep, 1, cents);
      sqlite3_bind_int64(dep, 2, to);
      if (Step(db, take) == 1 && Step(db, dep) == 1) {
        Step(db, commit);
      } else {
        Step(db, rollback);
        ++refused;
      }
    } else {
      std::fprintf(stderr, "sqlite_bench: unknown mode %s\n", mode.c_str());
      return 2;
    }
  }
  if (mode == "bulk") Step(db, commit);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (sqlite3_stmt* st : {dep, take, begin, commit, rollback}) sqlite3_finalize(st);
  sqlite3_close(db);
  std::printf("ops=%lld seconds=%.6f ops_per_s=%.1f refused=%lld\n", count, s, count / s,
              refused);
  return 0;
}
