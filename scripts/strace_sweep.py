#!/usr/bin/env python3
"""Kills drovebank at every system call, with a tool drovebank did not write: strace.

  scripts/strace-sweep [--build-dir DIR] [--quick] [--case NAME ...]

Our own fault points mark steps; between two of them there are many system calls, and a
kill can land on any of them. For each command below, the sweep first counts the calls
the command makes (strace -f -c), then, for every call of every kind that can change the
store, runs the command again under `strace -e inject=CALL:signal=KILL:when=N`, so the
process dies on entering its N-th CALL. After each kill it runs a writer on the same
store (a deposit on the second account), then `recover`, and checks:

  - recover exits 0;
  - money is conserved: the balances are those of the write either wholly applied or
    wholly absent, plus the writer's deposit;
  - the store is settled (scripts/settled.py): `recover --check --full` passes, nothing is
    left over (locks/ holds only the lock tables with no repair flag set, tmp/ only
    spares), and the account files and their sum agree with the journal.

The commands: a transfer, a deposit, an open, a shell session of three transfers, each
committed alone (its later ones build on the session's own last states, docs/DESIGN.md
step 3), the same three committed as one group (the shell's group commit), and `recover`
itself after a transfer killed between its two renames (then the writer runs after the
killed recover), and a shell session whose checkpoint at exit writes journal/SNAPSHOT
anew. --quick sweeps every call kind but only the first 3 occurrences of each
(and, for the session, the last 3). Every kill works on its own copy of the store, so as
many run at once as there are cores. Ends with "N passed, N failed,
N skipped" (skipped: strace counts calls per thread, so the N-th call of a kind counted over
all threads may never come in one).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import settled

CALLS = ["openat", "openat2", "write", "pwrite64", "renameat2", "rename", "fdatasync", "fsync",
         "fcntl", "ftruncate", "close", "unlink", "unlinkat", "mkdir", "mkdirat", "linkat"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(root, "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case", action="append", help="only this case (repeatable)")
    a = ap.parse_args()
    if shutil.which("strace") is None:
        sys.exit("strace-sweep: strace is not installed (scripts/setup installs it)")
    db = os.path.join(a.build_dir, "drovebank")
    rec = os.path.join(a.build_dir, "recover")
    env = dict(os.environ)
    env.pop("DROVEBANK_FAULT", None)
    work = tempfile.mkdtemp(prefix="drovebank-strace-")

    def run(argv, **kw):
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, **kw)

    def balances(d):
        out = []
        for i in (1, 2):
            r = run([db, "-d", d, "--json", "show", str(i)])
            if r.returncode != 0:
                return None
            out.append(settled.cents(json.loads(r.stdout)["balance"]))
        return tuple(out)

    def seed(d):
        for first in ("A", "B"):
            r = run([db, "-d", d, "open", first, first, "100"])
            assert r.returncode == 0, r.stderr

    # (name, command, prepare, states the two accounts may be in after it)
    def prep_plain(d):
        seed(d)

    def prep_crashed_transfer(d):
        seed(d)
        r = subprocess.run([db, "-d", d, "transfer", "1", "2", "10"], capture_output=True,
                           env=dict(env, DROVEBANK_FAULT="transfer:after_rename:crash"))
        if r.returncode != 86:
            sys.exit("strace-sweep: the recover case needs a fault-injection build of drovebank")

    # (name, command, prepare, states the two accounts may be in after it, its stdin)
    cases = [
        ("transfer", lambda d: [db, "-d", d, "transfer", "1", "2", "10"], prep_plain,
         {(10000, 10000), (9000, 11000)}),
        ("session", lambda d: [db, "-d", d, "shell", "--group-size", "1"], prep_plain,
         {(10000 - 1000 * k, 10000 + 1000 * k) for k in range(4)}, "transfer 1 2 10\n" * 3),
        # The same script with its lines committed as one group (the shell's default): one
        # append, so all three transfers or none.
        ("group", lambda d: [db, "-d", d], prep_plain,
         {(10000, 10000), (7000, 13000)}, "transfer 1 2 10\n" * 3),
        ("deposit", lambda d: [db, "-d", d, "deposit", "2", "7"], prep_plain,
         {(10000, 10000), (10000, 10700)}),
        ("open", lambda d: [db, "-d", d, "open", "C", "C", "5"], prep_plain, {(10000, 10000)}),
        ("recover", lambda d: [rec, "-d", d], prep_crashed_transfer, {(9000, 11000)}),
        # A session whose checkpoint at exit writes journal/SNAPSHOT anew (every checkpoint
        # does with DROVEBANK_SNAPSHOT_EVERY=1, a fault-injection build's knob; without
        # it a store needs 4,096 records first): the temp file, its record through the
        # commit protocol, the rename. The writer and recover after the kill run without
        # the knob, so nothing writes a new snapshot over what the kill left.
        ("snapshot", lambda d: ["env", "DROVEBANK_SNAPSHOT_EVERY=1", db, "-d", d], prep_plain,
         {(10000, 10000), (10000, 10700)}, "deposit 2 7\n"),
    ]
    cases = [c if len(c) == 5 else c + (None,) for c in cases]

    if a.case:
        cases = [c for c in cases if c[0] in a.case]
    # One kill: None when skipped, else (label, problems, the seed store) for the report.
    def kill_at(name, cmd, d0, states, stdin, call, when):
        d = os.path.join(work, f"{name}-{call}-{when}")
        shutil.copytree(d0, d)
        k = run(["strace", "-f", "-o", "/dev/null", "-e", f"trace={call}",
                 "-e", f"inject={call}:signal=KILL:when={when}"] + cmd(d), input=stdin)
        if k.returncode not in (-9, 137):
            # strace counts `when` per thread, while -c counted every thread's
            # calls: the N-th call of a kind may be in a thread that makes fewer.
            shutil.rmtree(d)
            return None
        problems = []
        w = run([db, "-d", d, "deposit", "2", "5"])
        if w.returncode != 0:
            problems.append(f"the writer after the kill exited {w.returncode}: {w.stderr.strip()}")
        r = run([rec, "-d", d])
        if r.returncode != 0:
            problems.append(f"recover exited {r.returncode}: {r.stderr.strip()}")
        b = balances(d)
        wrote = 500 if w.returncode == 0 else 0
        if b is None or (b[0], b[1] - wrote) not in states:
            problems.append(f"balances {b} (writer +{wrote / 100:.2f} on account 2) "
                            f"are not one of {sorted(states)}")
        problems += settled.problems(rec, d, env)[:5]
        if not problems:
            shutil.rmtree(d)
        return (f"{name:9} kill at {call}#{when}", problems, d0, call, when)

    # Every kill works on its own copy of the seed, so they run as many at once as there
    # are cores (each case's count of calls is taken first, alone).
    jobs = []
    for name, cmd, prep, states, stdin in cases:
        d0 = os.path.join(work, name + "-seed")
        prep(d0)
        probe = os.path.join(work, name + "-probe")
        shutil.copytree(d0, probe)
        counts_file = os.path.join(work, name + ".counts")
        run(["strace", "-f", "-c", "-o", counts_file] + cmd(probe), input=stdin)
        counts = {}
        with open(counts_file) as fh:
            for line in fh:
                m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
                if m and m.group(2) in CALLS:
                    counts[m.group(2)] = int(m.group(1))
        for call, n in sorted(counts.items()):
            whens = range(1, n + 1)
            if a.quick:
                whens = sorted(set(range(1, min(n, 3) + 1)) |
                               (set(range(max(1, n - 2), n + 1)) if stdin else set()))
            jobs += [(name, cmd, d0, states, stdin, call, when) for when in whens]

    passed = failed = skipped = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for result in pool.map(lambda j: kill_at(*j), jobs):
            if result is None:
                skipped += 1
                continue
            label, problems, d0, call, when = result
            if problems:
                failed += 1
                print(f"FAIL {label}: " + "; ".join(problems))
                print(f"     reproduce: copy {d0}, then strace -f -e inject={call}:signal=KILL:when={when} ...")
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
