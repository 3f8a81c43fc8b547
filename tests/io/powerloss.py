#!/usr/bin/env python3
"""powerloss.py - rebuild the files of a recorded run as a power cut would leave them, at every
sync point, and check each state with the real `hamlet` (docs/reliability.md, "Power loss").

The log is what tests/io/iorecord.c wrote (its header says the lines), with the test's own
acknowledgement lines in between, each appended once the command it names had returned:

  A start NODE DIGEST       the node's digest when recording began
  A commit NODE DIGEST      a command that wrote to NODE returned; NODE's digest then
  A file PATH SHA256        a command that wrote PATH (an export) returned; its content's hash
  A holds NODE ORIGIN SEQ   a peer was told NODE holds ORIGIN's change sets up to SEQ

The model of the disk (what POSIX and Linux promise, no more):
  - a write reaches the disk by page (4 KiB, aligned): after a cut, any subset of the pages
    written since the file's last fsync/fdatasync may be there, in any order (the last
    writer of a page wins, whichever that is); a write to a file opened O_DSYNC/O_SYNC is
    on the disk when it returns;
  - fsync/fdatasync of a file puts every earlier write of that file on the disk;
  - creating, renaming and removing names are on the disk once their folder is fsynced; before
    that, a cut keeps some prefix of them (file systems journal them in order);
  - lock.mdb is left out: LMDB rebuilds it when the first process opens the store.

Crash points: just before each sync (fsync, fdatasync, a write through O_DSYNC, a folder's
fsync) and at the end. At each, VARIANTS states: everything unsynced lost, everything kept,
everything kept but one page, and random subsets in random orders (seeded). States that come out byte-identical are checked once.

Each state is written out whole into WORK/state and checked:
  - every node opens and `hamlet check` passes (a refusal is a failure: power loss must not
    damage a store);
  - NODE's digest is one that NODE had after a command that returned, or after a later one (a
    committed prefix: nothing acknowledged lost, nothing half-applied);
  - every file acknowledged (`A file`) is there with its content;
  - every `A holds` holds: NODE's version vector reaches SEQ for ORIGIN.

Exit 0 when every state passed and at least --min-states were checked; prints the figures.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time

PAGE = 4096
O_DSYNC = 0o10000
O_TRUNC = 0o1000
O_CREAT = 0o100


class Disk:
    """Files by inode: the content on the disk, and the writes since the last sync."""

    def __init__(self):
        self.durable = {}  # ino -> bytearray
        self.pending = {}  # ino -> [(order, offset, bytes) | (order, 'trunc', length)]
        self.names = {}  # path -> ino, as on the disk
        self.ns_pending = []  # (op, path, path2|ino), in order, not yet on the disk
        self.live = {}  # path -> ino, as the running processes see it
        self.next_ino = 1
        self.order = 0

    def add_file(self, path, data):
        ino = self.next_ino
        self.next_ino += 1
        self.durable[ino] = bytearray(data)
        self.pending[ino] = []
        self.names[path] = ino
        self.live[path] = ino
        return ino

    def open(self, path, flags):
        if path not in self.live:
            if not flags & O_CREAT:
                raise SystemExit("log opens %s, which does not exist" % path)
            ino = self.next_ino
            self.next_ino += 1
            self.durable[ino] = bytearray()
            self.pending[ino] = []
            self.live[path] = ino
            self.ns_pending.append(("create", path, ino))
        ino = self.live[path]
        if flags & O_TRUNC:
            self.truncate(ino, 0)
        return ino

    def write(self, ino, off, data, forced):
        self.order += 1
        if forced:
            apply_write(self.durable[ino], off, data)
            # an older unsynced write of the same bytes can no longer land over this one
            self.pending[ino] = [p for p in self.pending[ino]
                                 if p[1] == "trunc" or p[1] + len(p[2]) <= off or p[1] >= off + len(data)]
            return
        # split at page boundaries: each page reaches the disk, or not, on its own
        pos = 0
        while pos < len(data):
            end = min(len(data), (off + pos) // PAGE * PAGE + PAGE - off)
            self.pending[ino].append((self.order, off + pos, bytes(data[pos:end])))
            pos = end

    def truncate(self, ino, length):
        self.order += 1
        self.pending[ino].append((self.order, "trunc", length))

    def sync_file(self, ino):
        for p in self.pending[ino]:
            apply_op(self.durable[ino], p)
        self.pending[ino] = []

    def sync_dir(self, d):
        keep = []
        for op in self.ns_pending:
            if os.path.dirname(op[1]) == d or (op[0] == "rename" and os.path.dirname(op[2]) == d):
                apply_ns(self.names, op)
            else:
                keep.append(op)
        self.ns_pending = keep

    def rename(self, a, b):
        if a in self.live:
            self.live[b] = self.live.pop(a)
            self.ns_pending.append(("rename", a, b))

    def unlink(self, a):
        if a in self.live:
            del self.live[a]
            self.ns_pending.append(("unlink", a, None))

    def state(self, rng, mode):
        """The files after a cut now: mode 'none' (nothing unsynced), 'all', or 'random'."""
        names = dict(self.names)
        ns = self.ns_pending
        k = (0 if mode == "none" else rng.randint(0, len(ns)) if mode == "random" else len(ns))
        for op in ns[:k]:
            apply_ns(names, op)
        files = {}
        for path, ino in names.items():
            data = bytearray(self.durable[ino])
            ops = self.pending[ino]
            if mode == "all":
                chosen = ops
            elif mode == "none":
                chosen = []
            elif mode == "all-but-one":
                chosen = list(ops)
                if chosen:
                    del chosen[rng.randrange(len(chosen))]
            else:
                chosen = [p for p in ops if rng.random() < 0.5]
                rng.shuffle(chosen)
            for p in chosen:
                apply_op(data, p)
            files[path] = bytes(data)
        return files


def apply_write(buf, off, data):
    if len(buf) < off:
        buf.extend(b"\0" * (off - len(buf)))
    buf[off:off + len(data)] = data


def apply_op(buf, p):
    if p[1] == "trunc":
        del buf[p[2]:]
        if len(buf) < p[2]:
            buf.extend(b"\0" * (p[2] - len(buf)))
    else:
        apply_write(buf, p[1], p[2])


def apply_ns(names, op):
    kind, a, b = op
    if kind == "create":
        names.setdefault(a, b)
    elif kind == "rename" and a in names:
        names[b] = names.pop(a)
    elif kind == "unlink":
        names.pop(a, None)


def load_base(disk, base, root):
    for d, _, files in os.walk(base):
        for f in files:
            if f == "lock.mdb":
                continue
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                disk.add_file(root + os.path.relpath(p, base), fh.read())


def read_log(path):
    with open(path, "rb") as fh:
        for line in fh:
            yield line.rstrip(b"\n").decode("ascii").split(" ")


class Checker:
    def __init__(self, args, root, acks_all):
        self.hm = args.hamlet
        self.root = root
        self.state_dir = os.path.join(args.work, "state")
        self.acks_all = acks_all  # every ack line of the log, in order
        self.failures = []
        self.checked = 0
        self.seen = set()
        self.seen_nodes = set()
        self.node_runs = 0
        self.nodes = sorted({a[1] for a in acks_all if a[0] in ("start", "commit", "holds")})

    def run(self, *argv):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        return subprocess.run([self.hm] + list(argv), capture_output=True, text=True,
                              env=env, timeout=60)

    def materialize(self, files):
        shutil.rmtree(self.state_dir, ignore_errors=True)
        for path, data in files.items():
            p = os.path.join(self.state_dir, path[len(self.root):])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as fh:
                fh.write(data)
            os.chmod(p, 0o600)

    def check(self, files, acked, where):
        key = hashlib.sha256(repr((len(acked), sorted(files.items()))).encode("latin-1")).digest()
        if key in self.seen:
            return
        self.seen.add(key)
        self.checked += 1
        self.materialize(files)
        for node in self.nodes:
            # a node whose files and acknowledgements are those of a state already checked
            # gives the same answer: checked once
            prefix = self.root + node + "/"
            mine = tuple(j for j in acked if self.acks_all[j][1] == node)
            nkey = hashlib.sha256(repr((mine, sorted(
                (p, d) for p, d in files.items() if p.startswith(prefix)))).encode("latin-1")).digest()
            if nkey not in self.seen_nodes:
                self.seen_nodes.add(nkey)
                self.node_runs += 1
                self.check_node(node, acked, where)
        for a in (self.acks_all[j] for j in acked):
            if a[0] == "file":
                got = files.get(a[1])
                if got is None:
                    self.fail(where, "%s was acknowledged as written but is gone" % a[1])
                elif hashlib.sha256(got).hexdigest() != a[2]:
                    self.fail(where, "%s was acknowledged but its content differs" % a[1])

    def check_node(self, node, acked, where):
        d = os.path.join(self.state_dir, node)
        r = self.run("-d", d, "check")
        if r.returncode != 0:
            self.fail(where, "%s: check exits %d: %s" % (node, r.returncode,
                                                         (r.stderr or r.stdout).strip()[:300]))
            return
        mine = [j for j in acked
                if self.acks_all[j][1] == node and self.acks_all[j][0] in ("start", "commit")]
        if mine:
            later = [a[2] for a in self.acks_all[mine[-1]:]
                     if a[1] == node and a[0] in ("start", "commit")]
            got = self.run("-d", d, "digest").stdout.strip()
            if got not in later:
                self.fail(where, "%s: digest %s is none that it had at or after its last "
                          "acknowledged command (%d acknowledged)" % (node, got[:16], len(mine)))
        holds = [self.acks_all[j] for j in acked
                 if self.acks_all[j][0] == "holds" and self.acks_all[j][1] == node]
        if holds:
            st = json.loads(self.run("-d", d, "status", "--json").stdout)
            vv = {e["origin"]: e["seq"] for e in st["version_vector"]}
            for a in holds:
                if vv.get(a[2], 0) < int(a[3]):
                    self.fail(where, "%s holds %s up to seq %d, but a peer was told %s" %
                              (node, a[2], vv.get(a[2], 0), a[3]))

    def fail(self, where, why):
        self.failures.append("%s: %s" % (where, why))
        print("FAIL: %s: %s" % (where, why), flush=True)


def replay(args):
    root = args.root.rstrip("/") + "/"
    lines = list(read_log(args.log))
    acks_all = [tuple(ln[1:]) for ln in lines if ln[0] == "A"]
    disk = Disk()
    load_base(disk, args.base, root)
    ck = Checker(args, root, acks_all)
    rng = random.Random(args.seed)
    fdmap = {}  # (pid, fd) -> (ino | path for folders, kind, flags)
    acked = []
    points = 0
    counts = {"W": 0, "S": 0, "F": 0, "R": 0, "U": 0, "forced": 0}

    def crash_here(i, what):
        nonlocal points
        points += 1
        modes = ["none", "all", "all-but-one"] + ["random"] * (args.variants - 3)
        for v, mode in enumerate(modes):
            ck.check(disk.state(rng, mode), list(acked),
                     "line %d (%s), %s #%d" % (i + 1, what, mode, v))

    for i, ln in enumerate(lines):
        op = ln[0]
        if op == "A":
            acked.append(len(acked))
            continue
        if op == "M":
            continue
        if op in ("R", "U"):
            counts[op] += 1
            if op == "R":
                disk.rename(ln[2], ln[3])
            else:
                disk.unlink(ln[2])
            continue
        key = (ln[1], ln[2])
        if op == "O":
            path, kind, flags = ln[5], ln[3], int(ln[4], 16)
            if os.path.basename(path) == "lock.mdb":
                fdmap.pop(key, None)
            elif kind == "d":
                fdmap[key] = (path, "d", flags)
            else:
                fdmap[key] = (disk.open(path, flags), "f", flags)
            continue
        if key not in fdmap:
            continue  # lock.mdb
        target, kind, flags = fdmap[key]
        if op == "W":
            counts["W"] += 1
            forced = bool(flags & O_DSYNC)
            if forced:
                counts["forced"] += 1
                crash_here(i, "a write through O_DSYNC")
            disk.write(target, int(ln[3]), bytes.fromhex(ln[4]), forced)
        elif op == "T":
            disk.truncate(target, int(ln[3]))
        elif op == "F":
            counts["F"] += 1
            data = bytes.fromhex(ln[3]) if len(ln) > 3 else b""
            disk.truncate(target, 0)
            disk.write(target, 0, data, False)
        elif op == "S":
            counts["S"] += 1
            crash_here(i, "fsync of " + (target if kind == "d" else "a file"))
            if kind == "d":
                disk.sync_dir(target.rstrip("/"))
            else:
                disk.sync_file(target)
    crash_here(len(lines) - 1, "the end")
    return ck, points, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--base", required=True, help="a copy of ROOT taken before recording")
    ap.add_argument("--root", required=True, help="the recorded folder (HM_IOREC_DIR)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--hamlet", required=True)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--variants", type=int, default=6)
    ap.add_argument("--min-states", type=int, default=200)
    args = ap.parse_args()
    t0 = time.time()
    ck, points, counts = replay(args)
    print("powerloss: %d crash points, %d distinct states checked in %.1f s; the log: %d "
          "writes (%d through O_DSYNC), %d syncs, %d stdio files synced, %d renames, %d "
          "unlinks; %d node checks; %d failures" % (points, ck.checked, time.time() - t0, counts["W"],
                                    counts["forced"], counts["S"], counts["F"], counts["R"],
                                    counts["U"], ck.node_runs, len(ck.failures)))
    if ck.checked < args.min_states:
        print("FAIL: only %d states, want at least %d" % (ck.checked, args.min_states))
        return 1
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
