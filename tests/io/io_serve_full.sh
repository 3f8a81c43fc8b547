#!/usr/bin/env bash
# A daemon whose disk fills (issue #10 section 2): a township hub on a small tmpfs of its own,
# serving villages and syncing with its county every second, has its disk filled to the last
# byte. It must stay up and keep answering reads (status, a sync that pulls), say that the disk
# is full in its log and in `status`, refuse writes with a plain message, and resume by itself
# (no restart) once space is back: its own sync with the county goes through and a village's
# push lands. Needs root to mount the tmpfs; skips (exit 77) where mounting is not allowed.
# A run killed half-way leaves its tmpfs mounted: unmount it before lib.sh clears the folder.
umount -l "${HAMLET_TEST_TMP:-/tmp/hamlet-test}/io_serve_full/disk" 2>/dev/null
. "$(dirname "$0")/../net/netlib.sh"

DISK=$T/disk
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=8m,mode=0700 hamlet-io-test "$DISK" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs here (needs root): $TEST_NAME not run"
	exit 77
fi
cleanup() {
	net_cleanup
	umount "$DISK" 2>/dev/null || umount -l "$DISK" 2>/dev/null
}
trap cleanup EXIT

# wait_for SECONDS FILE PATTERN: FILE gets a line matching PATTERN within SECONDS.
wait_for() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		grep -Eq "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- a county C served by a daemon, the hub (lin/east) on the small disk, a village elm (which
# pushes) and a second township twn (which pulls)
use_county lin
C=$COUNTY_DIR
new_node "$DISK/hub" lin/east Hub
new_node elm lin/east/elm Elm
new_node twn lin/east Twin
start_daemon county "$C"
must -d "$DISK/hub" peer add county "$(url_of county)"
for i in 1 2 3; do must -d elm put person "e$i" name="Early $i"; done
start_daemon hub "$DISK/hub" --every 1
must -d elm sync "$(url_of hub)"
wait_for 10 "$T/hub.log" "synced with county" && ok || fail "the hub did not sync with the county"

# ---- the disk fills
dd if=/dev/zero of="$DISK/fill" bs=64k status=none 2>/dev/null
df -k "$DISK" | awk 'NR==2 {print "the hub'"'"'s disk: " $4 " KiB free"}'
for i in 1 2 3; do must -d elm put person "late$i" name="Late $i" phone="$i"; done
must -d "$C" setting set clock.max_drift 1440 # a county write, for the hub to pull later
before=$(digest_of "$DISK/hub")

# a village's push is refused, plainly; the hub stays up and unchanged
expect 1 "the disk is full" -d elm sync "$(url_of hub)"
alive hub && ok || fail "the hub died when its disk filled: $(tail -3 "$T/hub.log")"
[ "$(digest_of "$DISK/hub")" = "$before" ] && ok || fail "the refused push changed the hub"

# its log says so
wait_for 5 "$T/hub.log" "serve error: the disk holding .* is full" && ok ||
	fail "the hub's log does not say its disk is full: $(tail -5 "$T/hub.log")"

# status answers and says so
expect 0 "" -d "$DISK/hub" status
grep -Eq "^disk .*full" "$OUT" && ok || fail "status does not say the disk is full: $(cat "$OUT")"
expect 0 "" -d "$DISK/hub" status --json
[ "$(json_get "$OUT" 'd["disk"]["full"]')" = True ] && ok ||
	fail "status --json has no disk.full true: $(cat "$OUT")"

# reads: a village pulls what the hub holds
expect 0 "" -d twn sync "$(url_of hub)" --json
[ "$(json_get "$OUT" 'd["received"]')" -gt 0 ] && ok || fail "twn received nothing from the hub"
alive hub && ok || fail "the hub died: $(tail -3 "$T/hub.log")"

# ---- space is back: the hub resumes by itself
rm -f "$DISK/fill"
wait_for 15 "$T/hub.log" "serve info: the disk holding .* has room again" && ok ||
	fail "the hub's log does not say the disk has room again: $(tail -5 "$T/hub.log")"
# its own sync with the county goes through (the county's setting arrives)
for i in $(seq 100); do
	[ "$(digest_of "$DISK/hub")" != "$before" ] && break
	sleep 0.1
done
[ "$(digest_of "$DISK/hub")" != "$before" ] && ok ||
	fail "the hub did not pull from the county after space came back: $(tail -5 "$T/hub.log")"
expect 0 "" -d elm sync "$(url_of hub)"
expect 0 "" -d "$DISK/hub" status --json
[ "$(json_get "$OUT" 'd["disk"]["full"]')" = False ] && ok || fail "status still says full"
expect 0 "" -d "$DISK/hub" check
alive hub && ok || fail "the hub died: $(tail -3 "$T/hub.log")"

# ---- room left, but not enough for what comes: a sync that fails on a full disk makes the
# disk full for the daemon too, until space is freed
free_kb=$(df -k --output=avail "$DISK" | tail -1)
dd if=/dev/zero of="$DISK/fill" bs=1k count=$((free_kb - 1536)) status=none
python3 - >big.csv <<'PY'
import os, base64
print("id,name,address")
for i in range(500):
    print(f"big{i},Big {i},{base64.b64encode(os.urandom(1500)).decode()}")
PY
must -d "$C" import-csv person big.csv # 1 MB for the hub to pull (2.5 MB stored), 1.5 MiB free
wait_for 15 "$T/hub.log" "sync with county .*failed.*the disk is full" && ok ||
	fail "the hub's sync with the county did not fail on the full disk: $(tail -3 "$T/hub.log")"
for i in $(seq 50); do
	[ "$(grep -c "serve error: the disk holding .* is full" "$T/hub.log")" = 2 ] && break
	sleep 0.1
done
[ "$(grep -c "serve error: the disk holding .* is full" "$T/hub.log")" = 2 ] && ok ||
	fail "the hub's log does not say the disk is full a second time: $(tail -3 "$T/hub.log")"
rm -f "$DISK/fill"
before=$(digest_of "$DISK/hub")
for i in $(seq 150); do
	[ "$(digest_of "$DISK/hub")" != "$before" ] && break
	sleep 0.1
done
[ "$(digest_of "$DISK/hub")" != "$before" ] && ok ||
	fail "the hub did not pull the county's 1 MB once space was freed: $(tail -3 "$T/hub.log")"
[ "$(grep -c "has room again" "$T/hub.log")" = 2 ] && ok || fail "no second 'room again' in the log"
expect 0 "" -d "$DISK/hub" check
alive hub && ok || fail "the hub died: $(tail -3 "$T/hub.log")"
stop_daemon hub
stop_daemon county
echo "the hub's log:"
grep -E "disk|failed|back" "$T/hub.log" | sed 's/^/  /' | head -20
finish
