#!/bin/bash
# cli_ledger.sh - the commands of field work, end to end on an enrolled county (lib.sh `mesh`):
# registering persons, journeys, contacts, episodes, follow-ups, checkpoints, stock, tips; the
# ledger's rules on what people type (each bad value names its field and writes nothing);
# masking and the access log; one person registered by two villages, merged and unmerged; an
# identity changed at once by two stations; the county's settings; and purge.
. "$(dirname "$0")/lib.sh"

mesh || finish

# ---- registering persons
must -d elm person add --id p1 --name "Li Wei" --id-number 11010519491231002X \
	--category returnee --compound "Riverside 3" --phone 13800000000 --birth-year 1949 --json
[ "$(json_get "$OUT" 'd["id"], d["collection"]')" = "('p1', 'person')" ] && ok ||
	fail "person add --json: $(cat "$OUT")"
must -d elm person add --id p2 --name "Wang Fang" --category close --compound "Riverside 3"
must -d elm person add --id p3 --name "Zhao Xiao"
must -d elm person add --name "No Id Given" --json
json_get "$OUT" 'd["id"]' | grep -Eq '^p-[0-9a-z]+$' && ok || fail "a new person id: $(cat "$OUT")"

must -d elm get person p1 --json --show-pii
hash1=$(json_get "$OUT" 'd["fields"]["id_hash"]')
[ ${#hash1} = 32 ] && ok || fail "person add stores a 32-hex id_hash: '$hash1'"
[ "$(json_get "$OUT" 'd["fields"]["village"], d["fields"]["birth_year"]')" = \
	"('lin/east/elm', 1949)" ] && ok || fail "person fields: $(cat "$OUT")"

# ---- bad input: a clear error naming the field, and nothing written
expect_same elm 2 "id_number: must be an ID number with the right check character" \
	-d elm person add --name X --id-number 110105194912310021
expect_same elm 2 "id_number: must be an ID number of 18 characters" \
	-d elm person add --name X --id-number 1101051949
expect_same elm 2 "category: must be returnee\|close" -d elm person add --name X --category contact
expect_same elm 2 "name: is required" -d elm person add --name ""
expect_same elm 2 "unknown option '--nickname'" -d elm person add --name X --nickname Y
expect_same elm 1 "unknown person 'p1' \(register|unknown person" -d elm person edit nobody --status x
expect_same elm 1 "unknown person 'ghost'" -d elm followup add ghost --temp 37 --method visit
expect_same elm 2 "temperature: must be a body temperature between 34 and 43" \
	-d elm followup add p2 --temp 45.2 --method visit
expect_same elm 2 "temperature: must be a body temperature between 34 and 43" \
	-d elm followup add p2 --temp 33 --method visit
expect_same elm 2 "temperature: must be a number" -d elm followup add p2 --temp hot --method visit
expect_same elm 2 "method: must be visit\|phone\|self, not 'fax'" \
	-d elm followup add p2 --temp 37 --method fax
expect_same elm 1 "unknown person 'ghost'" -d elm contact add p1 ghost
expect_same elm 1 "not their own contact" -d elm contact add p1 p1
expect_same elm 2 "missing arguments" -d elm contact add p1
expect_same elm 2 "no verb 'sing'" -d elm episode sing p1
expect_same elm 1 "unknown checkpoint 's-none'" -d elm checkpoint tally s-none --shift 1
expect_same elm 2 "shift: must be 1\|2\|3" -d elm checkpoint tally s-none --shift 4

# ---- journeys and contacts
must -d elm return add p1 --id r1 --from-area wuhan --departure-date 2026-11-18 \
	--arrival-date 2026-11-20 --transport train --vehicle G1234 --found-by door \
	--route "Wuhan 2026-11-18; Zhengzhou 2026-11-19"
must -d elm get return r1 --json
[ "$(json_get "$OUT" 'd["fields"]["person"], d["fields"]["village"], len(d["fields"]["registered"])')" = \
	"('p1', 'lin/east/elm', 10)" ] && ok || fail "return add: $(cat "$OUT")"
expect_same elm 1 "arrival_date 2026-11-17 is before departure_date 2026-11-18" \
	-d elm return add p1 --departure-date 2026-11-18 --arrival-date 2026-11-17

must -d elm contact add p1 p2 --mode meal --json
x12=$(json_get "$OUT" 'd["id"]')
must -d elm contact add p2 p3 --mode household --json
x23=$(json_get "$OUT" 'd["id"]')
must -d elm get exposure "$x12" --json
[ "$(json_get "$OUT" 'd["fields"]["degree"]')" = 1 ] && ok || fail "a returnee's contact is degree 1"
must -d elm get exposure "$x23" --json
[ "$(json_get "$OUT" 'd["fields"]["degree"]')" = 2 ] && ok ||
	fail "a close contact's contact is degree 2: $(cat "$OUT")"

# ---- episodes: start, never shortened, end not before start
must -d elm episode start p2 --kind home --reason close --start 2026-11-21 --days 14 --json
e2=$(json_get "$OUT" 'd["id"]')
must -d elm get episode "$e2" --json
[ "$(json_get "$OUT" 'd["fields"]["planned_end"], d["fields"]["checks_per_day"]')" = \
	"('2026-12-05', 2)" ] && ok || fail "episode start --days 14: $(cat "$OUT")"
expect_same elm 1 "extended, never shortened: 2026-11-30 is before its planned end 2026-12-05" \
	-d elm episode extend "$e2" --to 2026-11-30
expect_same elm 1 "episode.planned_end only moves later: '2026-11-30' is before its 2026-12-05" \
	-d elm put episode "$e2" planned_end=2026-11-30
expect_same elm 2 "quantity: must be a number of at most 1000000000000" \
	-d elm stock receive N95 9000000000000000000 --store depot
must -d elm episode extend "$e2" --days 3
must -d elm get episode "$e2" --json
[ "$(json_get "$OUT" 'd["fields"]["planned_end"]')" = 2026-12-08 ] && ok ||
	fail "extend --days 3 from 2026-12-05: $(cat "$OUT")"
expect_same elm 1 "end: 2026-11-20 is before the episode's start 2026-11-21" \
	-d elm episode end "$e2" --end 2026-11-20
expect_same elm 1 "unknown episode 'e-none'" -d elm episode end e-none

# ---- follow-ups: slot from the time, linked to the running episode; a check has a result
expect_same elm 2 "a follow-up needs its result" -d elm followup add p2
expect_same elm 2 "a follow-up needs its result" -d elm followup add p2 --method visit
must -d elm followup add p2 --temp 37.4 --method visit --time 2026-11-22T08:30 --json
f1=$(json_get "$OUT" 'd["id"]')
must -d elm get followup "$f1" --json
[ "$(json_get "$OUT" 'd["fields"]["slot"], d["fields"]["episode"], d["fields"]["temperature"]')" = \
	"('morning', '$e2', 37.4)" ] && ok || fail "followup add: $(cat "$OUT")"
must -d elm followup add p2 --temp 36.9 --method phone --time 2026-11-22T19:10 --json
must -d elm get followup "$(json_get "$OUT" 'd["id"]')" --json
[ "$(json_get "$OUT" 'd["fields"]["slot"]')" = evening ] && ok || fail "an evening check"
must -d elm followup add p3 --temp 36.5 --method visit --time 2026-11-22T09:00 --json
[ "$(json_get "$OUT" '"no episode running" in d["note"]')" = True ] && ok ||
	fail "a check of someone with no episode says so: $(cat "$OUT")"

# ---- checkpoints and stock
must -d elm site add --id s-north --name "North gate" --kind checkpoint
must -d elm site add --id s-clinic --name "Clinic" --kind clinic
expect_same elm 1 "site s-clinic is a clinic, not a checkpoint" -d elm checkpoint tally s-clinic --shift 1
must -d elm checkpoint tally s-north --shift 2 --date 2026-11-22 --vehicles 40 --persons 75 \
	--from-hubei 3 --fever 1 --json
must -d elm get checkpoint_tally "$(json_get "$OUT" 'd["id"]')" --json
[ "$(json_get "$OUT" 'd["fields"]["persons"], d["fields"]["shift"]')" = "(75, 2)" ] && ok ||
	fail "checkpoint tally: $(cat "$OUT")"
# stores are sites of kind store: an unknown store is refused with the known ones
expect_same elm 1 "unknown store 'depot' \\(no store is known here" \
	-d elm stock receive N95 500 --store depot
must -d elm site add --id depot --name "Village depot" --kind store
must -d elm site add --id clinic --name "Clinic store" --kind store
expect_same elm 1 "unknown store 'nowhere' \\(known: clinic, depot" -d elm stock issue N95 5 --store nowhere
expect_same elm 1 "unknown store 'nowhere'" -d elm stock transfer N95 5 --store depot --to nowhere
must -d elm stock receive N95 500 --store depot --shipment sh1 --date 2026-11-20
must -d elm stock issue N95 120 --store depot --date 2026-11-21
must -d elm stock transfer N95 50 --store depot --to clinic --date 2026-11-21
expect_same elm 2 "a transfer needs --to STORE" -d elm stock transfer N95 5 --store depot
expect_same elm 2 "say which store" -d elm stock issue N95 5
expect_same elm 1 "quantity: must be a positive whole number" -d elm stock issue N95 -5 --store depot
expect_same elm 2 "say which shipment was intercepted" -d elm stock intercept N95 5 --store depot
must -d elm stock count N95 320 --store depot --date 2026-11-22 --json
grep -q "the books said 330, corrected by -10" "$OUT" && ok ||
	fail "a count is the correction against 500-120-50: $(cat "$OUT")"
must -d elm get stock_txn "$(json_get "$OUT" 'd["id"]')" --json
[ "$(json_get "$OUT" 'd["fields"]["quantity"], d["fields"]["counted_as"], d["fields"]["movement"]')" = \
	"(-10, 320, 'counted')" ] && ok || fail "the stored count: $(cat "$OUT")"

# ---- masking and the access log
must -d elm person show p1
grep -q "L\*\*\*\*\*" "$OUT" && ! grep -q "Li Wei\|13800000000\|11010519491231002X" "$OUT" && ok ||
	fail "person show masks personal fields: $(cat "$OUT")"
grep -q "^journeys:" "$OUT" && grep -q "return/r1" "$OUT" && ok || fail "person show lists journeys"
must -d elm list access --json
before=$(json_get "$OUT" 'len(d)')
must -d elm person show p1 --show-pii --json
[ "$(json_get "$OUT" 'd["person"]["fields"]["name"], d["person"]["fields"]["phone"]')" = \
	"('Li Wei', '13800000000')" ] && ok || fail "person show --show-pii: $(cat "$OUT")"
must -d elm list access --json
[ "$(json_get "$OUT" 'len(d) - '"$before"', d[-1]["fields"]["action"], d[-1]["fields"]["what"], d[-1]["fields"]["records"]')" = \
	"(1, 'reveal', 'person show p1', 1)" ] && ok || fail "the reveal is in the access log: $(cat "$OUT")"
must -d elm person find Li --json
[ "$(json_get "$OUT" '[(p["id"], p["name"]) for p in d]')" = "[('p1', 'L*****')]" ] && ok ||
	fail "person find Li: $(cat "$OUT")"
# a masked search for TEXT still says that someone matched: one entry in the access log
must -d elm list access --json
[ "$(json_get "$OUT" 'd[-1]["fields"]["what"], d[-1]["fields"]["records"]')" = "('person find TEXT', 1)" ] &&
	ok || fail "a masked search for TEXT is in the access log: $(cat "$OUT")"
must -d elm person find Li --show-pii --json
[ "$(json_get "$OUT" '[p["name"] for p in d]')" = "['Li Wei']" ] && ok || fail "find --show-pii"
must -d elm list access --json
[ "$(json_get "$OUT" 'd[-1]["fields"]["what"], d[-1]["fields"]["records"]')" = "('person find TEXT', 1)" ] &&
	ok || fail "the access log says a search was made, not what for: $(cat "$OUT")"
must -d elm list person --where name=Li --show-pii
must -d elm list access --json
[ "$(json_get "$OUT" 'd[-1]["fields"]["what"]')" = "list person --where name=..." ] && ok ||
	fail "no searched name in the access log: $(cat "$OUT")"
must -d elm person find --id-number 11010519491231002x --json
[ "$(json_get "$OUT" '[p["id"] for p in d]')" = "['p1']" ] && ok ||
	fail "person find --id-number (lower-case x): $(cat "$OUT")"
must -d elm person add --id p5 --name "Typo" --id-number 110105194912310038
must -d elm person edit p5 --id-number ""
must -d elm get person p5 --json --show-pii
[ "$(json_get "$OUT" 'd["fields"].get("id_number"), d["fields"].get("id_hash")')" = "(None, None)" ] &&
	ok || fail "clearing the ID number clears its hash: $(cat "$OUT")"
must -d elm person find --category close --compound "Riverside 3" --json
[ "$(json_get "$OUT" '[p["id"] for p in d]')" = "['p2']" ] && ok || fail "person find by category"
# a --village this node does not hold (outside its region, or no village of it known) is an error
expect 1 "region lin/west is outside this node's region lin/east/elm" -d elm person find --village lin/west
expect 1 "no village in lin/east/elm-x|outside this node" -d elm person find --village lin/east/elm-x
expect 1 "no village in lin/east/nowhere is known to this node" -d E person find --village lin/east/nowhere
must -d elm person find --village lin/east --json
[ "$(json_get "$OUT" 'len(d) > 0')" = True ] && ok || fail "person find --village of the township"
expect 2 "is not a region" -d elm person find --village Lin/East
# no arguments: what is missing, and the usage line once
expect_same elm 2 "^hamlet: person add: a new person needs its name" -d elm person add
grep -q "usage: usage" "$ERR" && fail "person add: 'usage: usage:'" || ok

# ---- one person registered by two villages: found by the keyed hash, merged, unmerged, kept
# apart
must -d oak person add --id q1 --name "Li W." --id-number 11010519491231002x
must -d oak get person q1 --json --show-pii
[ "$(json_get "$OUT" 'd["fields"]["id_hash"]')" = "$hash1" ] && ok ||
	fail "two villages compute the same id_hash for one ID number"
carry E elm oak
must -d E person dups --json
[ "$(json_get "$OUT" '[[p["id"] for p in g] for g in d]')" = "[['p1', 'q1']]" ] && ok ||
	fail "person dups on the township: $(cat "$OUT")"
must -d E person dups
grep -q "proposal: hamlet person merge p1 q1" "$OUT" && ok || fail "a merge proposal: $(cat "$OUT")"
expect_same E 1 "unknown person 'zz'" -d E person merge p1 zz
expect_same E 1 "never merged" -d E person unmerge p1 q1
must -d E person merge p1 q1 --reason "same ID number"
must -d E get merge m-p1-q1 --json
[ "$(json_get "$OUT" 'd["fields"]["state"], d["fields"]["region"]')" = "('merged', 'lin/east')" ] &&
	ok || fail "the merge record lives where both villages see it: $(cat "$OUT")"
must -d E person dups --json
[ "$(json_get "$OUT" 'd')" = "[]" ] && ok || fail "merged persons are no longer proposed"
expect_same E 1 "q1 is already merged into p1" -d E person merge p2 q1
expect_same E 1 "q1 is itself merged into p1: merge into p1" -d E person merge q1 p1
must -d E person unmerge p1 q1 --json
[ "$(json_get "$OUT" 'd["merge"], d["state"], d["seq"] > 0')" = "('m-p1-q1', 'undone', True)" ] &&
	ok || fail "person unmerge --json: $(cat "$OUT")"
must -d E person dups --json
[ "$(json_get "$OUT" 'len(d)')" = 1 ] && ok || fail "an unmerge brings the proposal back"
# two persons after all: kept apart, no longer proposed (here, nor at the village that takes
# the record), merged again only by a merge
expect_same E 1 "unknown person 'zz'" -d E person apart p1 zz
must -d E person apart q1 p1 --reason "two sisters" --json
[ "$(json_get "$OUT" 'd["merge"], d["state"]')" = "('m-p1-q1', 'apart')" ] && ok ||
	fail "person apart --json (the pair's one record): $(cat "$OUT")"
must -d E person dups --json
[ "$(json_get "$OUT" 'd')" = "[]" ] && ok || fail "a pair kept apart is still proposed: $(cat "$OUT")"
carry oak E
must -d oak get merge m-p1-q1 --json
[ "$(json_get "$OUT" 'd["fields"]["state"]')" = "apart" ] && ok ||
	fail "the village does not hold the pair kept apart: $(cat "$OUT")"
must -d E person merge p1 q1
must -d E person dups --json
[ "$(json_get "$OUT" 'd')" = "[]" ] && ok || fail "merged after keeping apart: $(cat "$OUT")"
must -d E person unmerge p1 q1

# ---- an identity changed at once by two stations is an open question until decided
carry elm E
# elm edits twice (its second value is the one in question), the hub once, at the same time
HAMLET_CLOCK_OFFSET_MS=800 must -d elm person edit p2 --name "Wang Fang A0"
HAMLET_CLOCK_OFFSET_MS=1000 must -d elm person edit p2 --name "Wang Fang A"
HAMLET_CLOCK_OFFSET_MS=1000 must -d E person edit p2 --name "Wang Fang B"
carry elm E
carry E elm
for d in elm E; do
	must -d "$d" person show p2 --json
	[ "$(json_get "$OUT" 'len(d["open_identity_questions"]), d["open_identity_questions"][0]["field"]')" = \
		"(1, 'name')" ] && ok || fail "$d: an open identity question: $(cat "$OUT")"
done
must -d elm conflicts person p2 --show-pii --json
shown=$(json_get "$OUT" 'len(d)')
must -d elm list access --json
[ "$shown" -ge 1 ] && [ "$(json_get "$OUT" 'd[-1]["fields"]["records"]')" = "$shown" ] && ok ||
	fail "conflicts --show-pii records how many it showed ($shown): $(cat "$OUT")"
must -d elm person show p2
grep -q "decide with \`hamlet person edit p2 --name" "$OUT" && ok || fail "how to decide: $(cat "$OUT")"
HAMLET_CLOCK_OFFSET_MS=5000 must -d elm person edit p2 --name "Wang Fang"
must -d elm person show p2 --json
[ "$(json_get "$OUT" 'd["open_identity_questions"]')" = "[]" ] && ok ||
	fail "an edit decides the question: $(cat "$OUT")"

# ---- the county's settings reach every node
expect_same elm 1 "settings are the county's" -d elm setting set reward.tip 800
expect_same C 2 "no setting 'reward.tips'" -d C setting set reward.tips 800
expect_same C 1 "fever.threshold must be a temperature" -d C setting set fever.threshold 50
expect_same C 1 "reward.tip must be a whole amount" -d C setting set reward.tip 12.5
expect_same C 1 "penalty.cutoff must be a date YYYY-MM-DD" -d C setting set penalty.cutoff 2026-02-30
must -d C setting set reward.tip 800 --json
[ "$(json_get "$OUT" 'd["setting"], d["seq"] > 0')" = "('reward.tip', True)" ] && ok ||
	fail "setting set --json: $(cat "$OUT")"
carry elm C
must -d elm setting list --json
[ "$(json_get "$OUT" 'd["reward.tip"]')" = 800 ] && ok || fail "setting list on a village"
must -d elm tip add --subject "a returnee at No. 5" --json
tip=$(json_get "$OUT" 'd["id"]')
expect_same elm 1 "is not verified" -d elm tip pay "$tip"
must -d elm tip verify "$tip"
must -d elm get tip "$tip" --json
[ "$(json_get "$OUT" 'd["fields"]["state"], d["fields"]["reward"]')" = "('verified', 800)" ] && ok ||
	fail "a verified tip earns the county's reward: $(cat "$OUT")"

# ---- purge: personal fields cleared everywhere, counts and signatures intact
must -d elm person add --id p9 --name "Sun Mei" --phone 13900000009 --id-number 11010519491231002X
grep -q "note: p1 has the same ID number" "$OUT" && ok || fail "a second registration is noted: $(cat "$OUT")"
must -d elm episode start p9 --kind monitoring --start 2026-10-01 --days 14 --json
e9=$(json_get "$OUT" 'd["id"]')
must -d elm episode end "$e9" --end 2026-10-15
carry E elm
HAMLET_CLOCK_OFFSET_MS=2000 must -d E person edit p9 --phone 13900000010 # logged on elm as lost
carry elm E
HAMLET_CLOCK_OFFSET_MS=1000 must -d elm person edit p9 --phone 13900000011
must -d elm purge --ended-before 2026-11-01 --dry-run --json
[ "$(json_get "$OUT" 'd["persons"], d["purged"]')" = "(['p9'], 0)" ] && ok ||
	fail "purge --dry-run lists p9 only (p2's episode runs): $(cat "$OUT")"
expect_same elm 2 "ended-before must be a date" -d elm purge --ended-before 2026-13-01
must -d elm purge --ended-before 2026-11-01 --json
[ "$(json_get "$OUT" 'd["purged"]')" = 1 ] && ok || fail "purge: $(cat "$OUT")"
carry E elm
for d in elm E; do
	must -d "$d" get person p9 --json --show-pii
	[ "$(json_get "$OUT" 'sorted(k for k, v in d["fields"].items() if v is not None)')" = \
		"['purged', 'village']" ] && ok ||
		fail "$d: only the region and the purge date remain: $(cat "$OUT")"
	must -d "$d" conflicts person p9 --json
	! grep -q "1390000" "$OUT" && ok || fail "$d: the conflict log keeps no phone: $(cat "$OUT")"
done
# (the reveals above wrote to each access log: exchange once more)
carry E C elm
carry elm E
# E holds more than elm (oak's records): compare what elm may hold
[ "$("$HM" -d elm digest --scope lin/east/elm)" = "$("$HM" -d E digest --scope lin/east/elm)" ] &&
	ok || fail "elm and E agree on elm's records after the purge"
must -d elm purge --ended-before 2026-11-01 --json
[ "$(json_get "$OUT" 'd["purged"]')" = 0 ] && ok || fail "a second purge has nothing to do"
# A phone written after the purge, by a node that had not heard of it, is purged again.
HAMLET_CLOCK_OFFSET_MS=9000 must -d elm person edit p9 --phone 13900000012
must -d elm purge --ended-before 2026-11-01 --json
[ "$(json_get "$OUT" 'd["persons"], d["purged"]')" = "(['p9'], 1)" ] && ok ||
	fail "personal data written after a purge is purged again: $(cat "$OUT")"
expect 0 "" -d E audit
expect 0 "" -d elm check

# ---- a county-wide purge over more villages than one write may touch (64 regions)
python3 - <<'PY'
for part in (0, 1):
    vs = range(part * 35, part * 35 + 35)
    with open("wide-person-%d.csv" % part, "w") as f:
        f.write("id,name,village,phone\n")
        f.writelines("w%d,Wide %d,lin/east/v%d,1390000%04d\n" % (v, v, v, v) for v in vs)
    with open("wide-episode-%d.csv" % part, "w") as f:
        f.write("id,person,village,kind,start,end\n")
        f.writelines("we%d,w%d,lin/east/v%d,home,2020-01-01,2020-01-15\n" % (v, v, v) for v in vs)
PY
for part in 0 1; do
	must -d C import-csv person "wide-person-$part.csv"
	must -d C import-csv episode "wide-episode-$part.csv"
done
must -d C purge --ended-before 2020-02-01 --json
[ "$(json_get "$OUT" 'd["purged"], d["writes"], len(d["persons"])')" = "(70, 3, 70)" ] && ok ||
	fail "a purge of 70 villages in writes of 32 villages: $(cat "$OUT")"
must -d C get person w69 --json --show-pii
[ "$(json_get "$OUT" 'd["fields"]["phone"], d["fields"]["purged"] is not None')" = "(None, True)" ] &&
	ok || fail "the last village's person is purged: $(cat "$OUT")"

# ---- the county extends the schema; a node that does not know a field keeps and passes it on
expect_same elm 1 "the schema is the county's" -d elm schema add-field person vaccinated bool
expect_same C 1 "type must be text, int" -d C schema add-field person vaccinated yesno
expect_same C 1 "already has a field 'phone'" -d C schema add-field person phone text
expect_same C 1 "a field name is 1 to 64 of a-z" -d C schema add-field person 'a"b' text
must -d C schema add-field person vaccinated bool --help-text "two doses"
expect_same elm 2 "unknown option '--vaccinated'" -d elm person edit p1 --vaccinated yes
carry elm C
must -d elm schema list person --json
[ "$(json_get "$OUT" '[(f["field"], f["type"]) for f in d if f["added_by_county"]]')" = \
	"[('vaccinated', 'bool')]" ] && ok || fail "schema list shows the added field: $(cat "$OUT")"
expect_same elm 1 "vaccinated: must be true or false" -d elm person edit p1 --vaccinated maybe
must -d elm person edit p1 --vaccinated yes
must -d elm put person p2 vaccinated=no
must -d E schema list person --json
[ "$(json_get "$OUT" '[f["field"] for f in d if f["added_by_county"]]')" = "[]" ] && ok ||
	fail "E has not heard of the field yet"
carry E elm
must -d E get person p1 --json
[ "$(json_get "$OUT" 'd["fields"]["vaccinated"]')" = True ] && ok ||
	fail "E keeps a field it does not know: $(cat "$OUT")"
carry C E
must -d C get person p2 --json
[ "$(json_get "$OUT" 'd["fields"]["vaccinated"]')" = False ] && ok ||
	fail "E passed the field on to the county: $(cat "$OUT")"

# A record holds at most 64 fields: the county may fill the person's up to that, no further.
must -d C schema list person --json
have=$(json_get "$OUT" 'len(d)')
room=$((64 - have - 3)) # schema list leaves out id_hash, name_seen and id_number_seen
for ((i = 1; i <= room; i++)); do
	hm -d C schema add-field person "extra$i" int
	[ "$RC" = 0 ] || break
done
[ "$RC" = 0 ] && ok || fail "adding field $i of $room: $(cat "$ERR")"
expect_same C 1 "a record holds at most 64" -d C schema add-field person one_too_many int

# ---- --help everywhere
for c in "person add" "person show" "person find" "person dups" "person merge" "return add" \
	"contact add" "episode start" "episode extend" "episode end" "followup add" \
	"checkpoint tally" "stock receive" "stock count" "tip verify" "site add" "notice add" \
	"penalty add" "setting" "purge" "schema" "person dups" "person unmerge"; do
	# shellcheck disable=SC2086
	hm $c --help
	[ "$RC" = 0 ] && grep -q "^usage: hamlet" "$OUT" && ok || fail "$c --help"
done
# every option a verb takes is in its --help (generated from the verb table and the schema)
hm followup add --help
grep -q -- "--episode" "$OUT" && grep -q -- "--temp" "$OUT" && ok || fail "followup add --help"
hm stock issue --help
for o in --store --date --counterparty --shipment --worker --unit --id --json; do
	grep -q -- "$o " "$OUT" && ok || fail "stock issue --help lacks $o"
done

finish
