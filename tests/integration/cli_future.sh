#!/usr/bin/env bash
# A change set from the far future: written on a node whose clock runs 3 days ahead, imported
# on a node with a true clock, it is quarantined, not applied (and its successor waits in
# pending). A later import on the receiver with its clock moved ahead too releases both.
. "$(dirname "$0")/lib.sh"

ahead=$((3 * 86400 * 1000))
new_node w lin/east/elm
HAMLET_CLOCK_OFFSET_MS=+$ahead must -d w put person p1 name=Future
HAMLET_CLOCK_OFFSET_MS=+$ahead must -d w put person p1 phone=13800000000
must -d w export -o w.bundle
must -d w log --json
[ "$(json_get "$OUT" 'd[0]["time"][:10]')" = "$(date -u -d "+3 days" +%F)" ] && ok ||
	fail "HAMLET_CLOCK_OFFSET_MS=+3 days did not move the writer's clock: $(cat "$OUT")"

new_node r lin/east # the hub: it may hold the village's records
must -d r put person r1 name=Here
digest_r=$(digest_of r)

# ---- a true clock: quarantined and pending, not applied
expect 0 "" -d r import w.bundle --json
[ "$(json_get "$OUT" 'd["new"], d["quarantined"], d["pending"]')" = "(0, 1, 1)" ] && ok ||
	fail "importing a change set 3 days ahead: $(cat "$OUT")"
grep -Eq "^hamlet: import: warning: quarantined change set 1: its clock is beyond the allowed drift" \
	"$ERR" && ok || fail "no warning says a change set was quarantined"
[ "$(digest_of r)" = "$digest_r" ] && ok || fail "a quarantined change set changed the records"
expect 1 "no record person/p1" -d r get person p1
must -d r status --json
[ "$(json_get "$OUT" 'd["quarantined"], d["pending"], d["changesets"]')" = "(1, 1, 1)" ] && ok ||
	fail "status after the quarantine: $(cat "$OUT")"
expect 0 "" -d r check

# the text report says so too
expect 0 "" -d r import w.bundle
grep -q "imported w.bundle: 0 new, 2 duplicate" "$OUT" && ok ||
	fail "importing the quarantined bundle again: $(cat "$OUT")"
[ "$(digest_of r)" = "$digest_r" ] && ok || fail "a second import changed the records"
new_node r0 lin/east
expect 0 "" -d r0 import w.bundle
grep -q ", 1 quarantined (clock ahead" "$OUT" && ok ||
	fail "the text report does not say a change set was quarantined: $(cat "$OUT")"
grep -q "imported w.bundle: 0 new, 0 duplicate, 1 pending, 0 refused, 1 quarantined" "$OUT" && ok ||
	fail "the text report counts the quarantined change set as refused: $(cat "$OUT")"

# ---- the receiver's clock moved ahead as well: the next import releases them
HAMLET_CLOCK_OFFSET_MS=+$ahead expect 0 "" -d r import w.bundle --json
[ "$(json_get "$OUT" 'd["new"], d["quarantined"], d["pending"]')" = "(2, 0, 0)" ] && ok ||
	fail "importing with the receiver's clock ahead: $(cat "$OUT")"
must -d r get person p1 --json
[ "$(json_get "$OUT" 'd["fields"]["name"], d["fields"]["phone"]')" = "('F*****', '138******00')" ] &&
	ok || fail "the released change sets are not applied: $(cat "$OUT")"
must -d r status --json
[ "$(json_get "$OUT" 'd["quarantined"], d["pending"], d["changesets"]')" = "(0, 0, 3)" ] && ok ||
	fail "status after the release: $(cat "$OUT")"
expect 0 "" -d r check
# the writer and the receiver agree once each holds the other's change sets
must -d r export -o r.bundle
HAMLET_CLOCK_OFFSET_MS=+$ahead must -d w import r.bundle
[ "$(digest_of r)" = "$(digest_of w)" ] && ok || fail "writer and receiver digests differ"

# ---- a wider drift allowance releases it as well, without moving the clock
new_node r2 lin/east
expect 0 "" -d r2 import w.bundle
HAMLET_MAX_DRIFT_MS=$((4 * 86400 * 1000)) expect 0 "" -d r2 import w.bundle --json
[ "$(json_get "$OUT" 'd["new"]')" = 2 ] && ok || fail "HAMLET_MAX_DRIFT_MS=4 days: $(cat "$OUT")"
expect 1 "no record person/r1" -d r2 get person r1
must -d r2 get person p1
finish
