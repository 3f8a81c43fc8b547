#!/usr/bin/env bash
# Damaged sealed bundles (format 2) are refused whole: a file cut at any offset, a byte flipped
# anywhere (magic, header, wrapped key, the exporter's chain, each encrypted change set, the end
# frame's count, hash and signature), envelopes swapped or spliced in from another bundle, an end
# hash recomputed over altered contents, a frame declaring 4 GiB, bytes after the end frame, an
# unsealed bundle, a file that is not a bundle, a missing file. Each exits 1 with a message
# naming the file, and the importing node is unchanged. A good bundle imported twice is all
# duplicates the second time.
. "$(dirname "$0")/lib.sh"

new_node a lin/east/elm
new_node b lin/east # a hub: it may hold a's records (a village would keep none of them)
must -d a put person p1 name=Ann birth_year=1980
must -d a put stock masks item=N95 'quantity+=500'
must -d a put followup f1 person=p1 time=2026-11-20T08:30 temperature=36.6
must -d a put person p2 name='Bo "the elder" Li'
must -d a export -o good.bundle
must -d a put person p3 name=Cy
must -d a export -o other.bundle
must -d b put person q1 name=Ann-from-b
size=$(stat -c %s good.bundle)

# Layout (sync/bundle.c): "HMBUNDL2" | 'H' len(4) format(1) exporter(16) created(8) to_node(1)
# recipient wrapped_len(1) wrapped chain_len(2) chain | ('E' len(4) sealed envelope)* |
# ['C' len(4) certificates] |
# 'Z' len(4) count(8) hash(32) signature(64). Frame offsets, read from the file itself.
frames() {
	python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
off = 8
while off < len(b):
    n = int.from_bytes(b[off + 1:off + 5], 'big')
    print(chr(b[off]), off, n)
    off += 5 + n
PY
}
fr=$(frames good.bundle)
end_off=$(echo "$fr" | awk '$1 == "Z" {print $2}')
env_offs=$(echo "$fr" | awk '$1 == "E" {print $2}')
[ "$(head -c 8 good.bundle)" = HMBUNDL2 ] && [ "$(echo "$env_offs" | wc -l)" = 4 ] &&
	[ "$end_off" = $((size - 109)) ] && ok || fail "good.bundle does not have the expected frames: $fr"

before=$(snapshot b)
unchanged() { # unchanged WHAT: b is as it was
	if [ "$(snapshot b)" != "$before" ]; then
		fail "$1 changed the importing node"
		before=$(snapshot b)
	else
		ok
	fi
}

# Offsets to damage, sampled so the loops stay short with a key file to unlock per run. Flipped:
# every byte of the magic and of the header's fixed fields, each frame's type and length and its
# first and last two bytes, and every 41st byte. Cut: the first 14 bytes, either side of each frame
# boundary, and every 97th byte.
read -r flips cuts < <(python3 - good.bundle <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
f = set(range(0, 13 + 48)) | set(range(0, len(b), 41)) | {len(b) - 1}
c = set(range(0, 14)) | set(range(0, len(b), 97)) | {len(b) - 1}
off = 8
while off < len(b):
    n = int.from_bytes(b[off + 1:off + 5], 'big')
    f |= set(range(off, off + 7)) | set(range(off + 5 + n - 2, off + 5 + n))
    c |= {off - 1, off, off + 1, off + 5}
    off += 5 + n
print(",".join(str(o) for o in sorted(f)), ",".join(str(o) for o in sorted(c) if o < len(b)))
PY
)
flips=${flips//,/ } cuts=${cuts//,/ }
echo "flipping $(echo "$flips" | wc -w) and cutting at $(echo "$cuts" | wc -w) of $size offsets"
mkdir cut flip
python3 -c 'import sys
b = open("good.bundle", "rb").read()
for o in map(int, sys.argv[1].split()):
    f = bytearray(b); f[o] ^= 0xff
    open("flip/%d.bundle" % o, "wb").write(f)
for o in map(int, sys.argv[2].split()):
    open("cut/%d.bundle" % o, "wb").write(b[:o])' "$flips" "$cuts"

# ---- cut short
i=0
for n in $cuts; do
	cp "cut/$n.bundle" cut.bundle
	expect 1 "^hamlet: import: cut.bundle (is not a hamlet bundle|ends at byte [0-9]+ without an end frame|is cut short inside a frame at byte [0-9]+)" \
		-d b import cut.bundle
	((i++ % 10 == 0)) && unchanged "a bundle cut at byte $n"
done
cp cut/0.bundle cut.bundle
expect 1 "cut.bundle is not a hamlet bundle" -d b import cut.bundle
python3 -c 'import sys; open("cut.bundle", "wb").write(open("good.bundle", "rb").read()[:int(sys.argv[1])])' "$end_off"
expect 1 "cut.bundle ends at byte $end_off without an end frame" -d b import cut.bundle
python3 -c 'import sys; open("cut.bundle", "wb").write(open("good.bundle", "rb").read()[:int(sys.argv[1])])' $((end_off + 20))
expect 1 "cut.bundle is cut short inside a frame at byte $end_off" -d b import cut.bundle
unchanged "bundles cut short"

# ---- a byte flipped: every message names the file and what is wrong with it
i=0
for o in $flips; do
	cp "flip/$o.bundle" flip.bundle
	expect 1 "^hamlet: import: .*flip.bundle.*(not a hamlet bundle|unknown frame type|declares|not supported|malformed|not a bundle header|cannot open it|does not open|does not match|not trusted|unexpected frame|cut short|without an end frame)" \
		-d b import flip.bundle
	((i++ % 25 == 0)) && unchanged "a byte flipped at $o"
done
unchanged "bundles with a byte flipped"
cp flip/0.bundle flip.bundle
expect 1 "flip.bundle is not a hamlet bundle \(bad magic\)" -d b import flip.bundle
cp flip/8.bundle flip.bundle
expect 1 "flip.bundle: unknown frame type 0xb7 at byte 8" -d b import flip.bundle
cp flip/13.bundle flip.bundle
expect 1 "flip.bundle: bundle format 253 is not supported" -d b import flip.bundle
python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); b[int(sys.argv[1])] ^= 1
open("flip.bundle", "wb").write(b)' 60 # inside the wrapped bundle key
expect 1 "flip.bundle is sealed for scope lin, and this node cannot open it" -d b import flip.bundle
k=1
for e in $env_offs; do
	python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); b[int(sys.argv[1])] ^= 1
open("flip.bundle", "wb").write(b)' $((e + 5 + 20))
	expect 1 "flip.bundle: change set $k does not open: the file was altered or damaged" \
		-d b import flip.bundle
	k=$((k + 1))
done
for o in $((end_off + 8)) $((end_off + 5 + 8 + 20)); do # the end frame's count and hash
	python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); b[int(sys.argv[1])] ^= 1
open("flip.bundle", "wb").write(b)' "$o"
	expect 1 "flip.bundle: the end frame does not match the contents" -d b import flip.bundle
done
python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); b[-1] ^= 1
open("flip.bundle", "wb").write(b)' # the signature
expect 1 "flip.bundle: the exporter is not trusted" -d b import flip.bundle
# the recipient's scope, as the file gives it, is named in the message: control bytes must not
# reach the terminal
python3 -c 'b = bytearray(open("good.bundle", "rb").read()); b[41] = 0x1b
open("flip.bundle", "wb").write(b)'
expect 1 "flip.bundle: the bundle header is malformed" -d b import flip.bundle
! grep -q $'\x1b' "$ERR" && ok || fail "an ESC byte from the bundle reached stderr"
unchanged "flipped bytes"
# A refused import says that nothing was imported.
expect 1 "flip.bundle: .*; nothing was imported$" -d b import flip.bundle

# ---- the end hash recomputed over an altered envelope (the hash is unkeyed BLAKE2b-256): the
# frames and the hash check out, the exporter's signature does not.
python3 -c 'import hashlib, sys
b = bytearray(open("good.bundle", "rb").read()); e = int(sys.argv[1]); z = int(sys.argv[2])
b[e + 5 + 10] ^= 1
b[z + 13:z + 45] = hashlib.blake2b(bytes(b[:z]), digest_size=32).digest()
open("forged.bundle", "wb").write(b)' "$(echo "$env_offs" | sed -n 2p)" "$end_off"
expect 1 "forged.bundle: (the exporter is not trusted|change set 2 does not open)" -d b import forged.bundle
# the same with the envelope left alone: only the signature is wrong
python3 -c 'import hashlib, sys
b = bytearray(open("good.bundle", "rb").read()); z = int(sys.argv[1])
b[13 + 17 + 3] ^= 1 # the created time in the header
b[z + 13:z + 45] = hashlib.blake2b(bytes(b[:z]), digest_size=32).digest()
open("forged.bundle", "wb").write(b)' "$end_off"
expect 1 "forged.bundle: the exporter is not trusted" -d b import forged.bundle
# two envelopes swapped (each is bound to its index), and an envelope of another bundle spliced in
python3 -c 'import sys
b = open("good.bundle", "rb").read(); o = [int(x) for x in sys.argv[1:]]
f = [b[o[i]:o[i + 1]] for i in range(4)]
open("swapped.bundle", "wb").write(b[:o[0]] + f[1] + f[0] + f[2] + f[3] + b[o[4]:])' \
	$env_offs "$end_off"
expect 1 "swapped.bundle: change set 1 does not open" -d b import swapped.bundle
python3 -c 'import sys
g = open("good.bundle", "rb").read(); o = open("other.bundle", "rb").read()
ge = [int(x) for x in sys.argv[1:6]]; oe = [int(x) for x in sys.argv[6:]]
open("spliced.bundle", "wb").write(g[:ge[1]] + o[oe[1]:oe[2]] + g[ge[2]:])' \
	$env_offs "$end_off" $(frames other.bundle | awk '$1 == "E" {print $2}' | head -3)
expect 1 "spliced.bundle: change set 2 does not open" -d b import spliced.bundle
unchanged "forged, swapped and spliced bundles"

# ---- a frame that declares 4 GiB (the first envelope's length set to 0xffffffff)
python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); o = int(sys.argv[1])
b[o + 1:o + 5] = b"\xff\xff\xff\xff"; open("huge.bundle", "wb").write(b)' "$(echo "$env_offs" | head -1)"
expect 1 "huge.bundle: a frame at byte [0-9]+ declares 4294967295 bytes \(cap [0-9]+\)" \
	-d b import huge.bundle
python3 -c 'import sys
b = bytearray(open("good.bundle", "rb").read()); o = int(sys.argv[1])
b[o + 1:o + 5] = b"\xff\xff\xff\xff"; open("huge.bundle", "wb").write(b)' "$end_off"
expect 1 "huge.bundle: a frame at byte $end_off declares 4294967295 bytes" -d b import huge.bundle
unchanged "frames declaring 4 GiB"

# ---- bytes after the end frame
{ cat good.bundle; printf 'x'; } >trail.bundle
expect 1 "trail.bundle: bytes after the end frame" -d b import trail.bundle
{ cat good.bundle good.bundle; } >twice.bundle
expect 1 "twice.bundle: bytes after the end frame" -d b import twice.bundle
unchanged "trailing garbage"

# ---- an unsealed (format 1) bundle, well formed, holding nothing: nodes with keys refuse it
python3 -c 'import hashlib
b = b"HMBUNDL1" + b"H" + (25).to_bytes(4, "big") + bytes([1]) + bytes(16) + bytes(8)
z = b"Z" + (40).to_bytes(4, "big") + bytes(8) + hashlib.blake2b(b, digest_size=32).digest()
open("plain.bundle", "wb").write(b + z)'
expect 1 "plain.bundle is an unsealed bundle: nodes with keys take only sealed bundles" \
	-d b import plain.bundle
unchanged "an unsealed bundle"

# ---- not a bundle; no file; a directory; an unreadable file
printf 'name,village\nAnn,elm\n' >people.csv
expect 1 "people.csv is not a hamlet bundle" -d b import people.csv
: >empty.bundle
expect 1 "empty.bundle is not a hamlet bundle" -d b import empty.bundle
expect 1 "opening no-such.bundle: No such file or directory" -d b import no-such.bundle
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
grep -q 'warning' "$ERR" && fail "a clean import warned: $(cat "$ERR")"
before=$(snapshot b)
expect 0 "" -d b import good.bundle
grep -q "imported good.bundle: 0 new, 4 duplicate, 0 pending, 0 refused" "$OUT" && ok ||
	fail "second import of good.bundle says: $(cat "$OUT")"
unchanged "importing good.bundle a second time"
expect 0 "" -d b check
expect 0 "" -d b audit

# ---- export refuses to overwrite, and a failed export leaves no file behind
expect 1 "good.bundle already exists \(use --force to replace it\)" -d a export -o good.bundle
expect 1 "^hamlet: export: creating no-dir/x.bundle.tmp.[0-9]+: No such file or directory" \
	-d a export -o no-dir/x.bundle
ls ./*.tmp.* >/dev/null 2>&1 && fail "a temporary export file was left behind" || ok
finish
