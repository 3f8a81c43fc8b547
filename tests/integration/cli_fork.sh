#!/usr/bin/env bash
# A fork converges, and its proof travels (issue #9, part 3). Village elm's node directory is
# copied (a stolen laptop); the copy and elm each sign a different seq 3. The hub E hears of
# both and freezes elm's log at seq 3 (both versions withdrawn into the evidence); the county C
# hears only elm's own version from elm. E's next bundle to C carries the proof (both signed
# versions), so C freezes elm at seq 3 as well: the same change sets, the same records, the
# same digests. Without the proof C would keep elm's seq 3 for good.
. "$(dirname "$0")/lib.sh"

mesh
must -d elm put person e1 name=One
must -d elm put person e2 name=Two
cp -a elm stolen
must -d elm put person e1 status=released   # seq 3, honest
must -d stolen put person e1 status=deceased # seq 3, the thief's
must -d elm export -o elm.hmb
must -d stolen export -o stolen.hmb
must -d C import elm.hmb
must -d E import elm.hmb
expect 0 "" -d E import stolen.hmb --json
[ "$(json_get "$OUT" 'd["forks"]')" -ge 1 ] && ok || fail "E did not see the fork: $(cat "$OUT")"
expect 0 "" -d E get person e1 --json
[ "$(json_get "$OUT" 'd["fields"].get("status")')" = None ] && ok ||
	fail "E kept a version of the forked seq 3: $(cat "$OUT")"
expect 0 "" -d C get person e1 --json
[ "$(json_get "$OUT" 'd["fields"].get("status")')" = released ] && ok ||
	fail "C should hold elm's own seq 3 before it hears of the fork: $(cat "$OUT")"

# E's bundle to C: C holds elm's seq 3, so it gets the proof.
must -d E export -o e.hmb
expect 0 "" -d C import e.hmb --json
[ "$(json_get "$OUT" 'd["forks"]')" -ge 1 ] && ok || fail "C got no proof of the fork: $(cat "$OUT")"
[ "$("$HM" -d C digest --scope lin/east/elm)" = "$("$HM" -d E digest --scope lin/east/elm)" ] && ok ||
	fail "C and E hold elm's change sets and the fork's proof, and their views of elm differ"
expect 0 "" -d C status --json
[ "$(json_get "$OUT" 'd["version_vector"]')" != "" ] && ok || fail "C's status: $(cat "$OUT")"
# The audit names the fork (exit 1: findings).
hm -d C audit
[ "$RC" = 1 ] && [ "$(grep -c "^FINDING equivocation .*:3 " "$OUT")" = 2 ] && ok ||
	fail "C's audit does not name both versions of the fork (exit $RC): $(cat "$OUT")"
# elm itself learns of the fork from its hub and stops writing there.
must -d E export -o e2.hmb --force
must -d elm import e2.hmb
expect 1 "forked at seq 3" -d elm put person e3 name=Three
finish
