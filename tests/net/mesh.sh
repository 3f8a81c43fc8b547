#!/usr/bin/env bash
# A whole county as daemons: county C, townships E and W, villages elm and oak (E's), ash and
# pine (W's), each `hamlet serve` on its own port. Every node writes offline first (persons,
# stock counters, and a township and its village editing the same record and counter); then
# the links come up in a random order (fixed seed), and syncs run over random allowed links
# (village <-> its township, township <-> county, either end starting) in rounds until one
# whole round moves nothing. Then:
#   - every node's digest equals the county's `digest --scope` of that node's region;
#   - a village holds its own, its township's and the county's records and nothing of another
#     village (ids from `list --json`), all of them;
#   - the conflicting edits resolved to one value everywhere, and counters summed every delta;
#   - no node has pending, quarantined or refused change sets, `check` passes everywhere;
#   - the county's audit is clean, and every daemon stops cleanly on SIGTERM.
. "$(dirname "$0")/netlib.sh"

SEED=20261129
RANDOM=$SEED

# ---- the county, enrolled by hand-carried files (lib.sh)
use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node W lin/west West C --may-enroll
new_node elm lin/east/elm Elm E
new_node oak lin/east/oak Oak E
new_node ash lin/west/ash Ash W
new_node pine lin/west/pine Pine W
NODES="C E W elm oak ash pine"
VILLAGES="elm oak ash pine"
declare -A TOWNSHIP=([elm]=E [oak]=E [ash]=W [pine]=W) TREGION=([E]=lin/east [W]=lin/west)
note "7 nodes enrolled"

for n in $NODES; do
	start_daemon "$n" "$n"
done
note "7 daemons serving"

# ---- offline writes: ids carry the writer's region (C-, E-, W-, or the village's name)
must -d C put person C-1 name="County one"
must -d C put person C-2 name="County two" category=close
must -d C put stock C-masks item=N95 'quantity+=1000'
for t in E W; do
	must -d $t put person $t-1 name="Township $t"
	must -d $t put stock $t-masks item=N95 'quantity+=200'
done
for v in $VILLAGES; do
	for i in 1 2 3; do
		must -d $v put person $v-$i name="$v person $i" arrival_date=2026-11-2$i
	done
	must -d $v put stock $v-masks item=N95 'quantity+=100'
	must -d $v put person $v-shared name="$v's own" phone=111
	must -d $v put stock $v-masks 'quantity-=7'
done
# the township edits its villages' records and counters while apart from them: conflicts
for v in $VILLAGES; do
	t=${TOWNSHIP[$v]}
	must -d $t put person $v-shared name="$t's version" status=home-isolation village=${TREGION[$t]}/$v
	must -d $t put stock $v-masks item=N95 'quantity-=30' site=${TREGION[$t]}/$v
done
note "offline writes done"

# ---- links: (lower upper); either end may start a sync
LINKS=("elm E" "oak E" "ash W" "pine W" "E C" "W C")

# sync_link "A B": a sync started by A or B (at random), to the other's daemon. Sets MOVED.
sync_link() {
	local a b from to
	read -r a b <<<"$1"
	if [ $((RANDOM % 2)) = 0 ]; then from=$a to=$b; else from=$b to=$a; fi
	net_sync "$from" "$(url_of "$to")"
	if [ "$RC" != 0 ]; then
		fail "sync $from -> $to failed"
		MOVED=1
		return
	fi
	ok
	[ "$SENT$RECEIVED" = 00 ] || MOVED=1
}

# shuffled: the link indexes in a random order.
shuffled() {
	local i j tmp order=(0 1 2 3 4 5)
	for ((i = 5; i > 0; i--)); do
		j=$((RANDOM % (i + 1)))
		tmp=${order[i]} order[i]=${order[j]} order[j]=$tmp
	done
	echo "${order[@]}"
}

# links come up one by one, in a random order
for i in $(shuffled); do
	sync_link "${LINKS[$i]}"
done
# then rounds of random links until a whole round moves nothing (at most 8)
rounds=0 syncs=6
while [ $rounds -lt 8 ]; do
	rounds=$((rounds + 1))
	MOVED=0
	for i in $(shuffled); do
		sync_link "${LINKS[$i]}"
		syncs=$((syncs + 1))
		# and now and then an extra random link
		[ $((RANDOM % 3)) = 0 ] && sync_link "${LINKS[$((RANDOM % 6))]}" && syncs=$((syncs + 1))
	done
	[ "$MOVED" = 0 ] && break
done
[ "$MOVED" = 0 ] && ok || fail "not quiescent after $rounds rounds"
note "quiescent after $rounds rounds, $syncs syncs"

# ---- every node holds exactly what its region may: the county's view of it
check_scoped C $NODES
check_settled $NODES
expect 0 "" -d C audit

# a village: its own records, its township's, the county's; none of another village's
for v in $VILLAGES; do
	t=${TOWNSHIP[$v]}
	must -d $v list person --json
	ids=$(json_get "$OUT" '" ".join(r["id"] for r in d)')
	want="C-1 C-2 $t-1 $v-1 $v-2 $v-3 $v-shared"
	[ "$ids" = "$want" ] && ok || fail "$v holds persons '$ids', want '$want'"
	must -d $v list stock --json
	ids=$(json_get "$OUT" '" ".join(r["id"] for r in d)')
	[ "$ids" = "C-masks $t-masks $v-masks" ] && ok || fail "$v holds stock '$ids'"
	for other in $VILLAGES; do
		[ "$other" = "$v" ] && continue
		expect 1 "" -d $v get person $other-1
	done
done

# the county holds everything, and the same resolved values as each village
must -d C list person --json
[ "$(json_get "$OUT" 'len(d)')" = $((2 + 2 + 4 * 4)) ] && ok || fail "county persons: $(cat "$OUT")"
for v in $VILLAGES; do
	must -d C get person $v-shared --json
	at_county=$(cat "$OUT")
	must -d $v get person $v-shared --json
	[ "$(cat "$OUT")" = "$at_county" ] && ok || fail "$v-shared differs: $(cat "$OUT") vs $at_county"
	must -d ${TOWNSHIP[$v]} get person $v-shared --json
	[ "$(cat "$OUT")" = "$at_county" ] && ok || fail "$v-shared differs at the township"
	must -d $v get stock $v-masks --json
	q=$(json_get "$OUT" 'd["fields"]["quantity"]')
	[ "$q" = 63 ] && ok || fail "$v-masks quantity $q, want 100 - 7 - 30 = 63"
done

# status --probe asks a peer, moving nothing, how many change sets wait each way: none once
# settled; one each way after a write on each side
for v in $VILLAGES; do
	t=${TOWNSHIP[$v]}
	must -d $v peer add hub "$(url_of $t)"
	must -d $v status --probe --json
	[ "$(json_get "$OUT" '[(p["probe"]["to_send"], p["probe"]["to_receive"]) for p in d["peers"]]')" = "[(0, 0)]" ] &&
		ok || fail "$v: settled, yet status --probe says: $(cat "$OUT")"
done
must -d elm put person elm-probe name="Probe"
must -d E put person elm-probe2 name="Probe 2" village=lin/east/elm
must -d elm status --probe --json
[ "$(json_get "$OUT" '[(p["probe"]["to_send"], p["probe"]["to_receive"]) for p in d["peers"]]')" = "[(1, 1)]" ] &&
	ok || fail "elm: after a write each side, status --probe says: $(cat "$OUT")"
must -d elm list person --json
json_get "$OUT" '[r["id"] for r in d]' | grep -q "elm-probe2" && fail "the probe moved a change set" || ok

# The names themselves (personal: shown with --show-pii, which writes to the access log, so
# last): the township's later edit won, and the village's lost name is in the county's log.
for v in $VILLAGES; do
	must -d $v get person $v-shared --json --show-pii
	[ "$(json_get "$OUT" 'd["fields"]["name"]')" = "${TOWNSHIP[$v]}'s version" ] && ok ||
		fail "$v-shared: the township's later edit did not win: $(cat "$OUT")"
	must -d C conflicts person $v-shared --json --show-pii
	json_get "$OUT" '[c["lost"] for c in d]' | grep -q "$v's own" && ok ||
		fail "$v-shared: the village's lost name is not in the county's conflict log"
done

for n in $NODES; do
	alive "$n" && ok || fail "daemon $n died: $(tail -3 "$T/$n.log")"
	stop_daemon "$n"
done
note "done"
finish
