#!/usr/bin/env bash
# Clocks that lie (issue #10, section 5), as a county runs it, with HAMLET_CLOCK_OFFSET_MS:
#   - a village 20 hours behind its hub enrolls (the certificate starts two drifts back);
#   - a village 23 h 50 min ahead pushes to its hub (a daemon); the hub writes after it; a village
#     20 minutes behind syncs and takes the hub's write (nothing quarantined): relays do not add
#     up drifts;
#   - a village two days ahead (beyond the one-day bound) is told by `sync`, `status` and the
#     hub's daemon log, with the offset, and keeps syncing;
#   - `hamlet status` answers while another process holds the hub's write lock.
. "$(dirname "$0")/netlib.sh"
HOLD_WRITE=${HAMLET_HOLD_WRITE:-}
need_helpers "$HOLD_WRITE"

MIN=60000
HOUR=$((60 * MIN))
DAY=$((24 * HOUR))

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node fast lin/east/fast Fast E
# ---- a village 20 hours behind its hub enrolls
must -d slow init --role village --region lin/east/slow --name Slow
HAMLET_CLOCK_OFFSET_MS=-$((20 * HOUR)) enroll slow E
must -d slow status --json
[ "$(json_get "$OUT" 'd["enrolled"]')" = True ] && ok || fail "a village 20 h behind did not enroll"

start_daemon E E

# ---- 23 h 50 min ahead, through the hub, to a village 20 minutes behind
HAMLET_CLOCK_OFFSET_MS=+$((23 * HOUR + 50 * MIN)) must -d fast put person fast-1 name=Fast
HAMLET_CLOCK_OFFSET_MS=+$((23 * HOUR + 50 * MIN)) must_sync fast "$(url_of E)"
must -d E put person E-1 name="Hub after fast"
HAMLET_CLOCK_OFFSET_MS=-$((20 * MIN)) must_sync slow "$(url_of E)"
must -d slow status --json
[ "$(json_get "$OUT" 'd["quarantined"], d["pending"]')" = "(0, 0)" ] && ok ||
	fail "the slow village quarantined the hub's write: $(cat "$OUT")"
must -d slow get person E-1
# its own write goes up, under a clock behind
HAMLET_CLOCK_OFFSET_MS=-$((20 * MIN)) must -d slow put person slow-1 name=Slow
HAMLET_CLOCK_OFFSET_MS=-$((20 * MIN)) must_sync slow "$(url_of E)"
must -d E get person slow-1

# ---- beyond the bound: told plainly, keeps working
HAMLET_CLOCK_OFFSET_MS=+$((2 * DAY)) must -d fast put person fast-2 name="Two days ahead"
HAMLET_CLOCK_OFFSET_MS=+$((2 * DAY)) net_sync fast "$(url_of E)"
[ "$RC" = 0 ] && ok || fail "a sync two days ahead failed: $(cat "$ERR")"
grep -q "^hamlet: sync: warning: this station's clock is 2 d 0 h ahead of that of peer" "$ERR" && ok ||
	fail "sync did not say the clock is two days ahead: $(cat "$ERR")"
off=$(json_get "$OUT" 'd["clock_offset_ms"]')
[ "$off" -le $((-2 * DAY + 5000)) ] && [ "$off" -ge $((-2 * DAY - 5000)) ] && ok ||
	fail "sync --json clock_offset_ms is $off"
hm -d fast status
[ "$RC" = 0 ] && ok || fail "status exited $RC"
grep -q "^clock     WRONG: 2 d 0 h ahead of peer" "$OUT" && ok ||
	fail "status does not say the clock is wrong: $(grep clock "$OUT")"
grep -q "^hamlet: status: warning: this station's clock is 2 d 0 h ahead" "$ERR" && ok ||
	fail "status printed no warning: $(cat "$ERR")"
must -d fast status --json
[ "$(json_get "$OUT" 'd["clock"]["off"]')" = True ] && ok || fail "status --json clock: $(cat "$OUT")"
for i in $(seq 1 50); do
	grep -q "clock is 2 d 0 h ahead of this station's" "$T/E.log" && break
	sleep 0.1
done
grep -q "clock is 2 d 0 h ahead of this station's, more than the allowed drift" "$T/E.log" && ok ||
	fail "the hub's log does not name the peer's clock: $(tail -3 "$T/E.log")"
must -d E get person fast-2 # two days is within two drifts: taken
# set right: the next sync clears it
must_sync fast "$(url_of E)"
must -d fast status
grep -q "^clock     .* within the allowed drift" "$OUT" && ok || fail "status after setting the clock right: $(grep clock "$OUT")"

# ---- status answers while the hub's write lock is held
coproc HOLD { "$HOLD_WRITE" E; }
read -r -t 10 line <&"${HOLD[0]}"
[ "$line" = holding ] && ok || fail "hold_write did not take the write lock: $line"
run timeout 10 "$HM" -d E status --json
[ "$RC" = 0 ] && ok || fail "status waited for the writer (exit $RC): $(cat "$ERR")"
run timeout 10 "$HM" -d E get person E-1
[ "$RC" = 0 ] && ok || fail "get waited for the writer (exit $RC)"
eval "exec ${HOLD[1]}>&-"
wait "$HOLD_PID"

stop_daemon E
finish
