#!/usr/bin/env python3
"""flips.py - flip bytes in copies of a node's data.mdb and check what `hamlet` does with each
(docs/reliability.md, "Damaged media").

For each seed, a copy of the node directory whose data.mdb has one byte changed (XOR with a
random non-zero value; 1 seed in 8 changes 4 bytes of one page): on one of LMDB's two meta pages
(the first 160 bytes, where the meta record is) or on any other page. Then, on the copy:

  hamlet check            exit 0, or exit 1 with a clear message;
  hamlet list person      exit 0 printing exactly what the undamaged node prints, or exit 1
                          with a clear message;
  hamlet export           exit 0 with a bundle that imports into an empty node of the region
                          to the undamaged node's digest, or exit 1 with a clear message.

Never: a signal (SIGSEGV, SIGBUS, SIGABRT), a hang (20 s), an exit other than 0 or 1, a check
that passes on records that differ from the undamaged node's (unless they are exactly those of
the commit before the last: the copy rolled back to LMDB's other meta page, which is a
committed state), wrong records printed, a bundle with wrong change sets.

A clear message: stderr starts "hamlet: ", and names the damage ("damaged" or "corrupt" or
"altered at rest" or "does not verify" or "hash chain") and a way back ("check --repair",
"hub", "docs/reliability.md").
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import time

PAGE = 4096
META_BYTES = 160
CLEAR_DAMAGE = re.compile(r"damaged|corrupt|altered at rest|does not verify|hash chain|differ")
CLEAR_WAY = re.compile(r"check --repair|hub|docs/reliability\.md")
SANITIZED_LMDB_FAULT = re.compile(r"AddressSanitizer: SEGV[^\n]*\n(?:[^\n]*\n){0,4}\s*#0 [^\n]*liblmdb\.so")


def run(hm, argv, timeout=20):
    try:
        r = subprocess.run([hm] + argv, capture_output=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "hang", b"", ""


class Flips:
    def __init__(self, args):
        self.a = args
        self.fail_count = 0
        self.tally = {}
        self.hm = args.hamlet
        with open(os.path.join(args.node, "data.mdb"), "rb") as f:
            self.data = f.read()
        self.list_ok = run(self.hm, ["-d", args.node, "list", "person", "--json"])[1]
        self.digest = run(self.hm, ["-d", args.node, "digest"])[1].strip()

    def count(self, what):
        self.tally[what] = self.tally.get(what, 0) + 1

    def fail(self, where, why):
        self.fail_count += 1
        print("FAIL: %s: %s" % (where, why), flush=True)

    def judge(self, where, cmd, rc, err):
        """A run that did not succeed: exit 1 and a clear message, or a failure."""
        if rc == "hang":
            self.fail(where, "%s hangs" % cmd)
        elif SANITIZED_LMDB_FAULT.search(err):
            # a sanitizer build keeps its own SIGSEGV handler in place of the crash guard
            # (cli/main.c): a fault inside LMDB on a damaged page is the guard's case there
            self.count("a fault inside LMDB, the sanitizer's (release builds: the crash guard)")
            return False
        elif rc < 0 or rc >= 128:
            self.fail(where, "%s died of signal %d: %s" % (cmd, -rc if rc < 0 else rc - 128,
                                                         err.strip()[:200]))
        elif rc != 1:
            self.fail(where, "%s exits %d" % (cmd, rc))
        elif not err.startswith("hamlet: ") or not CLEAR_DAMAGE.search(err) or \
                not CLEAR_WAY.search(err):
            self.fail(where, "%s: unclear message: %s" % (cmd, err.strip()[:300]))
        else:
            return True
        return False

    def one(self, seed):
        rng = random.Random(seed)
        pages = len(self.data) // PAGE
        meta = rng.random() < self.a.meta_share
        page = rng.randrange(2) if meta else rng.randrange(2, pages)
        nbytes = 4 if rng.random() < 0.125 else 1
        span = META_BYTES if meta else PAGE
        buf = bytearray(self.data)
        offs = sorted(rng.sample(range(span), nbytes))
        for off in offs:
            buf[page * PAGE + off] ^= rng.randrange(1, 256)
        where = "seed %d (page %d%s, offset %s)" % (seed, page, " meta" if meta else "",
                                                    ",".join(map(str, offs)))
        d = os.path.join(self.a.work, "copy")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(self.a.node, d, ignore=shutil.ignore_patterns("lock.mdb"))
        with open(os.path.join(d, "data.mdb"), "wb") as f:
            f.write(buf)
        kind = "meta" if meta else "data"
        self.check(where, d, kind)
        self.serve(where, d, kind)

    def check(self, where, d, kind):
        rc, out, err = run(self.hm, ["-d", d, "check"])
        if rc == 0:
            got = run(self.hm, ["-d", d, "digest"])[1].strip()
            if got == self.digest:
                self.count(kind + ": check passes, records intact")
            elif got == self.a.previous_digest.encode():
                self.count(kind + ": check passes, the commit before the last (other meta page)")
            else:
                self.fail(where, "check passes but the records are not the node's")
        elif self.judge(where, "check", rc, err):
            self.count(kind + ": check refuses: " + classify(err))

    def serve(self, where, d, kind):
        rc, out, err = run(self.hm, ["-d", d, "list", "person", "--json"])
        if rc == 0 and out != self.list_ok:
            self.fail(where, "list prints records that are not the node's")
        elif rc != 0 and self.judge(where, "list", rc, err):
            self.count(kind + ": list refuses: " + classify(err))
        bundle = os.path.join(self.a.work, "copy.bundle")
        if os.path.exists(bundle):
            os.unlink(bundle)
        rc, out, err = run(self.hm, ["-d", d, "export", "-o", bundle])
        if rc == 0:
            fresh = os.path.join(self.a.work, "fresh")
            shutil.rmtree(fresh, ignore_errors=True)
            shutil.copytree(self.a.empty, fresh)
            rc2, _, err2 = run(self.hm, ["-d", fresh, "import", bundle])
            got = run(self.hm, ["-d", fresh, "digest"])[1].strip()
            if rc2 == 0 and got != self.digest and got != self.a.previous_digest.encode():
                self.fail(where, "export wrote a bundle that imports to other records")
        elif self.judge(where, "export", rc, err):
            self.count(kind + ": export refuses: " + classify(err))


def classify(err):
    first = err.strip().split("\n")[0]
    for pattern, name in (("bad read", "caught by the crash guard (SIGSEGV/SIGBUS)"),
                          ("is damaged \\(data.mdb, the .* tree, page", "refused by the page walk"),
                          ("is damaged \\(data.mdb", "refused by the open guard (meta pages)"),
                          ("at rest", "a record altered at rest"),
                          ("out of order", "the records are out of order"),
                          ("hash chain|stored change set|oplog|envelope", "the oplog is damaged"),
                          ("differ", "the records differ from a rebuild"),
                          ("does not verify", "a change set does not verify"),
                          ("MDB_", "an LMDB error")):
        if re.search(pattern, first):
            return name
    return "other: " + first[:100]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--node", required=True)
    ap.add_argument("--empty", required=True, help="an empty node of the same region")
    ap.add_argument("--previous-digest", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--hamlet", required=True)
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--meta-share", type=float, default=0.35)
    ap.add_argument("--extra-seeds", default="",
                    help="seeds to try too, separated by commas (ones that once failed)")
    args = ap.parse_args()
    t0 = time.time()
    f = Flips(args)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    seeds += [int(x) for x in args.extra_seeds.split(",") if x and int(x) not in seeds]
    for s in seeds:
        f.one(s)
    print("flips: %d seeds of %d pages in %.1f s, %d failures" % (
        len(seeds), len(f.data) // PAGE, time.time() - t0, f.fail_count))
    for k in sorted(f.tally):
        print("  %5d  %s" % (f.tally[k], k))
    return 1 if f.fail_count else 0


if __name__ == "__main__":
    sys.exit(main())
