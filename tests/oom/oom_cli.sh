#!/usr/bin/env bash
# oom_cli.sh - the out-of-memory loop over the `hamlet` command (issue #10 section 1,
# docs/reliability.md "Out of memory"): report building (`report daily`, `report monitoring
# --json`) and CSV import (`import-csv person`), each run with the allocation interposer
# (failalloc.c) preloaded, failing its N-th allocation once or from the N-th on ("forever").
#
# Each run must end in one of two ways:
# - exit 1, a first line of stderr starting "hamlet: " that says "out of memory", and the node's
#   digest the one before the command or the one after a clean run;
# - exit 0, with the output and the digest of a clean run.
# Never a crash, nothing else. After each failed run, the same command without the interposer
# succeeds with the clean run's output and digest.
#
# Which N: a process makes some hundreds of allocations (libc's, the key file's, LMDB's,
# msgpack-c's, jansson's). By default every N up to 5, then N grows by about 1.6 each time, and
# the last (N = 1..5, 8, 12, 19, ...), and "report monitoring --json" in "once" mode only;
# HAMLET_OOM_ALL=1 runs every N in both modes (docs/reliability.md gives both figures).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/points.sh"

LIB=${HAMLET_FAILALLOC_LIB:?set HAMLET_FAILALLOC_LIB to libhm_failalloc.so}
[ -f "$LIB" ] || { echo "oom_cli: $LIB is not built" >&2; exit 1; }
ALL=${HAMLET_OOM_ALL:-0}
D=2026-02-03
RUNS=0

# ---- the data: a village with a week's worth of records, and a CSV of persons ----
new_node v lin/east/elm
{
	echo "id,name,category,compound"
	for i in 1 2 3 4 5 6; do echo "p$i,Person $i,returnee,c$((i % 2))"; done
} >p.csv
{
	echo "id,person,kind,reason,start"
	for i in 1 2 3 4 5 6; do echo "e$i,p$i,home,returnee,2026-02-0$((i % 3 + 1))"; done
} >e.csv
{
	echo "id,person,time,temperature,method"
	for i in 1 2 3 4 5 6; do echo "f$i,p$i,${D}T0$i:00,36.$i,visit"; done
} >f.csv
must -d v import-csv person p.csv
must -d v import-csv episode e.csv
must -d v import-csv followup f.csv
must -d v put return r1 person=p1 from_area=wuhan registered=$D
{
	echo "id,name,sex,birth_year,category,arrival_date"
	for i in $(seq 1 12); do
		echo "csv-$i,Name $i,$([ $((i % 2)) = 0 ] && echo male || echo female),19$((50 + i)),returnee,2026-02-0$((i % 9 + 1))"
	done
} >persons.csv
cp -a v pristine

# restore: the node as it was before the command
restore() {
	rm -rf v
	cp -a pristine v
}

# same_output FILE: FILE says what the clean run said (a change set's id, which holds the
# clock, left out)
same_output() {
	cmp -s <(sed 's/ ([0-9a-f]\{16\})$//' "$1") <(sed 's/ ([0-9a-f]\{16\})$//' "$REF_OUT")
}

# state: the node's records without their clocks (what two runs of one import agree on), and
# its change-set count
state() {
	"$HM" -d v list person --json --show-pii 2>&1
	"$HM" -d v status --json 2>&1 | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(d["seq"], d["records"])'
}

# where: "before" (the digest before), "after" (a clean run's records), or "neither"
where() {
	local d
	d=$(digest_of v)
	if [ "$d" = "$DIGEST1" ]; then
		echo after # also a command that writes nothing
	elif [ "$d" = "$DIGEST0" ]; then
		echo before
	elif [ "$(state)" = "$STATE1" ]; then
		echo after
	else
		echo neither
	fi
}

# counted NAME CMD...: a clean run with the interposer counting; sets CALLS, REF_OUT,
# DIGEST0, DIGEST1 and STATE1.
counted() {
	local name=$1
	shift
	restore
	DIGEST0=$(digest_of v)
	rm -f "$T/.count"
	HM_FAILALLOC_COUNT=$T/.count LD_PRELOAD=$LIB "$HM" "$@" >"$T/ref-$name.out" 2>"$ERR"
	RC=$?
	if [ "$RC" != 0 ]; then
		fail "$name: the clean run exited $RC"
		return 1
	fi
	CALLS=$(cut -d' ' -f1 "$T/.count")
	DIGEST1=$(digest_of v)
	STATE1=$(state)
	REF_OUT=$T/ref-$name.out
}


# crash_report NAME N MODE CMD...: the stack of the failed allocation and of the crash
crash_report() {
	local name=$1 n=$2 mode=$3
	shift 3
	restore
	echo "  the failed allocation and the crash (gdb):"
	HM_FAILALLOC_N=$n HM_FAILALLOC_FOREVER=$mode HM_FAILALLOC_BT=1 \
		gdb -q -batch -ex "set environment LD_PRELOAD $LIB" -ex run -ex bt \
		--args "$HM" "$@" 2>&1 | grep -E '^#|hamlet\(|SIG' | head -40 | sed 's/^/    /'
}

# one NAME N MODE CMD...: run CMD failing allocation N (MODE 1: and all after), check it.
one() {
	local name=$1 n=$2 mode=$3 w
	shift 3
	restore
	HM_FAILALLOC_N=$n HM_FAILALLOC_FOREVER=$mode LD_PRELOAD=$LIB "$HM" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	RUNS=$((RUNS + 1))
	w=$(where)
	case $RC in
	0)
		SUCCEEDED=$((SUCCEEDED + 1))
		if ! same_output "$OUT"; then
			fail "$name N=$n ($MODE_NAME): exit 0 with another output than a clean run"
		elif [ "$w" != after ]; then
			fail "$name N=$n ($MODE_NAME): exit 0 with the state $w"
		else
			ok
		fi
		return
		;;
	1)
		ERRORS=$((ERRORS + 1))
		if [ "$w" = neither ]; then
			fail "$name N=$n ($MODE_NAME): the state is neither before nor after"
		elif head -1 "$ERR" | grep -q '^hamlet: .*out of memory'; then
			ok
		else
			fail "$name N=$n ($MODE_NAME): exit 1 without 'hamlet: ... out of memory' first"
		fi
		;;
	*)
		fail "$name N=$n ($MODE_NAME): exit $RC (a crash?): hamlet $*"
		crash_report "$name" "$n" "$mode" "$@"
		w=neither
		;;
	esac
	# the same command again, with memory: its output (rows written, the change set) says it did
	# what a clean run does
	[ "$w" = before ] || restore
	hm "$@"
	if [ "$RC" != 0 ] || ! same_output "$OUT"; then
		fail "$name N=$n ($MODE_NAME): run again, the command did not do what a clean run does"
	else
		ok
	fi
}

# loop NAME MODES CMD...: the clean run, then every chosen N in MODES ("0 1": once and forever).
loop() {
	local name=$1 modes=$2 start mode n
	shift 2
	counted "$name" "$@" || return
	for mode in $modes; do
		MODE_NAME=$([ $mode = 1 ] && echo forever || echo once)
		ERRORS=0 SUCCEEDED=0 TRIED=0
		start=$SECONDS
		for n in $(points); do
			one "$name" "$n" "$mode" "$@"
			TRIED=$((TRIED + 1))
		done
		printf 'oom %-22s %-7s allocations %5d, N tried %4d: %d out of memory, %d succeeded, %d s\n' \
			"$name" "$MODE_NAME" "$CALLS" "$TRIED" "$ERRORS" "$SUCCEEDED" $((SECONDS - start))
	done
}

# The JSON report's "forever" mode only with HAMLET_OOM_ALL: it fails where the text one does.
loop "report daily" "0 1" -d v report daily --date $D
loop "report monitoring --json" "0 $([ "$ALL" = 1 ] && echo 1)" -d v report monitoring --date $D --json
loop "import-csv" "0 1" -d v import-csv person persons.csv

echo "oom_cli: $RUNS runs, $CHECKS checks"
# a loop that ran nothing (the interposer missing or never armed) proves nothing
[ "$RUNS" -gt 10 ] || { echo "oom_cli: too few runs: is $LIB built?" >&2; exit 1; }
[ "$FAILED" = 0 ] || exit 1
case $T in /dev/shm/*) cd / && rm -rf "$T" ;; esac # memory, not disk: given back
