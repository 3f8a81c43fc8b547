#!/usr/bin/env bash
# Thirty villages sync at the same moment through one township daemon: thirty background
# `hamlet sync` processes against one `hamlet serve` (one REP socket, one request at a time,
# thirty sessions open at once). Every sync succeeds, the township then holds every village's
# records (and no village another's), and after one more round each village holds exactly the
# township's view of its region.
. "$(dirname "$0")/netlib.sh"

N=30
use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
must -d E put person E-1 name="For every village"

# Enrolling thirty villages: init and request in parallel, sign one by one at E, accept in
# parallel (each step unlocks a key file: parallel steps use both cores).
mkdir -p "$T/.enroll"
STEP_PIDS=()
for i in $(seq -w 1 $N); do
	("$HM" -d v$i init --role village --region lin/east/v$i --name "Village $i" &&
		"$HM" -d v$i enroll request -o "$T/.enroll/v$i.req") >"$T/.enroll/v$i.log" 2>&1 &
	STEP_PIDS+=($!)
done
wait "${STEP_PIDS[@]}" # never a bare wait: the watchdog is a child too
STEP_PIDS=()
for i in $(seq -w 1 $N); do
	must -d E enroll sign "$T/.enroll/v$i.req" -o "$T/.enroll/v$i.ans"
done
for i in $(seq -w 1 $N); do
	("$HM" -d v$i enroll accept "$T/.enroll/v$i.ans" --root "$ROOT_KEY" &&
		"$HM" -d v$i put person v$i-a name="Village $i, a" &&
		"$HM" -d v$i put person v$i-b name="Village $i, b" &&
		"$HM" -d v$i put stock v$i-masks item=N95 'quantity+=10') >>"$T/.enroll/v$i.log" 2>&1 &
	STEP_PIDS+=($!)
done
wait "${STEP_PIDS[@]}"
for i in $(seq -w 1 $N); do
	[ "$(status_field v$i seq)" = 3 ] && ok || fail "v$i not set up: $(cat "$T/.enroll/v$i.log")"
done
note "$N villages enrolled, 3 change sets each"

start_daemon E E
URL=$(url_of E)

# all at once
T0=$(date +%s.%N)
for i in $(seq -w 1 $N); do
	timeout "$SYNC_TIMEOUT" "$HM" -d v$i sync "$URL" --json >"$T/sync-v$i.out" 2>"$T/sync-v$i.err" &
	BG_PIDS+=($!)
done
for i in $(seq -w 1 $N); do
	wait "${BG_PIDS[$((10#$i - 1))]}"
	rc=$?
	if [ "$rc" = 0 ] && [ "$(json_get "$T/sync-v$i.out" 'd["sent"], d["peer_new"]')" = "(3, 3)" ]; then
		ok
	else
		fail "v$i's sync: rc $rc, $(cat "$T/sync-v$i.out" "$T/sync-v$i.err")"
	fi
done
note "$N simultaneous syncs in $(python3 -c "import time; print('%.1f' % (time.time() - $T0))") s"
alive E && ok || fail "E's daemon died: $(tail -3 "$T/E.log")"

# the township holds all thirty villages' records
must -d E list person --json
[ "$(json_get "$OUT" 'len(d)')" = $((1 + 2 * N)) ] && ok || fail "E holds $(json_get "$OUT" 'len(d)') persons"
must -d E list stock --json
[ "$(json_get "$OUT" 'len(d)')" = $N ] && ok || fail "E holds $(json_get "$OUT" 'len(d)') stock records"

# a second round, again all at once: each village gets the township's record, nobody else's
BG_PIDS=()
for i in $(seq -w 1 $N); do
	timeout "$SYNC_TIMEOUT" "$HM" -d v$i sync "$URL" --json >"$T/sync-v$i.out" 2>"$T/sync-v$i.err" &
	BG_PIDS+=($!)
done
for i in $(seq -w 1 $N); do
	wait "${BG_PIDS[$((10#$i - 1))]}" && ok || fail "v$i's second sync: $(cat "$T/sync-v$i.err")"
done
for i in $(seq -w 1 $N); do
	must -d v$i list person --json
	ids=$(json_get "$OUT" '" ".join(r["id"] for r in d)')
	[ "$ids" = "E-1 v$i-a v$i-b" ] && ok || fail "v$i holds '$ids'"
	[ "$(digest_of v$i)" = "$("$HM" -d E digest --scope lin/east/v$i)" ] && ok ||
		fail "v$i's digest differs from E's view of it"
done
check_settled E
stop_daemon E
note "done"
finish
