#!/usr/bin/env bash
# When a peer is down (issue #10, section 4): it is known down at once, and the daemon retries on
# the schedule docs/protocol.md gives. On 127.0.0.1, no namespaces needed.
#
# 1. `hamlet sync` to a port nobody listens on fails within 3 s (a refused connection is final;
#    it used to wait the whole 10 s message timeout), and says the peer accepts no connection.
# 2. `hamlet serve` with three peers that are down: each failure is logged with the delay before
#    the next try; retry n comes after a delay drawn from [d/2, d], d = 5 s << (n - 1): the first
#    within 5 s (it used to be 5-15 s, the failure count being raised before the delay was
#    computed), the second within 10 s; the delays differ between peers (jitter); and the first
#    retry really starts when logged (timed from the log as it is written).
. "$(dirname "$0")/../net/netlib.sh"

new_node elm lin/east/elm Elm
DOWN=$(free_port)

t0=$(date +%s.%N)
hm -d elm sync "tcp://127.0.0.1:$DOWN"
secs=$(python3 -c "import time; print('%.2f' % (time.time() - $t0))")
note "sync to a closed port: exit $RC after $secs s"
[ "$RC" = 1 ] && ok || fail "sync to a closed port exited $RC"
python3 -c "import sys; sys.exit(0 if $secs < 3 else 1)" && ok ||
	fail "sync to a closed port took $secs s (must fail within 3 s)"
grep -q "accepts no connection" "$ERR" && ok || fail "sync to a closed port does not say why: $(cat "$ERR")"

for p in a b c; do
	must -d elm peer add "down-$p" "tcp://127.0.0.1:$(free_port)"
done
start_daemon elm elm --every 60
# Time each "failed" line as it appears in the log.
python3 - "$T/elm.log" >"$T/times" <<'PY' &
import re, sys, time
path = sys.argv[1]
seen, pos, t0 = {}, 0, time.time()
while time.time() - t0 < 25:
    with open(path) as f:
        f.seek(pos)
        chunk = f.read()
        pos += len(chunk)
    for line in chunk.splitlines():
        m = re.search(r"sync with (down-\w) .*failed \((\d+) in a row\).*next try in ([0-9.]+) s", line)
        if m:
            print(m.group(1), m.group(2), "%.2f" % (time.time() - t0), m.group(3), flush=True)
            seen[(m.group(1), m.group(2))] = 1
    if len(seen) >= 6:
        break
    time.sleep(0.05)
PY
WATCH=$!
BG_PIDS+=("$WATCH")
wait "$WATCH"
stop_daemon elm
cat "$T/times"
python3 - "$T/times" <<'PY' && ok || fail "the retry schedule is not the documented one (above)"
import sys
rows = [l.split() for l in open(sys.argv[1])]
at = {(p, int(n)): (float(t), float(d)) for p, n, t, d in rows}
bad = []
for p in ("down-a", "down-b", "down-c"):
    for n, lo, hi in ((1, 2.5, 5.0), (2, 5.0, 10.0)):
        if (p, n) not in at:
            bad.append("%s: no failure %d logged" % (p, n)); continue
        d = at[(p, n)][1]
        if not lo <= d <= hi:
            bad.append("%s: delay after failure %d is %.1f s, not in [%.1f, %.1f]" % (p, n, d, lo, hi))
    if (p, 1) in at and (p, 2) in at:
        gap, d = at[(p, 2)][0] - at[(p, 1)][0], at[(p, 1)][1]
        # the daemon looks every 0.5 s; a refused connection fails in milliseconds
        if not d - 0.2 <= gap <= d + 1.2:
            bad.append("%s: retry 1 logged %.1f s ahead came after %.1f s" % (p, d, gap))
firsts = {round(at[(p, 1)][1], 1) for p in ("down-a", "down-b", "down-c") if (p, 1) in at}
if len(firsts) < 2:
    bad.append("no jitter: the first delays are all %s" % firsts)
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
finish
