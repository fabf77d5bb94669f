"""The one check that a store is settled, for the Python drivers.

scripts/fault-injection, scripts/strace-sweep and scripts/chaos import it and run it after
their last `recover`; the C++ tests run it as a program (tests/settled.h):

    python3 scripts/settled.py [--recover BIN] [--files-only] DATA

prints each problem on a line and exits 1 when there is one, 0 when the store is settled
(2 on a usage error). --files-only checks the file rules alone (leftovers), without
running recover or reading the journal.

A settled store:

  - passes `recover --check --full` (exit 0, "consistent": true, no temp file, no lock of a
    dead or live process): drovebank's own judgement, every account file proven against
    the journal's hash chain;
  - holds nothing left over: in locks/ only the three lock tables, no repair flag set in
    them; in tmp/ only the reusable spares; no *.tmp anywhere else; no NEEDS_RECOVERY;
  - agrees with its journal: each account's version goes up by exactly one from record to
    record (a repeat is a lost update), every account file holds the newest state the
    journal gives it, and the balances sum to the money the journal's records brought in
    (opens and deposits) less what they took out (withdrawals).

Account files are read as CSV (RFC 4180, docs/FORMAT.md): a name may hold a comma.

    import settled
    problems = settled.problems("build/recover", data)   # [] when settled
"""

import csv
import ctypes
import errno
import io
import json
import mmap
import os
import subprocess

LOCK_TABLES = ("accounts", "keys", "owners")
KEY_SLOTS = 1 << 20  # locks/keys: the flags are its first KEY_SLOTS bytes


FALLOC_FL_KEEP_SIZE = 1
_libc = ctypes.CDLL(None, use_errno=True)
_fuse_mounts = None


def mount_table():
    """The mount table now: (source, mount point, file system type) per mount, the point's
    octal escapes (a space is \\040) decoded."""
    with open("/proc/self/mounts") as fh:
        return [(src, point.encode().decode("unicode_escape"), fstype)
                for src, point, fstype in (line.split()[:3] for line in fh)]


def on_fuse(path):
    """Whether `path` lives on a FUSE mount (the mount table's longest prefix of it; the
    table is read once a process)."""
    global _fuse_mounts
    if _fuse_mounts is None:
        _fuse_mounts = sorted(((point, fstype.startswith("fuse"))
                               for _, point, fstype in mount_table()),
                              key=lambda m: len(m[0]), reverse=True)
    real = os.path.realpath(path)
    for point, fuse in _fuse_mounts:
        if real == point or real.startswith(point.rstrip("/") + "/"):
            return fuse
    return False


def read_bytes(path):
    """The file's bytes as the servers hold them. On a FUSE mount (GlusterFS) a plain read
    is answered from what this client cached: the kernel's page cache and the size it
    last saw, and GlusterFS's quick-read (docs/DESIGN.md, shared mode); after a brick came
    back, a copy many versions old (docs/RELIABILITY-HISTORY.md, finding 13). So, as drovebank's own reads do there: an
    fallocate(FALLOC_FL_KEEP_SIZE) of the first byte, which allocates nothing but goes to
    the servers and drops the client's copy and size, then reads with O_DIRECT into an
    aligned buffer. A file system that refuses either reads plainly."""
    if not on_fuse(path):
        with open(path, "rb") as fh:
            return fh.read()
    try:
        fd = os.open(path, os.O_RDWR)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, ctypes.c_long(0), ctypes.c_long(1)) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EOPNOTSUPP, errno.EBADF, errno.EINVAL):
                raise OSError(err, os.strerror(err), path)
        direct = _read_direct(path)
        return direct if direct is not None else os.pread(fd, os.fstat(fd).st_size + 1, 0)
    finally:
        os.close(fd)


def _read_direct(path):
    """The file's bytes read with O_DIRECT into an aligned buffer, or None when the file
    system refuses the open or the first read with EINVAL (read it plainly then)."""
    try:
        dfd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        return None
    try:
        out, buf, off = bytearray(), mmap.mmap(-1, 1 << 20), 0
        while True:
            try:
                n = os.preadv(dfd, [buf], off)
            except OSError as e:
                if e.errno != errno.EINVAL or off:
                    raise
                return None
            out += buf[:n]
            off += n
            if n < len(buf):
                return bytes(out)
    finally:
        os.close(dfd)


def read_text(path):
    """read_bytes as text, its newlines untranslated."""
    return read_bytes(path).decode()


def cents(text):
    """"-12.34" -> -1234."""
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    v = int(whole) * 100 + int((frac + "00")[:2])
    return -v if neg else v


def leftovers(data):
    """Files a settled store must not hold, as paths relative to `data` (sorted)."""
    bad = []
    locks = os.path.join(data, "locks")
    for dirpath, dirs, files in os.walk(locks):
        bad += [os.path.relpath(os.path.join(dirpath, x), data) for x in dirs]
        bad += [os.path.relpath(os.path.join(dirpath, f), data) for f in files
                if not (dirpath == locks and f in LOCK_TABLES)]
    for table, end in (("accounts", None), ("keys", KEY_SLOTS)):
        p = os.path.join(locks, table)
        if os.path.exists(p):
            with open(p, "rb") as fh:
                raw = fh.read() if end is None else fh.read(end)
            bad += [f"repair flag set: {table} slot {i}" for i, b in enumerate(raw)
                    if b == ord("1")]
    for dirpath, _, files in os.walk(os.path.join(data, "tmp")):
        bad += [os.path.relpath(os.path.join(dirpath, f), data) for f in files
                if not f.startswith("spare-")]
    for dirpath, _, files in os.walk(data):
        # Relative to the store: a store under /tmp is not its tmp/ folder (the check this
        # replaced tested "/tmp" in the absolute path, so it never ran there).
        rel = os.path.relpath(dirpath, data)
        if rel == "tmp" or rel.startswith("tmp" + os.sep):
            continue
        bad += [os.path.normpath(os.path.join(rel, f)) for f in files if f.endswith(".tmp")]
    if os.path.exists(os.path.join(data, "NEEDS_RECOVERY")):
        bad.append("NEEDS_RECOVERY")
    return sorted(set(bad))


def account_rows(data):
    """id -> the account file's row as a dict (id, first, last, balance, status, version,
    last_txn, checksum), or None for a file that is not one header and one row."""
    out = {}
    root = os.path.join(data, "accounts")
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".csv"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f[:-4]), root).replace("/", "")
            text = read_text(os.path.join(dirpath, f))
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
            out[int(rel)] = rows[0] if len(rows) == 1 and None not in rows[0] else None
    return out


def journal_records(data):
    """(the journal's records in txn order, problems). A line without its newline ends a
    segment (a torn tail: recover cuts it)."""
    recs, bad = [], []
    jdir = os.path.join(data, "journal")
    for name in sorted(n for n in os.listdir(jdir) if n.endswith(".log")):
        for line in read_text(os.path.join(jdir, name)).split("\n")[:-1]:
            try:
                recs.append(json.loads(line.partition(" ")[2]))
            except ValueError:
                bad.append(f"{name}: a line that is not a record: {line[:80]!r}")
    recs.sort(key=lambda r: r["txn"])
    return recs, bad


def version_gaps(recs):
    """Accounts whose versions do not go up by exactly one from record to record."""
    last, problems = {}, []
    for rec in recs:
        for acc in rec["accounts"]:
            i, v = acc["id"], acc["version"]
            if i in last and v != last[i] + 1:
                problems.append(f"account {i}: version {v} after {last[i]} (txn {rec['txn']})")
            last[i] = v
    return problems


def journal_problems(data):
    """Problems of money and account files against the journal; [] when they agree."""
    recs, problems = journal_records(data)
    problems += version_gaps(recs)
    expected, newest = 0, {}
    for r in recs:
        for op in r["ops"]:
            if op["op"] in ("open", "deposit"):
                expected += op["amount"]
            elif op["op"] == "withdraw":
                expected -= op["amount"]
        for acc in r["accounts"]:
            newest[acc["id"]] = acc
    rows = account_rows(data)
    problems += [f"account {i}: its file is not one CSV row" for i, r in rows.items() if r is None]
    have = sum(cents(r["balance"]) for r in rows.values() if r is not None)
    if have != expected:
        problems.append(f"balances sum to {have} cents, the journal says {expected}")
    for i, acc in newest.items():
        r = rows.get(i)
        got = None if r is None else (cents(r["balance"]), int(r["version"]))
        if got != (acc["balance"], acc["version"]):
            problems.append(f"account {i}: file (balance, version) {got} but the journal's "
                            f"newest is ({acc['balance']}, {acc['version']})")
    return problems


def recover_check(recover, data, env=None):
    """What `recover --check --full --json` finds wrong; [] when it says consistent."""
    p = subprocess.run([recover, "-d", data, "--check", "--full", "--json"],
                       capture_output=True, text=True, env=env, timeout=120)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return [f"recover --check exited {p.returncode}: {(p.stdout + p.stderr).strip()[-300:]}"]
    problems = []
    if p.returncode != 0 or not report.get("consistent"):
        problems.append(f"recover --check exited {p.returncode}: consistent="
                        f"{report.get('consistent')}, repairs {report.get('repairs', [])[:3]}")
    for field in ("temps", "dead_locks", "live_locks"):
        if report.get(field):
            problems.append(f"recover --check: {field} {report[field]}")
    return problems


def problems(recover, data, env=None):
    """Everything that keeps the store at `data` from being settled; [] when it is."""
    return (recover_check(recover, data, env) +
            [f"left over: {x}" for x in leftovers(data)] + journal_problems(data))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="Whether a drovebank store is settled.")
    ap.add_argument("--recover", default="recover", help="the recover program to run")
    ap.add_argument("--files-only", action="store_true",
                    help="only the file rules: nothing left over in locks/, tmp/ and the rest")
    ap.add_argument("data", help="the data directory")
    args = ap.parse_args(argv)
    found = ([f"left over: {x}" for x in leftovers(args.data)] if args.files_only
             else problems(args.recover, args.data))
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
