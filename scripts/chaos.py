#!/usr/bin/env python3
"""Chaos: concurrent writers on a few hot accounts while a killer SIGKILLs them.

K workers (default 8) each run a seeded schedule of deposits, withdrawals and transfers on
a few hot accounts (default 4), one `drovebank --json --lock-timeout 5 ... --txn KEY`
process per operation, every key unique. A killer SIGKILLs a random worker's running
operation at seeded random intervals. Each outcome is logged: acknowledged (exit 0 and a
JSON result), refused (exit 2-5), failed (exit 1), or killed. Then `recover` runs and
the store is checked against its own journal:

  conservation      the sum of the account balances equals the opening balances plus the
                    deposits minus the withdrawals of every journal record, each
                    account's version goes up by exactly one from record to record (a
                    repeat is a lost update), and every account file holds the newest
                    state the journal gives it
  acknowledged      every acknowledged operation's key is in exactly one journal record,
                    with the txn number and request it reported
  no duplicates     no key is in two records
  refused absent    an operation that said nothing changed left no record
  replay            re-issuing every killed operation and a sample of acknowledged ones
                    with the same key: present ones answer replayed without change,
                    absent ones apply once; conservation holds again afterwards
  no deadlock       no operation ran longer than --op-timeout (30 s)
  lock waits        no operation took longer than the lock timeout plus slack: a killed
                    process's locks never block the others past the timeout
  exit codes        nothing but 0-5 from operations that were not killed
  txn numbers       unique and gapless: 1, 2, 3, ... with no number twice
  recover           recover exits 0, recover --check --full then exits 0, nothing left in
                    locks/ or tmp/ (beyond the lock tables and spares), no flag set

With --session-ops N each process is a shell session (`drovebank --json ...` reading its
lines from stdin) running the next 1 to N operations of the worker's schedule, each line
with its own --txn key; a line is acknowledged when its JSON result was printed, and a
killed session's lines without one count as killed. The lines are all there at once, so the
shell commits them in groups (its group commit, docs/SHELL.md) and prints their results once
each group is durable: the kills fall inside groups too. A session alone on the store builds on
its own last states rather than reading the files (docs/DESIGN.md, step 3): with few
workers (--workers 2) the kills fall inside that path too.

With --mounts A,B[,C...] (mount points of one GlusterFS volume, e.g. from `scripts/cluster
up`; needs root) the store is a fresh directory on the volume, the workers take turns
between the mounts, each mount's workers run in their own UTS namespace (host names host-a,
host-b, ...), and for the middle third of the run the cluster suffers one fault (--fault):

  kill-brick        a data brick's glusterfsd is SIGKILLed, then restarted (`gluster
                    volume start VOL force`); the default
  hang-brick        a data brick's glusterfsd is stopped (SIGSTOP) for longer than the
                    volume's network.ping-timeout (`scripts/cluster up --ping-timeout S`
                    makes it short), so that every client gives up on it, then continued
  kill-client       a host lost in the middle of a commit: one more operation runs on the
                    last mount under strace, which stops it (SIGSTOP) as it enters its first
                    write(2), the journal append, with its repair flags set and the
                    journal's append lock held; then that mount's FUSE client is SIGKILLed
                    (its locks go with its connections), then the stopped process; that
                    mount's workers pause, and the mount comes back (mounted again, the
                    host restarted) for the last third

recover runs from the last mount, recover --check from every mount, and three more checks
run:

  same files        every mount shows the same files with the same bytes
  heal              `gluster volume heal VOL info` lists no entry on any brick (waited for)
  fault             the fault happened as planned: the brick killed and restarted; hung for
                    longer than the ping timeout, then continued; or the operation stopped
                    at the journal append, the client killed, the mount back

The schedule of operations (kinds, accounts, amounts, keys, kill intervals) depends only
on --seed; which operations the kills hit depends on timing. Ends with "N passed, N
failed"; exits 1 when any check failed.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import settled

OPENING = 100000  # cents per hot account


class Outcome:
    def __init__(self, worker, n, kind, args, key):
        self.worker, self.n, self.kind, self.args, self.key = worker, n, kind, args, key
        self.rc = None
        self.out = ""
        self.err = ""
        self.secs = 0.0
        self.killed = False
        self.hung = False

    def request(self):
        return " ".join(self.args)


def schedule(seed, worker, accounts):
    """The worker's endless, seeded sequence of operations."""
    rng = random.Random(f"{seed}/worker/{worker}")
    n = 0
    while True:
        n += 1
        kind = rng.choices(["deposit", "withdraw", "transfer"], weights=[3, 2, 5])[0]
        amount = f"{rng.randint(1, 5000) / 100:.2f}"
        a = rng.randint(1, accounts)
        key = f"chaos-{seed}-w{worker}-{n}"
        if kind == "transfer":
            b = rng.randint(1, accounts - 1)
            b = b + 1 if b >= a else b
            args = ["transfer", str(a), str(b), amount]
        else:
            args = [kind, str(a), amount]
        yield n, kind, args, key


class Chaos:
    def __init__(self, a, datas):
        self.a = a
        self.datas = datas  # one store path per mount (one path without --mounts)
        self.data = datas[0]
        self.drovebank = os.path.join(a.build_dir, "drovebank")
        self.recover = os.path.join(a.build_dir, "recover")
        # DROVEBANK_FS passes through: DROVEBANK_FS=local on a mount shows what the
        # shared mode prevents.
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("DROVEBANK_") or k == "DROVEBANK_FS"}
        self.env["NO_COLOR"] = "1"
        self.lock = threading.Lock()
        self.running = {}  # worker -> (Popen, Outcome)
        self.outcomes = []
        self.kills = 0
        self.stop = threading.Event()
        self.down = set()  # mounts whose client is dead (--fault kill-client)

    def cmd(self, args, key=None, worker=0, mount=None, wrap=()):
        """The command line of one operation; on the mount `mount` (an index) if given,
        else the worker's; `wrap` goes before drovebank (strace)."""
        m = worker % len(self.datas) if mount is None else mount
        c = list(wrap) + [self.drovebank, "-d", self.datas[m], "--json", "--lock-timeout",
                          str(self.a.lock_timeout)] + args
        c = c + ["--txn", key] if key else c
        if self.a.mounts:
            # A host of its own per mount. unshare and sh both exec, so the pid the killer
            # signals is the drovebank process itself (or the wrapper's).
            c = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"',
                 f"host-{chr(ord('a') + m)}"] + c
        return c

    def wait_mount(self, w):
        """While the worker's mount is down (its client killed), its host does no work."""
        while w % len(self.datas) in self.down and not self.stop.is_set():
            time.sleep(0.1)

    def session_worker(self, w):
        """Runs the worker's schedule as shell sessions of 1 to --session-ops operations."""
        rng = random.Random(f"{self.a.seed}/sessions/{w}")
        ops = schedule(self.a.seed, w, self.a.accounts)
        while not self.stop.is_set():
            self.wait_mount(w)
            batch = [Outcome(w, *next(ops)) for _ in range(rng.randint(1, self.a.session_ops))]
            lines = "".join(" ".join(o.args + ["--txn", o.key]) + "\n" for o in batch)
            t0 = time.monotonic()
            p = subprocess.Popen(self.cmd([], None, w), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 env=self.env)
            with self.lock:
                self.running[w] = (p, batch[0])
            hung = threading.Event()
            timer = threading.Timer(self.a.op_timeout * len(batch),
                                    lambda: (hung.set(), p.kill()))
            timer.start()
            try:
                p.stdin.write(lines)
                p.stdin.close()
            except BrokenPipeError:
                pass
            done = 0
            last = t0
            for line in p.stdout:  # one JSON value per line, in the order of the lines
                if done == len(batch):
                    break
                o = batch[done]
                now = time.monotonic()
                o.secs, last = now - last, now
                o.out = line
                try:
                    res = json.loads(line)
                except ValueError:
                    res = {"error": {"exit": 99, "message": line}}
                err = res.get("error") if isinstance(res, dict) else None
                o.rc = 0 if err is None else err.get("exit", 99)
                if err is not None:
                    o.err = err.get("message", "") + (" may have been applied"
                                                      if err.get("maybe_applied") else "")
                done += 1
            p.wait()
            timer.cancel()
            with self.lock:
                del self.running[w]
                killed = batch[0].killed  # the killer marks the session's first outcome
                for o in batch[done:]:
                    # No result printed: killed with it, or stopped by the timer.
                    o.killed = killed and not hung.is_set()
                    o.hung = hung.is_set()
                    o.rc = p.returncode
                    o.secs = time.monotonic() - last
                for o in batch[:done]:
                    o.killed = False
                self.outcomes.extend(batch)

    def worker(self, w):
        if self.a.session_ops > 0:
            return self.session_worker(w)
        for n, kind, args, key in schedule(self.a.seed, w, self.a.accounts):
            self.wait_mount(w)
            if self.stop.is_set():
                return
            o = Outcome(w, n, kind, args, key)
            t0 = time.monotonic()
            p = subprocess.Popen(self.cmd(args, key, w), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=self.env)
            with self.lock:
                self.running[w] = (p, o)
            try:
                o.out, o.err = p.communicate(timeout=self.a.op_timeout)
            except subprocess.TimeoutExpired:
                o.hung = True
                p.kill()
                o.out, o.err = p.communicate()
            with self.lock:
                del self.running[w]
            o.secs = time.monotonic() - t0
            o.rc = p.returncode
            with self.lock:
                self.outcomes.append(o)

    def killer(self):
        rng = random.Random(f"{self.a.seed}/killer")
        while not self.stop.wait(rng.uniform(0.5, 1.5) * self.a.kill_interval):
            victim = rng.randrange(self.a.workers)
            with self.lock:
                entry = self.running.get(victim)
                if entry is None:
                    continue
                p, o = entry
                try:
                    os.kill(p.pid, signal.SIGKILL)  # our own child, by its id
                    o.killed = True
                    self.kills += 1
                except ProcessLookupError:
                    pass

    def run(self, fault=None):
        threads = [threading.Thread(target=self.worker, args=(w,)) for w in range(self.a.workers)]
        k = threading.Thread(target=self.killer)
        for t in threads:
            t.start()
        k.start()
        if fault is None:
            time.sleep(self.a.duration)
        else:
            # For the middle third of the run (at least as long as the fault needs): writers
            # commit with the fault in place, and again while the cluster heals.
            third = self.a.duration / 3
            time.sleep(third)
            t0 = time.monotonic()
            fault.start()
            time.sleep(max(0.0, max(third, fault.min_secs()) - (time.monotonic() - t0)))
            fault.end()
            time.sleep(third)
        self.stop.set()
        for t in threads:
            t.join()
        k.join()


def gluster(*args, timeout=60):
    return subprocess.run(["timeout", str(timeout), "gluster", "--mode=script", *args],
                          capture_output=True, text=True)


def mount_source(mount):
    """What the mount table says is mounted at `mount` by GlusterFS ("HOST:/VOL"), or None."""
    mount = os.path.realpath(mount)
    for src, point, fstype in settled.mount_table():
        if point == mount and fstype == "fuse.glusterfs":
            return src
    return None


def volume_of(mount):
    """The GlusterFS volume mounted at `mount`, or None."""
    src = mount_source(mount)
    return src.rpartition(":/")[2] if src else None


class Brick:
    """One data brick of the volume, killed and restarted (kill-brick) or stopped and
    continued (hang-brick) in the middle of the run."""

    def __init__(self, vol, seed, hang=False):
        self.vol = vol
        self.hang = hang
        info = gluster("volume", "info", vol).stdout
        # A data brick, not the arbiter: losing one leaves a single full copy.
        bricks = [l.split(":", 2)[2].split()[0] for l in info.splitlines()
                  if l.startswith("Brick") and ":" in l and l.split(":")[0][5:].isdigit()
                  and "(arbiter)" not in l]
        if not bricks:
            sys.exit(f"chaos: volume {vol} has no bricks: {info}")
        self.path = random.Random(f"{seed}/brick").choice(bricks)
        self.events = []
        self.ping = None
        if hang:
            out = gluster("volume", "get", vol, "network.ping-timeout").stdout
            vals = [l.split()[-1] for l in out.splitlines() if l.startswith("network.ping-timeout")]
            self.ping = float(vals[0]) if vals else None
        self.hung_secs = 0.0

    def describe(self):
        if self.hang:
            return (f"brick {self.path} of {self.vol} hung past its ping timeout "
                    f"({self.ping:g} s) in the middle third")
        return f"brick {self.path} of {self.vol} killed for the middle third"

    def min_secs(self):
        # Past the ping timeout by a margin: the clients drop the brick, then work without it.
        return self.ping + 3.0 if self.hang and self.ping is not None else 0.0

    def signal(self, sig):
        return subprocess.run(["pkill", f"-{sig}", "-f", "--", f"--brick-name {self.path}( |$)"])

    def start(self):
        if self.hang:
            self.t0 = time.monotonic()
            self.events.append(("hung", self.signal("STOP").returncode == 0))
        else:
            self.events.append(("killed", self.signal("KILL").returncode == 0))

    def end(self):
        if self.hang:
            self.hung_secs = time.monotonic() - self.t0
            self.events.append(("continued", self.signal("CONT").returncode == 0))
        else:
            p = gluster("volume", "start", self.vol, "force")
            self.events.append(("restarted", p.returncode == 0))

    def problems(self):
        want = [("hung", True), ("continued", True)] if self.hang else \
            [("killed", True), ("restarted", True)]
        out = []
        if self.events != want:
            out.append(f"brick {self.path}: {self.events} (want {want})")
        if self.hang and (self.ping is None or self.hung_secs <= self.ping):
            out.append(f"brick {self.path} hung {self.hung_secs:.1f} s, not past the ping "
                       f"timeout ({self.ping})")
        return out


class Client:
    """A host lost mid-commit (--fault kill-client): one operation on the last mount is
    stopped by strace as it enters its first write(2), the journal append; that mount's
    FUSE client is then SIGKILLed, then the stopped process. Mounted again at end()."""

    def __init__(self, chaos, vol):
        self.c = chaos
        self.vol = vol
        self.m = len(chaos.datas) - 1
        self.mount = os.path.dirname(chaos.datas[self.m])
        self.src = mount_source(self.mount)
        self.log = os.path.join(tempfile.mkdtemp(prefix="chaos-client-"), "strace")
        self.events = []
        self.stopped_at = ""

    def describe(self):
        return (f"the client of {self.mount} killed while an operation there was stopped at "
                f"its journal append, the mount back for the last third")

    def min_secs(self):
        return 0.0

    def start(self):
        c = self.c
        o = Outcome(c.a.workers, 1, "transfer", ["transfer", "1", "2", "1.00"],
                    f"chaos-{c.a.seed}-lost-host")
        wrap = ["strace", "-f", "-qq", "-y", "-o", self.log, "-e", "trace=write",
                "-e", "inject=write:signal=STOP:when=1"]
        t0 = time.monotonic()
        p = subprocess.Popen(c.cmd(o.args, o.key, mount=self.m, wrap=wrap),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=c.env)
        pid = None
        deadline = t0 + c.a.lock_timeout + c.a.slack
        while pid is None and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
            try:
                with open(self.log, errors="replace") as fh:
                    lines = fh.read().splitlines()
            except FileNotFoundError:
                continue  # strace not started yet
            for i, line in enumerate(lines):
                if "stopped by SIGSTOP" in line:
                    pid = int(line.split()[0])
                    self.stopped_at = next((l for l in reversed(lines[:i]) if " write(" in l), "")
        self.events.append(("stopped at the append",
                            pid is not None and ".log>" in self.stopped_at))
        # The host goes: its client first, with the operation still inside its commit.
        c.down.add(self.m)
        k = subprocess.run(["pkill", "-9", "-f", "--", f"glusterfs .*--volfile-id=/{self.vol} {self.mount}$"])
        self.events.append(("client killed", k.returncode == 0))
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            o.out, o.err = p.communicate(timeout=c.a.op_timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            o.out, o.err = p.communicate()
            o.hung = True
        o.secs = time.monotonic() - t0
        o.rc = p.returncode
        o.killed = pid is not None
        with c.lock:
            c.outcomes.append(o)

    def end(self):
        subprocess.run(["umount", "-l", self.mount])
        p = subprocess.run(["timeout", "60", "mount", "-t", "glusterfs", self.src, self.mount])
        self.events.append(("mounted again", p.returncode == 0))
        self.c.down.discard(self.m)

    def problems(self):
        want = [("stopped at the append", True), ("client killed", True), ("mounted again", True)]
        if self.events != want:
            return [f"{self.mount}: {self.events} (want {want}); the stop: "
                    f"{self.stopped_at or 'none, strace log ' + self.log}"]
        shutil.rmtree(os.path.dirname(self.log), ignore_errors=True)
        return []


def wait_healed(vol, limit=120.0):
    """Problems left in `gluster volume heal VOL info` after up to `limit` seconds."""
    gluster("volume", "heal", vol)
    deadline = time.monotonic() + limit
    while True:
        out = gluster("volume", "heal", vol, "info").stdout
        counts = [l.split(":", 1)[1].strip() for l in out.splitlines()
                  if l.startswith("Number of entries")]
        if counts and all(c == "0" for c in counts):
            return []
        if time.monotonic() > deadline:
            return [f"after {limit:g} s heal info still lists entries: " +
                    " ".join(l for l in out.splitlines() if l.strip())[:400]]
        time.sleep(2)


def tree_digest(data):
    out = {}
    for dirpath, _, files in os.walk(data):
        for f in files:
            full = os.path.join(dirpath, f)
            out[os.path.relpath(full, data)] = hashlib.sha256(settled.read_bytes(full)).hexdigest()
    return out


def same_files(datas, tries=10):
    """Differences between the mounts' views of the store, after the clients' caches (1 s)
    have had time to expire."""
    for _ in range(tries):
        time.sleep(1.5)
        views = [tree_digest(d) for d in datas]
        diff = []
        for d, v in zip(datas[1:], views[1:]):
            for name in sorted(set(v) | set(views[0])):
                if v.get(name) != views[0].get(name):
                    diff.append(f"{name}: {datas[0]} and {d} differ")
        if not diff:
            return []
    return diff


def conservation(data):
    """Problems with money and files against the journal (scripts/settled.py), and the
    journal's records in txn order."""
    recs, _ = settled.journal_records(data)
    return settled.journal_problems(data), recs


def request_text(o):
    """The journal's canonical request text for an outcome's args."""
    if o.kind == "transfer":
        return f"transfer {o.args[1]} {o.args[2]} {settled.cents(o.args[3])}"
    return f"{o.kind} {o.args[1]} {settled.cents(o.args[2])}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=None)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--accounts", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--kill-interval", type=float, default=0.25,
                    help="mean seconds between kills")
    ap.add_argument("--lock-timeout", type=float, default=5.0)
    ap.add_argument("--slack", type=float, default=10.0,
                    help="seconds an operation may take beyond the lock timeout")
    ap.add_argument("--op-timeout", type=float, default=30.0)
    ap.add_argument("--replays", type=int, default=200,
                    help="acknowledged operations re-issued with their key")
    ap.add_argument("--session-ops", type=int, default=0,
                    help="run each worker's operations as shell sessions of 1 to N lines")
    ap.add_argument("--short", action="store_true", help="the CI run (< 60 s)")
    ap.add_argument("--work-dir", default=None)
    ap.add_argument("--mounts", default=None,
                    help="comma-separated mount points of one GlusterFS volume")
    ap.add_argument("--fault", default="kill-brick",
                    choices=["kill-brick", "hang-brick", "kill-client"],
                    help="with --mounts: what the cluster suffers in the middle third")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    a.build_dir = a.build_dir or os.path.join(root, "build")
    if a.short:
        a.duration = min(a.duration, 15.0)
        a.replays = min(a.replays, 40)
    for p in ("drovebank", "recover"):
        if not os.access(os.path.join(a.build_dir, p), os.X_OK):
            sys.exit(f"chaos: {a.build_dir}/{p} is missing; build first")
    fault = None
    if a.mounts:
        mounts = [os.path.abspath(m) for m in a.mounts.split(",") if m]
        if os.geteuid() != 0:
            sys.exit("chaos: --mounts needs root (UTS namespaces, the brick's process)")
        vols = {volume_of(m) for m in mounts}
        if len(mounts) < 2 or None in vols or len(vols) != 1:
            sys.exit(f"chaos: --mounts wants two or more GlusterFS mounts of one volume; "
                     f"got {mounts} (volumes {sorted(map(str, vols))}); scripts/cluster up makes them")
        vol = vols.pop()
        name = f"chaos-{a.seed}-{os.getpid()}"
        work = None
        datas = [os.path.join(m, name) for m in mounts]
    else:
        work = a.work_dir or tempfile.mkdtemp(prefix="drovebank-chaos-")
        datas = [os.path.join(work, "data")]
    data = datas[0]
    started = time.monotonic()

    c = Chaos(a, datas)
    if a.mounts:
        if a.fault == "kill-client":
            fault = Client(c, vol)
        else:
            fault = Brick(vol, a.seed, hang=a.fault == "hang-brick")
            if fault.hang and fault.ping is None:
                sys.exit(f"chaos: cannot read network.ping-timeout of {vol}")
    for i in range(a.accounts):
        p = subprocess.run(c.cmd(["open", "Hot", f"Account{i + 1}", f"{OPENING / 100:.2f}"]),
                           capture_output=True, text=True, env=c.env)
        if p.returncode != 0:
            sys.exit(f"chaos: opening the accounts failed: {p.stderr}")
    print(f"chaos: seed {a.seed}, {a.workers} workers on {a.accounts} hot accounts for "
          f"{a.duration:g} s, a kill every ~{a.kill_interval:g} s, lock timeout "
          f"{a.lock_timeout:g} s; store {' and '.join(datas)}"
          + (f"; {fault.describe()}" if fault else ""))
    c.run(fault)
    t0 = time.monotonic()
    rec = subprocess.run([c.recover, "-d", datas[-1]], capture_output=True, text=True,
                         env=c.env)
    recover_secs = time.monotonic() - t0

    results = []  # (name, problems)
    outs = sorted(c.outcomes, key=lambda o: (o.worker, o.n))
    killed = [o for o in outs if o.killed]
    alive = [o for o in outs if not o.killed]
    acked = [o for o in alive if o.rc == 0]
    by_rc = {}
    for o in alive:
        by_rc[o.rc] = by_rc.get(o.rc, 0) + 1

    results.append(("no deadlock", [f"w{o.worker} op {o.n} ({o.request()}) ran past "
                                    f"{a.op_timeout:g} s" for o in outs if o.hung]))
    bound = a.lock_timeout + a.slack
    results.append(("lock waits", [f"w{o.worker} op {o.n} ({o.request()}) took {o.secs:.1f} s "
                                   f"(exit {o.rc})" for o in alive
                                   if o.secs > bound and not o.hung]))
    results.append(("exit codes", [f"w{o.worker} op {o.n} exit {o.rc}: {o.err.strip()}"
                                   for o in alive if o.rc not in (0, 1, 2, 3, 4, 5)]))
    rec_problems = [] if rec.returncode == 0 else [f"recover exit {rec.returncode}: {rec.stderr}"]
    # Settled (scripts/settled.py): recover --check --full passes on every mount; in
    # locks/ only the three lock tables, no repair flag set in them; in tmp/ only the
    # reusable spares (the journal's side is the conservation check below).
    for d in datas:
        rec_problems += [f"{d}: {p}" for p in settled.recover_check(c.recover, d, c.env)]
    rec_problems += [f"left over: {x}" for x in settled.leftovers(data)]
    results.append(("recover", rec_problems))

    problems, recs = conservation(data)
    results.append(("conservation", problems))
    txns = [r["txn"] for r in recs]
    results.append(("txn numbers", [] if txns == list(range(1, len(txns) + 1)) else
                    [f"txn numbers are not 1..{len(txns)}: "
                     f"{[t for i, t in enumerate(txns) if t != i + 1][:10]} out of place"]))
    keys = {}
    for r in recs:
        if r.get("key"):
            keys.setdefault(r["key"], []).append(r)
    results.append(("no duplicates", [f"key {k} in {len(v)} records" for k, v in keys.items()
                                      if len(v) > 1]))
    ack_problems = []
    for o in acked:
        try:
            res = json.loads(o.out)
        except ValueError:
            ack_problems.append(f"w{o.worker} op {o.n}: exit 0 without a JSON result")
            continue
        found = keys.get(o.key, [])
        if len(found) != 1:
            ack_problems.append(f"{o.key} acknowledged (txn {res.get('txn')}) but in "
                                f"{len(found)} journal records")
        elif found[0]["txn"] != res.get("txn") or found[0]["req"] != request_text(o):
            ack_problems.append(f"{o.key}: acknowledged txn {res.get('txn')} "
                                f"({request_text(o)}) but the journal has txn "
                                f"{found[0]['txn']} ({found[0]['req']})")
    results.append(("acknowledged", ack_problems))
    nothing = [o for o in alive if o.rc in (2, 3, 4, 5) or
               (o.rc == 1 and "may have been applied" not in o.err)]
    results.append(("refused absent", [f"{o.key} exit {o.rc} but in the journal" for o in nothing
                                       if o.key in keys]))

    # Replays: every killed op, and a seeded sample of acknowledged ones.
    replay_started = time.monotonic()
    rng = random.Random(f"{a.seed}/replay")
    sample = killed + rng.sample(acked, min(a.replays, len(acked)))
    replay_problems = []
    for o in sample:
        present = o.key in keys
        before = settled.account_rows(data)
        p = subprocess.run(c.cmd(o.args, o.key, o.worker + 1), capture_output=True, text=True,
                           env=c.env)
        if p.returncode != 0:
            if not present and p.returncode == 3:
                continue  # a killed withdrawal that the rules now refuse: still absent
            replay_problems.append(f"re-issuing {o.key} exit {p.returncode}: {p.stderr.strip()}")
            continue
        replayed = json.loads(p.stdout).get("replayed")
        if replayed != present:
            replay_problems.append(f"re-issuing {o.key}: replayed={replayed} but it was "
                                   f"{'present' if present else 'absent'}")
        after = settled.account_rows(data) if present else before
        if after != before:
            diff = [f"{i}: {before.get(i)} -> {after.get(i)}"
                    for i in sorted(set(before) | set(after)) if before.get(i) != after.get(i)]
            replay_problems.append(f"re-issuing {o.key} (present) changed account files: "
                                   + "; ".join(diff))
    problems, recs = conservation(data)
    replay_problems += problems
    keys2 = {}
    for r in recs:
        if r.get("key"):
            keys2[r["key"]] = keys2.get(r["key"], 0) + 1
    replay_problems += [f"after replays key {o.key} in {keys2.get(o.key, 0)} records"
                        for o in sample if keys2.get(o.key, 0) != 1 and
                        not (o.key not in keys and keys2.get(o.key, 0) == 0)]
    results.append(("replay", replay_problems))
    replay_secs = time.monotonic() - replay_started
    if fault:
        results.append(("fault", fault.problems()))
        results.append(("heal", wait_healed(vol)))
        results.append(("same files", same_files(datas)))

    lat = sorted(o.secs for o in alive) or [0.0]
    print(f"operations: {len(outs)} ({len(acked)} acknowledged, "
          f"{by_rc.get(3, 0)} refused by rules, {by_rc.get(4, 0)} busy (exit 4), "
          f"{by_rc.get(1, 0)} failed (exit 1), {len(killed)} killed); kills: {c.kills}; "
          f"journal records: {len(recs)}")
    print(f"latency: median {lat[len(lat) // 2] * 1000:.0f} ms, p99 "
          f"{lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000:.0f} ms, max "
          f"{lat[-1]:.2f} s; recover took {recover_secs:.2f} s; replays checked: {len(sample)} "
          f"in {replay_secs:.1f} s")
    for o in [o for o in alive if o.rc == 1][:5]:
        print(f"failed (exit 1): w{o.worker} op {o.n} ({o.request()}): {o.err.strip()[:200]}")
    violations = sum(len(p) for _, p in results)
    passed = failed = 0
    for name, probs in results:
        if probs:
            failed += 1
            print(f"FAIL {name}")
            for p in probs[:10]:
                print(f"    {p}")
            if len(probs) > 10:
                print(f"    ... and {len(probs) - 10} more")
        else:
            passed += 1
            print(f"pass {name}")
    if failed:
        print(f"reproduce the schedule: scripts/chaos --seed {a.seed} --workers {a.workers} "
              f"--accounts {a.accounts} --duration {a.duration:g} --kill-interval "
              f"{a.kill_interval:g}{' --mounts ' + a.mounts + ' --fault ' + a.fault if a.mounts else ''}"
              f"{f' --session-ops {a.session_ops}' if a.session_ops else ''}; "
              f"store kept at {data}")
    elif a.mounts:
        shutil.rmtree(data, ignore_errors=True)
    elif a.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(f"violations: {violations}; time: {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
