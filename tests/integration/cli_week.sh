#!/bin/bash
# cli_week.sh - the scripted week of scripts/week.sh in a township of four villages, carried by
# bundle files between each village and the hub, then the county. Checks that every station ends
# with what it should, finds the duplicate registration, and checks each report on 2026-11-26
# against figures computed by hand from the week (the comments give the arithmetic).
. "$(dirname "$0")/lib.sh"

mesh || finish
# the East township's other two villages, enrolled by its hub
new_node pine lin/east/pine Pine E || finish
new_node birch lin/east/birch Birch E || finish
ln -s E east
ln -s C county

at() {
	local node=$1
	shift
	must -d "$node" "$@"
}
# link V...: V and the hub exchange what each lacks; the hub seals its bundle for V alone, so it
# holds only what V may hold.
link() {
	local v
	for v in "$@"; do
		carry east "$v"
		must -d east export -o "east-for-$v.bundle" --to "$(node_id "$v")" --force &&
			must -d "$v" import "east-for-$v.bundle"
	done
}

# The county's rule for penalties: missed returnees from 2026-11-25 on cost 5000, before 2000.
must -d county setting set penalty.cutoff 2026-11-25
carry east county

# shellcheck source=../../scripts/week.sh
. "$(dirname "$0")/../../scripts/week.sh"
week_all
carry county east
link elm oak pine birch # the county's view back through the hub

# ---- every station holds its region's records, as the county sees them
for v in elm oak pine birch; do
	[ "$("$HM" -d "$v" digest)" = "$("$HM" -d county digest --scope "lin/east/$v")" ] && ok ||
		fail "$v does not agree with the county's view of it"
done
[ "$("$HM" -d east digest)" = "$("$HM" -d county digest --scope lin/east)" ] && ok ||
	fail "the hub does not agree with the county's view of it"
must -d elm list person --json
[ "$(json_get "$OUT" 'sorted(r["id"] for r in d)')" = "['e1', 'e2', 'e3', 'e4']" ] && ok ||
	fail "elm holds only its own persons: $(cat "$OUT")"
expect 0 "" -d county audit

# ---- the duplicate registration: found on the hub by the keyed ID hash, merged there
must -d east person dups --json
[ "$(json_get "$OUT" '[[p["id"] for p in g] for g in d]')" = "[['e1', 'o3']]" ] && ok ||
	fail "person dups on the hub: $(cat "$OUT")"
must -d east person merge e1 o3 --reason "same ID number, registered by elm and oak"
carry county east

# ---- the county's reports for the township on the week's last day
# expect_table REPORT TABLE KEYCOLUMNS... -- ROWS: the rows of TABLE (the value columns named in
# the python literal ROWS, keyed by the key columns) are exactly ROWS.
report() {
	must -d county report "$1" --date 2026-11-26 --region lin/east --json "${@:2}" &&
		cp "$OUT" "report-$1.json"
}
expect_rows() {
	local file=$1 table=$2 keys=$3 cols=$4 want=$5
	python3 - "$file" "$table" "$keys" "$cols" "$want" <<'PY' && ok || fail "$file $table"
import json, sys
file, table, keys, cols, want = sys.argv[1:]
d = json.load(open(file))
t = next(t for t in d["tables"] if t["name"] == table)
ix = {c: i for i, c in enumerate(t["columns"])}
key = lambda r: tuple(r[ix[k]] for k in keys.split()) if " " in keys else r[ix[keys]]
got = {key(r): tuple(r[ix[c]] for c in cols.split()) for r in t["rows"]}
want = eval(want)
if got != want:
    for k in sorted(set(got) | set(want), key=str):
        if got.get(k) != want.get(k):
            print("  %s %s: got %s, want %s" % (table, k, got.get(k), want.get(k)))
    sys.exit(1)
PY
}

# daily. Under monitoring on 11-26 (an episode with start <= 26 and no end, or an end after 26):
# elm e1 (home, returnee), e2 (home, close), e4 (monitoring, returnee); oak o1 (central,
# returnee), o2 (home, close); pine p2 (central, case), p3 (home, close) - p1's ended on the 26th,
# so pine released 1; birch b1 (home, returnee), started on the 26th: new 1.
report daily
expect_rows report-daily.json under_monitoring region "monitored home central monitoring returnee close case new released" '{
 "lin/east/elm": (3, 2, 0, 1, 2, 1, 0, 0, 0), "lin/east/oak": (2, 1, 1, 0, 1, 1, 0, 0, 0),
 "lin/east/pine": (2, 1, 1, 0, 0, 1, 1, 0, 1), "lin/east/birch": (1, 1, 0, 0, 1, 0, 0, 1, 0),
 "lin/east": (8, 5, 2, 1, 4, 3, 1, 1, 1)}'
# Returnees by registration date: elm e1 (11-20, wuhan), e4 (11-25, hubei); oak o1 (wuhan); pine
# p1 (other); birch b1 and b2, both registered on the 26th (wuhan).
expect_rows report-daily.json returnees region "new cumulative wuhan hubei other" '{
 "lin/east/elm": (0, 2, 1, 1, 0), "lin/east/oak": (0, 1, 1, 0, 0), "lin/east/pine": (0, 1, 0, 0, 1),
 "lin/east/birch": (2, 2, 2, 0, 0), "lin/east": (2, 6, 4, 1, 1)}'
# Fevers on the 26th at or above 37.3: e2 37.6 (elm); p2 38.1 and 37.9 (pine); the pine
# checkpoint's shift 1 found 1.
expect_rows report-daily.json fevers region "followups checkpoints total" '{
 "lin/east/elm": (1, 0, 1), "lin/east/oak": (0, 0, 0), "lin/east/pine": (2, 1, 3),
 "lin/east/birch": (0, 0, 0), "lin/east": (3, 1, 4)}'

# monitoring (N = 2: the 25th and 26th). Two checks due a day for each of the 8: elm 6, oak 4,
# pine 4, birch 2. Done on the 26th: elm e1 2, e2 2, e4 1 (no evening check) = 5; oak o1 2, o2
# none = 2; pine p2 2, p3 2 = 4; birch b1 1. By phone: e4, p3 twice, b1 = 4 of 12.
report monitoring
expect_rows report-monitoring.json compliance region "expected done compliance_pct followups phone phone_pct" '{
 "lin/east/elm": (6, 5, 83.3, 5, 1, 20.0), "lin/east/oak": (4, 2, 50.0, 2, 0, 0.0),
 "lin/east/pine": (4, 4, 100.0, 4, 2, 50.0), "lin/east/birch": (2, 1, 50.0, 1, 1, 100.0),
 "lin/east": (16, 12, 75.0, 12, 4, 33.3)}'
expect_rows report-monitoring.json not_seen person last_followup '{"o2": ("2026-11-24",)}'
expect_rows report-monitoring.json phone_only person followups '{"b1": (1,), "p3": (3,)}'
expect_rows report-monitoring.json fever_alerts "person time" "temperature acted" '{
 ("e2", "2026-11-26T08:10"): (37.6, "yes"), ("p2", "2026-11-25T08:00"): (37.8, "yes"),
 ("p2", "2026-11-26T08:00"): (38.1, "no"), ("p2", "2026-11-26T18:00"): (37.9, "yes")}'
# Key persons (close contacts, cases): e2, o2, p2, p3. Their contacts: e3 (never checked) and
# p3 (checked).
expect_rows report-monitoring.json contacts_no_temperature person village '{"e3": ("lin/east/elm",)}'

# contacts: e1 -> e2 -> e3, o1 -> o2, p2 -> p3.
report contacts
expect_rows report-contacts.json close_unlisted person village '{"o2": ("lin/east/oak",), "p3": ("lin/east/pine",)}'
expect_rows report-contacts.json second_unmonitored person village '{"e3": ("lin/east/elm",)}'
expect_rows report-contacts.json chains persons "size case" '{
 "e1 e2 e3": (3, "no"), "o1 o2": (2, "no"), "p2 p3": (2, "yes")}'
must -d county report contacts --person e1 --date 2026-11-26 --json
expect_rows "$OUT" graph person distance '{"e1": (0,), "e2": (1,), "e3": (2,)}'

# supplies (N = 7: the 20th to the 26th). east-depot N95: received 2000 (the other 1000 of sh1
# were intercepted), 600 to elm-store; elm-store N95: 600 in, 140 + 70 + 70 issued = 280 (40.0 a
# day), 320 on the books, counted 300: -20, on hand 300, 7.5 days; 1000 requested, none
# received. Suits: 500 received, 100 issued (14.3 a day), 400 on hand: 28.0 days; 1000
# requested: gap 500. No use, no days of cover (null).
report supplies
expect_rows report-supplies.json stock "item store" "on_hand daily_use days_of_cover requested gap" '{
 ("N95", "east-depot"): (1400, 0.0, None, 0, 0), ("N95", "elm-store"): (300, 40.0, 7.5, 1000, 1000),
 ("suit", "east-depot"): (400, 14.3, 28.0, 1000, 500), ("thermometer", "east-depot"): (10, 0.0, None, 0, 0)}'
expect_rows report-supplies.json shipments "shipment item" "dispatched received intercepted" '{
 ("sh1", "N95"): (3000, 2000, 1000), ("sh1", "suit"): (500, 500, 0)}'
expect_rows report-supplies.json intercepted item intercepted '{"N95": (1000,)}'

# compounds: Riverside 3 (e1, e2) was told, property and residents; Oak Garden (o1, o2) only its
# property management; Elm Lane 7 (e4), Pine Court (p2, p3), Birch Row 2 (b1) nobody.
report compounds
expect_rows report-compounds.json property_not_told compound monitored '{
 "Birch Row 2": (1,), "Elm Lane 7": (1,), "Pine Court": (2,)}'
expect_rows report-compounds.json residents_not_told compound monitored '{
 "Birch Row 2": (1,), "Elm Lane 7": (1,), "Oak Garden": (2,), "Pine Court": (2,)}'

# rewards: tip-1 (elm) verified and paid, tip-2 (oak) rejected, tip-3 (birch) verified, unpaid:
# 500 each. Penalties under the county's cutoff of 11-25: birch's (11-26) 5000, oak's (11-20)
# 2000.
report rewards
expect_rows report-rewards.json tips region "received verified rejected owed paid_amount outstanding" '{
 "lin/east/elm": (1, 1, 0, 500, 500, 0), "lin/east/oak": (1, 0, 1, 0, 0, 0),
 "lin/east/birch": (1, 1, 0, 500, 0, 500), "lin/east": (3, 2, 1, 1000, 500, 500)}'
expect_rows report-rewards.json penalties region "penalties amount" '{
 "lin/east/oak": (1, 2000), "lin/east/birch": (1, 5000), "lin/east": (2, 7000)}'

# The same daily report as a page for the county officer, and the export is on record.
must -d county report daily --date 2026-11-26 --region lin/east --html -o daily.html
grep -q "<svg" daily.html && ! grep -q "http" daily.html && ok || fail "the daily page"
must -d county list access --json
[ "$(json_get "$OUT" '[a["fields"]["action"] for a in d]')" = "['export']" ] && ok ||
	fail "the page written to a file is an export on record: $(cat "$OUT")"

finish
