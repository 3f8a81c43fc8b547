#!/usr/bin/env bash
# The hub restarts under its villages (issue #10, section 4): N village daemons (`serve --every
# 2`, 16 by default, 50 with HAMLET_LINKS_FULL) sync with one hub on 127.0.0.1. The hub is
# killed (-9) while they keep writing, and comes back 8 s later on the same port. Every village
# logs its failures with the delay before its next try: the first delays are spread (jitter:
# no two villages in step, none above 5 s), the later ones grow (backoff); all come back and
# converge with the hub within 40 s of its restart, and no village daemon dies.
. "$(dirname "$0")/../net/netlib.sh"

N=16
[ "${HAMLET_LINKS_FULL:-0}" != 0 ] && N=50

use_county lin
ln -s "$COUNTY_DIR" C
start_daemon C C --every 3600
for k in $(seq 1 "$N"); do
	new_node "v$k" "lin/east/v$k" "V$k" C >/dev/null
	must -d "v$k" peer add hub "$(url_of C)"
	must -d "v$k" put person "v$k-1" name="Before the restart"
done
note "$N villages enrolled"
for k in $(seq 1 "$N"); do
	start_daemon "v$k" "v$k" --every 2
done

# converged_all: the hub's view of every village equals the village (silent).
converged_all() {
	local k
	for k in $(seq 1 "$N"); do
		[ "$(digest_of "v$k")" = "$("$HM" -d C digest --scope "lin/east/v$k")" ] || return 1
	done
}
wait_all() { # wait_all SECONDS
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		converged_all && return 0
		sleep 0.5
	done
	return 1
}
wait_all 60 && ok || fail "the villages did not reach the hub before the restart"
note "all $N villages synced"

kill9 C
for k in $(seq 1 "$N"); do
	must -d "v$k" put person "v$k-2" name="While the hub was down"
done
sleep 8
start_daemon C C --every 3600
t_up=$SECONDS
wait_all 40 && ok || fail "not every village came back within 40 s of the hub's restart"
note "converged $((SECONDS - t_up)) s after the hub came back"
for k in $(seq 1 "$N"); do
	alive "v$k" || fail "village daemon v$k died"
done

# The schedule each village logged: "failed (n in a row): ...; next try in D s".
for k in $(seq 1 "$N"); do
	sed -n "s/.*sync with hub .*failed (\([0-9]*\) in a row).*next try in \([0-9.]*\) s.*/v$k \1 \2/p" "$T/v$k.log"
done >"$T/delays"
python3 - "$T/delays" "$N" <<'PY' && ok || fail "the villages did not back off with jitter (above)"
import sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
first = [float(d) for v, k, d in rows if k == "1"]
later = {int(k): [] for v, k, d in rows}
for v, k, d in rows:
    later[int(k)].append(float(d))
bad = []
if len(first) < n:
    bad.append("only %d of %d villages logged a first failure" % (len(first), n))
if first and (min(first) < 2.5 or max(first) > 5.0):
    bad.append("first delays outside [2.5, 5] s: %s" % sorted(first))
# uniform on [2.5, 5]: a standard deviation of 0.72 s; villages in step would show none
if len(first) > 1:
    mean = sum(first) / len(first)
    sd = (sum((x - mean) ** 2 for x in first) / (len(first) - 1)) ** 0.5
    if sd < 0.4:
        bad.append("first delays in step (sd %.2f s): %s" % (sd, sorted(first)))
if first and max(first) - min(first) < 1.0:
    bad.append("first delays spread over less than 1 s: %s" % sorted(first))
for k, ds in later.items():
    d = 5.0 * 2 ** (k - 1)
    if any(x < d / 2 - 0.05 or x > min(d, 600) + 0.05 for x in ds):
        bad.append("delays after failure %d outside [%.1f, %.1f]: %s" % (k, d / 2, d, ds))
print("first delays: %s" % " ".join("%.1f" % x for x in sorted(first)))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
for k in $(seq 1 "$N"); do
	stop_daemon "v$k" >/dev/null
done
stop_daemon C
finish
