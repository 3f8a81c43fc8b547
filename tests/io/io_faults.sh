#!/usr/bin/env bash
# Failing disks (issue #10 section 2): fail the N-th write, pwrite, fsync, fdatasync, rename,
# open or msync on a disk file with ENOSPC or EIO (the shim tests/io/iofault.c, preloaded into
# one `hamlet` process) during a large import, a sync (the client's side), an export, and a
# `check --repair` that writes a damaged store again into a new file (its own checks, below).
#
# Each run: the command either succeeds with the right result (the fault hit something it may
# retry or that carried nothing), or exits 1 saying "the disk is full" (ENOSPC) or "I/O error"
# (EIO) in plain words; the node's digest is the one before or the one after, `check` passes,
# an export leaves no file behind, and the same command succeeds once the fault is gone.
#
# Which N: the default suite tries N = 1, 2, 3, 5, 8, ... (each about 1.6 times the last) and
# the last call, each with one errno, ENOSPC and EIO in turn; HAMLET_IO_ALL=1 tries every N from
# 1 to the number of calls the command makes, each with both. HAMLET_IO_ERRNOS and
# HAMLET_IO_KINDS narrow a run by hand.
. "$(dirname "$0")/../net/netlib.sh"

LIB=${HAMLET_IOFAULT_LIB:?set HAMLET_IOFAULT_LIB to the libhm_iofault.so shim}
KINDS=${HAMLET_IO_KINDS:-write pwrite fsync fdatasync rename open msync}
ERRNOS=${HAMLET_IO_ERRNOS:-ENOSPC EIO}
ALL=${HAMLET_IO_ALL:-0}
# A sanitizer build's runtime must come first among the loaded libraries: preload it too.
ASAN_RT=$(ldd "$HM" | awk '/libasan/ {print $3}')
PRELOAD=${ASAN_RT:+$ASAN_RT:}$LIB
TRIED=0 FAILED_CLEANLY=0 TOLERATED=0 PREFIX=0 T_START=$(date +%s.%N)

# faulty KIND N ERRNO ARGS...: hamlet ARGS with the N-th call of KIND failing (N=0: counting).
faulty() {
	local kind=$1 n=$2 e=$3
	shift 3
	rm -f "$T/.count"
	LD_PRELOAD=$PRELOAD HM_IOFAULT=$kind HM_IOFAULT_N=$n HM_IOFAULT_ERRNO=$e \
		HM_IOFAULT_COUNT=$T/.count HM_IOFAULT_LOG=$T/faults.log run "$HM" "$@"
}

# calls_of KIND ARGS...: CALLS, how many calls of KIND `hamlet ARGS` makes (run after a reset).
calls_of() {
	local kind=$1
	shift
	faulty "$kind" 0 ENOSPC "$@"
	[ "$RC" = 0 ] || fail "hamlet $* fails under the shim without a fault (exit $RC): $(head -2 "$ERR")"
	CALLS=$(awk '{print $2}' "$T/.count" 2>/dev/null)
	CALLS=${CALLS:-0}
}

# points COUNT: the N to try.
points() {
	local c=$1 n=1
	if [ "$ALL" = 1 ]; then
		seq 1 "$c"
		return
	fi
	while ((n < c)); do
		echo "$n"
		n=$((n < 3 ? n + 1 : n * 8 / 5))
	done
	((c > 0)) && echo "$c"
}

# next_errnos: set ES to the errnos to try at one point: all of them, or in the default suite
# the next in turn.
TURN=0
next_errnos() {
	local list=($ERRNOS)
	if [ "$ALL" = 1 ]; then
		ES=$ERRNOS
	else
		ES=${list[$((TURN % ${#list[@]}))]}
	fi
	TURN=$((TURN + 1))
}

# plain_message ERRNO: the last command's stderr says what happened in plain words.
plain_message() {
	local want
	case $1 in
	ENOSPC) want="the disk is full" ;;
	EIO) want="I/O error" ;;
	esac
	if ! grep -q "^hamlet: .*$want" "$ERR"; then
		fail "$WHAT: stderr does not say '$want': $(head -2 "$ERR")"
		return 1
	fi
	return 0
}

# loop NAME DIR RESET VERIFY ARGS...: the loop for one command. RESET puts DIR (and whatever
# else the command touches) back as before; VERIFY checks a run that exited 0 left the right
# result. BEFORE and AFTER are DIR's digests before and after a clean run.
loop() {
	local name=$1 dir=$2 reset=$3 verify=$4 kind n e c digest
	shift 4
	$reset
	BEFORE=$(digest_of "$dir")
	run "$HM" "$@"
	[ "$RC" = 0 ] || fail "$name: a clean run failed (exit $RC)"
	AFTER=$(digest_of "$dir")
	for kind in $KINDS; do
		$reset
		calls_of "$kind" "$@"
		c=$CALLS
		echo "$name: $kind: $c calls"
		echo "$name $kind $c" >>"$T/calls"
		for n in $(points "$c"); do
			next_errnos
			for e in $ES; do
				WHAT="$name, $kind #$n of $c failing with $e"
				TRIED=$((TRIED + 1))
				$reset
				faulty "$kind" "$n" "$e" "$@"
				digest=$(digest_of "$dir")
				if [ "$RC" = 0 ]; then
					TOLERATED=$((TOLERATED + 1))
					echo "tolerated (exit 0, the result checked): $WHAT"
					if grep -Eq "^hamlet: .*(the disk is full|I/O error)" "$ERR"; then
						fail "$WHAT: said '$(grep -E "^hamlet: .*(disk is full|I/O error)" "$ERR" | head -1)' but exited 0"
					fi
					[ "$digest" = "$AFTER" ] && ok ||
						fail "$WHAT: exit 0 but the digest is not the one after"
					$verify
				elif [ "$RC" != 1 ]; then
					fail "$WHAT: exit $RC, want 1: $(head -3 "$ERR")"
					continue
				else
					FAILED_CLEANLY=$((FAILED_CLEANLY + 1))
					plain_message "$e" && ok
					# A sync commits batch by batch, each durable before it asks
					# for more: a fault may leave the batches before it, which it
					# must then name (a resumed sync goes on from them).
					if [ "$digest" = "$BEFORE" ] || [ "$digest" = "$AFTER" ]; then
						ok
					elif [ "$name" = sync ] &&
						grep -Eq "the [0-9]+ change sets received before it were kept" "$ERR"; then
						PREFIX=$((PREFIX + 1))
						ok
					else
						fail "$WHAT: the digest is neither the one before nor after" \
							"(nor a prefix the message names)"
					fi
				fi
				hm -d "$dir" check
				[ "$RC" = 0 ] && ok || fail "$WHAT: check fails afterwards: $(head -2 "$OUT" "$ERR")"
				# the fault gone, the command succeeds and the result is the one after
				run "$HM" "$@"
				[ "$RC" = 0 ] && [ "$(digest_of "$dir")" = "$AFTER" ] && ok ||
					fail "$WHAT: run again without the fault: exit $RC, $(head -2 "$ERR")"
				$verify
			done
		done
	done
}

# ---- the nodes: src with a large register (2,000 people, random text, one change set) and
# 30 single writes; dst an empty village; hub, a township, serves src's data to twn, another.
new_node src lin/east/oak
python3 - >people.csv <<'PY'
import os, base64
print("id,name,phone,address")
for i in range(2000):
    r = base64.b32encode(os.urandom(40)).decode()
    print(f"p{i},Name {r[:20]},+2547{i:08d},Plot {i} {r[20:]}")
PY
must -d src import-csv person people.csv
for i in $(seq 30); do must -d src put person "w$i" name="Writer $i" phone="$i"; done
must -d src export -o big.bundle
new_node dst lin/east/elm
new_node hub lin/east
new_node twn lin/east
carry hub src
cp -a dst dst.clean
cp -a twn twn.clean
cp -a src src.clean
ls -l big.bundle | awk '{print "the bundle: " $5 " bytes"}'

reset_dst() {
	rm -rf dst && cp -a dst.clean dst
}
reset_twn() {
	rm -rf twn && cp -a twn.clean twn
}
reset_export() {
	rm -rf src out.bundle out.bundle.tmp.* && cp -a src.clean src
}
verify_none() { :; }
# an export that says it succeeded wrote a whole bundle that imports
verify_export() {
	local d
	d=$(mktemp -d "$T/v.XXXXXX")
	cp -a dst.clean "$d/n"
	hm -d "$d/n" import out.bundle
	[ "$RC" = 0 ] && [ "$(digest_of "$d/n")" = "$IMPORTED" ] && ok ||
		fail "$WHAT: the bundle written does not import to the right digest: $(head -2 "$ERR")"
	rm -rf "$d"
}
# an export that failed left nothing behind
no_leftovers() {
	if [ "$RC" != 0 ] && ls out.bundle* >/dev/null 2>&1; then
		fail "$WHAT: a failed export left $(ls out.bundle*)"
	fi
}
verify_failed_export() {
	[ "$RC" = 0 ] && verify_export || no_leftovers
}

# ---- a large import
loop import dst reset_dst verify_none -d dst import big.bundle
IMPORTED=$AFTER

# ---- an export (the node's digest never changes: the bundle is what is checked)
loop export src reset_export verify_failed_export -d src export -o out.bundle

# ---- a sync: a second township pulls everything from the hub (faults in its process), the
# hub named as a peer so the sync also writes its record (peers.state, peer-hub.vv)
start_daemon hub hub
must -d twn.clean peer add hub "$(url_of hub)"
# a record left half-written would be a file beside it
verify_sync() {
	local left
	left=$(ls twn | grep -v -E '^(data|lock)\.mdb$|^node\.key$|^peers$|^peers\.state$|^peer-hub\.vv$')
	[ -z "$left" ] && ok || fail "$WHAT: left $left in the node's folder"
}
loop sync twn reset_twn verify_sync -d twn sync hub
stop_daemon hub

# ---- check --repair of a store whose records tree is damaged past what LMDB survives (node/
# pages.c: the other trees copied to a new file, its records rebuilt, then put in place). Each
# fault: exit 0 with the node's digest, or exit 1 in plain words with data.mdb either exactly
# the damaged file or the whole new one (the fault came after it was put in place), never a
# salvage.* folder left; and the same repair then succeeds.
cp -a src.clean dmg.clean
rm -f dmg.clean/lock.mdb
python3 "$(dirname "$0")/onekey.py" records dmg.clean/data.mdb || fail "no branch page to damage"
GOOD=$(digest_of src.clean)
reset_dmg() {
	rm -rf dmg && cp -a dmg.clean dmg
}
salvage_after() {
	if compgen -G "dmg/salvage.*" >/dev/null; then
		fail "$WHAT: left $(echo dmg/salvage.*)"
	elif [ "$RC" = 0 ] || ! cmp -s dmg/data.mdb dmg.clean/data.mdb; then
		[ "$(digest_of dmg)" = "$GOOD" ] && ok || fail "$WHAT: exit $RC, a data.mdb of another digest"
	else
		ok # the damaged file, untouched
	fi
}
for kind in $KINDS; do
	reset_dmg
	calls_of "$kind" -d dmg check --repair
	c=$CALLS
	echo "salvage: $kind: $c calls"
	for n in $(points "$c"); do
		next_errnos
		for e in $ES; do
			WHAT="check --repair (salvage), $kind #$n of $c failing with $e"
			TRIED=$((TRIED + 1))
			reset_dmg
			faulty "$kind" "$n" "$e" -d dmg check --repair
			case $RC in
			0) TOLERATED=$((TOLERATED + 1)) ;;
			1) FAILED_CLEANLY=$((FAILED_CLEANLY + 1)) && plain_message "$e" && ok ;;
			*) fail "$WHAT: exit $RC, want 1: $(head -3 "$ERR")" ;;
			esac
			salvage_after
			hm -d dmg check --repair
			[ "$RC" = 0 ] && [ "$(digest_of dmg)" = "$GOOD" ] && ok ||
				fail "$WHAT: run again without the fault: exit $RC, $(head -2 "$ERR")"
		done
	done
done

secs=$(python3 -c "import time; print('%.0f' % (time.time() - $T_START))")
echo "io_faults: $TRIED faults injected ($FAILED_CLEANLY failed cleanly, $PREFIX of them" \
	"keeping the sync's earlier batches; $TOLERATED tolerated)" \
	"in ${secs}s; every N: $ALL"
finish
