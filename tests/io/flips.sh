#!/usr/bin/env bash
# Damaged media (issue #10 section 3): flip bytes in copies of a node's data.mdb, on LMDB's meta
# pages and on its other pages, and check that hamlet never crashes and never serves wrong
# records: each copy either works (check passes, list and export give the node's records) or
# is refused with a clear message naming the damage and the way back (tests/io/flips.py).
# HAMLET_FLIPS sets the number of seeds (default 160); docs/reliability.md has the figures.
. "$(dirname "$0")/../integration/lib.sh"

SEEDS=${HAMLET_FLIPS:-160}

new_node twn lin/east Township
python3 -c 'print("id,name,phone,address"); [print(f"p{i},Person {i},+2547{i:08d},Plot {i} by the river") for i in range(40)]' >people.csv
must -d twn import-csv person people.csv
for i in $(seq 1 12); do must -d twn put person "w$i" name="Writer $i" phone="$i"; done
PREVIOUS=$(digest_of twn)
must -d twn put person last name="The last write"
new_node empty lin/east Empty
hm -d twn check
[ "$RC" = 0 ] && ok || fail "the node does not check before any damage"
ls -l twn/data.mdb | awk '{print "data.mdb: " $5 " bytes"}'

python3 "$(dirname "$0")/flips.py" --node "$T/twn" --empty "$T/empty" --previous-digest "$PREVIOUS" \
	--work "$T" --hamlet "$HM" --seeds "$SEEDS" && ok || fail "a damaged copy was not handled (above)"
finish
