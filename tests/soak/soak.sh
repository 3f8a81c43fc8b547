#!/usr/bin/env bash
# The soak test (issue #10, part 6): a county, HUBS townships and VPH villages each, every one a
# real `hamlet serve` daemon syncing on its schedule (villages with their hub, hubs with the
# county), writers at random stations, and a nemesis that for SOAK_SECONDS
#   - kills village daemons (kill -9) and starts them again a few seconds later,
#   - kills writers in the middle of a write,
#   - pauses hubs (SIGSTOP) for seconds, then lets them go on,
#   - sets a station's clock minutes to an hour ahead or behind (HAMLET_CLOCK_OFFSET_MS, for its
#     daemon and its writers),
#   - carries bundles by hand from villages to hubs: good, truncated (refused) and duplicated.
# Then it heals: every clock right, every daemon running. Within HEAL_SECONDS every write that
# was acknowledged (exit 0) is at the county, every node's digest equals the county's view of
# its region, nothing is pending or refused, the county's audit is clean, no daemon died on its
# own, and the memory and open files of the daemons that ran throughout stayed flat. Figures are
# printed. Not in the default suite: `scripts/test --soak`, or ctest -L soak.
HUBS=${SOAK_HUBS:-3}
VPH=${SOAK_VILLAGES_PER_HUB:-10}
SOAK_SECONDS=${SOAK_SECONDS:-120}
HEAL_SECONDS=${HEAL_SECONDS:-240}
EVERY=${SOAK_EVERY:-4}
SEED=${SOAK_SEED:-$(date +%s)}
NET_DEADLINE=$((SOAK_SECONDS + HEAL_SECONDS + 600)) # netlib's watchdog
. "$(dirname "$0")/../net/netlib.sh"
RANDOM=$SEED
echo "soak: seed $SEED (SOAK_SEED), $HUBS hubs of $VPH villages, ${SOAK_SECONDS}s of faults"

use_county lin
ln -s "$COUNTY_DIR" C
HUB_NAMES=() VILLAGES=()
declare -A HUB_OF OFFSET
for h in $(seq 1 "$HUBS"); do
	new_node "t$h" "lin/t$h" "Township $h" C --may-enroll || exit 1
	HUB_NAMES+=("t$h")
	for i in $(seq -w 1 "$VPH"); do
		v="v$h$i"
		new_node "$v" "lin/t$h/$v" "Village $v" "t$h" || exit 1
		VILLAGES+=("$v")
		HUB_OF[$v]="t$h"
	done
done
ALL=(C "${HUB_NAMES[@]}" "${VILLAGES[@]}")
for n in "${ALL[@]}"; do OFFSET[$n]=0; done
note "${#ALL[@]} nodes enrolled"

# serve NAME: (re)start NAME's daemon with its clock offset.
serve() {
	HAMLET_CLOCK_OFFSET_MS=${OFFSET[$1]} start_daemon "$1" "$1" --every "$EVERY"
}
# Ports first: a daemon reads its peers when it starts.
for n in "${ALL[@]}"; do D_PORT[$n]=$(free_port); done
for h in "${HUB_NAMES[@]}"; do must -d "$h" peer add county "$(url_of C)"; done
for v in "${VILLAGES[@]}"; do must -d "$v" peer add hub "$(url_of "${HUB_OF[$v]}")"; done
for n in "${ALL[@]}"; do
	serve "$n" || exit 1
done
note "${#ALL[@]} daemons serving"

# rss_kb PID, fds PID
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# (a daemon is not dumpable, so only root may list its /proc/PID/fd: "-" when it cannot be read)
fds() { ls "/proc/$1/fd" >/dev/null 2>&1 && ls "/proc/$1/fd" | wc -l || echo -; }
declare -A RSS0 FD0
for n in C "${HUB_NAMES[@]}"; do
	RSS0[$n]=$(rss_kb "${D_PID[$n]}") FD0[$n]=$(fds "${D_PID[$n]}")
done

ACKED=$T/acked # "station id" per acknowledged write
: >"$ACKED"
KILLED=() # daemons the nemesis killed (their deaths are not failures)
declare -A DOWN_UNTIL PAUSED_UNTIL
writes=0 refused_writes=0 kills=0 writer_kills=0 pauses=0 bumps=0 bundles=0 bad_bundles=0

pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }

write_at() {
	local s=$1 id
	id="w-$1-$writes"
	writes=$((writes + 1))
	if HAMLET_CLOCK_OFFSET_MS=${OFFSET[$s]} "$HM" -d "$s" put person "$id" name="Soak $id" \
		>/dev/null 2>>"$T/writes.err"; then
		echo "$s $id" >>"$ACKED"
	else
		refused_writes=$((refused_writes + 1))
	fi
}

carry_bundle() {
	local v=$1 h b
	h=${HUB_OF[$1]} b=$T/carry-$1.hmb
	rm -f "$b" "$b.cut"
	"$HM" -d "$v" export -o "$b" >/dev/null 2>&1 || return 0
	bundles=$((bundles + 1))
	case $((RANDOM % 3)) in
	0) "$HM" -d "$h" import "$b" >/dev/null 2>&1 || fail "a good bundle of $v refused at $h" ;;
	1)
		head -c $(($(stat -c %s "$b") * 2 / 3)) "$b" >"$b.cut"
		if "$HM" -d "$h" import "$b.cut" >/dev/null 2>&1; then
			fail "a truncated bundle of $v was accepted at $h"
		else
			bad_bundles=$((bad_bundles + 1))
		fi
		;;
	2)
		"$HM" -d "$h" import "$b" >/dev/null 2>&1 &&
			"$HM" -d "$h" import "$b" >/dev/null 2>&1 || fail "a duplicated bundle of $v refused at $h"
		;;
	esac
}

t_end=$(($(date +%s) + SOAK_SECONDS))
while [ "$(date +%s)" -lt "$t_end" ]; do
	now=$(date +%s)
	for n in "${!DOWN_UNTIL[@]}"; do
		if [ "${DOWN_UNTIL[$n]}" -le "$now" ]; then serve "$n"; unset "DOWN_UNTIL[$n]"; fi
	done
	for n in "${!PAUSED_UNTIL[@]}"; do
		if [ "${PAUSED_UNTIL[$n]}" -le "$now" ]; then
			kill -CONT "${D_PID[$n]}" 2>/dev/null
			unset "PAUSED_UNTIL[$n]"
		fi
	done
	case $((RANDOM % 10)) in
	0 | 1 | 2 | 3) write_at "$(pick "${ALL[@]}")" ;;
	4)
		v=$(pick "${VILLAGES[@]}")
		if [ -z "${DOWN_UNTIL[$v]:-}" ] && alive "$v"; then
			kill9 "$v"
			KILLED+=("$v")
			DOWN_UNTIL[$v]=$((now + 1 + RANDOM % 5))
			kills=$((kills + 1))
		fi
		;;
	5)
		s=$(pick "${VILLAGES[@]}")
		HAMLET_CLOCK_OFFSET_MS=${OFFSET[$s]} "$HM" -d "$s" put person "cut-$RANDOM" name=Cut \
			>/dev/null 2>&1 &
		wp=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -KILL "$wp" 2>/dev/null && writer_kills=$((writer_kills + 1))
		wait "$wp" 2>/dev/null
		;;
	6)
		h=$(pick "${HUB_NAMES[@]}")
		if [ -z "${PAUSED_UNTIL[$h]:-}" ]; then
			kill -STOP "${D_PID[$h]}"
			PAUSED_UNTIL[$h]=$((now + 2 + RANDOM % 6))
			pauses=$((pauses + 1))
		fi
		;;
	7)
		v=$(pick "${VILLAGES[@]}")
		if [ -z "${DOWN_UNTIL[$v]:-}" ] && alive "$v"; then
			OFFSET[$v]=$(((RANDOM % 7200 - 3600) * 1000)) # up to an hour either way
			stop_daemon "$v" >/dev/null
			serve "$v"
			bumps=$((bumps + 1))
		fi
		;;
	8) carry_bundle "$(pick "${VILLAGES[@]}")" ;;
	9) sleep 0.5 ;;
	esac
done
note "faults over: $writes writes ($refused_writes refused), $kills daemon kills, $writer_kills writer kills, $pauses pauses, $bumps clock bumps, $bundles bundles ($bad_bundles truncated, refused)"

# ---- heal: clocks right, everyone running
for n in "${!PAUSED_UNTIL[@]}"; do kill -CONT "${D_PID[$n]}" 2>/dev/null; done
for n in "${ALL[@]}"; do
	if [ "${OFFSET[$n]}" != 0 ]; then
		OFFSET[$n]=0
		alive "$n" && stop_daemon "$n" >/dev/null
		unset "DOWN_UNTIL[$n]"
	fi
done
for n in "${ALL[@]}"; do alive "$n" || serve "$n"; done
heal_start=$(date +%s)
acked=$(wc -l <"$ACKED")
healed=0
while [ $(($(date +%s) - heal_start)) -lt "$HEAL_SECONDS" ]; do
	"$HM" -d C list person --json >"$T/county.json" 2>/dev/null || { sleep 2; continue; }
	missing=$(python3 - "$T/county.json" "$ACKED" <<'PY'
import json, sys
have = {r["id"] for r in json.load(open(sys.argv[1]))}
print(sum(1 for line in open(sys.argv[2]) if line.split()[1] not in have))
PY
)
	if [ "$missing" = 0 ]; then
		healed=1
		break
	fi
	note "healing: $missing of $acked acknowledged writes not at the county yet"
	sleep 5
done
heal_s=$(($(date +%s) - heal_start))
if [ "$healed" = 1 ]; then
	ok
	note "healed: all $acked acknowledged writes at the county after ${heal_s}s"
else
	fail "after ${HEAL_SECONDS}s of healing, $missing of $acked acknowledged writes are not at the county"
fi

# Villages and hubs take the county's last writes on their next rounds: wait for the digests.
for i in $(seq 1 60); do
	bad=0
	for n in "${HUB_NAMES[@]}" "${VILLAGES[@]}"; do
		[ "$(digest_of "$n")" = "$("$HM" -d C digest --scope "$(region_of "$n")")" ] || bad=$((bad + 1))
	done
	[ "$bad" = 0 ] && break
	sleep 2
done
check_scoped C "${HUB_NAMES[@]}" "${VILLAGES[@]}"
check_settled C "${HUB_NAMES[@]}" "${VILLAGES[@]}"
expect 0 "" -d C audit

died=0
for n in "${ALL[@]}"; do
	alive "$n" || { died=$((died + 1)); fail "daemon $n died on its own: $(tail -3 "$T/$n.log")"; }
done
echo "soak figures:"
for n in C "${HUB_NAMES[@]}"; do
	r1=$(rss_kb "${D_PID[$n]}") f1=$(fds "${D_PID[$n]}")
	echo "  $n: RSS ${RSS0[$n]} -> $r1 kB, open files ${FD0[$n]} -> $f1"
	[ "$r1" -le $((RSS0[$n] * 2 + 20000)) ] && ok || fail "$n's memory grew from ${RSS0[$n]} to $r1 kB"
	if [ "$f1" = - ] || [ "${FD0[$n]}" = - ]; then
		note "$n's open files not counted: /proc/PID/fd of a daemon (not dumpable) needs root"
	else
		[ "$f1" -le $((FD0[$n] + 8)) ] && ok || fail "$n's open files grew from ${FD0[$n]} to $f1"
	fi
done
echo "  $writes writes ($acked acknowledged), $kills daemon kills, $writer_kills writer kills, $pauses hub pauses, $bumps clock bumps, $bundles bundles ($bad_bundles truncated), healed in ${heal_s}s"
for n in "${ALL[@]}"; do stop_daemon "$n" >/dev/null; done
finish
