#!/usr/bin/env bash
# Damaged bundles are refused whole: a file cut at any offset, a byte flipped anywhere, a frame
# declaring 4 GiB, bytes after the end frame, a file that is not a bundle, a missing file. Each
# exits 1 with a message naming the file, and the importing node is unchanged. A good bundle
# imported twice is all duplicates the second time.
. "$(dirname "$0")/lib.sh"

new_node a lin/east/elm
new_node b lin/east/oak
must -d a put person p1 name=Ann birth_year=1980
must -d a put stock masks item=N95 'quantity+=500'
must -d a put followup f1 person=p1 time=2026-11-20T08:30 temperature=36.6
must -d a put person p2 name='Bo "the elder" Li'
must -d a export -o good.bundle
must -d b put person p1 name=Ann-from-b
size=$(stat -c %s good.bundle)

# Layout (sync/bundle.c): magic(8) | 'H' len(4) header(25) | ('E' len(4) envelope)* |
# 'Z' len(4) count(8) hash(32). Frame offsets, read from the file itself.
frames=$(python3 - good.bundle <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
off = 8
while off < len(b):
    n = int.from_bytes(b[off + 1:off + 5], 'big')
    print(chr(b[off]), off, n)
    off += 5 + n
PY
)
end_off=$(echo "$frames" | awk '$1 == "Z" {print $2}')
env_offs=$(echo "$frames" | awk '$1 == "E" {print $2}')
[ "$(echo "$env_offs" | wc -l)" = 4 ] && [ "$end_off" = $((size - 45)) ] && ok ||
	fail "good.bundle does not have the expected frames: $frames"

before=$(snapshot b)
unchanged() { # unchanged WHAT: b is as it was
	if [ "$(snapshot b)" != "$before" ]; then
		fail "$1 changed the importing node"
		before=$(snapshot b)
	else
		ok
	fi
}
# Every damaged copy is made up front by one python3 (which starts slowly on a busy machine):
# cut/N.bundle holds the first N bytes, flip/N.bundle has the byte at N inverted.
mkdir cut flip
python3 -c 'import sys
b = open("good.bundle", "rb").read()
for o in range(len(b)):
    open("cut/%d.bundle" % o, "wb").write(b[:o])
    f = bytearray(b); f[o] ^= 0xff
    open("flip/%d.bundle" % o, "wb").write(f)'
cut_at() { cp "cut/$2.bundle" "$1"; }
flip_at() { cp "flip/$2.bundle" "$1"; }

# ---- cut at every offset, 0 bytes to one byte short
for ((n = 0; n < size; n++)); do
	cut_at cut.bundle "$n"
	if ((n < 8)); then
		want="is not a hamlet bundle|ends at byte|cut short"
	elif ((n >= end_off)); then
		want="cut short inside a frame|without an end frame"
	else
		want="cut short inside a frame at byte|ends at byte [0-9]+ without an end frame"
	fi
	expect 1 "^hamlet: import: cut.bundle.*($want).*; nothing was imported$|^hamlet: import: .*cut.bundle.*($want)" \
		-d b import cut.bundle
	((n % 97 == 0)) && unchanged "a bundle cut at byte $n"
done
# the messages say what went wrong where
cut_at cut.bundle 0
expect 1 "cut.bundle is not a hamlet bundle" -d b import cut.bundle
cut_at cut.bundle "$end_off"
expect 1 "cut.bundle ends at byte $end_off without an end frame" -d b import cut.bundle
cut_at cut.bundle $((end_off + 20))
expect 1 "cut.bundle is cut short inside a frame at byte $end_off" -d b import cut.bundle
unchanged "bundles cut short"

# ---- a byte flipped at every offset: magic, header frame, each envelope, end frame
for ((o = 0; o < size; o++)); do
	flip_at flip.bundle "$o"
	expect 1 "^hamlet: import: .*flip.bundle.*; nothing was imported$" -d b import flip.bundle
	((o % 97 == 0)) && unchanged "a byte flipped at $o"
done
unchanged "bundles with a byte flipped"
flip_at flip.bundle 0
expect 1 "flip.bundle is not a hamlet bundle \(bad magic\)" -d b import flip.bundle
flip_at flip.bundle 8
expect 1 "flip.bundle: unknown frame type 0xb7 at byte 8" -d b import flip.bundle
flip_at flip.bundle 13
expect 1 "flip.bundle: bundle format 254 is not supported" -d b import flip.bundle
for e in $env_offs; do
	flip_at flip.bundle $((e + 5 + 3))
	expect 1 "flip.bundle: the end frame does not match the contents" -d b import flip.bundle
done
flip_at flip.bundle $((size - 1))
expect 1 "flip.bundle: the end frame does not match the contents" -d b import flip.bundle
flip_at flip.bundle $((end_off + 8))
expect 1 "flip.bundle: the end frame does not match the contents" -d b import flip.bundle
unchanged "flipped bytes"

# ---- a frame that declares 4 GiB (the first envelope's length set to 0xffffffff)
python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); o = int(sys.argv[1])
b[o + 1:o + 5] = b"\xff\xff\xff\xff"; open("huge.bundle", "wb").write(b)' "$(echo "$env_offs" | head -1)"
expect 1 "huge.bundle: a frame at byte [0-9]+ declares 4294967295 bytes \(cap [0-9]+\)" \
	-d b import huge.bundle
# the end frame declaring 4 GiB
python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); o = int(sys.argv[1])
b[o + 1:o + 5] = b"\xff\xff\xff\xff"; open("huge.bundle", "wb").write(b)' "$end_off"
expect 1 "huge.bundle: a frame at byte $end_off declares 4294967295 bytes" -d b import huge.bundle
unchanged "frames declaring 4 GiB"

# ---- bytes after the end frame
{ cat good.bundle; printf 'x'; } >trail.bundle
expect 1 "trail.bundle: bytes after the end frame; nothing was imported" -d b import trail.bundle
{ cat good.bundle good.bundle; } >twice.bundle
expect 1 "twice.bundle: bytes after the end frame" -d b import twice.bundle
unchanged "trailing garbage"

# ---- not a bundle; no file; a directory; an unreadable file
printf 'name,village\nAnn,elm\n' >people.csv
expect 1 "people.csv is not a hamlet bundle" -d b import people.csv
: >empty.bundle
expect 1 "empty.bundle is not a hamlet bundle" -d b import empty.bundle
expect 1 "opening no-such.bundle: No such file or directory; nothing was imported" \
	-d b import no-such.bundle
mkdir dir.bundle
expect 1 "dir.bundle" -d b import dir.bundle
if [ "$(id -u)" != 0 ]; then
	cp good.bundle locked.bundle && chmod 000 locked.bundle
	expect 1 "opening locked.bundle: Permission denied" -d b import locked.bundle
fi
unchanged "files that are not bundles"

# ---- the good bundle: 4 new, then 4 duplicate and nothing changes
expect 0 "" -d b import good.bundle --json
[ "$(json_get "$OUT" 'd["new"], d["duplicate"], d["refused"]')" = "(4, 0, 0)" ] && ok ||
	fail "first import of good.bundle: $(cat "$OUT")"
grep -q 'import: .*store map grown\|warning' "$ERR" && fail "a clean import warned: $(cat "$ERR")"
before=$(snapshot b)
expect 0 "" -d b import good.bundle
grep -q "imported good.bundle: 0 new, 4 duplicate, 0 pending, 0 refused" "$OUT" && ok ||
	fail "second import of good.bundle says: $(cat "$OUT")"
unchanged "importing good.bundle a second time"
expect 0 "" -d b check

# ---- a well-framed bundle whose second envelope was altered and its end hash recomputed (the
# end frame's hash is unkeyed BLAKE2b-256): the frame checks pass, the node sees a different
# change set for a seq it holds. It is kept as evidence, never applied: the digest is unchanged.
python3 -c 'import hashlib, sys
b = bytearray(open("good.bundle", "rb").read()); e = int(sys.argv[1]); z = int(sys.argv[2])
n = int.from_bytes(b[e + 1:e + 5], "big"); b[e + 5 + n - 3] ^= 1
b[z + 13:z + 45] = hashlib.blake2b(bytes(b[:z]), digest_size=32).digest()
open("forged.bundle", "wb").write(b)' "$(echo "$env_offs" | sed -n 2p)" "$end_off"
digest_b=$(digest_of b)
expect 0 "" -d b import forged.bundle --json
[ "$(json_get "$OUT" 'd["new"], d["duplicate"], d["refused"] + d["forks"]')" = "(0, 3, 1)" ] &&
	ok || fail "importing forged.bundle: $(cat "$OUT")"
grep -q "forked change set [0-9a-f]*:2" "$ERR" && ok || fail "no warning names the forked change set"
[ "$(digest_of b)" = "$digest_b" ] && ok || fail "a forged change set changed the records"
expect 0 "" -d b check

# ---- export refuses to overwrite, and a failed export leaves no file behind
expect 1 "good.bundle already exists \(use --force to replace it\)" -d a export -o good.bundle
expect 1 "^hamlet: export: creating no-dir/x.bundle.tmp.[0-9]+: No such file or directory" \
	-d a export -o no-dir/x.bundle
ls ./*.tmp.* >/dev/null 2>&1 && fail "a temporary export file was left behind" || ok
finish
