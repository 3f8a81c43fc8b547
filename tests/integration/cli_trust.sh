#!/usr/bin/env bash
# Trust (issue #3) at the command line: every bad input - a wrong passphrase, a damaged or
# missing key file, an unenrolled node, a damaged or misdirected enrollment file, a township
# overstepping, a village writing another village's record, a bundle sealed for someone else or
# from a revoked node, a tampered or misattributed audit report - exits 1 with a message naming
# the problem and changes nothing. The audit is clean on a clean mesh and not after a
# revocation withdrew something; personal data is never in the clear on disk or in a bundle.
. "$(dirname "$0")/lib.sh"

mesh
PASS_OK=$HAMLET_PASSPHRASE

# expect_rc CODE ARGS...: hamlet ARGS exits CODE (for commands whose findings go to stdout)
expect_rc() {
	local code=$1
	shift
	hm "$@"
	[ "$RC" = "$code" ] && ok || fail "hamlet $* exited $RC, want $code: $(head -c 300 "$OUT")"
}

# expect_same_dirs "DIR..." CODE PATTERN ARGS...: as expect_same, over several nodes
expect_same_dirs() {
	local dirs=$1 d b=() i=0
	shift
	for d in $dirs; do b+=("$(snapshot "$d")"); done
	expect "$@"
	for d in $dirs; do
		[ "$(snapshot "$d")" = "${b[$i]}" ] && ok || fail "hamlet ${*:3} changed the node in $d"
		i=$((i + 1))
	done
}

# ---- the key file and its passphrase
must -d elm put person e1 name=Ann
HAMLET_PASSPHRASE=wrong expect 1 "^hamlet: status: wrong passphrase for elm/node.key" -d elm status
HAMLET_PASSPHRASE=wrong expect_same elm 1 "wrong passphrase" -d elm put person e2 name=Bo
HAMLET_PASSPHRASE= expect 1 "the passphrase is empty" -d elm status
cp elm/node.key key.orig
for len in 0 1 67 68 100 179; do
	head -c "$len" key.orig >elm/node.key
	expect 1 "^hamlet: digest: the key file elm/node.key is damaged" -d elm digest
done
head -c 181 /dev/zero | cat key.orig - | head -c 181 >elm/node.key
expect 1 "the key file elm/node.key is damaged" -d elm digest
for o in 0 8 12 30 50 100 179; do
	python3 -c 'import sys
b = bytearray(open("key.orig", "rb").read()); b[int(sys.argv[1])] ^= 1
open("elm/node.key", "wb").write(b)' "$o"
	expect 1 "elm/node.key (is damaged|\(or the key file was altered\))" -d elm digest
done
cp key.orig elm/node.key
must -d elm digest
mv elm/node.key key.away
expect 1 "^hamlet: status: .*elm/node.key is missing" -d elm status
[ -s "$OUT" ] && fail "a node without its key file printed its status: $(cat "$OUT")" || ok
expect 1 "^hamlet: put: .*elm/node.key is missing" -d elm put person e3 name=Cy
expect 1 "elm/node.key.*missing" -d elm status
mv key.away elm/node.key
must -d elm list person --json
[ "$(json_get "$OUT" '[r["id"] for r in d]')" = "['e1']" ] && ok ||
	fail "the writes refused without a key changed elm: $(cat "$OUT")"

# ---- an unenrolled node writes nothing and imports nothing
must -d un init --role village --region lin/east/ash --name Unenrolled
must -d elm export -o elm.bundle
expect_same un 1 "^hamlet: put: this node is not enrolled yet: run .hamlet enroll request." -d un put person u1 name=Un
expect_same un 1 "^hamlet: import: elm.bundle is sealed for scope lin, and this node cannot open it \(this node has no enrolled keys\)" -d un import elm.bundle
expect_same un 1 "^hamlet: export: .*this node has no enrolled keys" -d un export -o un.bundle
[ ! -e un.bundle ] && ok || fail "an unenrolled node exported a bundle"

# ---- enrollment files: damaged, for another node, with a wrong root, signed by who may not
must -d un enroll request -o un.req
python3 -c 'b = bytearray(open("un.req", "rb").read()); b[len(b) // 2] ^= 1
open("un-flip.req", "wb").write(b)'
expect_same C 1 "^hamlet: enroll [a-z]*: the request is not signed by the key it carries" \
	-d C enroll sign un-flip.req -o un-flip.ans
[ ! -e un-flip.ans ] && ok || fail "a damaged request was signed"
must -d oak2 init --role village --region lin/east/birch --name Birch
must -d oak2 enroll request -o oak2.req
must -d C enroll sign oak2.req -o oak2.ans
expect_same un 1 "^hamlet: enroll [a-z]*: the certificate is not this node's" \
	-d un enroll accept oak2.ans
must -d C enroll sign un.req -o un.ans
expect_same un 1 "^hamlet: enroll [a-z]*: the answer's root key is not the expected one" -d un enroll accept un.ans --root "$(printf '%064d' 7)"
python3 -c 'b = bytearray(open("un.ans", "rb").read()); b[len(b) // 2] ^= 1
open("un-flip.ans", "wb").write(b)'
expect_same un 1 "^hamlet: enroll [a-z]*: .*(does not verify|malformed|damaged|not this node)" -d un enroll accept un-flip.ans --root "$ROOT"
# W was enrolled without --may-enroll; E may enroll villages of lin/east only
must -d v1 init --role village --region lin/west/pine --name Pine
must -d v1 enroll request -o v1.req
expect_same W 1 "^hamlet: enroll [a-z]*: cannot enroll a village of lin/west/pine from here: issuer may not enroll" \
	-d W enroll sign v1.req -o v1.ans
expect_same E 1 "^hamlet: enroll [a-z]*: cannot enroll a village of lin/west/pine from here: certificate region is outside its issuer's" -d E enroll sign v1.req -o v1.ans
expect_same elm 1 "^hamlet: enroll [a-z]*: a village cannot enroll other nodes" \
	-d elm enroll sign v1.req -o v1.ans
[ ! -e v1.ans ] && ok || fail "a refused enroll sign wrote the answer"
# and it is still unenrolled
expect_same v1 1 "^hamlet: put: this node is not enrolled yet" -d v1 put person v name=V

# ---- a village writes only its own village's records
expect_same elm 1 "^hamlet: put: person/x lies in lin/east/oak, outside this node's region lin/east/elm" -d elm put person x name=y village=lin/east/oak
expect_same elm 1 "^hamlet: put: person/x lies in lin/west/ash, outside this node's region lin/east/elm" -d elm put person x name=y village=lin/west/ash
expect_same elm 1 "^hamlet: put: person/x lies in lin/east, outside this node's region lin/east/elm" -d elm put person x name=y village=lin/east
expect_same E 1 "^hamlet: put: person/x lies in lin/west/ash, outside this node's region lin/east" -d E put person x name=y village=lin/west/ash

# ---- sealed bundles for one node, or for one township's scope. A node learns another's
# certificate from a bundle it exported.
must -d oak put person o1 name=Oak-1
must -d oak export -o oak1.bundle
must -d elm import oak1.bundle
must -d C import oak1.bundle
must -d elm export -o to-oak.bundle --to "$ID_oak"
expect_same_dirs "ash E" 1 "to-oak.bundle is sealed for node $ID_oak, and this node cannot open it" \
	-d ash import to-oak.bundle
expect 1 "to-oak.bundle is sealed for node" -d E import to-oak.bundle
must -d oak import to-oak.bundle
must -d elm export -o east.bundle --scope lin/east
expect_same ash 1 "east.bundle is sealed for scope lin/east, and this node cannot open it" \
	-d ash import east.bundle
expect_same W 1 "east.bundle is sealed for scope lin/east" -d W import east.bundle
must -d E import east.bundle
must -d C import east.bundle

# ---- the audit: clean, then a revocation that withdraws what elm wrote after seq 1
expect 0 "" -d C audit
grep -q "^clean: 0 findings" "$OUT" && ok || fail "audit on a clean county: $(cat "$OUT")"
must -d C audit --json
is_json "$OUT" && [ "$(json_get "$OUT" 'd["clean"], d["findings"]')" = "(True, [])" ] && ok ||
	fail "audit --json on a clean county: $(cat "$OUT")"
expect 0 "" -d C audit --sign -o clean.report
# the passphrase through a pipe: read once for signing and opening (a second read found it empty)
HAMLET_PASSPHRASE= expect 0 "" -d C --passphrase-file - audit --sign -o piped.report \
	< <(echo "$HAMLET_PASSPHRASE") # a pipe, not a subshell: a failure counts
expect 0 "" verify-report clean.report --root "$ROOT"
must -d elm put person e4 name=Dee
must -d elm export -o elm2.bundle
must -d C import elm2.bundle
must -d E import elm2.bundle
expect 0 "" -d C audit
expect 0 "" -d C revoke "$ID_elm" --after-seq 1 --reason "stolen laptop"
expect_rc 1 -d C audit
grep -q "after-revocation\|REVOKED" "$OUT" && ok || fail "the audit does not show the revocation: $(cat "$OUT")"
expect_rc 1 -d C audit --json
is_json "$OUT" && [ "$(json_get "$OUT" 'd["clean"]')" = False ] && ok ||
	fail "audit --json after a revocation: $(cat "$OUT")"
expect 1 "no record person/e4" -d C get person e4
# the county's bundle carries the revocation to the hub E, which withdraws elm's seq 2
must -d C export -o county.bundle
# the bundle key is wrapped under the newest epochs the county holds, so E, which learns the
# new epoch only from this very bundle, opens it
must -d E import county.bundle
expect 1 "no record person/e4" -d E get person e4
must -d E get person e1
# oak opens it too, and keeps only what its village may hold: none of elm's records
must -d oak import county.bundle
expect 1 "no record person/e1" -d oak get person e1
# elm's later bundle (it does not know it was revoked) is refused where the revocation is known
must -d elm put person e5 name=Eve
must -d elm export -o elm3.bundle
expect_same E 1 "^hamlet: import: elm3.bundle: the exporter is not trusted: the peer is revoked" \
	-d E import elm3.bundle
expect 1 "no record person/e5" -d E get person e5

# ---- signed audit reports
expect_rc 1 -d C audit --sign -o dirty.report
grep -q "wrote a signed audit report to dirty.report" "$OUT" && ok || fail "audit --sign: $(cat "$OUT")"
expect 0 "" verify-report dirty.report --root "$ROOT"
grep -q "contents intact" "$OUT" && ok || fail "verify-report: $(cat "$OUT")"
expect 1 "dirty.report was not signed by the county of that root key" \
	verify-report dirty.report --root "$(printf '%064d' 7)"
size=$(stat -c %s dirty.report)
for o in 0 30 $((size / 2)) $((size - 100)) $((size - 2)); do
	python3 -c 'import sys
b = bytearray(open("dirty.report", "rb").read()); b[int(sys.argv[1])] ^= 1
open("flip.report", "wb").write(b)' "$o"
	expect 1 "flip.report" verify-report flip.report --root "$ROOT"
done
expect 1 "cannot open no.report" verify-report no.report --root "$ROOT"
expect_same E 1 "only the county signs audit reports" -d E audit --sign -o e.report
[ ! -e e.report ] && ok || fail "a township wrote a signed audit report"

# ---- personal data never in the clear: not in the node directory, not in a bundle
must -d oak put person secret name=Zhangsanfeng-Quokka phone=13912345678
must -d oak export -o oak.bundle
for f in oak/* oak.bundle; do
	for s in Zhangsanfeng-Quokka 13912345678; do
		n=$(grep -c -a -- "$s" "$f")
		[ "$n" = 0 ] && ok || fail "$s is in the clear in $f ($n lines)"
	done
done

# ---- the older LMDB meta page damaged in place: refused, saying check --repair writes it
# again from the last commit, which it does; the records are as they were
want=$("$HM" -d oak digest)
damage_older_meta oak
expect 1 "meta page [01], the older.*check --repair" -d oak digest
must -d oak check --repair
grep -q "written again from meta page" "$ERR" && ok || fail "check --repair: $(cat "$ERR")"
[ "$("$HM" -d oak digest)" = "$want" ] && ok || fail "the records changed in the repair"
finish
