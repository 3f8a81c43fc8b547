#!/usr/bin/env bash
# `hamlet sync --limit-rate` caps the bytes a sync moves, for a link shared with others (issue
# #10, section 4). On 127.0.0.1: villages elm and oak each hold a few hundred KB the county
# lacks. A sync at 48 KiB/s must take at least bytes/limit seconds (a behaviour bound, not a
# benchmark), where bytes is what it moved both ways; the same amount without a limit takes much
# less. `serve --limit-rate` hands the cap to its scheduled syncs. A bad rate is a usage error.
. "$(dirname "$0")/../net/netlib.sh"
need_helpers "$BULK"

use_county lin
ln -s "$COUNTY_DIR" C
new_node elm lin/east/elm Elm C
new_node oak lin/east/oak Oak C
"$BULK" elm elm 600 2 400 >/dev/null || fail "bulk_put elm"
"$BULK" oak oak 600 2 400 >/dev/null || fail "bulk_put oak"
start_daemon C C

for bad in 0 100 -5 12x 1k5; do
	expect 2 "limit-rate" -d elm sync "$(url_of C)" --limit-rate "$bad"
done
expect 2 "limit-rate" -d elm serve --listen "tcp://127.0.0.1:$(free_port)" --limit-rate 10

# timed_sync DIR ARGS...: a sync with --json; SECS it took, BYTES it moved both ways.
timed_sync() {
	local dir=$1 t0
	shift
	t0=$(date +%s.%N)
	run timeout 120 "$HM" -d "$dir" sync "$(url_of C)" --json "$@"
	SECS=$(python3 -c "import time; print('%.2f' % (time.time() - $t0))")
	BYTES=0
	[ "$RC" = 0 ] && BYTES=$(json_get "$OUT" 'd["bytes_sent"] + d["bytes_received"]')
	[ "$RC" = 0 ] && ok || fail "sync of $dir $* exited $RC"
}

LIMIT=49152
timed_sync elm --limit-rate 48k
floor=$(python3 -c "print('%.2f' % ($BYTES / $LIMIT))")
note "elm at 48 KiB/s: $BYTES bytes in $SECS s (at least $floor s)"
python3 -c "import sys; sys.exit(0 if $BYTES > 200000 and $SECS >= $floor else 1)" && ok ||
	fail "a sync of $BYTES bytes at $LIMIT B/s took $SECS s, under $floor s"
timed_sync oak
note "oak without a limit: $BYTES bytes in $SECS s"
python3 -c "import sys; sys.exit(0 if $SECS < $floor / 2 else 1)" && ok ||
	fail "without a limit the same sync took $SECS s: the limit test proves nothing"

# serve --limit-rate: a scheduled sync of oak's new records obeys it too
"$BULK" oak oak2 400 2 400 >/dev/null || fail "bulk_put oak2"
must -d oak peer add county "$(url_of C)"
start_daemon oak oak --every 3600 --limit-rate 16k
for i in $(seq 1 600); do
	grep -q "synced with county" "$T/oak.log" && break
	sleep 0.1
done
stop_daemon oak
line=$(grep "synced with county" "$T/oak.log" | head -1)
[ -n "$line" ] && ok || fail "serve did not sync: $(tail -3 "$T/oak.log")"
start=$(grep -m1 "serving" "$T/oak.log" | cut -d' ' -f1)
end=$(echo "$line" | cut -d' ' -f1)
span=$(python3 -c "
from datetime import datetime as D
f='%Y-%m-%dT%H:%M:%SZ'
print(int((D.strptime('$end', f) - D.strptime('$start', f)).total_seconds()))")
note "serve --limit-rate 16k: 400 records synced within $span s of the start"
# about 165 KB (2/3 of elm's 248 KB above) at 16 KiB/s: at least 10 s (log stamps are whole seconds)
[ "$span" -ge 9 ] && ok || fail "serve's scheduled sync ignored --limit-rate ($span s)"
finish
