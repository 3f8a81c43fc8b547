# netlib.sh - helpers for the network tests, sourced by each tests/net/*.sh after
# tests/integration/lib.sh (node making, enrollment, checks: see there).
#
# Daemons are real `hamlet serve` processes on tcp://127.0.0.1 ports picked free by the kernel
# (bind port 0). Every daemon and background process started here is recorded and killed when
# the script ends, however it ends (trap), and a watchdog ends the script after NET_DEADLINE
# seconds so that nothing outlives a hung test. Nothing is ever sent anywhere but 127.0.0.1.

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

RAW=${HAMLET_RAW_CLIENT:-}
BULK=${HAMLET_BULK_PUT:-}
NET_DEADLINE=${NET_DEADLINE:-200}
SYNC_TIMEOUT=${SYNC_TIMEOUT:-60}
NET_T0=$(date +%s.%N)

# D_PID: each daemon's process; D_SUP: the `hamlet serve` that runs it and would start it again
# (cli/net_cmds.c), the process this script started.
declare -A D_PID D_SUP D_PORT D_DIR
BG_PIDS=()

net_cleanup() {
	local name pid
	for name in "${!D_PID[@]}" "${!D_SUP[@]}"; do
		for pid in ${D_PID[$name]:-} ${D_SUP[$name]:-}; do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	[ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
	wait 2>/dev/null
}
trap net_cleanup EXIT
trap 'echo "FAIL: $TEST_NAME hit its deadline of ${NET_DEADLINE}s"; exit 1' TERM
# The watchdog's own sleep dies with it, and it holds none of ctest's pipes.
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$NET_DEADLINE" &
	sp=$!
	wait "$sp" && kill -TERM $$
) >/dev/null 2>&1 &
WATCHDOG=$!

# elapsed: seconds since the script started, for the timing lines.
elapsed() {
	python3 -c "import time; print('%.1f' % (time.time() - $NET_T0))"
}

# note TEXT: a progress line with the time since the start.
note() {
	echo "[$(elapsed)s] $*"
}

# free_port: a TCP port on 127.0.0.1 that nobody is listening on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# url_of NAME: the daemon NAME's URL.
url_of() {
	echo "tcp://127.0.0.1:${D_PORT[$1]}"
}

# mute_listener SECONDS: a TCP listener on 127.0.0.1 that takes connections and never speaks
# (not a hamlet node), for SECONDS, in the background; sets MUTE_PORT.
mute_listener() {
	MUTE_PORT=$(free_port)
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); held = []
s.settimeout(0.2); t = time.time()
while time.time() - t < float(sys.argv[2]):
    try: held.append(s.accept())
    except OSError: pass
' "$MUTE_PORT" "$1" &
	BG_PIDS+=($!)
	sleep 0.3
}

# start_daemon NAME DIR [SERVE_OPTIONS...]: `hamlet -d DIR serve` on a free port (the same port
# as before when NAME ran already), log in $T/NAME.log (appended); waits until it listens. The
# daemon is serve's child (D_PID); serve itself (D_SUP) would start it again if it stopped.
start_daemon() {
	local name=$1 dir=$2 i
	shift 2
	[ -n "${D_PORT[$name]:-}" ] || D_PORT[$name]=$(free_port)
	D_DIR[$name]=$dir
	local before=0
	[ -f "$T/$name.log" ] && before=$(grep -c "serving" "$T/$name.log")
	"$HM" -d "$dir" serve --listen "$(url_of "$name")" "$@" 2>>"$T/$name.log" &
	D_SUP[$name]=$!
	D_PID[$name]=
	for i in $(seq 1 100); do
		local now
		now=$(grep -c "serving" "$T/$name.log" 2>/dev/null)
		if [ "${now:-0}" -gt "$before" ]; then
			D_PID[$name]=$(pgrep -P "${D_SUP[$name]}" | head -1)
			[ -n "${D_PID[$name]}" ] && return 0
		fi
		if ! kill -0 "${D_SUP[$name]}" 2>/dev/null; then
			fail "daemon $name ($dir) died at start: $(tail -3 "$T/$name.log")"
			D_SUP[$name]=
			return 1
		fi
		sleep 0.1
	done
	fail "daemon $name did not start listening in 10 s"
	return 1
}

# alive NAME: the daemon is still running (the one started: not one serve started again).
alive() {
	[ -n "${D_PID[$1]:-}" ] && kill -0 "${D_PID[$1]}" 2>/dev/null
}

# stop_daemon NAME: SIGTERM to serve, and it must stop cleanly within 10 s, its daemon too.
stop_daemon() {
	local name=$1 pid=${D_SUP[$1]:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "daemon $name did not stop within 10 s of SIGTERM"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	local rc=$?
	[ -n "${D_PID[$name]}" ] && kill -0 "${D_PID[$name]}" 2>/dev/null &&
		fail "daemon $name outlived its serve"
	D_PID[$name]= D_SUP[$name]=
	if [ "$rc" != 0 ] || ! tail -1 "$T/$name.log" | grep -q "stopped cleanly"; then
		fail "daemon $name did not stop cleanly (exit $rc): $(tail -2 "$T/$name.log")"
		return 1
	fi
	ok
}

# kill9 NAME: SIGKILL the daemon and its serve (a crash, a power cut).
kill9() {
	local pid=${D_PID[$1]:-} sup=${D_SUP[$1]:-}
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$sup" ] && kill -KILL "$sup" 2>/dev/null && wait "$sup" 2>/dev/null
	D_PID[$1]= D_SUP[$1]=
}

# net_sync DIR TARGET: one `hamlet -d DIR sync TARGET --json`, bounded; output in $OUT/$ERR,
# exit code in $RC. SENT and RECEIVED from its summary (empty on failure).
net_sync() {
	run timeout "$SYNC_TIMEOUT" "$HM" -d "$1" sync "$2" --json
	SENT= RECEIVED=
	if [ "$RC" = 0 ]; then
		read -r SENT RECEIVED < <(json_get "$OUT" '"%d %d" % (d["sent"], d["received"])')
	fi
}

# must_sync DIR TARGET: net_sync that must succeed.
must_sync() {
	net_sync "$1" "$2"
	if [ "$RC" != 0 ]; then
		fail "sync $1 -> $2 exited $RC"
		return 1
	fi
	ok
}

# region_of DIR
region_of() {
	"$HM" -d "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["region"])'
}

# status_field DIR KEY: one field of `status --json`.
status_field() {
	"$HM" -d "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# check_scoped COUNTY_DIR DIR...: each node's digest equals the county's view of its region.
check_scoped() {
	local county=$1 d mine want
	shift
	for d in "$@"; do
		mine=$(digest_of "$d")
		want=$("$HM" -d "$county" digest --scope "$(region_of "$d")")
		if [ -n "$mine" ] && [ "$mine" = "$want" ]; then
			ok
		else
			fail "$d: digest $mine, the county's view of $(region_of "$d") is $want"
		fi
	done
}

# check_settled DIR...: no pending, quarantined or refused change sets, and `check` passes.
check_settled() {
	local d
	for d in "$@"; do
		must -d "$d" status --json || continue
		local p
		p=$(json_get "$OUT" '"%d %d %d" % (d["pending"], d["quarantined"], d["refused"])')
		[ "$p" = "0 0 0" ] && ok || fail "$d: pending/quarantined/refused = $p"
		expect 0 "" -d "$d" check
	done
}

# need_helpers: the C helpers were built (cmake --build ... --target hm_net_raw_client ...).
need_helpers() {
	local h
	for h in "$@"; do
		if [ -z "$h" ] || [ ! -x "$h" ]; then
			echo "FAIL: helper '$h' missing: build hm_net_raw_client and hm_net_bulk_put"
			exit 1
		fi
	done
}
