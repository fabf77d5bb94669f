#!/usr/bin/env python3
"""A/B of two builds of drovebank on the same workloads, for a change to the commit path.

  scripts/bench-ab --old OLD_BUILD_DIR --new NEW_BUILD_DIR [--rounds 5]

Runs, in alternating order (the order rotates each round, so a slow minute of a shared
machine hits both), on one 100-account store per build: 600 durable deposits and 600
durable transfers through `batch --no-auto-keys --group-size 1` (one commit each), the same
600 deposits with the batch's automatic keys (`batch --again --group-size 1`: every commit
looks its key up and checks keys/index's mark), a shell session reading 2,000 deposits (its
throughput, and its user CPU a deposit from the kernel's rusage: start and exit included),
and 12 one-shot `deposit` processes, without a key and with a new `--txn` key each, 12
one-shot `list` and `balance` processes, and 12 one-shot `show` processes in shared mode
(`DROVEBANK_FS=shared`, on a second store of its own; the same file system). Prints for each
workload both medians (min-max) and the new/old ratio taken pair by pair. The stores live
in a temporary directory beside the repository (the same file system, never a tmpfs) and
are removed at the end. Record every
run in docs/BENCHMARKS-HISTORY.md by hand (and in the current figures of docs/BENCHMARKS.md
when it moves one): this script writes nothing there.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time

SHELL_LINES = 2000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="build directory of the baseline")
    ap.add_argument("--new", required=True, help="build directory of the change")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    bins = {k: os.path.join(d, "drovebank") for k, d in (("old", a.old), ("new", a.new))}
    for b in bins.values():
        if not os.access(b, os.X_OK):
            raise SystemExit(f"bench-ab: {b} is missing; build first")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROVEBANK_")}
    work = tempfile.mkdtemp(prefix=".bench-ab-", dir=os.path.dirname(ROOT))
    try:
        run_ab(a, bins, env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_ab(a, bins, env, work):
    def run(args, stdin=None, cpu=None, extra_env=None):
        """Runs args to the end; its wall time. With `cpu`, appends its user CPU (rusage)."""
        t = time.monotonic()
        with open(stdin or os.devnull) as fin:
            p = subprocess.Popen(args, stdin=fin, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env={**env, **(extra_env or {})})
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise subprocess.CalledProcessError(p.returncode, args)
        if cpu is not None:
            cpu.append(ru.ru_utime)
        return time.monotonic() - t

    def write(name, lines):
        p = os.path.join(work, name)
        with open(p, "w") as fh:
            fh.write("".join(lines))
        return p

    r = random.Random(1)
    opens = write("opens.jsonl", [f'{{"op":"open","first":"F{i}","last":"L{i}",'
                                  f'"amount":"1000.00"}}\n' for i in range(100)])
    deps = write("deps.jsonl", [f'{{"op":"deposit","id":{1 + i % 100},'
                                f'"amount":"1.{r.randrange(100):02d}"}}\n' for i in range(600)])
    trs = []
    for _ in range(600):
        x = r.randrange(1, 101)
        y = r.randrange(1, 100)
        y = y + 1 if y >= x else y
        trs.append(f'{{"op":"transfer","from":{x},"to":{y},'
                   f'"amount":"0.{r.randrange(1, 100):02d}"}}\n')
    trs = write("trs.jsonl", trs)
    # A shell session of deposits on 8 accounts (the speed issue's figure 7). 2,000 lines:
    # user CPU is counted in clock ticks, so a shorter session measures mostly rounding.
    shell = write("shell.txt", [f"deposit {1 + i % 8} 1.00\n" for i in range(SHELL_LINES)])
    stores = {k: os.path.join(work, k) for k in bins}
    shared_stores = {k: os.path.join(work, k + "-shared") for k in bins}
    shared = {"DROVEBANK_FS": "shared"}
    for k, b in bins.items():
        run([b, "-d", stores[k], "batch", "--no-auto-keys", "--group-size", "10000", opens])
        run([b, "-d", shared_stores[k], "batch", "--no-auto-keys", "--group-size", "10000", opens],
            extra_env=shared)
    one_shots = (("one-shot list", ["list"], None), ("one-shot balance", ["balance"], None),
                 ("shared one-shot show", ["show", "7"], shared))
    res = {(k, w): [] for k in bins
           for w in ("deposits", "transfers", "keyed deposits", "shell", "shell user CPU",
                     "one-shot", "keyed one-shot") + tuple(o[0] for o in one_shots)}
    order = list(bins)
    for _ in range(a.rounds):
        order = order[1:] + order[:1]
        for w, f in (("deposits", deps), ("transfers", trs)):
            for k in order:
                secs = run([bins[k], "-d", stores[k], "batch", "--no-auto-keys", "--group-size",
                            "1", f])
                res[(k, w)].append(600 / secs)
        for k in order:
            secs = run([bins[k], "-d", stores[k], "batch", "--again", "--group-size", "1", deps])
            res[(k, "keyed deposits")].append(600 / secs)
        for k in order:
            cpu = []
            secs = run([bins[k], "-d", stores[k]], stdin=shell, cpu=cpu)
            res[(k, "shell")].append(SHELL_LINES / secs)
            res[(k, "shell user CPU")].append(cpu[0] / SHELL_LINES * 1e6)
        for j in range(12):
            for k in (order if j % 2 else order[::-1]):
                res[(k, "one-shot")].append(1000 * run([bins[k], "-d", stores[k], "deposit",
                                                        str(1 + j), "1.00"]))
        for j in range(12):
            for k in (order if j % 2 else order[::-1]):
                key = f"ab-{len(res[(k, 'keyed one-shot')])}"
                res[(k, "keyed one-shot")].append(1000 * run(
                    [bins[k], "-d", stores[k], "deposit", str(1 + j), "1.00", "--txn", key]))
        for w, args, extra in one_shots:
            on = shared_stores if extra else stores
            for j in range(12):
                for k in (order if j % 2 else order[::-1]):
                    res[(k, w)].append(1000 * run([bins[k], "-d", on[k]] + args, extra_env=extra))
    print(f"bench-ab: old {a.old}, new {a.new}, {a.rounds} rounds, load average at the end "
          f"{os.getloadavg()[0]:.2f}")
    for w, unit in (("deposits", "ops/s"), ("transfers", "ops/s"), ("keyed deposits", "ops/s"),
                    ("shell", "ops/s"), ("shell user CPU", "µs a deposit"), ("one-shot", "ms"),
                    ("keyed one-shot", "ms")) + tuple((o[0], "ms") for o in one_shots):
        o, n = res[("old", w)], res[("new", w)]
        ratios = sorted(y / x for x, y in zip(o, n))
        print(f"{w}: old {statistics.median(o):.1f} {unit} ({min(o):.1f}-{max(o):.1f}), "
              f"new {statistics.median(n):.1f} {unit} ({min(n):.1f}-{max(n):.1f}), "
              f"new/old pair by pair {statistics.median(ratios):.2f} "
              f"({ratios[0]:.2f}-{ratios[-1]:.2f}), n={len(o)}")


if __name__ == "__main__":
    main()
