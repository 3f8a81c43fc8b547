#!/usr/bin/env python3
"""onekey.py [--no-bounds] TREE DATA_MDB - damage one tree of a closed node's data.mdb the way
LMDB cannot survive: its root, a branch page, made to hold one key (mp_lower), which LMDB
asserts against and aborts on when it descends the tree; with --no-bounds, the root (a leaf
will do) made to have no bounds at all (mp_lower 0), on which LMDB reads outside the page. Read as LMDB 0.9 lays the file out on a 64-bit
machine (the newer meta page, the main tree's leaf naming each tree and its MDB_db record).
Exits 1 when the tree has no branch page (too few records for the test that asked)."""
import struct
import sys


def main():
    no_bounds = sys.argv[1] == "--no-bounds"
    tree, path = sys.argv[1 + no_bounds].encode(), sys.argv[2 + no_bounds]
    b = bytearray(open(path, "rb").read())
    ps = struct.unpack_from("<I", b, 16 + 24)[0]  # the free tree's md_pad: the page size
    newer = max((struct.unpack_from("<Q", b, i * ps + 136 + 8)[0], i) for i in (0, 1))[1]
    main_root = struct.unpack_from("<Q", b, newer * ps + 16 + 24 + 48 + 40)[0] * ps
    depth = root = 0
    for i in range((struct.unpack_from("<H", b, main_root + 12)[0] - 16) // 2):
        o = main_root + struct.unpack_from("<H", b, main_root + 16 + 2 * i)[0]
        ks = struct.unpack_from("<H", b, o + 6)[0]
        if b[o + 8:o + 8 + ks] == tree:
            depth = struct.unpack_from("<H", b, o + 8 + ks + 6)[0]
            root = struct.unpack_from("<Q", b, o + 8 + ks + 40)[0]
    if depth < (1 if no_bounds else 2):
        print(f"onekey: the {tree.decode()} tree has no branch page (depth {depth})")
        return 1
    struct.pack_into("<H", b, root * ps + 12, 0 if no_bounds else 16 + 2)  # mp_lower
    open(path, "wb").write(b)
    print(f"onekey: the {tree.decode()} tree's root, page {root}, made to hold "
          + ("no bounds" if no_bounds else "one key"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
