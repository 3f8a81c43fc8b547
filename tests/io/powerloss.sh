#!/usr/bin/env bash
# Power loss (issue #10 section 3): record every write and sync `hamlet` makes to two nodes'
# files (the shim tests/io/iorecord.c) through a run of local writes, an export and pushes to a
# hub daemon, then rebuild the files as a power cut at each sync point would leave them, with
# unsynced writes dropped, kept and reordered, and check each state (tests/io/powerloss.py says
# the model and the checks). docs/reliability.md, "Power loss", has the figures.
#
# What counts as acknowledged: a `put` that returned (its node's digest then), an export that
# returned (the bundle's content), a push the hub answered (the hub holds the village's change
# sets up to the seq the village had). HAMLET_PL_WRITES and HAMLET_PL_VARIANTS make a run larger.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../net/netlib.sh"

LIB=${HAMLET_IOREC_LIB:?set HAMLET_IOREC_LIB to the libhm_iorecord.so shim}
WRITES=${HAMLET_PL_WRITES:-16}
VARIANTS=${HAMLET_PL_VARIANTS:-8}
ASAN_RT=$(ldd "$HM" | awk '/libasan/ {print $3}')
PRELOAD=${ASAN_RT:+$ASAN_RT:}$LIB
REC=$T/rec
LOG=$T/io.log

# rec ARGS...: hamlet ARGS with every write and sync under $REC recorded.
rec() {
	LD_PRELOAD=$PRELOAD HM_IOREC_LOG=$LOG HM_IOREC_DIR=$REC/ run "$HM" "$@"
	[ "$RC" = 0 ] || fail "hamlet $* exited $RC under the recorder"
}

# ack WORDS...: an acknowledgement line (after the command it names returned).
ack() {
	echo "A $*" >>"$LOG"
}

ack_commit() {
	rec -d "$REC/$1" digest
	ack commit "$1" "$(cat "$OUT")"
}

mkdir -p "$REC/out"
new_node "$REC/hub" lin/east Hub
new_node "$REC/vil" lin/east/oak Oak
VIL_ID=$(node_id "$REC/vil")
# What was on the disk before recording: every file whole and synced (LMDB never syncs its
# folder: a store made just before a power cut is not promised, and is not tested here).
sync
cp -a "$REC" "$T/base"
find "$T/base" -name lock.mdb -delete
rm -f "$LOG"

rec -d "$REC/vil" digest
ack start vil "$(cat "$OUT")"
put_some() {
	local i
	for i in $(seq "$1" "$2"); do
		rec -d "$REC/vil" put person "p$i" name="Person $i" phone="+2547$i"
		ack_commit vil
	done
}
put_some 1 "$WRITES"
# a register of 60 people in one change set: a commit of many pages
python3 -c 'print("id,name,phone"); [print(f"r{i},Register {i},+2541{i:07d}") for i in range(60)]' >"$T/people.csv"
rec -d "$REC/vil" import-csv person "$T/people.csv"
ack_commit vil

# an export: the bundle, once `export` returned, must survive
rec -d "$REC/vil" export -o "$REC/out/first.bundle"
[ "$RC" = 0 ] && ack file "$REC/out/first.bundle" "$(sha256sum <"$REC/out/first.bundle" | cut -d' ' -f1)"
ack_commit vil

# pushes to a hub daemon (recorded too): what it answered must survive at the hub
LD_PRELOAD=$PRELOAD HM_IOREC_LOG=$LOG HM_IOREC_DIR=$REC/ start_daemon hub "$REC/hub" || exit 1
for round in 1 2 3; do
	put_some $((WRITES + round * 2 - 1)) $((WRITES + round * 2))
	rec -d "$REC/vil" status --json
	seq=$(json_get "$OUT" 'd["seq"]')
	LD_PRELOAD=$PRELOAD HM_IOREC_LOG=$LOG HM_IOREC_DIR=$REC/ net_sync "$REC/vil" "$(url_of hub)"
	if [ "$RC" = 0 ]; then
		ack holds hub "$VIL_ID" "$seq"
	else
		fail "push $round exited $RC: $(head -2 "$ERR")"
	fi
	ack_commit vil
done
stop_daemon hub

note "recorded: $(grep -c '^W' "$LOG") writes, $(grep -c '^S' "$LOG") syncs, $(wc -c <"$LOG") bytes of log"
python3 "$HERE/powerloss.py" --log "$LOG" --base "$T/base" --root "$REC" \
	--work "$T" --hamlet "$HM" --variants "$VARIANTS" && ok || fail "a power-loss state failed (above)"
finish
