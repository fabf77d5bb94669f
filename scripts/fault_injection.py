#!/usr/bin/env python3
"""The fault matrix: every write path x every fault point it reaches x every fault kind.

For each write path (open, deposit, withdraw, transfer, close, rename, keyed variants, reverse, the
shell's commit, batch, import-csv, and recover itself) the operation is first run fault-free on a copy of a
known store with DROVEBANK_FAULT_TRACE, which lists the fault points it goes through (so
new points are picked up without editing this script). Then, for each point (and each
time the point is reached: a transfer renames two files) and each kind (crash, eio,
enospc, powerloss), a fresh copy runs the same operation through the real program with
DROVEBANK_FAULT set, followed by `recover`, and the store is checked:

  - every account is exactly its state before or after the operation, all accounts alike
    (all before or all after: the operation is atomic); money is conserved;
  - exit 0 means present; exit 2-5, or 1 without "may have been applied", means absent;
    a crash or power loss at or after the commit point (the journal fdatasync) means
    present, a power loss before it means absent (the strict model keeps nothing unsynced);
  - what a reader sees after the fault without `recover` (on a copy) is already one of
    the two states, and `recover` does not change it afterwards;
  - a second `recover` changes no file (journal/state aside); then the store is settled
    (scripts/settled.py): `recover --check --full` passes; no temp file, lock file, wait
    ticket, repair flag or NEEDS_RECOVERY marker remains; each account's version goes up
    by one from record to record; every account file holds the journal's newest state and
    the balances sum to what the journal's records brought in;
  - keyed variants: re-issuing the same request with its key afterwards applies it
    exactly once (replayed when it was present, applied when it was absent);
  - batch: the applied events are a prefix of whole groups, and re-running the same input
    converges on the fault-free result (resumed, or refused as run to its end when the
    fault came after its end was committed);
  - recover: a fault at any point inside recover (recover:*, checkpoint:*), then recover
    again, converges on exactly the state a fault-free recover reaches.

Prints the matrix and ends with "N passed, N failed"; exits 1 if anything failed. Each
failure prints the commands that reproduce it. --quick is the CI subset (well under two
minutes); --full (the default) runs everything, two cases at a time.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import settled

KINDS = ["crash", "eio", "enospc", "powerloss"]
CRASH_EXIT = 86
MODEL_FAILED_EXIT = 87
TIMEOUT = 60

# Steps of a commit, relative to its commit point (the journal fdatasync).
BEFORE_WRITE = {"locks_held", "flags_set", "before_journal_write"}
WRITTEN_UNSYNCED = {"before_journal_publish", "after_journal_write", "before_journal_sync"}
# after_segment_create: the rotation fdatasyncs the old segment, record included, first.
COMMITTED = {"after_journal_sync", "after_temp_write", "after_rename", "after_key_index",
             "done", "after_segment_create"}

# The known store every case starts from: (first, last, opening balance).
SEED_ACCOUNTS = [("Ada", "Lovelace", "100.00"), ("Bob", "Babbage", "50.00"),
                 ("Cy", "Closer", "0.00"), ("Dee", "Dijkstra", "20.00")]

BATCH_LINES = [
    {"op": "deposit", "id": 1, "amount": "5.00"},
    {"op": "transfer", "from": 1, "to": 2, "amount": "7.00"},
    {"op": "withdraw", "id": 4, "amount": "3.00"},
    {"op": "transfer", "from": 2, "to": 4, "amount": "1.50"},
]
BATCH_GROUP = 2


class Tools:
    def __init__(self, build_dir):
        self.drovebank = os.path.join(build_dir, "drovebank")
        self.recover = os.path.join(build_dir, "recover")
        for p in (self.drovebank, self.recover):
            if not os.access(p, os.X_OK):
                sys.exit(f"fault-injection: {p} is missing; build first (scripts/build)")

    @staticmethod
    def env():
        """This process's environment without fault injection or another data directory."""
        full_env = dict(os.environ)
        for k in ("DROVEBANK_FAULT", "DROVEBANK_FAULT_HIT", "DROVEBANK_FAULT_TRACE",
                  "DROVEBANK_DATA"):
            full_env.pop(k, None)
        full_env["NO_COLOR"] = "1"
        return full_env

    def run(self, prog, args, env=None, stdin=None, timeout=TIMEOUT):
        """Runs prog; returns (exit code, stdout, stderr). Exit -1 on timeout."""
        full_env = self.env()
        full_env.update(env or {})
        exe = self.drovebank if prog == "drovebank" else self.recover
        try:
            p = subprocess.run([exe] + args, input=stdin, capture_output=True, text=True,
                               env=full_env, timeout=timeout)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            return -1, e.stdout or "", f"timed out after {timeout} s"


# ---- Reading a store -------------------------------------------------------------------

def read_accounts(d):
    """Account states from the files: id -> (first, last, balance, status, version,
    last_txn), ("corrupt",) for a file that is not one CSV row. Only meaningful once the
    store is settled."""
    fields = ("first", "last", "balance", "status", "version", "last_txn")
    return {i: ("corrupt",) if r is None else tuple(r[k] for k in fields)
            for i, r in settled.account_rows(d).items()}


def version_gaps(d):
    """settled.version_gaps of the journal at d (its torn tail left out)."""
    return settled.version_gaps(settled.journal_records(d)[0])


def total(state):
    return sum(settled.cents(a[2]) for a in state.values() if len(a) > 2)


def snapshot(d):
    """Every file's content and every directory under d, but those that are never read."""
    snap = {}
    for dirpath, dirs, files in os.walk(d):
        rel = os.path.relpath(dirpath, d)
        snap[rel + "/"] = None
        for f in files:
            p = os.path.join(dirpath, f)
            r = os.path.normpath(os.path.join(rel, f))
            # Rebuildable or never read: the shared state, the lock holders' notes (rewritten
            # at every lock), and the spares (their content is whatever they last replaced).
            if r in ("journal/state", "locks/owners") or r.startswith("tmp/spare-"):
                continue
            with open(p, "rb") as fh:
                snap[r] = fh.read()
    return snap


def copy_store(src, dst):
    shutil.copytree(src, dst, symlinks=True)


def read_trace(path):
    """(point, hit) pairs in the order first reached; hit counts repeats of a point."""
    seen, out = {}, []
    if not os.path.exists(path):
        return out
    with open(path) as fh:
        for line in fh:
            p = line.strip()
            if not p:
                continue
            seen[p] = seen.get(p, 0) + 1
            out.append((p, seen[p]))
    return out


# ---- Operations ------------------------------------------------------------------------

class Operation:
    """One write path: how to run it against a store directory."""

    def __init__(self, name, args=None, stdin=None, key=None, batch=None, prog="drovebank",
                 dirty=None, rotating=False, setup=None, csv=False):
        self.name = name
        self.args = args or []
        self.stdin = stdin
        self.key = key        # the idempotency key of a keyed variant
        self.batch = batch    # JSONL lines for the batch path
        self.prog = prog
        self.dirty = dirty    # recover paths: how the store was left before recover
        self.rotating = rotating  # starts on a journal segment this op fills up
        self.setup = setup    # commands run fault-free on the seed first (what reverse undoes)
        self.csv = csv        # batch lines given to import-csv as CSV instead of JSON Lines
        self.states = []      # acceptable account states, nothing applied .. all applied
        self.points = []      # (point, hit) traced
        self.seed = None      # the store the cases start from

    def command(self, d):
        if self.prog == "recover":
            return ["-d", d] + self.args
        if self.batch is not None:
            return ["-d", d, "import-csv" if self.csv else "batch",
                    os.path.join(d, "..", self.batch_file()), "--group-size", str(BATCH_GROUP)]
        return ["-d", d] + self.args

    def batch_file(self):
        return "batch.csv" if self.csv else "batch.jsonl"

    def batch_text(self):
        if not self.csv:
            return "".join(json.dumps(x) + "\n" for x in self.batch)
        cols = ["op", "id", "from", "to", "amount", "memo", "key"]
        rows = [",".join(cols)] + [",".join(str(x.get(c, "")) for c in cols) for x in self.batch]
        return "".join(r + "\n" for r in rows)

    def prepare(self, d):
        if self.batch is not None:
            with open(os.path.join(d, "..", self.batch_file()), "w") as fh:
                fh.write(self.batch_text())

    def run(self, tools, d, env=None):
        self.prepare(d)
        return tools.run(self.prog, self.command(d), env=env, stdin=self.stdin)

    def shell_line(self, d, env):
        """A copy-pasteable command line for the failure report."""
        envs = " ".join(f"{k}={v}" for k, v in env.items())
        exe = "build/recover" if self.prog == "recover" else "build/drovebank"
        cmd = " ".join(_quote(a) for a in self.command(d))
        if self.stdin is not None:
            return f"printf {_quote(self.stdin)} | {envs} {exe} {cmd}"
        if self.batch is not None:
            lines = self.batch_text().replace("\n", "\\n")
            batch_file = f"{os.path.dirname(d)}/{self.batch_file()}"
            return f"printf {_quote(lines)} > {batch_file} && {envs} {exe} {cmd}"
        return f"{envs} {exe} {cmd}"


def _quote(s):
    if s and all(c.isalnum() or c in "-_./=:,+" for c in s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def build_seed(tools, d):
    for first, last, amount in SEED_ACCOUNTS:
        rc, out, err = tools.run("drovebank", ["-d", d, "open", first, last, amount])
        if rc != 0:
            sys.exit(f"fault-injection: building the seed store failed: {err}")


def shell_available(tools, work):
    d = os.path.join(work, "probe-shell")
    build_seed(tools, d)
    trace = os.path.join(work, "probe-shell.trace")
    rc, _, _ = tools.run("drovebank", ["-d", d], env={"DROVEBANK_FAULT_TRACE": trace},
                         stdin="begin\ndeposit 1 1\ncommit\n")
    return rc == 0 and any(p.startswith("commit:") for p, _ in read_trace(trace))


def batch_available(tools):
    rc, _, _ = tools.run("drovebank", ["batch", "--help"])
    return rc == 0


SEGMENT_BYTES = 4 << 20  # kSegmentBytes in journal.h


def segment_size(d):
    segs = sorted(f for f in os.listdir(os.path.join(d, "journal")) if f.endswith(".log"))
    return len(segs), os.path.getsize(os.path.join(d, "journal", segs[-1]))


def build_rotating_seed(tools, op, seed, d):
    """A copy of the seed whose journal segment is so full that op's record ends it, so
    the op goes through the rotation (after_segment_create) and the checkpoint after it."""
    copy_store(seed, d)
    probe = d + ".probe"
    copy_store(d, probe)
    filler = ["deposit", "4", "0.01"]
    _, before = segment_size(probe)
    op.run(tools, probe)
    _, after = segment_size(probe)
    tools.run("drovebank", ["-d", probe] + filler)
    _, filled = segment_size(probe)
    shutil.rmtree(probe)
    need = after - before  # the op's record
    # A filler's record, measured rather than assumed (format 3's hash chain made each
    # about 316 bytes: a guess of 260 filled the segment past its end), and the filling
    # done in rounds with a tenth to spare, since records grow as txn numbers and balances
    # gain digits.
    per = (filled - after) * 11 // 10
    while True:
        _, size = segment_size(d)
        bulk = (SEGMENT_BYTES - need - size) // per - 2
        if bulk < 20:
            break
        path = d + ".fill.jsonl"
        with open(path, "w") as fh:
            fh.write('{"op": "deposit", "id": 4, "amount": "0.01"}\n' * bulk)
        rc, _, err = tools.run("drovebank", ["-d", d, "batch", path, "--no-auto-keys"])
        os.unlink(path)
        if rc != 0:
            raise RuntimeError(f"filling the journal: {err}")
    # A checkpoint now, which writes journal/SNAPSHOT for the thousands of records: else
    # the first checkpoint after the op (the rotation's, or recover's after a fault)
    # would, and its record would take a txn the other path gives the op.
    rc, _, err = tools.run("recover", ["-d", d])
    if rc != 0:
        raise RuntimeError(f"checkpointing the filled journal: {err}")
    while True:
        segs, size = segment_size(d)
        if segs != 1:
            raise RuntimeError("filling the journal rotated it too early")
        if size >= SEGMENT_BYTES - need:
            return
        tools.run("drovebank", ["-d", d] + filler)


def make_operations(tools, work, notes, full):
    ops = [
        Operation("open", ["open", "Grace", "Hopper", "12.34"]),
        Operation("deposit", ["deposit", "1", "5.00"]),
        Operation("deposit+key", ["deposit", "1", "5.00", "--txn", "fi-dep"], key="fi-dep"),
        Operation("withdraw", ["withdraw", "2", "3.00"]),
        Operation("transfer", ["transfer", "1", "2", "7.00"]),
        Operation("transfer+key", ["transfer", "1", "2", "7.00", "--txn", "fi-tr"],
                  key="fi-tr"),
        Operation("close", ["close", "3"]),
        Operation("rename+key", ["rename", "1", "Ada", "King", "--txn", "fi-ren"], key="fi-ren"),
        # Undoes txn 5, the transfer the setup commits on the seed (txns 1-4 open).
        Operation("reverse", ["reverse", "5", "--memo", "fi"],
                  setup=[["transfer", "1", "2", "7.00"]]),
    ]
    if full:
        ops.append(Operation("deposit+key(rotate)", ["deposit", "1", "5.00", "--txn", "fi-rot"],
                             key="fi-rot", rotating=True))
    if shell_available(tools, work):
        ops.append(Operation("commit", [], stdin="begin\ndeposit 1 5\ntransfer 1 2 3\ncommit\n"))
        # A script's waiting lines, committed as one group (fault path `shell`).
        ops.append(Operation("shell group", [],
                             stdin="deposit 1 5\ntransfer 1 2 3\nwithdraw 2 1\n"))
    else:
        notes.append("skipped path commit: the shell has no begin/commit in stdin mode")
    if batch_available(tools):
        ops.append(Operation("batch", batch=BATCH_LINES))
        ops.append(Operation("import-csv", batch=BATCH_LINES, csv=True))
    else:
        notes.append("skipped path batch: `drovebank batch` does not exist")
    # recover itself, on stores a fault left in need of it.
    dirty = {
        "recover(crashed)": [
            (["transfer", "1", "2", "7.00", "--txn", "fi-rk"], "transfer:after_temp_write:crash"),
            (["deposit", "4", "3.00"], "deposit:after_journal_sync:crash"),
        ],
        "recover(unsynced)": [
            (["transfer", "1", "2", "7.00", "--txn", "fi-ru"],
             "transfer:after_journal_write:crash"),
        ],
        "recover(marked)": [(["deposit", "1", "5.00"], "deposit:before_journal_sync:eio")],
        "recover(powerloss)": [
            (["transfer", "1", "2", "7.00", "--txn", "fi-rp"], "transfer:after_rename:powerloss"),
        ],
    }
    for name, steps in dirty.items():
        ops.append(Operation(name, [], prog="recover", dirty=steps))
    return ops


def prepare_operation(tools, op, seed, work):
    """Makes op.seed, op.states and op.points from fault-free runs."""
    base = os.path.join(work, "ref-" + op.name)
    os.makedirs(base)
    if op.dirty is not None:
        op.seed = os.path.join(base, "seed")
        copy_store(seed, op.seed)
        for args, fault in op.dirty:
            rc, _, err = tools.run("drovebank", ["-d", op.seed] + args,
                                   env={"DROVEBANK_FAULT": fault})
            if rc not in (0, 1, CRASH_EXIT):
                raise RuntimeError(f"making the {op.name} store: {err}")
    elif op.rotating:
        op.seed = os.path.join(base, "seed")
        build_rotating_seed(tools, op, seed, op.seed)
    elif op.setup is not None:
        op.seed = os.path.join(base, "seed")
        copy_store(seed, op.seed)
        for args in op.setup:
            rc, _, err = tools.run("drovebank", ["-d", op.seed] + args)
            if rc != 0:
                raise RuntimeError(f"making the {op.name} store: {err}")
    else:
        op.seed = seed
    before = read_accounts(op.seed) if op.dirty is None else None
    d = os.path.join(base, "store")
    copy_store(op.seed, d)
    trace = os.path.join(base, "trace")
    rc, out, err = op.run(tools, d, env={"DROVEBANK_FAULT_TRACE": trace})
    if rc != 0:
        raise RuntimeError(f"the fault-free {op.name} failed ({rc}): {err.strip()}")
    op.points = read_trace(trace)
    if op.dirty is not None:
        op.states = [read_accounts(d)]  # the one state recover must converge on
        return
    op.states = [before]
    if op.batch is not None:
        # Whole groups apply in order: the acceptable states are the group prefixes.
        for n in range(BATCH_GROUP, len(op.batch), BATCH_GROUP):
            p = os.path.join(base, f"prefix{n}")
            pd = os.path.join(p, "store")
            os.makedirs(p)
            copy_store(op.seed, pd)
            pre = Operation(op.name, batch=op.batch[:n], csv=op.csv)
            rc, _, err = pre.run(tools, pd)
            if rc != 0:
                raise RuntimeError(f"batch prefix {n}: {err}")
            op.states.append(read_accounts(pd))
    op.states.append(read_accounts(d))


# ---- One case --------------------------------------------------------------------------

# What the shell prints for a change it committed: a transaction's `commit`, and each line
# of a script's group (printed only once the group is durable).
SHELL_REPORTS = ("Committed", "Deposited", "Transferred", "Withdrew")


def expectation(op, point, kind, rc, out, err):
    """Which states are allowed after recover: a set of indexes into op.states."""
    last = len(op.states) - 1
    everything = set(range(len(op.states)))
    if rc == 0:
        return {last}, "exit 0: must be present"
    if op.stdin is not None and any(w in out for w in SHELL_REPORTS):
        # A shell session's exit code is its first failure, which may come after the
        # commit (the checkpoint at exit): the commit's own answer is what was promised.
        return {last}, "the shell reported the change: must be present"
    if rc in (2, 3, 4, 5):
        return {0}, f"exit {rc}: nothing changed"
    if rc == 1:
        if "may have been applied" in err or op.batch is not None:
            return everything, "exit 1, may have been applied"
        return {0}, "exit 1 saying nothing changed"
    if len(op.states) != 2:
        return everything, "batch: any prefix of whole groups"
    path, _, step = point.partition(":")
    if path == "checkpoint" or step in COMMITTED:
        return {last}, f"{kind} after the commit point: must be present"
    if step in BEFORE_WRITE:
        return {0}, f"{kind} before the journal write: must be absent"
    if step in WRITTEN_UNSYNCED:
        if kind == "powerloss":
            return {0}, "power loss before the journal sync: must be absent"
        return everything, "crash after an unsynced write: either"
    return everything, "unknown step: either"


def which_state(op, state):
    for i, s in enumerate(op.states):
        if s == state:
            return i
    return None


def shown_state(tools, d, ids):
    """What readers see now, account by account (repairing as they go, as in real use)."""
    out = {}
    for i in sorted(ids):
        rc, o, err = tools.run("drovebank", ["-d", d, "--json", "show", str(i)])
        if rc == 3:
            continue
        if rc != 0:
            return None, f"show {i} exit {rc}: {err.strip()}"
        a = json.loads(o)
        out[i] = (a["first"], a["last"], a["balance"], a["status"], str(a["version"]),
                  str(a["last_txn"]))
    return out, None


def run_case(tools, op, point, hit, kind, work, idx):
    try:
        return check_case(tools, op, point, hit, kind, work, idx)
    except Exception as e:  # a checker crash is a failed case, never a lost summary
        return [f"the checker failed: {type(e).__name__}: {e}"], [], None, 0.0


def check_case(tools, op, point, hit, kind, work, idx):
    base = os.path.join(work, f"case{idx:04d}")
    d = os.path.join(base, "store")
    os.makedirs(base)
    copy_store(op.seed, d)
    fault_env = {"DROVEBANK_FAULT": f"{point}:{kind}"}
    if hit != 1:
        fault_env["DROVEBANK_FAULT_HIT"] = str(hit)
    problems = []
    repro = [f"cp -a {op.seed} {d}", op.shell_line(d, fault_env), f"build/recover -d {d}"]

    t0 = time.monotonic()
    rc, out, err = op.run(tools, d, env=fault_env)
    if rc == -1:
        problems.append(f"the faulty run hung: {err}")
    elif rc == MODEL_FAILED_EXIT:
        problems.append(f"the power-loss model failed: {err.strip()}")
    elif rc not in (0, 1, 2, 3, 4, 5, CRASH_EXIT):
        problems.append(f"the faulty run exited {rc}: {err.strip()[-300:]}")

    if op.dirty is not None:
        # recover: once with the fault, then once more without; it must converge.
        rc2, _, err2 = tools.run("recover", ["-d", d])
        if rc2 != 0:
            problems.append(f"recover after the faulty recover exited {rc2}: {err2.strip()}")
        allowed, why = {0}, "must converge on the fault-free recover's state"
    else:
        allowed, why = expectation(op, point, kind, rc, out, err)
        # A reader's view right after the fault, on a copy, before any recover.
        seen = None
        if rc not in (-1, MODEL_FAILED_EXIT):
            view = os.path.join(base, "view")
            copy_store(d, view)
            ids = set().union(*[set(s) for s in op.states])
            seen, e = shown_state(tools, view, ids)
            if e and os.path.exists(os.path.join(view, "NEEDS_RECOVERY")):
                seen = None  # a failed journal sync: reads of what it wrote wait for recover
            elif e:
                problems.append(f"reading before recover: {e}")
            elif which_state(op, seen) is None:
                problems.append(f"before recover a reader sees a state that is neither before "
                                f"nor after: {seen}")
            elif allowed == {len(op.states) - 1} and which_state(op, seen) != len(op.states) - 1:
                problems.append("acknowledged, but a reader does not see the change")
            # Then a writer, still before any recover: it must build on the journal, so
            # a record its dead predecessor left is never overwritten.
            if seen is not None:
                for i in sorted(seen):
                    tools.run("drovebank", ["-d", view, "deposit", str(i), "0.01"])
                problems += [f"a writer after the fault, before recover: {g}"
                             for g in version_gaps(view)]
        rc2, _, err2 = tools.run("recover", ["-d", d])
        if rc2 != 0:
            problems.append(f"recover exited {rc2}: {err2.strip()}")

    state = read_accounts(d)
    got = which_state(op, state)
    if got is None:
        problems.append(f"after recover the accounts are in no acceptable state: {state} "
                        f"(acceptable: {op.states})")
    elif got not in allowed:
        problems.append(f"after recover: state {got} of 0..{len(op.states) - 1}; {why}")
    if op.dirty is None and got is not None:
        if total(state) != total(op.states[got]):
            problems.append("money not conserved")
        if seen is not None and which_state(op, seen) is not None and seen != state:
            problems.append("recover changed what a reader had already seen")

    snap = snapshot(d)
    rc4, _, err4 = tools.run("recover", ["-d", d])
    if rc4 != 0:
        problems.append(f"the second recover exited {rc4}: {err4.strip()}")
    elif snapshot(d) != snap:
        changed = sorted(k for k in set(snap) | set(snapshot(d))
                         if snap.get(k) != snapshot(d).get(k))
        problems.append(f"the second recover changed files: {changed[:5]}")
    # Settled (scripts/settled.py): recover --check --full passes, nothing left over, the
    # files and the money agree with the journal (versions up by one, no lost update).
    problems += [f"after recover: {p}" for p in settled.problems(tools.recover, d,
                                                                   tools.env())[:5]]

    if op.key is not None and got is not None and not problems:
        rc5, o5, err5 = tools.run("drovebank", ["-d", d, "--json"] + op.args)
        if rc5 != 0:
            problems.append(f"re-issuing with key {op.key} exited {rc5}: {err5.strip()}")
        else:
            replayed = json.loads(o5).get("replayed")
            if replayed != (got == 1):
                problems.append(f"re-issuing with key {op.key}: replayed={replayed} but the "
                                f"change was {'present' if got == 1 else 'absent'}")
            if read_accounts(d) != op.states[-1]:
                problems.append(f"re-issuing with key {op.key} did not end in the after state")
    if op.args[:1] == ["reverse"] and got is not None and not problems:
        # A txn is reversed once: again is refused (exit 3) when it was, applied when not.
        rc5, _, err5 = op.run(tools, d)
        if rc5 != (3 if got == 1 else 0):
            problems.append(f"reversing again exited {rc5} but the reversal was "
                            f"{'present' if got == 1 else 'absent'}: {err5.strip()}")
        elif read_accounts(d) != op.states[-1]:
            problems.append("reversing again did not end in the after state")
    if op.batch is not None and got is not None and not problems:
        # A run that got to its end committed that end (batch-end:*): the same input again
        # is then refused (exit 3) and must already be the fault-free result; otherwise
        # the re-run resumes it.
        rc5, _, err5 = op.run(tools, d)
        if rc5 not in (0, 3) or (rc5 == 3 and "already run to its end" not in err5):
            problems.append(f"re-running the batch exited {rc5}: {err5.strip()}")
        elif read_accounts(d) != op.states[-1]:
            problems.append("re-running the batch did not converge on the fault-free result")

    secs = time.monotonic() - t0
    if not problems:
        shutil.rmtree(base, ignore_errors=True)
    return problems, repro, rc, secs


# ---- The matrix ------------------------------------------------------------------------

def select_cases(ops, quick):
    cases = []
    for op in ops:
        for point, hit in op.points:
            for kind in KINDS:
                if quick and not quick_case(op, point, hit, kind):
                    continue
                cases.append((op, point, hit, kind))
    return cases


def quick_case(op, point, hit, kind):
    """The CI subset: every kind at every point of deposit and transfer, crash and power
    loss across keyed transfer, keyed rename, reverse, the shell's commit and group commit,
    batch and recover."""
    if op.name in ("deposit", "transfer"):
        return True
    if op.name in ("transfer+key", "rename+key", "reverse", "shell group", "recover(crashed)",
                   "recover(unsynced)", "recover(powerloss)"):
        return kind in ("crash", "powerloss")
    if op.name in ("commit", "batch"):
        return kind == "crash"
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the CI subset (< 1 minute)")
    mode.add_argument("--full", action="store_true", help="every case (the default)")
    ap.add_argument("--build-dir", default=None, help="where drovebank and recover are "
                    "(default: build/ of this checkout)")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    ap.add_argument("--only", default="", help="run only paths whose name contains this")
    ap.add_argument("--kind", choices=KINDS, action="append", help="only these fault kinds")
    ap.add_argument("--work-dir", default=None, help="where to put the stores (default: a "
                    "temp dir, removed when everything passed)")
    a = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tools = Tools(a.build_dir or os.path.join(root, "build"))
    work = a.work_dir or tempfile.mkdtemp(prefix="drovebank-faults-")
    os.makedirs(work, exist_ok=True)
    work = os.path.abspath(work)
    started = time.monotonic()
    notes = []
    seed = os.path.join(work, "seed")
    build_seed(tools, seed)
    ops = [op for op in make_operations(tools, work, notes, not a.quick) if a.only in op.name]
    for op in ops:
        prepare_operation(tools, op, seed, work)
    cases = select_cases(ops, a.quick)
    if a.kind:
        cases = [c for c in cases if c[3] in a.kind]

    print(f"fault matrix ({'quick' if a.quick else 'full'}): {len(ops)} paths, "
          f"{len(cases)} cases, {a.jobs} at a time; stores under {work}")
    for n in notes:
        print(f"note: {n}")
    print(f"seed store: drovebank open " +
          "; drovebank open ".join(" ".join(x) for x in SEED_ACCOUNTS) + f"  (kept: {seed})")
    print(f"{'path':<20} {'point':<40} {'kind':<10} {'exit':>4}  result")
    lock = threading.Lock()
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = [pool.submit(run_case, tools, op, point, hit, kind, work, i)
                for i, (op, point, hit, kind) in enumerate(cases)]
        for (op, point, hit, kind), fut in zip(cases, futs):
            problems, repro, rc, secs = fut.result()
            label = point if hit == 1 else f"{point}#{hit}"
            with lock:
                if problems:
                    failed += 1
                    print(f"{op.name:<20} {label:<40} {kind:<10} {str(rc):>4}  FAIL")
                    for p in problems:
                        print(f"    {p}")
                    print("    reproduce:")
                    for r in repro:
                        print(f"      {r}")
                else:
                    passed += 1
                    print(f"{op.name:<20} {label:<40} {kind:<10} {rc:>4}  pass")
                sys.stdout.flush()
    elapsed = time.monotonic() - started
    print(f"time: {elapsed:.1f} s")
    if failed == 0 and a.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
