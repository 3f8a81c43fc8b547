#!/usr/bin/env bash
# --json output parses as JSON for every command that has it, with values that need escaping
# (quotes, backslashes, tabs, newlines, non-ASCII), and carries what it should.
. "$(dirname "$0")/lib.sh"

json_ok() { # json_ok WHAT: $OUT is one JSON document
	if is_json "$OUT"; then ok; else fail "$1 --json is not JSON: $(head -c 400 "$OUT")"; fi
}

must -d a init --role village --region lin/east/elm --name 'Elm "north" \ station' --json
json_ok init
id_a=$(json_get "$OUT" 'd["node_id"]')
use_county lin
req=$T/a.req
must -d a enroll request -o "$req"
must -d "$COUNTY_DIR" enroll sign "$req" -o a.ans --json
json_ok "enroll sign"
[ "$(json_get "$OUT" 'd["node_id"], d["role"], d["root"]')" = "('$id_a', 'village', '$ROOT_KEY')" ] &&
	ok || fail "enroll sign --json: $(cat "$OUT")"
must -d a enroll accept a.ans --root "$ROOT_KEY" --json
json_ok "enroll accept"
# b is the township: it may edit a's records
new_node b lin/east

nasty=$(printf 'Li "Wei"\\ back\tslash\nnew line \xe6\x9d\x8e\xe4\xbc\x9f \x01 end')
must -d a put person p1 name="$nasty" birth_year=1980 arrival_date=2026-11-20 --json
json_ok put
[ "$(json_get "$OUT" 'd["seq"]')" = 1 ] && ok || fail "put --json has no seq 1"
must -d a put stock masks item=N95 'quantity+=500' --json
json_ok "put (counter)"
must -d a put followup f1 person=p1 time=2026-11-20T08:30 temperature=36.6 --json
json_ok "put (followup)"
must -d a put person p2 name=Bo
must -d a del person p2 --json
json_ok del

must -d a status --json
json_ok status
[ "$(json_get "$OUT" 'd["node_id"]')" = "$id_a" ] && ok ||
	fail "status --json node_id is not the id init printed"
[ "$(json_get "$OUT" 'd["name"]')" = 'Elm "north" \ station' ] && ok ||
	fail "status --json name does not round-trip"
[ "$(json_get "$OUT" 'd["records"]["person"], d["changesets"], len(d["version_vector"])')" = \
	"(1, 5, 1)" ] && ok || fail "status --json counts: $(cat "$OUT")"

# Revealing the name writes to the access log: look on a copy, so the counts below stay as they are.
cp -r a a.view
must -d a.view get person p1 --json --show-pii
json_ok get
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
sys.exit(0 if d["fields"]["name"] == want and d["fields"]["birth_year"] == 1980 else 1)' \
	"$OUT" "$nasty" && ok || fail "get --json does not round-trip the name: $(cat "$OUT")"
must -d a get stock masks --json
[ "$(json_get "$OUT" 'd["fields"]["quantity"]')" = 500 ] && ok || fail "counter in get --json"
must -d a get followup f1 --json
[ "$(json_get "$OUT" 'd["fields"]["temperature"]')" = 36.6 ] && ok || fail "float in get --json"

for coll in person followup stock; do
	must -d a list "$coll" --json
	json_ok "list $coll"
done
must -d a list person --where birth_year=1980 --json
[ "$(json_get "$OUT" 'len(d)')" = 1 ] && ok || fail "list --where --json: $(cat "$OUT")"
must -d b list person --json
[ "$(json_get "$OUT" 'd')" = "[]" ] && ok || fail "list --json of nothing is not []"

must -d a log --json
json_ok log
[ "$(json_get "$OUT" 'len(d)')" = 5 ] && ok || fail "log --json has not 5 change sets"
must -d a digest --json
json_ok digest
must -d a digest --scope lin/east --json
json_ok "digest --scope"
must -d a check --json
json_ok check
[ "$(json_get "$OUT" 'd["ok"]')" = True ] && ok || fail "check --json is not ok"
must -d a export -o a.bundle --json
json_ok export
[ "$(json_get "$OUT" 'd["changesets"]')" = 5 ] && ok || fail "export --json count"

# b edits p1 too (in a's village), so conflicts and blame have something to say
must -d b put person p1 name=Other phone=1 village=lin/east/elm
must -d b import a.bundle --json
json_ok import
[ "$(json_get "$OUT" 'd["new"], d["changesets"]')" = "(5, 5)" ] && ok || fail "import --json: $(cat "$OUT")"
must -d b conflicts --json
json_ok conflicts
# a's name lost to b's later write. The village is restated in every op and the same on both:
# the one field where an equal value is no conflict (docs/data-model.md).
[ "$(json_get "$OUT" 'sorted(c["field"] for c in d)')" = "['name']" ] && ok ||
	fail "conflicts --json: want name, got $(cat "$OUT")"
must -d b conflicts person p1 --json
json_ok "conflicts COLLECTION ID"
must -d a conflicts --json
[ "$(json_get "$OUT" 'd')" = "[]" ] && ok || fail "conflicts --json of nothing is not []"
must -d b blame person p1 --json
json_ok blame
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
f = {x["field"]: x for x in d["fields"]}
sys.exit(0 if len(f["name"]["lost"]) == 1 and "set_by" in f["name"] else 1)' "$OUT" && ok ||
	fail "blame --json: name has no set_by or not one lost value: $(cat "$OUT")"

# the trust commands' JSON
must -d a audit --json
json_ok audit
[ "$(json_get "$OUT" 'd["clean"], d["auditor"]')" = "(True, '$id_a')" ] && ok ||
	fail "audit --json on a clean node: $(cat "$OUT")"
must -d "$COUNTY_DIR" revoke "$(node_id b)" --after-seq 5 --reason 'lost laptop' --json
json_ok revoke
[ "$(json_get "$OUT" 'd["after_seq"], d["seq"]')" = "(5, 1)" ] && ok || fail "revoke --json: $(cat "$OUT")"

# a failing command with --json reports on stderr, and on stdout as one JSON document
# {"error", "exit"}, never half a result
expect 1 "no record person/ghost" -d a get person ghost --json
[ "$(json_get "$OUT" 'd["error"], d["exit"]')" = "('no record person/ghost', 1)" ] && ok ||
	fail "a failed get --json: $(cat "$OUT")"
expect 2 "too many arguments" -d a get person p1 p2 --json
[ "$(json_get "$OUT" 'd["exit"]')" = "2" ] && ok || fail "a usage error under --json: $(cat "$OUT")"
expect 1 "no hamlet node" -d nowhere status --json
[ "$(json_get "$OUT" 'd["exit"]')" = "1" ] && ok || fail "no node under --json: $(cat "$OUT")"
finish
