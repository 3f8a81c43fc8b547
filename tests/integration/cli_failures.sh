#!/usr/bin/env bash
# Failures exit 1 with a message that names the problem and its subject, and change nothing.
. "$(dirname "$0")/lib.sh"

# ---- no node in DIR; init twice
for cmd in "status" "digest" "get person p1" "put person p1 name=x" "del person p1" "log" \
	"check" "export -o x.bundle" "import x.bundle" "conflicts" "blame person p1" \
	"list person"; do
	# shellcheck disable=SC2086
	expect 1 "^hamlet: ${cmd%% *}: no hamlet node in 'empty'" -d empty $cmd
done
if [ -e empty ]; then fail "a command on a missing node created its directory"; else ok; fi
mkdir plain
expect 1 "no hamlet node in 'plain'" -d plain status
HAMLET_DIR=plain expect 1 "no hamlet node in 'plain'" status

new_node n lin/east/elm
must -d n put person p1 name=Ann birth_year=1980
must -d n put stock masks item=N95 'quantity+=10'
must -d n put followup f1 person=p1 time=2026-11-20T08:30 temperature=36.6
expect_same n 1 "^hamlet: init: 'n' already holds a hamlet node; nothing was changed" \
	-d n init --role village --region lin/east/elm --name again

# ---- schema: unknown collection and field (exit 1: this node does not know it), malformed
# values (exit 2, as a malformed option value is)
expect_same n 1 "unknown collection 'people'" -d n put people p1 name=x
expect_same n 1 "^hamlet: list: unknown collection 'people'" -d n list people
expect_same n 1 "^hamlet: get: .*people" -d n get people p1
expect_same n 1 "^hamlet: del: .*people" -d n del people p1
expect_same n 1 "collection 'person' has no field 'age'" -d n put person p1 age=3
expect_same n 1 "collection 'person' has no field 'age'" -d n list person --where age=3
expect_same n 2 "person.birth_year must be a whole number, not 'abc'" -d n put person p1 birth_year=abc
expect_same n 2 "person.arrival_date must be a date YYYY-MM-DD, not '2026-02-30'" \
	-d n put person p1 arrival_date=2026-02-30
expect_same n 2 "person.arrival_date must be a date" -d n put person p1 arrival_date=2026-13-01
expect_same n 2 "followup.temperature must be a number, not 'hot'" \
	-d n put followup f2 person=p1 time=2026-11-21T08:30 temperature=hot
expect_same n 2 "followup.time must be .*'2026-11-21 08:30'" \
	-d n put followup f2 person=p1 'time=2026-11-21 08:30'
expect_same n 2 "person.village must be .*'Elm'" -d n put person p1 village=Elm
# one bad field refuses the whole change set, good fields included
expect_same n 2 "person.birth_year" -d n put person p1 name=Bob birth_year=old

# ---- counters
expect_same n 1 "stock.quantity is a counter: change it with quantity\+=N or quantity-=N" \
	-d n put stock masks quantity=5
expect_same n 1 "person.name is not a counter" -d n put person p1 'name+=1'

# ---- deletes and append-only
expect_same n 1 "^hamlet: del: no record person/ghost to delete" -d n del person ghost
expect_same n 1 "^hamlet: del: 'followup' is append-only" -d n del followup f1
expect_same n 1 "^hamlet: put: followup/f1 exists and 'followup' is append-only" \
	-d n put followup f1 person=p1 time=2026-11-20T09:00
expect_same n 1 "^hamlet: put: followup/f1 exists" -d n put followup f1 temperature=37.0

# ---- required fields on a new record
expect_same n 1 "^hamlet: put: a new person needs the field 'name'" -d n put person p2 phone=1
expect_same n 1 "a new followup needs the field 'time'" -d n put followup f3 person=p1
expect_same n 1 "a new stock needs the field 'item'" -d n put stock gloves 'quantity+=1'
expect_same n 1 "^hamlet: put: person.name is required and cannot be empty" -d n put person p1 name=
expect_same n 1 "person.name is required" -d n put person p3 name=
# an existing person may be edited without its required field
expect 0 "" -d n put person p1 phone=13800000000

# ---- reading what is not there
expect_same n 1 "^hamlet: get: .*person/ghost" -d n get person ghost
expect_same n 1 "^hamlet: blame: .*person/ghost" -d n blame person ghost

# ---- a deleted record is gone for get, back after a later write
must -d n put person p9 name=Zed
must -d n del person p9
expect_same n 1 "^hamlet: del: no record person/p9 to delete" -d n del person p9
expect_same n 1 "^hamlet: get: .*person/p9" -d n get person p9

# ---- a new key file needs a passphrase worth sealing it with (issue #11): nothing is created
for weak in 1 12345678 aaaaaaaaaaaaaaaa qwertyuiop abcdefghijk Password2026 张三张三; do
	HAMLET_PASSPHRASE=$weak expect 1 "^hamlet: init: the passphrase is too weak" \
		-d weak init --role village --region lin/east/elm --name weak
	[ ! -e weak ] && ok || fail "a refused init with passphrase '$weak' left weak/ behind"
done
HAMLET_PASSPHRASE="谢伟的家在东村" expect 0 "" -d strong init --role village --region lin/east/elm --name strong

# ---- the key file's cost (HAMLET_KEY_COST): its Argon2id opslimit and memlimit, bytes 12..27
# of the file, little-endian (docs/formats.md)
key_cost() { od -An -t u8 -j 12 -N 16 "$1/node.key" | tr -s ' ' | sed 's/^ //'; }
HAMLET_KEY_COST=normal expect 0 "" -d cost-normal init --role village --region lin/east/elm --name c1
[ "$(key_cost cost-normal)" = "2 33554432" ] && ok || fail "HAMLET_KEY_COST=normal: cost $(key_cost cost-normal)"
HAMLET_KEY_COST=low expect 0 "" -d cost-low init --role village --region lin/east/elm --name c2
[ "$(key_cost cost-low)" = "1 8388608" ] && ok || fail "HAMLET_KEY_COST=low: cost $(key_cost cost-low)"
HAMLET_KEY_COST=low expect 0 "" -d cost-low status
HAMLET_KEY_COST=none expect 2 "HAMLET_KEY_COST must be low or normal" \
	-d cost-bad init --role village --region lin/east/elm --name c3
[ ! -e cost-bad ] && ok || fail "a refused HAMLET_KEY_COST left cost-bad/ behind"

# ---- the node stayed consistent through all of it
expect 0 "" -d n check
finish
