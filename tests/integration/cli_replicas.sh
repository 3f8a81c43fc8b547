#!/usr/bin/env bash
# Three replicas written apart exchange bundles in different orders - whole, transitive, and
# incremental bundles out of order - and end with equal digests, records and conflict logs.
# Concurrent edits show in `conflicts` and `blame`; counters sum every node's deltas; a field
# written after a concurrent delete brings the record back.
. "$(dirname "$0")/lib.sh"

new_node a lin/east/elm
new_node b lin/east/oak
new_node c lin/east

# ---- written apart
must -d a put person shared name=Ann-a phone=111
must -d a put stock masks item=N95 'quantity+=100'
must -d a put person only-a name=Alpha
must -d a put person doomed name=Dee phone=999
must -d a export -o a1.bundle
must -d a put followup fa person=shared time=2026-11-20T08:30 temperature=36.6
must -d a put person shared birth_year=1980
must -d a export -o a2.bundle --since "$("$HM" -d a status --json |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print("%s:%d" % (d["node_id"], 4))')"
must -d a export -o a-all.bundle

must -d b put person shared name=Ann-b
must -d b put stock masks item=N95 'quantity+=50'
must -d b put person only-b name=Beta
must -d b import a1.bundle           # b learns of doomed
must -d b del person doomed
must -d b export -o b-all.bundle

must -d c put person shared name=Ann-c category=contact
must -d c put stock masks item=N95 'quantity-=30'
must -d c put followup fc person=shared time=2026-11-21T08:30 temperature=37.9
must -d c import a1.bundle
must -d c put person doomed phone=555 # after b's delete (by clock), unseen by b
must -d c export -o c-all.bundle

# ---- an incremental bundle before the one it follows: it waits in pending
new_node d lin/west/ash
expect 0 "" -d d import a2.bundle --json
[ "$(json_get "$OUT" 'd["new"], d["pending"]')" = "(0, 2)" ] && ok ||
	fail "a2 before a1: $(cat "$OUT")"
expect 0 "" -d d import a1.bundle --json
[ "$(json_get "$OUT" 'd["new"], d["pending"]')" = "(6, 0)" ] && ok ||
	fail "a1 after a2: $(cat "$OUT")"
must -d d status --json
[ "$(json_get "$OUT" 'd["pending"], d["changesets"]')" = "(0, 6)" ] && ok ||
	fail "pending not drained: $(cat "$OUT")"

# ---- different orders: a takes c then b; b takes a then c; c takes b's, then a's full bundle
must -d a import c-all.bundle
must -d a import b-all.bundle
must -d b import a2.bundle
must -d b import c-all.bundle
must -d c import b-all.bundle
must -d c import a-all.bundle
# and d, which holds a's only, takes the others' newest exports, relayed through b
must -d b export -o b-relay.bundle
must -d d import b-relay.bundle

for n in a b c d; do expect 0 "" -d "$n" check; done
da=$(digest_of a)
for n in b c d; do
	[ "$(digest_of "$n")" = "$da" ] && ok || fail "digest of $n differs from a's"
done
for coll in person followup stock; do
	"$HM" -d a list "$coll" --json >list-a.json
	for n in b c d; do
		"$HM" -d "$n" list "$coll" --json >list-n.json
		cmp -s list-a.json list-n.json && ok || fail "list $coll on $n differs from a"
	done
done
status_sets() { "$HM" -d "$1" status --json | python3 -c 'import json, sys
d = json.load(sys.stdin); print(d["changesets"], d["pending"], sorted(d["version_vector_text"].split(",")))'; }
sa=$(status_sets a)
for n in b c d; do
	[ "$(status_sets "$n")" = "$sa" ] && ok || fail "change sets of $n differ: $(status_sets "$n") vs $sa"
done

# ---- the merged state
must -d a get stock masks --json
[ "$(json_get "$OUT" 'd["fields"]["quantity"]')" = 120 ] && ok ||
	fail "masks quantity is not 100 + 50 - 30: $(cat "$OUT")"
must -d a get person shared --json
[ "$(json_get "$OUT" 'd["fields"]["name"], d["fields"]["birth_year"], d["fields"]["category"]')" = \
	"('Ann-c', 1980, 'contact')" ] && ok || fail "person/shared merged wrong: $(cat "$OUT")"
must -d a get person doomed --json
[ "$(json_get "$OUT" 'sorted(d["fields"].items())')" = "[('phone', '555')]" ] && ok ||
	fail "person/doomed: want only c's later phone, got $(cat "$OUT")"
must -d a list followup --json
[ "$(json_get "$OUT" 'len(d)')" = 2 ] && ok || fail "followups from a and c not both there"

# ---- conflicts and blame show the concurrent edits, the same on every replica
must -d a conflicts person shared --json
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
lost = sorted(c["lost"] for c in d if c["field"] == "name")
sys.exit(0 if lost == ["Ann-a", "Ann-b"] else 1)' "$OUT" && ok ||
	fail "conflicts person shared: want Ann-a and Ann-b lost, got $(cat "$OUT")"
expect 0 "" -d a conflicts
grep -q "person/shared name: lost 'Ann-a'" "$OUT" && grep -q "person/doomed .*to a delete by" "$OUT" &&
	ok || fail "conflicts text: $(cat "$OUT")"
# The values that lost, and the writes they came from, are the same on every replica.
losers() { "$HM" -d "$1" conflicts --json | python3 -c 'import json, sys
print(sorted((c["collection"], c["id"], c["field"], json.dumps(c["lost"]), c["lost_stamp"]["origin"],
              c["lost_stamp"]["seq"]) for c in json.load(sys.stdin)))'; }
la=$(losers a)
for n in b c d; do
	[ "$(losers "$n")" = "$la" ] && ok || fail "the values lost on $n differ from a's"
done
# What each value lost to is recorded as it happened, so it depends on the arrival order.
conflict_set() { "$HM" -d "$1" conflicts --json | python3 -c 'import json, sys
print(sorted(json.dumps(c, sort_keys=True) for c in json.load(sys.stdin)))'; }
same_conflict_logs() {
	local n ca
	ca=$(conflict_set a)
	for n in b c d; do
		[ "$(conflict_set "$n")" = "$ca" ] && ok || fail "the conflict log of $n differs from a's"
	done
}
known_bug "node/merge.c (conflict log): a conflict's winner_stamp is the write the value lost to \
on arrival, not the final winner, so replicas that took the same change sets in other orders \
show different conflict logs (b: 'Ann-a lost to b:1', a: 'Ann-a lost to c:1'). Records and \
digests still agree; the log is not convergent" same_conflict_logs
must -d b blame person shared --json
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
f = {x["field"]: x for x in d["fields"]}
ok = f["name"]["value"] == "Ann-c" and sorted(l["lost"] for l in f["name"]["lost"]) == ["Ann-a", "Ann-b"]
ok = ok and f["birth_year"]["lost"] == []
sys.exit(0 if ok else 1)' "$OUT" && ok || fail "blame person shared --json: $(cat "$OUT")"
id_c=$("$HM" -d c status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')
expect 0 "" -d b blame person shared
grep -A1 "^  name" "$OUT" | grep -q "set by $id_c:1 at" && ok || fail "blame text: $(cat "$OUT")"

# ---- a scoped digest: a's village scope is equal too
[ "$("$HM" -d a digest --scope lin/east/elm)" = "$("$HM" -d c digest --scope lin/east/elm)" ] &&
	ok || fail "scoped digests differ"
finish
