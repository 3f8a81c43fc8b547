#!/usr/bin/env bash
# Bounded amplification (issue #9, section 4): a station with a real, certified key signs change
# sets whose bodies are built to make the receiver allocate (tests/net/bomb.c):
#   nils    1 operation, ~2 KB on the wire, 16 MiB of nils once decompressed (390 MB unpacked)
#   shaped  120000 operations of [nil, nil, nil, {64 x nil: nil}]: 16 Mi objects
#   under   10000 such operations: just under the 32 MiB a body may decode to
# Each is carried to the county by `hamlet import` of the station's bundle, and to a serving hub
# by `hamlet sync`. The importer's peak memory (max RSS) and the daemon's (VmHWM) stay under
# MEM_CAP_KB (64 MB; before the caps each bomb took 390-412 MB), every bomb is refused with a reason that names what is wrong, nothing of it is
# applied, and the daemon still serves an honest village afterwards.
. "$(dirname "$0")/netlib.sh"
BOMB=${HAMLET_BOMB:-}
need_helpers "$BOMB"
MEM_CAP_KB=${HAMLET_MEM_CAP_KB:-$((64 * 1024))} # 128 MB under AddressSanitizer (CMakeLists.txt)

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node elm lin/east/elm Elm E
start_daemon E E
URL=$(url_of E)

# vmhwm NAME: the daemon's peak resident memory so far, in KB.
vmhwm() {
	awk '/^VmHWM:/ {print $2}' "/proc/${D_PID[$1]}/status"
}

# under_cap WHAT KB: KB is below the cap.
under_cap() {
	if [ -n "$2" ] && [ "$2" -lt "$MEM_CAP_KB" ]; then
		ok
	else
		fail "$1: peak memory ${2:-?} KB, cap $MEM_CAP_KB KB"
	fi
}

# refused_in DIR PATTERN: DIR's audit holds a refused change set whose reason matches PATTERN.
refused_in() {
	hm -d "$1" audit
	if grep -Eq -- "$2" "$OUT"; then
		ok
	else
		fail "$1: no refusal matching /$2/ in the audit: $(head -c 600 "$OUT")"
	fi
}

base=$(vmhwm E)
note "daemon E at start: $base KB"
for kind in nils shaped under; do
	must -d bomb-$kind init --role village --region lin/east/b$kind --name "Bomb $kind" &&
		enroll bomb-$kind E
	run "$BOMB" bomb-$kind $kind
	[ "$RC" = 0 ] && ok || fail "bomb $kind: rc $RC: $(cat "$ERR")"
	note "$(cat "$OUT")"
	must -d bomb-$kind export -o $kind.bundle

	# import: one process, its peak measured by the kernel
	before=$(digest_of C)
	run /usr/bin/time -f "%M" -o "$T/$kind.rss" "$HM" -d C import $kind.bundle
	rss=$(tail -1 "$T/$kind.rss")
	note "import of $kind ($(stat -c %s $kind.bundle) bytes): rc $RC, max RSS $rss KB: $(head -c 300 "$OUT" "$ERR" | tr '\n' ' ')"
	under_cap "import of $kind" "$rss"
	[ "$(digest_of C)" = "$before" ] && ok || fail "import of $kind changed the county's records"

	# sync: the daemon receives it in a push
	net_sync bomb-$kind "$URL"
	hwm=$(vmhwm E)
	note "sync of $kind: rc $RC; daemon E peak $hwm KB"
	under_cap "daemon E after the sync of $kind" "$hwm"
	alive E && ok || fail "the daemon died on $kind"
done

refused_in C "operation count|decode to"
refused_in E "operation count|decode to"
# the bodies' reasons, one each
hm -d C audit
grep -q "would expand beyond what its operation count can take" "$OUT" && ok ||
	fail "the nils bomb was not refused at decompression"
grep -q "more elements than its operation count can take" "$OUT" && ok ||
	fail "the shaped bomb was not refused before unpacking"
grep -Eq "operation kind is unknown|not an array" "$OUT" && ok ||
	fail "the bomb just under the cap was not refused for its contents"

# and the hub still serves an honest village
must -d elm put person elm-1 name="After the bombs"
must_sync elm "$URL"
expect 0 "" -d E get person elm-1
stop_daemon E
note "done"
finish
