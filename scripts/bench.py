#!/usr/bin/env python3
"""Benchmarks drovebank against its references; appends the figures to docs/BENCHMARKS-HISTORY.md.

  scripts/bench            the full run (under 10 minutes once the big stores are cached)
  scripts/bench --quick    headline ratios (1), (2) and a small (5), in under a minute

Every figure is measured side by side with its reference in ALTERNATING runs (A B C, A B
C, ...; the order rotates each round), reported as the median with min-max, and compared
pair by pair (the ratio of run i of A to run i of B), so a slow minute of a shared machine
hits both sides. Targets are ratios measured in the same run; each row says PASS or MISS.

Figures (docs/BENCHMARKS.md explains each):
  (1) one-shot deposit as a whole process vs the sqlite3 CLI (WAL, synchronous=FULL) and
      vs the floor: a process doing one write and one fdatasync (bench/fsync_floor)
  (2) sustained durable deposits and transfers in one session (batch, one group commit per
      event) vs SQLite single-row transactions (bench/sqlite_bench)
  (3) 1, 2, 4 concurrent sessions on disjoint accounts vs 1, 2, 4 SQLite writer processes
  (4) 1k / 100k / 1M accounts: deposit latency, list, search, recover after a crash with 10
      operations in flight, recover --full, and peak RSS of each (wait4 ru_maxrss)
  (5) a batch of 100k events vs SQLite applying 100k updates in one transaction
  (6) with --mount DIR (a GlusterFS mount, e.g. scripts/cluster up's m1): deposits in one
      shell session on a store there (shared mode, detected) vs the same on local disk
  (7) shell sessions reading scripts of deposits or transfers (one, and four at once) vs
      the sqlite3 command-line shell running the same changes (time ratios)
  (8) search and balance over 200k accounts vs the sqlite3 shell's LIKE and SUM
  (9) with --mounts M1,M2[,M3] (mounts of one GlusterFS volume, each standing in for a
      host): one session, two and three hosts, and four sessions on two hosts, all at once,
      beside one session on local disk (issue 29's growth targets)

Bench data lives in a temporary directory on the repository's file system (never a tmpfs);
the big stores of (4) are built once through the batch path and cached beside it
(--rebuild builds them again). Options: --build-dir DIR (default build/), --only 1,2,...,
--no-write (print, do not touch docs/), --keep (keep the temporary directory), --mount DIR
(adds figure 6; --only 6 runs it alone), --mounts M1,M2[,M3] (adds figure 9).
"""

import argparse
import datetime
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "BENCHMARKS-HISTORY.md")  # BENCHMARKS.md is the reference
PNG = os.path.join(ROOT, "docs", "bench.png")
FAULT_VARS = ("DROVEBANK_FAULT", "DROVEBANK_FAULT_HIT", "DROVEBANK_FAULT_TRACE")
# GNU time, for peak RSS: wait4's ru_maxrss of a child started by this (large) Python
# process would count Python's own pages at the fork, so a small wrapper measures instead.
TIME = {"bin": None, "out": None}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- running programs ---------------------------------------------------------------

class Run:
    def __init__(self, wall, rss_kb, code, utime=None):
        self.wall, self.rss_kb, self.code, self.utime = wall, rss_kb, code, utime


def _env(extra):
    env = {k: v for k, v in os.environ.items() if k not in FAULT_VARS}
    env.update(extra or {})
    return env


def spawn(argv, env=None, stdin=None, stdout=None):
    """Starts argv (argv[0] a path); returns (pid, start time)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin or os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    t0 = time.perf_counter()
    return os.posix_spawn(argv[0], argv, _env(env), file_actions=actions), t0


def wait(pid, t0):
    _, status, ru = os.wait4(pid, 0)
    return Run(time.perf_counter() - t0, ru.ru_maxrss, os.waitstatus_to_exitcode(status),
               ru.ru_utime)


def run(argv, env=None, stdin=None, stdout=None, ok=(0,), rss=False):
    """Runs argv to the end. With rss, under GNU time: rss_kb is its peak RSS (and the
    wall time includes the wrapper's start, so rss runs are never the timed ones of a
    ratio where a millisecond matters)."""
    cmd = [TIME["bin"], "-f", "%M", "-o", TIME["out"], *argv] if rss else argv
    r = wait(*spawn(cmd, env, stdin, stdout))
    r.rss_kb = int(open(TIME["out"]).read().split()[-1]) if rss else None
    if ok is not None and r.code not in ok:
        out = subprocess.run(argv, env=_env(env), stdin=open(stdin or os.devnull),
                             capture_output=True, text=True)
        raise SystemExit(f"bench: {' '.join(argv)} exited {r.code}\n{out.stderr[-2000:]}")
    return r


def run_all(argvs, env=None, ok=(0,)):
    """Starts every argv at once; returns (wall of the whole, [Run])."""
    t0 = time.perf_counter()
    started = [spawn(a, env) for a in argvs]
    runs = [wait(*s) for s in started]
    wall = time.perf_counter() - t0
    for a, r in zip(argvs, runs):
        if ok is not None and r.code not in ok:
            raise SystemExit(f"bench: {' '.join(a)} exited {r.code}")
    return wall, runs


# ---- statistics and the report ------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def spread(xs, fmt):
    return f"{fmt(med(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"


def ms(x):
    return f"{x * 1000:.2f} ms"


def ops(x):
    return f"{x:,.0f} ops/s"


def ratio(x):
    return f"{x:.2f}×" if x >= 0.1 else f"{x:.2g}×"


def mb(kb):
    return f"{kb / 1024:.1f} MB"


class Report:
    def __init__(self):
        self.sections = []  # markdown blocks
        self.targets = []   # (label, measured, target, higher_is_better, pass)

    def add(self, text):
        self.sections.append(text)
        log(text)

    def target(self, label, measured, target, higher_better):
        ok = measured >= target if higher_better else measured <= target
        self.targets.append((label, measured, target, higher_better, ok))
        log(f"  target {label}: {measured:.2f} vs {'≥' if higher_better else '≤'} {target:g}: "
            f"{'PASS' if ok else 'MISS'}")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# ---- workloads ------------------------------------------------------------------------

class Bench:
    def __init__(self, args, tools, work, cache):
        self.a, self.t, self.work, self.cache = args, tools, work, cache
        self.report = Report()
        self.commands = []
        self.file_no = 0

    def db(self, data, *args):
        return [self.t["drovebank"], "-d", data, *args]

    def new_file(self, lines):
        self.file_no += 1
        path = os.path.join(self.work, f"in-{self.file_no}.jsonl")
        with open(path, "w") as f:
            f.writelines(lines)
        return path

    # Each JSONL input is unique (random amounts from its own seed), so its automatic keys
    # are new and nothing is replayed from an earlier run.
    def deposits(self, count, first, rng, salt):
        r = random.Random(salt)
        return [f'{{"op":"deposit","id":{first + i % rng},"amount":"1.{r.randrange(100):02d}"}}\n'
                for i in range(count)]

    def transfers(self, count, first, rng, salt):
        r = random.Random(salt)
        out = []
        for i in range(count):
            a, b = first + i % rng, first + (i + 1) % rng
            out.append(f'{{"op":"transfer","from":{a},"to":{b},"amount":"0.{r.randrange(1, 100):02d}"}}\n')
        return out

    def store(self, n, sqlite=True, fresh=False):
        """A drovebank store and a SQLite database with n accounts (cached). fresh: the
        store is built in this run's directory instead, once per run, so figures that add
        journal records and key files are not measured on what earlier runs left (the
        cached store of 1,000 had grown to a 187 MB journal and 1.7 GB of key files)."""
        if fresh:
            data = os.path.join(self.work, f"store-{n}")
            if not os.path.exists(data):
                self.build(data, n)
            return data, self.sqlite_db(n) if sqlite else None
        data = os.path.join(self.cache, f"store-{n}")
        stamp = data + ".ok"
        valid = (not self.a.rebuild and os.path.exists(stamp) and
                 run(self.db(data, "show", str(n)), ok=None).code == 0 and
                 run([self.t["recover"], "-d", data, "--check"], ok=None).code == 0)
        if not valid:
            for p in (data, stamp):
                shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (
                    os.path.exists(p) and os.unlink(p))
            self.build(data, n)
            open(stamp, "w").close()
        return data, self.sqlite_db(n) if sqlite else None

    def sqlite_db(self, n):
        """The SQLite database with n accounts (cached: updates never grow it)."""
        sdb = os.path.join(self.cache, f"sqlite-{n}.db")
        if not os.path.exists(sdb + ".ok"):
            for p in (sdb, sdb + "-wal", sdb + "-shm"):
                if os.path.exists(p):
                    os.unlink(p)
            run([self.t["sqlite_bench"], "init", sdb, str(n)])
            open(sdb + ".ok", "w").close()
        return sdb

    def build(self, data, n):
        """Opens n accounts through the batch path (JSON Lines opens), with a progress bar."""
        chunk = min(n, 50_000)
        t0 = time.perf_counter()
        self.commands.append("drovebank -d STORE batch --no-auto-keys --group-size 10000 OPENS.jsonl"
                             "   # builds the stores of (4), 50k opens a file")
        for start in range(1, n + 1, chunk):
            end = min(n, start + chunk - 1)
            path = self.new_file(
                f'{{"op":"open","first":"F{i}","last":"L{i}","amount":"1000.00"}}\n'
                for i in range(start, end + 1))
            run(self.db(data, "batch", "--no-auto-keys", "--group-size", "10000", path))
            os.unlink(path)
            done = end / n
            bar = "#" * int(done * 30)
            rate = end / (time.perf_counter() - t0)
            sys.stderr.write(f"\rbuilding {n:,} accounts [{bar:<30}] {end:,}/{n:,} "
                             f"({rate:,.0f}/s)")
            sys.stderr.flush()
        sys.stderr.write("\n")
        log(f"built {n:,} accounts in {time.perf_counter() - t0:.1f} s")

    # (1) --------------------------------------------------------------------------------
    def fig1(self):
        reps = 30 if self.a.quick else 120
        data = os.path.join(self.work, "one-shot")
        run(self.db(data, "open", "One", "Shot", "100.00"))
        sdb = os.path.join(self.work, "one-shot.db")
        run([self.t["sqlite_bench"], "init", sdb, "1"])
        floor = os.path.join(self.work, "floor.log")
        cmds = {
            "drovebank": self.db(data, "deposit", "1", "1.00"),
            "sqlite3": [self.t["sqlite3"], sdb,
                        "PRAGMA synchronous=FULL; UPDATE accounts SET balance = balance + 100 "
                        "WHERE id = 1;"],
            "floor": [self.t["fsync_floor"], floor],
        }
        self.commands += ["drovebank -d D deposit 1 1.00",
                          'sqlite3 DB "PRAGMA synchronous=FULL; UPDATE accounts SET balance = '
                          'balance + 100 WHERE id = 1;"   # DB created with journal_mode=WAL',
                          "fsync_floor FILE   # open, write 200 bytes, fdatasync, exit"]
        names = list(cmds)
        times = {k: [] for k in names}
        rss = {k: [] for k in names}
        for k in names:  # warm-up, not counted
            run(cmds[k])
        for i in range(reps):
            order = names[i % 3:] + names[:i % 3]
            for k in order:
                times[k].append(run(cmds[k]).wall)
        for k in names:
            rss[k] = [run(cmds[k], rss=True).rss_kb for _ in range(3)]
        vs_sqlite = [a / b for a, b in zip(times["drovebank"], times["sqlite3"])]
        vs_floor = [a / b for a, b in zip(times["drovebank"], times["floor"])]
        self.report.add(f"### (1) One-shot durable deposit, whole process ({reps} alternating rounds)\n\n" + table(
            ["command", "wall time, median (min–max)", "peak RSS"],
            [[k, spread(times[k], ms), mb(max(rss[k]))] for k in names]) + "\n\n" + table(
            ["ratio (pair by pair)", "median (min–max)"],
            [["drovebank / sqlite3", spread(vs_sqlite, ratio)],
             ["drovebank / floor", spread(vs_floor, ratio)]]))
        self.report.target("(1) one-shot deposit / sqlite3", med(vs_sqlite), 0.6, False)
        self.report.target("(1) one-shot deposit / fsync floor", med(vs_floor), 1.2, False)

    # (2) --------------------------------------------------------------------------------
    def fig2(self):
        count = 150 if self.a.quick else 600
        reps = 3 if self.a.quick else 5
        data, sdb = self.store(1000, fresh=True)
        # Like for like: each SQLite transaction is durable on its own and records no
        # idempotency key, so the target pairs it with batch --no-auto-keys (every event its
        # own commit and fsync). The default batch, whose automatic keys make a re-run after
        # a crash resume exactly, writes a key file per event; it is measured beside them.
        self.commands += [f"drovebank -d STORE batch --no-auto-keys --group-size 1 OPS.jsonl   # {count} "
                          "deposits (or transfers) on accounts 1-100, one commit each",
                          f"drovebank -d STORE batch --group-size 1 OPS.jsonl   # the same with automatic "
                          "keys (resumable; no target)",
                          f"sqlite_bench deposits|transfers DB {count} 1 100   # one transaction each"]
        rows = []
        for kind in ("deposits", "transfers"):
            d_rate, k_rate, s_rate = [], [], []
            for i in range(reps):
                gen = self.deposits if kind == "deposits" else self.transfers
                path = self.new_file(gen(count, 1, 100, salt=random.randrange(1 << 30)))
                trio = [("d", self.db(data, "batch", "--no-auto-keys", "--group-size", "1", path)),
                        ("k", self.db(data, "batch", "--group-size", "1", path)),
                        ("s", [self.t["sqlite_bench"], kind, sdb, str(count), "1", "100"])]
                for who, argv in trio[i % 3:] + trio[:i % 3]:
                    r = run(argv)
                    {"d": d_rate, "k": k_rate, "s": s_rate}[who].append(count / r.wall)
            rs = [a / b for a, b in zip(d_rate, s_rate)]
            ks = [a / b for a, b in zip(k_rate, s_rate)]
            rows.append([kind, spread(d_rate, ops), spread(s_rate, ops), spread(rs, ratio),
                         spread(k_rate, ops), spread(ks, ratio)])
            # The commit-protocol v2 targets: deposits 1.5x, transfers 1.2x.
            self.report.target(f"(2) sustained {kind} / SQLite", med(rs),
                               1.5 if kind == "deposits" else 1.2, True)
        self.report.add(f"### (2) Sustained durable operations in one session ({count} a run, {reps} alternating runs)\n\n" + table(
            ["operation", "drovebank batch --no-auto-keys --group-size 1", "SQLite (WAL, synchronous=FULL)",
             "drovebank / SQLite", "with automatic keys (no target)", "keys / SQLite"], rows))

    # (3) --------------------------------------------------------------------------------
    def fig3(self):
        count = 200
        reps = 3
        data, sdb = self.store(1000, fresh=True)
        self.commands += [f"P × drovebank -d STORE batch --group-size 1 OPS_p.jsonl   # {count} "
                          "deposits each, process p on accounts p*100+1..p*100+100",
                          f"P × sqlite_bench deposits DB {count} p*100+1 100   # busy_timeout 10 s"]
        rows = []
        for p in (1, 2, 4):
            d_rate, s_rate = [], []
            for i in range(reps):
                files = [self.new_file(self.deposits(count, k * 100 + 1, 100, random.randrange(1 << 30)))
                         for k in range(p)]
                d = [self.db(data, "batch", "--group-size", "1", f) for f in files]
                s = [[self.t["sqlite_bench"], "deposits", sdb, str(count), str(k * 100 + 1), "100"]
                     for k in range(p)]
                for who, argvs in ([("d", d), ("s", s)] if i % 2 == 0 else [("s", s), ("d", d)]):
                    wall, _ = run_all(argvs)
                    (d_rate if who == "d" else s_rate).append(p * count / wall)
            rs = [a / b for a, b in zip(d_rate, s_rate)]
            rows.append([p, spread(d_rate, ops), spread(s_rate, ops), spread(rs, ratio)])
            if p == 4:
                self.report.target("(3) 4 sessions / 4 SQLite writers", med(rs), 2.0, True)
        self.report.add(f"### (3) Concurrent sessions on disjoint accounts, aggregate ({reps} alternating runs)\n\n" + table(
            ["sessions", "drovebank", "SQLite", "drovebank / SQLite"], rows))

    # (7) --------------------------------------------------------------------------------
    def fig7(self):
        """What a person runs: one shell session (or four) reading a script of durable
        commands, against the sqlite3 command-line shell on a WAL database with
        synchronous=FULL running the same changes as autocommit statements (a transfer:
        BEGIN, the debit if funds cover it, the credit if the debit happened, COMMIT)."""
        count = 2000
        reps = 3
        data, _ = self.store(8, sqlite=False, fresh=True)
        sdb = os.path.join(self.work, "shell-8.db")
        run([self.t["sqlite_bench"], "init", sdb, "8"])
        head = "PRAGMA synchronous=FULL;\n.timeout 10000\n"

        def dep(i, ids):
            k = ids[i % len(ids)]
            return f"deposit {k} 1.00\n", f"UPDATE accounts SET balance = balance + 100 WHERE id = {k};\n"

        def xfer(i, ids):
            a, b = ids[i % len(ids)], ids[(i + 1) % len(ids)]
            return (f"transfer {a} {b} 0.01\n",
                    f"BEGIN; UPDATE accounts SET balance = balance - 1 WHERE id = {a} AND balance >= 1; "
                    f"UPDATE accounts SET balance = balance + 1 WHERE id = {b} AND changes() = 1; COMMIT;\n")

        def scripts(gen, ids, tag):
            d = [gen(i, ids) for i in range(count)]
            dp = os.path.join(self.work, f"shell-{tag}.txt")
            sp = os.path.join(self.work, f"shell-{tag}.sql")
            with open(dp, "w") as f:
                f.writelines(x for x, _ in d)
            with open(sp, "w") as f:
                f.write(head)
                f.writelines(y for _, y in d)
            return dp, sp

        # (label, generator, the accounts of each session, target of the time ratio (None:
        # recorded only), the shell's options). The shell commits a script's waiting lines
        # in groups (its default); the last row commits each line alone, as a session at a
        # terminal (or a program waiting for each report) does: one fdatasync a line.
        alone = ["shell", "--group-size", "1"]
        rows_in = [("deposits, 8 accounts", dep, [list(range(1, 9))], 0.67, []),
                   ("deposits, one account", dep, [[1]], 0.67, []),
                   ("transfers, 8 accounts", xfer, [list(range(1, 9))], 0.83, []),
                   ("4 sessions of deposits, 2 accounts each", dep,
                    [[2 * k + 1, 2 * k + 2] for k in range(4)], 0.5, []),
                   ("deposits, 8 accounts, each line alone (--group-size 1)", dep,
                    [list(range(1, 9))], None, alone)]
        self.commands += [f"drovebank -d STORE < SCRIPT   # one shell session: {count} lines of "
                          "`deposit ID 1.00` (or `transfer A B 0.01`), its waiting lines "
                          "committed in groups (up to 128)",
                          "drovebank -d STORE shell --group-size 1 < SCRIPT   # each line "
                          "committed alone",
                          "sqlite3 DB < SCRIPT.sql   # PRAGMA synchronous=FULL; .timeout 10000; "
                          f"{count} autocommit UPDATEs (a transfer: BEGIN; 2 UPDATEs; COMMIT), WAL",
                          "4 sessions: four of each at once, each on its own 2 accounts"]
        rows = []
        cpu = []  # user CPU a deposit of the one-session rows (rusage: start and exit included)
        cpu_alone = []  # the same, each line committed alone
        for label, gen, sessions, goal, flags in rows_in:
            d_t, s_t = [], []
            for i in range(reps):
                made = [scripts(gen, ids, f"{len(rows)}-{i}-{k}") for k, ids in enumerate(sessions)]
                pair = [("d", [(self.db(data, *flags), dp) for dp, _ in made]),
                        ("s", [([self.t["sqlite3"], sdb], sp) for _, sp in made])]
                for who, cmds in (pair if i % 2 == 0 else pair[::-1]):
                    t0 = time.perf_counter()
                    started = [spawn(argv, stdin=stdin) for argv, stdin in cmds]
                    for st, (argv, _) in zip(started, cmds):
                        done = wait(*st)
                        if done.code != 0:
                            raise SystemExit(f"bench: {' '.join(argv)} exited non-zero")
                        if who == "d" and gen is dep and len(sessions) == 1:
                            (cpu_alone if flags else cpu).append(done.utime / count)
                    (d_t if who == "d" else s_t).append(time.perf_counter() - t0)
            n = count * len(sessions)
            rs = [a / b for a, b in zip(d_t, s_t)]
            rows.append([label, spread([n / t for t in d_t], ops), spread([n / t for t in s_t], ops),
                         spread(rs, ratio), f"≤ {goal}" if goal else "(recorded)"])
            if goal:
                self.report.target(f"(7) shell: {label}, time / sqlite3 shell", med(rs), goal, False)
        self.report.target("(7) shell: user CPU a deposit (µs)", med(cpu) * 1e6, 25, False)
        self.report.add(f"### (7) Shell sessions against the sqlite3 shell ({count} lines a session, "
                        f"{reps} alternating runs; ratio of times, lower is better)\n\n" + table(
            ["work", "drovebank shell", "sqlite3 shell", "drovebank / sqlite3 time", "target"], rows)
            + f"\n\nUser CPU a deposit in the one-session deposit rows (the kernel's rusage of "
            f"the whole session, start and exit included, over {count} lines): "
            f"{spread([c * 1e6 for c in cpu], lambda x: f'{x:.1f} µs')} (target ≤ 25 µs); "
            f"each line committed alone: "
            f"{spread([c * 1e6 for c in cpu_alone], lambda x: f'{x:.1f} µs')}.")

    # (8) --------------------------------------------------------------------------------
    def fig8(self):
        """The reports that read every account, at 200k accounts, against the sqlite3 shell
        answering the same question (the speed issue's last two rows)."""
        n = 200_000
        reps = 3
        data, sdb = self.store(n)
        cmds = {
            "search": (self.db(data, "search", "L1234", "--all"),
                       [self.t["sqlite3"], sdb, "SELECT id, first, last, balance FROM accounts "
                        "WHERE first LIKE '%1234%' OR last LIKE '%1234%';"]),
            "balance": (self.db(data, "balance"),
                        [self.t["sqlite3"], sdb, "SELECT COUNT(*), SUM(balance) FROM accounts "
                         "WHERE closed = 0;"]),
        }
        self.commands += [f"drovebank -d STORE search L1234 --all   # {n:,} accounts",
                          "sqlite3 DB \"SELECT id, first, last, balance FROM accounts WHERE first "
                          "LIKE '%1234%' OR last LIKE '%1234%';\"",
                          "drovebank -d STORE balance",
                          "sqlite3 DB \"SELECT COUNT(*), SUM(balance) FROM accounts WHERE closed = 0;\""]
        rows = []
        for label, (d, q) in cmds.items():
            run(d)  # warm the caches, both sides
            run(q)
            d_t, s_t = [], []
            for i in range(reps):
                for who, argv in ([("d", d), ("s", q)] if i % 2 == 0 else [("s", q), ("d", d)]):
                    (d_t if who == "d" else s_t).append(run(argv).wall)
            rs = [a / b for a, b in zip(d_t, s_t)]
            rows.append([label, spread(d_t, ms), spread(s_t, ms), spread(rs, ratio), "≤ 5"])
            self.report.target(f"(8) {label} at 200k accounts, time / sqlite3", med(rs), 5, False)
        self.report.add(f"### (8) Reports over every account at {n:,} accounts against the sqlite3 "
                        f"shell ({reps} alternating runs, caches warm; ratio of times)\n\n" + table(
            ["report", "drovebank", "sqlite3", "drovebank / sqlite3 time", "target"], rows))

    # (4) --------------------------------------------------------------------------------
    def fig4(self):
        cache = os.path.join(os.path.dirname(self.t["drovebank"]), "CMakeCache.txt")
        if "DROVEBANK_FAULT_INJECTION:BOOL=ON" not in open(cache).read():
            raise SystemExit("bench: figure 4 crashes deposits through DROVEBANK_FAULT; this build "
                             "has no fault hooks (configure it with -DDROVEBANK_FAULT_INJECTION=ON)")
        sizes = [1000, 100_000, 1_000_000] if not self.a.quick else [1000, 10_000]
        reps = 30
        stores = {n: self.store(n, sqlite=False)[0] for n in sizes}
        self.commands += ["drovebank -d STORE deposit ID 1.00   # random ID",
                          "drovebank -d STORE list", "drovebank -d STORE search L777",
                          "10 × DROVEBANK_FAULT=deposit:after_journal_sync:crash drovebank -d STORE "
                          "deposit ID 1.00 (at once), then: recover -d STORE",
                          "recover -d STORE --full", "drovebank -d STORE balance",
                          "drovebank -d STORE list --all -O csv > FILE   # rows a second"]
        walks = ("search", "balance", "list --all", "recover --full")
        lat = {n: [] for n in sizes}
        rss = {(n, c): 0 for n in sizes for c in ("deposit", "list", "recover") + walks}
        for i in range(reps):  # the sizes alternate round by round
            for n in (sizes if i % 2 == 0 else sizes[::-1]):
                r = run(self.db(stores[n], "deposit", str(random.randint(1, n)), "1.00"))
                lat[n].append(r.wall)
        for n in sizes:
            for _ in range(3):
                r = run(self.db(stores[n], "deposit", str(random.randint(1, n)), "1.00"), rss=True)
                rss[(n, "deposit")] = max(rss[(n, "deposit")], r.rss_kb)
        listing = {n: [] for n in sizes}
        searching = {n: [] for n in sizes}
        recovering = {n: [] for n in sizes}
        full = {n: [] for n in sizes}
        balancing = {n: [] for n in sizes}
        listing_all = {n: [] for n in sizes}
        rows_out = {n: 0 for n in sizes}
        rounds = 4  # the last round measures peak RSS (under GNU time), the others time
        for i in range(rounds):
            wrapped = i == rounds - 1
            for n in (sizes if i % 2 == 0 else sizes[::-1]):
                r = run(self.db(stores[n], "list"), rss=wrapped)
                if wrapped:
                    rss[(n, "list")] = r.rss_kb
                else:
                    listing[n].append(r.wall)
                ids = random.sample(range(1, n + 1), 10)
                run_all([self.db(stores[n], "deposit", str(k), "1.00") for k in ids],
                        env={"DROVEBANK_FAULT": "deposit:after_journal_sync:crash"}, ok=(86,))
                r = run([self.t["recover"], "-d", stores[n]], rss=wrapped)
                if wrapped:
                    rss[(n, "recover")] = r.rss_kb
                else:
                    recovering[n].append(r.wall)
        for n in sizes:  # walks every account: once per size
            r = run(self.db(stores[n], "search", "L777"), rss=True)
            searching[n].append(r.wall)
            rss[(n, "search")] = r.rss_kb
            r = run([self.t["recover"], "-d", stores[n], "--full"], rss=True)
            full[n].append(r.wall)
            rss[(n, "recover --full")] = r.rss_kb
            r = run(self.db(stores[n], "balance"), rss=True)
            balancing[n].append(r.wall)
            rss[(n, "balance")] = r.rss_kb
            out = os.path.join(self.work, "list-all.csv")
            r = run(self.db(stores[n], "list", "--all", "-O", "csv"), stdout=out, rss=True)
            listing_all[n].append(r.wall)
            rss[(n, "list --all")] = r.rss_kb
            with open(out, "rb") as f:
                rows_out[n] = sum(1 for _ in f) - 1  # the header line
            os.unlink(out)
            if rows_out[n] < n:
                raise SystemExit(f"bench: list --all printed {rows_out[n]} rows of {n} accounts")
        rows = []
        for n in sizes:
            rows.append([f"{n:,}", spread(lat[n], ms), spread(listing[n], ms), ms(searching[n][0]),
                         ms(balancing[n][0]),
                         f"{listing_all[n][0]:.2f} s ({rows_out[n] / listing_all[n][0]:,.0f} rows/s)",
                         spread(recovering[n], ms), f"{full[n][0]:.2f} s"])
        rss_rows = [[f"{n:,}"] + [mb(rss[(n, c)]) for c in ("deposit", "list", "recover") + walks]
                    for n in sizes]
        self.report.add(f"### (4) Store size ({reps} alternating deposits, 3 alternating rounds of list and crash+recover)\n\n" + table(
            ["accounts", "deposit", "list (first page)", "search", "balance", "list --all",
             "recover after 10 crashed deposits", "recover --full"], rows) +
            "\n\nPeak RSS (largest of the runs):\n\n" + table(
            ["accounts", "deposit", "list", "recover"] + list(walks), rss_rows))
        small, big = sizes[0], sizes[-1]
        self.report.target(f"(4) deposit latency {big:,} / {small:,}", med(lat[big]) / med(lat[small]), 1.2, False)
        self.report.target(f"(4) recover after crash {big:,} / {small:,}",
                           med(recovering[big]) / med(recovering[small]), 1.5, False)
        self.report.target("(4) peak RSS of every command, MB", max(rss.values()) / 1024, 20, False)
        self.report.target(f"(4) search at {big:,} accounts, s", searching[big][0], 1.0, False)
        self.report.target(f"(4) balance at {big:,} accounts, s", balancing[big][0], 1.0, False)
        self.report.target(f"(4) list --all at {big:,} accounts, rows/s",
                           rows_out[big] / listing_all[big][0], 1_000_000, True)

    # (6) --------------------------------------------------------------------------------
    def fig6(self):
        if not self.a.mount:
            raise SystemExit("bench: figure 6 needs --mount DIR (a cluster mount)")
        count = 100 if self.a.quick else 200
        reps = 3 if self.a.quick else 5
        mount_work = tempfile.mkdtemp(prefix="drovebank-bench-", dir=self.a.mount)
        try:
            stores = {"mount": os.path.join(mount_work, "store"),
                      "local": os.path.join(self.work, "mount-local")}
            for data in stores.values():
                run(self.db(data, "open", "Mount", "Bench", "100.00"))
            script = os.path.join(self.work, "deposits.txt")
            with open(script, "w") as f:
                f.writelines(f"deposit 1 0.{random.randrange(1, 100):02d}\n" for _ in range(count))
            self.commands += [f"drovebank -d STORE shell --group-size 1 < DEPOSITS   # one shell "
                              f"session, {count} deposit lines each committed alone, STORE on the "
                              "mount (shared mode) and on local disk, alternating"]
            mode = {}
            for k, v in stores.items():  # the store's own account of its mode, for the table
                out = os.path.join(self.work, f"version-{k}")
                run(self.db(v, "--version", "--verbose"), stdout=out)
                lines = [l for l in open(out) if l.startswith("file system:")]
                mode[k] = lines[0].split(":", 1)[1].split("(")[0].strip() if lines else "unknown"
            rates = {"mount": [], "local": []}
            names = list(rates)
            for i in range(reps):
                for k in names[i % 2:] + names[:i % 2]:
                    # Each line committed alone, as this figure has always measured (the
                    # shell's default commits a script's waiting lines in groups, figure 7).
                    rates[k].append(count / run(self.db(stores[k], "shell", "--group-size", "1"),
                                                stdin=script).wall)
            rs = [a / b for a, b in zip(rates["mount"], rates["local"])]
            self.report.add(f"### (6) Deposits in one shell session on a cluster mount ({count} a run, "
                            f"{reps} alternating runs)\n\n" + table(
                ["store", "deposits/s, median (min–max)"],
                [[f"on the mount ({mode['mount']})", spread(rates["mount"], ops)],
                 [f"on local disk ({mode['local']})", spread(rates["local"], ops)],
                 ["mount / local (pair by pair)", spread(rs, ratio)]]))
        finally:
            shutil.rmtree(mount_work, ignore_errors=True)

    # (9) --------------------------------------------------------------------------------
    def fig9(self):
        """Several hosts: shell sessions on mounts of one volume, each mount a host (a UTS
        namespace of its own, so the host names differ), on disjoint accounts, all at once."""
        mounts = [m for m in self.a.mounts.split(",") if m]
        if len(mounts) < 2:
            raise SystemExit("bench: figure 9 needs --mounts M1,M2[,M3] (mounts of one volume)")
        one = 40 if self.a.quick else 60     # deposits of a session alone
        # Of each session beside others: as many as alone. (Until 2026-12-07 8 and 12: a
        # session beside another host's made about 1 a second. A session now starts as a
        # host alone and lets go of the files' write locks after its first wait of a
        # second, so a short run mostly measures that first wait.)
        many = one
        configs = [("one session, one host", [0], one),
                   ("two sessions, two hosts", [0, 1], many),
                   ("four sessions, two on each of two hosts", [0, 0, 1, 1], many)]
        if len(mounts) >= 3:
            configs.insert(2, ("three sessions, three hosts", [0, 1, 2], many))
        work = tempfile.mkdtemp(prefix="drovebank-bench-", dir=mounts[0])
        name = os.path.basename(work)
        # Each line committed alone (`--group-size 1`): the figure measures how commits of
        # several hosts scale, as the cluster issue asks, not the shell's group commit.
        self.commands += ["unshare --uts sh -c 'hostname host-M; drovebank -d MOUNT/STORE shell "
                          "--group-size 1 < DEPOSITS' for each session, all at once; one store "
                          "per row, made through the first mount"]

        def sessions(store_of, hosts, count):
            argvs = []
            for i, m in enumerate(hosts):
                script = os.path.join(self.work, f"hosts-{i}.txt")
                with open(script, "w") as f:
                    f.writelines(f"deposit {i + 1} 0.{random.randrange(1, 100):02d}\n" for _ in range(count))
                argvs.append([shutil.which("unshare") or "/usr/bin/unshare", "--uts", "sh", "-c",
                              'hostname "host-$1"; exec "$2" -d "$3" shell --group-size 1 '
                              '< "$4" > /dev/null',
                              "_", str(m + 1), self.t["drovebank"], store_of(m), script])
            for i in range(len(hosts)):
                run(self.db(store_of(0), "open", f"H{i}", "Bench", "100.00"))
            wall, _ = run_all(argvs)
            return len(hosts) * count / wall

        try:
            rows, rate = [], {}
            local = os.path.join(self.work, "hosts-local")
            rate["local"] = sessions(lambda m: local, [0], one)
            per_s = lambda x: f"{x:,.1f}/s"  # noqa: E731  (the collapsed rows are near 1/s)
            rows.append(["one session, local disk", per_s(rate["local"]), ""])
            for k, (label, hosts, count) in enumerate(configs):
                store = f"{name}/s{k}"
                rate[label] = sessions(lambda m: os.path.join(mounts[m], store), hosts, count)
                rows.append([label, per_s(rate[label]),
                             ratio(rate[label] / rate["one session, one host"])])
            self.report.add(f"### (9) Several hosts: shell sessions on {len(mounts)} mounts of one "
                            f"volume, disjoint accounts, all at once ({one} deposits alone, {many} "
                            "each beside others)\n\n" + table(
                                ["sessions", "deposits/s, all together", "/ one session on the mount"], rows))
            base = rate["one session, one host"]
            self.report.target("(9) four sessions on two hosts / one session",
                               rate["four sessions, two on each of two hosts"] / base, 1.5, True)
            if len(mounts) >= 3:
                self.report.target("(9) three hosts / one session",
                                   rate["three sessions, three hosts"] / base, 1.2, True)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    # (5) --------------------------------------------------------------------------------
    def fig5(self):
        count = 10_000 if self.a.quick else 100_000
        reps = 1
        data, sdb = self.store(1000, fresh=True)
        self.commands += [f"drovebank -d STORE batch OPS.jsonl   # {count:,} deposits on 1000 accounts, "
                          "groups of 1000, automatic keys",
                          f"sqlite_bench bulk DB {count} 1 1000   # one transaction"]
        d_t, s_t, d_rss, fast_t = [], [], 0, []
        self.commands.append(f"drovebank -d STORE batch --no-auto-keys --group-size 10000 OPS.jsonl"
                             "   # the same without resumability, for comparison (not a target)")
        sqlite = [self.t["sqlite_bench"], "bulk", sdb, str(count), "1", "1000"]
        for i in range(reps):
            # SQLite before and after each drovebank run (it takes a fraction of a second),
            # so each pair's reference is the mean of the runs around it.
            path = self.new_file(self.deposits(count, 1, 1000, random.randrange(1 << 30)))
            before = run(sqlite).wall
            d_t.append(run([TIME["bin"], "-f", "%M", "-o", TIME["out"],
                            *self.db(data, "batch", path)]).wall)
            d_rss = max(d_rss, int(open(TIME["out"]).read().split()[-1]))
            s_t.append((before + run(sqlite).wall) / 2)
            fast_t.append(run(self.db(data, "batch", "--no-auto-keys", "--group-size", "10000",
                                      path)).wall)
            os.unlink(path)
        rs = [b / a for a, b in zip(d_t, s_t)]  # throughput ratio = SQLite time / drovebank time
        self.report.add(f"### (5) One batch of {count:,} events ({reps} run, SQLite just before and after it)\n\n" + table(
            ["", "wall time", "throughput", "peak RSS"],
            [["drovebank batch", spread(d_t, lambda x: f"{x:.2f} s"),
              ops(count / med(d_t)), mb(d_rss)],
             ["SQLite, one transaction", spread(s_t, lambda x: f"{x:.3f} s"),
              ops(count / med(s_t)), ""],
             ["drovebank batch --no-auto-keys --group-size 10000 (not resumable; no target)",
              spread(fast_t, lambda x: f"{x:.2f} s"), ops(count / med(fast_t)), ""]]) +
            f"\n\ndrovebank / SQLite throughput: {spread(rs, ratio)}")
        self.report.target(f"(5) batch of {count // 1000}k / SQLite one transaction", med(rs), 0.25, True)


# ---- machine, document, plot ----------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine(work):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    fs = sh(f"findmnt -n -o FSTYPE,OPTIONS -T '{work}'") or sh(f"stat -f -c %T '{work}'")
    return [("CPUs (nproc)", os.cpu_count()), ("CPU", cpu), ("kernel", os.uname().release),
            ("file system of the bench dir", fs),
            ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
            ("commit", sh(f"git -C '{ROOT}' rev-parse --short HEAD") +
             (" + uncommitted changes" if sh(f"git -C '{ROOT}' status --porcelain") else ""))]


def write_doc(bench, info, started, elapsed, mode):
    rep = bench.report
    rows = [[label, f"{m:.2f}", f"{'≥' if hb else '≤'} {t:g}", "PASS" if ok else "**MISS**"]
            for label, m, t, hb, ok in rep.targets]
    text = [f"\n## Run of {started:%Y-%m-%d %H:%M} UTC ({mode}, {elapsed / 60:.1f} min)\n",
            table(["machine", ""], info), "\n#### Targets (ratios measured in this run)\n",
            table(["target", "measured", "target", "verdict"], rows),
            "\n#### Commands\n", "```", *dict.fromkeys(bench.commands), "```"]
    for s in rep.sections:
        text += ["", s]
    block = "\n".join(text) + "\n"
    if not os.path.exists(DOC):
        head = ("# Benchmarks: the history\n\nWritten by `scripts/bench` (each run appends a dated "
                "section; earlier runs are kept). The current figures, how they are measured and "
                "what the profiles showed: BENCHMARKS.md.\n")
        with open(DOC, "w") as f:
            f.write(head)
    with open(DOC, "a") as f:
        f.write(block)
    log(f"appended this run to {os.path.relpath(DOC, ROOT)}")


def plot(bench, work):
    if not shutil.which("gnuplot") or not bench.report.targets:
        return
    dat = os.path.join(work, "targets.dat")
    with open(dat, "w") as f:
        for i, (label, m, t, hb, ok) in enumerate(bench.report.targets):
            # Normalised so 1.0 is the target and above 1.0 is always better.
            score = max((m / t) if hb else (t / m if m > 0 else 100), 0.001)
            f.write(f'{i} "{label.replace(chr(34), "")}" {score:.4f} {1 if ok else 0}\n')
    n = len(bench.report.targets)
    # One bar per target from 1 (the target) to measured/target, green when met, red when not.
    gp = f"""
set terminal pngcairo size 1100,{220 + 36 * n} font "sans,10"
set output '{PNG}'
set title "drovebank: each target's measured ratio divided by its target (right of 1 = target met)"
set style fill solid 0.8 border -1
set yrange [{n} - 0.5:-0.5]
set xlabel "measured / target, oriented so that larger is better (log scale)"
set logscale x 10
set grid x
set key off
set lmargin 46
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "black"
plot '{dat}' using (sqrt($3)):1:($3 < 1 ? $3 : 1):($3 > 1 ? $3 : 1):($1 - 0.35):($1 + 0.35):($4 > 0 ? 0x2ca02c : 0xd62728):ytic(2) \\
       with boxxyerror lc rgb variable, \\
     '' using ($3 > 1 ? $3 : 1):1:(sprintf("  %.3g", $3)) with labels left
"""
    path = os.path.join(work, "plot.gp")
    with open(path, "w") as f:
        f.write(gp)
    res = subprocess.run(["gnuplot", path], capture_output=True, text=True)
    if res.returncode != 0:
        log(f"gnuplot failed: {res.stderr.strip()}")
    else:
        log(f"wrote {os.path.relpath(PNG, ROOT)}")


# ---- main -----------------------------------------------------------------------------

def bench_base():
    """A directory on the repository's file system (and not a tmpfs) for the bench data."""
    tmp = tempfile.gettempdir()
    try:
        same = os.stat(tmp).st_dev == os.stat(ROOT).st_dev
    except OSError:
        same = False
    if same and sh(f"findmnt -n -o FSTYPE -T '{tmp}'") != "tmpfs":
        return tmp
    base = os.path.join(ROOT, ".bench-tmp")
    os.makedirs(base, exist_ok=True)
    return base


def build_tools(build_dir):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                        "-DDROVEBANK_FAULT_INJECTION=ON"],
                       check=True, stdout=subprocess.DEVNULL)
    log("building drovebank, recover and the reference programs ...")
    jobs = os.environ.get("JOBS", str(os.cpu_count() or 1))
    res = subprocess.run(["cmake", "--build", build_dir, "-j", jobs, "--target",
                          "drovebank", "recover", "fsync_floor", "sqlite_bench"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"bench: the build failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
    tools = {"drovebank": os.path.join(build_dir, "drovebank"),
             "recover": os.path.join(build_dir, "recover"),
             "fsync_floor": os.path.join(build_dir, "bench", "fsync_floor"),
             "sqlite_bench": os.path.join(build_dir, "bench", "sqlite_bench"),
             "sqlite3": shutil.which("sqlite3"),
             "time": shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)}
    missing = [k for k, v in tools.items() if not v or not os.access(v, os.X_OK)]
    if missing:
        raise SystemExit(f"bench: missing {', '.join(missing)} (run scripts/setup)")
    return tools


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="headline ratios (1), (2), (5 small) in under a minute")
    p.add_argument("--only", default="", help="comma-separated figures to run, e.g. 1,4")
    p.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")))
    p.add_argument("--rebuild", action="store_true", help="build the cached stores of (4) again")
    p.add_argument("--no-write", action="store_true", help="do not write docs/BENCHMARKS-HISTORY.md or the plot")
    p.add_argument("--keep", action="store_true", help="keep the temporary bench directory")
    p.add_argument("--mount", default="", help="a cluster mount for figure 6 (deposits there vs local disk)")
    p.add_argument("--mounts", default="", help="comma-separated mounts of one volume, one a host, "
                                                "for figure 9 (several hosts at once)")
    a = p.parse_args()
    build_dir = os.path.abspath(a.build_dir)
    tools = build_tools(build_dir)
    base = bench_base()
    cache = os.path.join(base, "drovebank-bench-cache")
    os.makedirs(cache, mode=0o700, exist_ok=True)
    os.chmod(cache, 0o700)
    work = tempfile.mkdtemp(prefix="drovebank-bench-", dir=base)
    os.chmod(work, 0o700)
    TIME["bin"], TIME["out"] = tools["time"], os.path.join(work, "time.out")
    figures = [int(x) for x in a.only.split(",") if x] or ([1, 2, 5] if a.quick else [1, 2, 3, 4, 5, 7, 8])
    if a.mount and not a.only:
        figures.append(6)
    if a.mounts and not a.only:
        figures.append(9)
    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine(work)
    log(f"bench data in {work} (cache {cache}); figures {figures}")
    b = Bench(a, tools, work, cache)
    t0 = time.perf_counter()
    try:
        for f in figures:
            getattr(b, f"fig{f}")()
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    mode = "quick" if a.quick else ("figures " + ",".join(map(str, figures)) if a.only else "full")
    if not a.no_write:
        work2 = tempfile.mkdtemp(prefix="drovebank-plot-", dir=base)
        write_doc(b, info, started, elapsed, mode)
        plot(b, work2)
        shutil.rmtree(work2, ignore_errors=True)
    log(f"done in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
