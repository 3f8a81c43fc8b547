#!/usr/bin/env bash
# `hamlet serve` keeps its daemon going (issue #10 section 1: nanomsg ends a process that cannot
# allocate memory, by abort()): the daemon runs as serve's child and is started again when it
# stops on its own after it started, with a delay that doubles while it keeps stopping (and
# again when, started again, it cannot start); a stop asked for ends both cleanly; serve killed
# outright leaves no daemon behind (the port is free again); a daemon that cannot start the
# first time ends serve. A crash writes no core file (the daemon's memory holds the node's keys,
# serve's its passphrase), and both keep them locked out of swap.
. "$(dirname "$0")/netlib.sh"
ulimit -c unlimited 2>/dev/null # for the core check at the end: a core, if any, is written
# a sanitizer build keeps its own SIGABRT handler, stays dumpable and makes mlock do nothing
ASAN=0
ldd "$HM" | grep -q libasan && ASAN=1

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node elm lin/east/elm Elm E
must -d elm put person elm-1 name="Elm one"

# wait_for PATTERN N: the daemon's log holds PATTERN N times (10 s at most)
wait_for() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c -- "$1" "$T/E.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

start_daemon E E
first=${D_PID[E]}
[ "$first" != "${D_SUP[E]}" ] && [ "$(ps -o ppid= -p "$first" | tr -d ' ')" = "${D_SUP[E]}" ] && ok ||
	fail "the daemon ($first) is not serve's child (${D_SUP[E]})"

# what nanomsg does when an allocation fails: abort()
kill -ABRT "$first"
wait_for "serving E" 2 && ok || fail "the daemon was not started again: $(tail -3 "$T/E.log")"
# (a sanitizer build keeps its own SIGABRT handler: the daemon dies of the signal there)
if [ "$ASAN" = 1 ]; then
	grep -q "the daemon stopped on signal 6; started again in 1 s" "$T/E.log"
else
	grep -q "stopped (SIGABRT) with a network socket open" "$T/E.log" &&
		grep -q "the daemon stopped (exit 1); started again in 1 s" "$T/E.log"
fi && ok || fail "the log does not say the daemon stopped and was started again: $(tail -4 "$T/E.log")"
second=$(pgrep -P "${D_SUP[E]}" | head -1)
[ -n "$second" ] && [ "$second" != "$first" ] && ok || fail "no new daemon ($first, then '$second')"
D_PID[E]=$second
must_sync elm "$(url_of E)" && check_scoped E elm

# stopping again soon: the delay doubles
kill -ABRT "$second"
wait_for "serving E" 3 && grep -q "started again in 2 s" "$T/E.log" && ok ||
	fail "a second stop was not started again after 2 s: $(tail -3 "$T/E.log")"
third=$(pgrep -P "${D_SUP[E]}" | head -1)

# a daemon started again that cannot start (its port taken meanwhile, as memory short at start
# would) is tried again later, not given up: serve keeps going
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
for i in range(100):
    try:
        s.bind(("127.0.0.1", int(sys.argv[1]))); break
    except OSError:
        time.sleep(0.05)
s.listen(1); time.sleep(6)' "${D_PORT[E]}" &
BG_PIDS+=("$!")
kill -ABRT "$third"
wait_for "did not start (exit 1); started again in 8 s" 1 && ok ||
	fail "a start that failed ended serve: $(tail -3 "$T/E.log")"
sleep 9
wait_for "serving E" 4 && kill -0 "${D_SUP[E]}" && ok || fail "serve did not start its daemon again after the port was free: $(tail -3 "$T/E.log")"
third=$(pgrep -P "${D_SUP[E]}" | head -1)

# serve killed outright (SIGKILL cannot be passed on): its daemon ends by itself
kill -KILL "${D_SUP[E]}"
wait "${D_SUP[E]}" 2>/dev/null
for i in $(seq 1 100); do
	kill -0 "$third" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$third" 2>/dev/null && fail "the daemon outlived its serve by 10 s" || ok
D_PID[E]= D_SUP[E]=
start_daemon E E && ok # the same port: free again
must_sync elm "$(url_of E)"

# SIGILL (a crash no handler of ours takes) dumps core by default: with the limit raised above
# and a plain core_pattern, a core would land in the daemon's folder ($T). hamlet turns dumps off
# itself (cli/main.c). (Not SIGQUIT: a background job of a script ignores it.)
pattern=$(cat /proc/sys/kernel/core_pattern)
if [ "$ASAN" = 1 ]; then
	note "core check skipped: a sanitizer build stays dumpable (LeakSanitizer uses ptrace)"
elif [ "$(ulimit -c)" != unlimited ] || [ "${pattern#*[|/]}" != "$pattern" ]; then
	note "core check skipped: core limit $(ulimit -c), core_pattern '$pattern' (not in the folder)"
else
	before=$(ls -A | sort) # a core of any plain name would be a new file here
	n=$(grep -c "serving E" "$T/E.log")
	kill -ILL "${D_PID[E]}"
	wait_for "serving E" $((n + 1)) && grep -q "stopped on signal 4" "$T/E.log" && ok ||
		fail "a daemon stopped by SIGILL was not started again: $(tail -3 "$T/E.log")"
	D_PID[E]=$(pgrep -P "${D_SUP[E]}" | head -1)
	sleep 0.5
	cores=$(comm -13 <(echo "$before") <(ls -A | sort))
	[ -z "$cores" ] && ok || fail "a core file was written: $cores"
fi
# The node's keys and serve's passphrase are locked out of swap: memory locked in both processes
# (VmLck), where the system lets a process lock some.
if [ "$ASAN" = 1 ]; then
	note "lock check skipped: AddressSanitizer makes mlock do nothing"
elif [ "$(ulimit -l)" = 0 ]; then
	note "lock check skipped: ulimit -l is 0"
else
	for pid in "${D_PID[E]}" "${D_SUP[E]}"; do
		lck=$(awk '/^VmLck:/ {print $2}' "/proc/$pid/status")
		[ "${lck:-0}" -gt 0 ] && ok || fail "process $pid locks no memory (VmLck ${lck:-none} kB)"
	done
fi
stop_daemon E # SIGTERM: both stop cleanly, exit 0

# a daemon that cannot start (its port taken) ends serve at once, not started again
start_daemon E E
hm -d E serve --listen "$(url_of E)"
[ "$RC" = 1 ] && grep -q "cannot listen" "$ERR" && ! grep -q "started again" "$ERR" && ok ||
	fail "serve on a taken port: exit $RC, $(cat "$ERR")"
stop_daemon E
finish
