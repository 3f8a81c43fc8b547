#!/usr/bin/env bash
# What the terminal and the files show (issue #9, section 5): values that came from another
# node are escaped in every text output and stay valid JSON; ids longer than the cap are
# refused, never cut; files that may hold personal data or peer addresses are 0600 and -o never
# overwrites without --force; a reveal is recorded once, and only when it happened; the county's
# clock.max_drift reaches a village by bundle and bounds the clocks it accepts.
. "$(dirname "$0")/lib.sh"

# ---- 1. escaped text --------------------------------------------------------------------------
new_node elm lin/east/elm Elm
use_county lin
C=$COUNTY_DIR
# Values written at the village; the county receives them by bundle, as from outside.
ESC_NAME=$'Ann\e[2J\e]0;owned\a\nstatus  released\u202eevil\u2066x\u0085y\x7fz'
ESC_NOTE=$'calm\r\nstatus  released\e[31m'
must -d elm put person p1 name="$ESC_NAME" village=lin/east/elm compound="$ESC_NOTE" \
	status="$ESC_NOTE"
# The county writes the name at the same time: one of the two loses (conflicts, identity).
must -d "$C" put person p1 name=$'Bob\u009b2J' village=lin/east/elm
carry "$C" elm
carry elm "$C"
for dir in "$C" elm; do
	for args in "get person p1" "get person p1 --show-pii" "list person" \
		"list person --show-pii" "person show p1" "person show p1 --show-pii" "person find" \
		"person find --show-pii" "person find Ann --show-pii" "blame person p1" \
		"blame person p1 --show-pii" "log" "conflicts" "conflicts --show-pii" \
		"conflicts person p1 --show-pii" "audit" "status"; do
		# shellcheck disable=SC2086
		hm -d "$dir" $args
		[ "$RC" -le 1 ] || fail "hamlet $args exited $RC"
		no_hostile "hamlet -d $dir $args"
	done
done
# Something was there to escape: the escapes show.
hm -d "$C" get person p1 --show-pii
grep -qF 'status  released\u202eevil' "$OUT" || grep -qF 'Bob\u009b2J' "$OUT" && ok ||
	fail "get --show-pii shows no escaped value: $(cat -v "$OUT")"
hm -d "$C" conflicts --show-pii
grep -qF '\x1b[2J' "$OUT" || grep -qF '\u009b' "$OUT" && ok ||
	fail "conflicts shows no escaped loser: $(cat -v "$OUT")"
# JSON stays JSON, with the values whole.
for args in "get person p1 --show-pii --json" "list person --show-pii --json" \
	"person show p1 --show-pii --json" "person find --show-pii --json" \
	"blame person p1 --show-pii --json" "log --json" "conflicts --show-pii --json" "audit --json"; do
	# shellcheck disable=SC2086
	hm -d "$C" $args
	is_json "$OUT" && ok || fail "hamlet $args --json is not JSON: $(head -c 300 "$OUT")"
	no_hostile "hamlet $args"
done
hm -d elm get person p1 --show-pii --json
want=$(printf '%s' "$ESC_NOTE" | python3 -c 'import sys; print(ascii(sys.stdin.read()))')
[ "$(json_get "$OUT" 'ascii(d["fields"]["compound"])')" = "$want" ] && ok ||
	fail "the JSON value is not the value written: $(cat "$OUT")"

# ---- 2. one id rule: refused, never cut --------------------------------------------------------
ID128=$(printf 'q%.0s' $(seq 1 128))
ID129=${ID128}x
must -d elm person add --id "$ID128" --name Long --village lin/east/elm
before=$(snapshot elm)
for args in "person add --id $ID129 --name Cut --village lin/east/elm" \
	"person edit $ID129 --name Edited" "put person $ID129 name=Cut" "del person $ID129" \
	"get person $ID129" "blame person $ID129" "conflicts person $ID129" "person show $ID129" \
	"followup add $ID129 --temperature 36.5" "person merge $ID129 $ID128" \
	"episode start $ID129"; do
	# shellcheck disable=SC2086
	expect 2 "'q+\.\.\.': the record id is longer than 128 bytes" -d elm $args
done
expect 2 "the record id holds a control character or a bidi control" \
	-d elm put person $'p\u202egnp.exe' name=x
expect 2 "the record id holds a control character or a bidi control" \
	-d elm person add --id $'p\u0085' --name x
[ "$(snapshot elm)" = "$before" ] && ok || fail "a refused id changed the node"
hm -d elm get person "$ID128" --show-pii
grep -q "name  *Long" "$OUT" && ok || fail "person edit of a longer id changed $ID128: $(cat "$OUT")"

finish
