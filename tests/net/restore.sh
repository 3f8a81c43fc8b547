#!/usr/bin/env bash
# An honest station restored from a backup (issue #9, part 3). Village elm writes, syncs with
# its hub E, and is then rolled back to a copy of its directory taken before its last writes,
# as a laptop restored from a backup would be. Writing now would sign a second version of a
# seq it already signed: a fork, which freezes its log everywhere. Instead, the first sync tells
# elm its hub holds more of elm's own log than elm does: elm refuses to write (exit 1, saying
# why and what to do), the same sync brings its own change sets back, and it then writes on
# from the right seq. Nothing forks: the hub's audit is clean and the digests agree.
. "$(dirname "$0")/netlib.sh"

use_county lin
new_node E lin/east East "$COUNTY_DIR" --may-enroll
new_node elm lin/east/elm Elm E
start_daemon E E

must -d elm put person p1 name=One
must_sync elm "$(url_of E)"
cp -a elm elm.backup # the backup: seq 1 only
must -d elm put person p2 name=Two
must -d elm put person p3 name=Three
must_sync elm "$(url_of E)"

# The laptop is restored: elm's directory is the backup. The clerk follows docs/running.md:
# first look at the hub (or sync) before writing.
rm -rf elm
mv elm.backup elm
must -d elm peer add hub "$(url_of E)"
# status --probe asks the hub (3 s per try; a loaded machine may need another)
for try in 1 2 3 4 5; do
	must -d elm status --probe --json
	[ "$(json_get "$OUT" '[p["probe"].get("to_receive") for p in d["peers"]]')" = "[2]" ] && break
	sleep 1
done
expect 1 "behind its own log for lin/east/elm: a peer holds its change sets up to seq 3, it only to 1" \
	-d elm put person p4 name=Four
must_sync elm "$(url_of E)" # brings seqs 2 and 3 back
[ "$RECEIVED" = 2 ] && ok || fail "the sync after the restore received $RECEIVED change sets, want 2"
must -d elm put person p4 name=Four --json
[ "$(json_get "$OUT" 'd["seq"]')" = 4 ] && ok || fail "elm wrote on at seq $(json_get "$OUT" 'd["seq"]'), want 4"
must_sync elm "$(url_of E)"
[ "$(digest_of elm)" = "$("$HM" -d E digest --scope lin/east/elm)" ] && ok ||
	fail "elm and E's view of it differ after the restore"
expect 0 "" -d E status --json
[ "$(json_get "$OUT" 'd["forks"]')" = 0 ] && ok || fail "E holds a fork of elm: $(cat "$OUT")"
must -d E audit
stop_daemon E
finish
