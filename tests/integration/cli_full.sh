#!/usr/bin/env bash
# A full store: with HAMLET_MAP_MAX small, writes and imports go on until one fails. The one that
# fails exits 1 saying the store is full, and the state before it is intact: check passes,
# digest and status are what they were, and the node still reads.
. "$(dirname "$0")/lib.sh"

# Values are random (base64 of /dev/urandom), different in every field and every write, so the
# sizes hold whatever the change set encoding compresses (zstd since 91b737b).
# new_fields N [K]: the first K (default 6) person text fields, N bytes each, in fields.
new_fields() {
	local n=$1 k=${2:-6} r i names=(name phone address travel_origin status code compound household)
	r=$(head -c $((k * n * 3 / 4 + 3)) /dev/urandom | base64 -w0)
	fields=()
	for ((i = 0; i < k; i++)); do fields+=("${names[$i]}=${r:$((i * n)):$n}"); done
}

# ---- local writes until the 1 MiB cap
export HAMLET_MAP_MAX=1048576
new_node n lin/east/elm
i=0
while ((i < 200)); do
	i=$((i + 1))
	before=$(snapshot n)
	new_fields 3000
	hm -d n put person "p$i" "${fields[@]}"
	[ "$RC" = 0 ] || break
done
if [ "$RC" != 1 ]; then
	fail "200 writes of 18 KB fit in a 1 MiB store (last exit $RC)"
else
	ok
	echo "the store filled at write $i"
	grep -Eq "^hamlet: put: the store reached its size cap of 1 MiB; nothing was written$" "$ERR" &&
		ok || fail "the full-store message is not clear: $(cat "$ERR")"
	[ "$(snapshot n)" = "$before" ] && ok || fail "the write that filled the store changed the node"
	expect 0 "" -d n check
	expect 0 "" -d n get person p1
	expect_same n 1 "store reached its size cap" -d n put person "p$i" "${fields[@]}"
	# a small write may still fit, and then the node still checks
	hm -d n put person p1 phone=1
	expect 0 "" -d n check
fi

# ---- an import that does not fit: refused whole, nothing changed
unset HAMLET_MAP_MAX
new_node src lin/east # the hub: what it writes, its village n may hold
for j in $(seq 12); do
	new_fields 3000
	must -d src put person "q$j" "${fields[@]}"
done
must -d src export -o src.bundle
export HAMLET_MAP_MAX=1048576
expect_same n 1 "^hamlet: import: .*the store reached its size cap of 1 MiB.*nothing was imported" \
	-d n import src.bundle
expect 0 "" -d n check
unset HAMLET_MAP_MAX

# ---- a cap under 1 MiB is named in the message as it was given
HAMLET_MAP_MAX=200000 new_node small lin/east/ash
for j in $(seq 20); do
	new_fields 3000
	HAMLET_MAP_MAX=200000 hm -d small put person "p$j" "${fields[@]}"
	[ "$RC" = 0 ] || break
done
[ "$RC" = 1 ] && grep -q "store reached its size cap" "$ERR" && ok ||
	fail "20 writes of 18 KB fit in a 200000-byte store, or the message is wrong"
cap_named() {
	grep -Eq "size cap of [1-9][0-9]* (bytes|KiB|MiB)" "$ERR" && ok ||
		fail "the message does not name the cap: $(cat "$ERR")"
}
cap_named
grep -q "size cap of 195 KiB" "$ERR" && ok || fail "200000 bytes is not named as 195 KiB: $(cat "$ERR")"

# ---- a bundle bigger than one import batch (HM_BUNDLE_BATCH_BYTES, 4 MiB) into a store with
# room for one batch only: the import fails, and must either change nothing or say how much
# it applied.
new_node large lin/east/oak
# 280 change sets of 24 KB: about 6.9 MB, past the 6 MiB cap, in two batches
for j in $(seq 280); do
	new_fields 4000 8
	hm -d large put person p1 "${fields[@]}"
	[ "$RC" = 0 ] || fail "setup write $j failed"
done
must -d large export -o large.bundle
export HAMLET_MAP_MAX=$((6 << 20))
new_node six lin/east # the hub: it may hold large's records
# The import fails, says how many change sets it applied and kept, and holds exactly those.
expect 1 "^hamlet: import: .*store reached its size cap of 6 MiB.*; the first [0-9]+ change sets of \
large.bundle were applied and kept \(importing it again skips them\)" -d six import large.bundle
kept=$(sed -n 's/.*the first \([0-9]*\) change sets.*/\1/p' "$ERR")
must -d six status --json
[ -n "$kept" ] && [ "$(json_get "$OUT" 'd["changesets"], d["pending"]')" = "($kept, 0)" ] && ok ||
	fail "the import said $kept change sets were kept, the node holds: $(cat "$OUT")"
((kept > 0 && kept < 280)) && ok || fail "kept $kept of 280 change sets"
expect 0 "" -d six check
unset HAMLET_MAP_MAX
finish
