#!/usr/bin/env bash
# LMDB's map-full growth (issue #10 section 2), with a tiny first map (HAMLET_MAP_INITIAL=64 KiB):
# - a large import grows the map step by step (64 KiB, 128 KiB, ... ) and ends with the digest of
#   the same import into a store with the default map, and check passes;
# - a daemon that opened the store at the small size keeps serving while another process grows
#   the map under it: it answers a pull with what the other process wrote, and takes a push
#   (both sides of LMDB's MDB_MAP_RESIZED);
# - the I/O fault loop over that import in a store that must grow on the way: every N of every
#   kind, failing with ENOSPC or EIO in turn (both with HAMLET_IO_ALL=1), leaves the digest
#   before or after.
. "$(dirname "$0")/../net/netlib.sh"

LIB=${HAMLET_IOFAULT_LIB:?set HAMLET_IOFAULT_LIB to the libhm_iofault.so shim}
ASAN_RT=$(ldd "$HM" | awk '/libasan/ {print $3}')
PRELOAD=${ASAN_RT:+$ASAN_RT:}$LIB
TINY=65536

map_bytes() { # the map size LMDB has recorded in DIR's data.mdb
	python3 - "$1/data.mdb" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(4096 * 2)
# two meta pages; each: page header (16 bytes), magic, version, address, mapsize, ..., txnid
best = None
for off in (0, 4096):
    m = b[off + 16:off + 16 + 136]
    magic, version, addr, mapsize = struct.unpack_from("<IIQQ", m, 0)
    txnid = struct.unpack_from("<Q", m, 128)[0]
    if best is None or txnid > best[0]:
        best = (txnid, mapsize)
print(best[1])
PY
}

# ---- the data: 2,000 people in one register and 30 writes, as in io_faults.sh
new_node src lin/east/oak
python3 - >people.csv <<'PY'
import os, base64
print("id,name,phone,address")
for i in range(2000):
    r = base64.b32encode(os.urandom(40)).decode()
    print(f"p{i},Name {r[:20]},+2547{i:08d},Plot {i} {r[20:]}")
PY
must -d src import-csv person people.csv
for i in $(seq 30); do must -d src put person "w$i" name="Writer $i" phone="$i"; done
must -d src export -o big.bundle

# ---- a large import into a tiny map
new_node ref lin/east
must -d ref import big.bundle
want=$(digest_of ref)
HAMLET_MAP_INITIAL=$TINY new_node hub lin/east
cp -a hub hub.clean
echo "the map before: $(map_bytes hub) bytes"
HAMLET_MAP_INITIAL=$TINY expect 0 "" -v -d hub import big.bundle
grows=$(grep -c "store map grown to" "$ERR")
echo "the map after: $(map_bytes hub) bytes, grown $grows times"
((grows >= 3)) && ok || fail "the import grew a 64 KiB map only $grows times: $(cat "$ERR")"
grep -q "store map grown to 128 KiB" "$ERR" && ok || fail "the first growth is not named 128 KiB"
[ "$(digest_of hub)" = "$want" ] && ok || fail "the import into a tiny map has another digest"
expect 0 "" -d hub check

# ---- a daemon holds the small map while another process grows it
rm -rf hub && cp -a hub.clean hub
HAMLET_MAP_INITIAL=$TINY start_daemon hub hub
HAMLET_MAP_INITIAL=$TINY expect 0 "" -d hub import big.bundle
((map=$(map_bytes hub), map > TINY)) && ok || fail "the import did not grow the map"
new_node twn lin/east
expect 0 "" -d twn sync "$(url_of hub)" --json
[ "$(json_get "$OUT" 'd["received"]')" = 31 ] && ok ||
	fail "a pull from the daemon after the map grew under it: $(cat "$OUT" "$ERR")"
must -d twn put person t1 name=Pushed
expect 0 "" -d twn sync "$(url_of hub)" --json
[ "$(json_get "$OUT" 'd["sent"]')" = 1 ] && ok ||
	fail "a push to the daemon after the map grew under it: $(cat "$OUT" "$ERR")"
alive hub && ok || fail "the daemon died: $(tail -3 "$T/hub.log")"
stop_daemon hub
expect 0 "" -d hub check
[ "$(digest_of hub)" = "$(digest_of twn)" ] && ok || fail "hub and twn differ after the syncs"

# ---- faults while the map grows: every N of the calls that commit
tried=0
for kind in write pwrite fdatasync; do
	rm -rf hub && cp -a hub.clean hub
	rm -f .count
	HAMLET_MAP_INITIAL=$TINY LD_PRELOAD=$PRELOAD HM_IOFAULT=$kind HM_IOFAULT_N=0 \
		HM_IOFAULT_COUNT=.count run "$HM" -d hub import big.bundle
	calls=$(awk '{print $2}' .count)
	for ((n = 1; n <= calls; n++)); do
		# both errnos at every N with HAMLET_IO_ALL=1; else one, in turn
		es="ENOSPC EIO"
		[ "${HAMLET_IO_ALL:-0}" = 1 ] || { ((tried % 2)) && es=EIO || es=ENOSPC; }
		for e in $es; do
			tried=$((tried + 1))
			rm -rf hub && cp -a hub.clean hub
			before=$(digest_of hub)
			HAMLET_MAP_INITIAL=$TINY LD_PRELOAD=$PRELOAD HM_IOFAULT=$kind HM_IOFAULT_N=$n \
				HM_IOFAULT_ERRNO=$e run "$HM" -d hub import big.bundle
			d=$(digest_of hub)
			if [ "$RC" = 0 ]; then
				[ "$d" = "$want" ] && ok || fail "$kind #$n ($e): exit 0, wrong digest"
			else
				[ "$RC" = 1 ] && ok || fail "$kind #$n ($e): exit $RC"
				[ "$d" = "$before" ] && ok || fail "$kind #$n ($e): the import half-applied"
			fi
			HAMLET_MAP_INITIAL=$TINY hm -d hub import big.bundle
			[ "$RC" = 0 ] && [ "$(digest_of hub)" = "$want" ] && ok ||
				fail "$kind #$n ($e): the import again without the fault: exit $RC"
			hm -d hub check
			[ "$RC" = 0 ] && ok || fail "$kind #$n ($e): check fails"
		done
	done
	echo "$kind: $calls calls while the map grows, each failed in turn"
done
echo "io_map_growth: $tried faults injected while the map grew"
finish
