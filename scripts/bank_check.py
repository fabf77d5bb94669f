#!/usr/bin/env python3
"""Jepsen's bank test for drovebank: every read of many accounts must add up to the total.

  scripts/bank-check [--build-dir build] [--accounts 40] [--writers 2] [--reads 60] [--seed 1]
                     [--mounts M1,M2]

Opens N accounts of 100.00 each, then runs W writers, each a shell session (`drovebank`
reading its lines from a pipe) of seeded random transfers between the accounts, and beside
them readers, one process per read, in turn: `balance --json` (its total and the sum of its
rows), `list --all --json` (the sum of its rows) and `export --format csv` (each account's
last balance_after, summed). Transfers move money and never create or destroy it, so every
read must show N x 100.00, whatever the writers are doing: a report that read one account
before a transfer and the other after it would not (jepsen.tests.bank: "all reads must sum
to the total"). At the end the writers' sessions must have exited 0, `recover --check` must
pass and a last balance must add up too.

The verdict never depends on timing: a correct store passes every read however the reads
and transfers interleave; a wrong one fails whenever one falls between the two accounts of
a transfer (tests/chain_test.cc drives that moment exactly; this is the same check from
outside, through the programs). Ends with "N passed, N failed"; exits 1 on any failure.

With --mounts (scripts/cluster test), the store is made on the first mount of a shared
volume and used through each in turn, as several hosts would: writer k works through
mount k modulo their number, and read i through mount i modulo it.
"""
import argparse
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

from settled import cents

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--accounts", type=int, default=40)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--transfers", type=int, default=1500, help="per writer")
    ap.add_argument("--reads", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mounts", default="",
                    help="comma-separated mount points of one shared volume (the store is "
                         "made under the first and used through each)")
    a = ap.parse_args()
    db = os.path.join(a.build_dir, "drovebank")
    rec = os.path.join(a.build_dir, "recover")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROVEBANK_")}
    env["NO_COLOR"] = "1"
    mounts = [m for m in a.mounts.split(",") if m]
    if mounts:
        work = tempfile.mkdtemp(prefix="bank-check-", dir=mounts[0])
        name = os.path.basename(work)
        datas = [os.path.join(m, name, "data") for m in mounts]
    else:
        work = tempfile.mkdtemp(prefix=".bank-check-", dir=os.path.dirname(ROOT))
        datas = [os.path.join(work, "data")]
    data = datas[0]
    passed, failed = 0, 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}", flush=True)

    def run(args, stdin=None, through=0):
        return subprocess.run([db, "-d", datas[through % len(datas)]] + args, input=stdin,
                              capture_output=True, text=True, env=env, timeout=120)

    try:
        opens = "".join(f"open Holder N{i} 100\n" for i in range(a.accounts))
        r = run([], opens)
        if r.returncode != 0:
            raise SystemExit(f"bank-check: opening the accounts failed: {r.stderr}")
        total = a.accounts * 10000
        rng = random.Random(a.seed)
        writers = []
        for w in range(a.writers):
            lines = []
            for _ in range(a.transfers):
                x, y = rng.sample(range(1, a.accounts + 1), 2)
                lines.append(f"transfer {x} {y} {rng.randint(1, 300) / 100:.2f}\n")
            err = tempfile.TemporaryFile("w+")
            p = subprocess.Popen([db, "-d", datas[w % len(datas)]], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=err, text=True, env=env)
            p.err_file = err
            writers.append((p, "".join(lines)))
        # Fed from threads of their own would be tidier; the pipe buffer holds a few
        # hundred lines, so each writer is fed in slices between reads instead.
        fed = [0] * len(writers)
        kinds = ["balance", "list", "export"]
        for i in range(a.reads):
            for k, (p, text) in enumerate(writers):
                if fed[k] < len(text) and p.poll() is None:
                    chunk = text[fed[k]:fed[k] + 2048]
                    cut = chunk.rfind("\n") + 1
                    try:
                        p.stdin.write(chunk[:cut])
                        p.stdin.flush()
                    except BrokenPipeError:
                        pass
                    fed[k] += cut
            kind = kinds[i % len(kinds)]
            if kind == "balance":
                r = run(["--json", "balance"], through=i)
                j = json.loads(r.stdout) if r.returncode == 0 else {}
                rows = sum(cents(x["balance"]) for x in j.get("accounts", []))
                check(r.returncode == 0 and cents(j["total"]) == total and rows == total,
                      f"read {i}: balance says {j.get('total')}, rows sum {rows / 100:.2f}, "
                      f"not {total / 100:.2f} (exit {r.returncode}: {r.stderr.strip()})")
            elif kind == "list":
                r = run(["--json", "list", "--all"], through=i)
                j = json.loads(r.stdout) if r.returncode == 0 else {}
                rows = sum(cents(x["balance"]) for x in j.get("accounts", []))
                check(r.returncode == 0 and rows == total,
                      f"read {i}: list --all sums to {rows / 100:.2f}, not {total / 100:.2f} "
                      f"(exit {r.returncode}: {r.stderr.strip()})")
            else:
                r = run(["export", "--format", "csv"], through=i)
                last = {}
                if r.returncode == 0:
                    for row in csv.DictReader(io.StringIO(r.stdout)):
                        last[row["account"]] = cents(row["balance_after"])
                check(r.returncode == 0 and sum(last.values()) == total,
                      f"read {i}: export's last balances sum to {sum(last.values()) / 100:.2f}, "
                      f"not {total / 100:.2f} (exit {r.returncode}: {r.stderr.strip()})")
        for k, (p, text) in enumerate(writers):
            try:
                p.stdin.write(text[fed[k]:])
                p.stdin.close()
            except BrokenPipeError:
                pass
            code = p.wait(timeout=600)
            p.err_file.seek(0)
            errors = p.err_file.read()
            # 3: some transfer met too little money (a bank rule), which the script goes past.
            check(code in (0, 3) and "committed" not in errors and "Corruption" not in errors,
                  f"writer {k} exited {code}: {errors.strip()[:300]}")
        for d in datas:
            r = subprocess.run([rec, "-d", d, "--check"], capture_output=True, text=True, env=env)
            check(r.returncode == 0, f"recover --check -d {d} exited {r.returncode}: {r.stdout}{r.stderr}")
        r = run(["--json", "balance"])
        check(r.returncode == 0 and cents(json.loads(r.stdout)["total"]) == total,
              "the last balance does not add up")
        print(f"bank: {a.accounts} accounts, {a.writers} writers x {a.transfers} transfers, "
              f"{a.reads} reads")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
