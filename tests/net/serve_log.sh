#!/usr/bin/env bash
# What a peer says reaches the clerk's terminal and the daemon's log escaped (issue #9, section
# 5): a hostile server refuses every sync with terminal escapes, a newline that would forge a
# line, a bidi override and bytes that are not UTF-8; `hamlet sync`, `serve`'s log, `status`,
# `peer list` and peers.state show none of them raw.
. "$(dirname "$0")/netlib.sh"
need_helpers "$RAW"

new_node elm lin/east/elm Elm
BAD_PORT=$(free_port)
"$RAW" refuse "tcp://127.0.0.1:$BAD_PORT" >"$T/refuse.out" 2>&1 &
BG_PIDS+=("$!")
for i in $(seq 1 50); do
	grep -q refusing "$T/refuse.out" && break
	sleep 0.1
done
must -d elm peer add bad "tcp://127.0.0.1:$BAD_PORT"

# sync by hand: fails, says why, escaped
hm -d elm sync bad
[ "$RC" = 1 ] && ok || fail "sync with a refusing peer exited $RC"
grep -qF 'the peer refused: no\x1b[2J' "$ERR" && ok || fail "sync: the refusal is not shown escaped: $(cat -v "$ERR")"
no_hostile "hamlet sync bad"
for args in "status" "status --json" "peer list" "peer list --json"; do
	# shellcheck disable=SC2086
	hm -d elm $args
	no_hostile "hamlet $args"
done
[ "$(grep -c . elm/peers.state)" = 1 ] && ok || fail "peers.state has forged lines: $(cat -v elm/peers.state)"
found=$(hostile_in elm/peers.state) && fail "peers.state holds raw $found" || ok

# serve: the sync children's failures go to the daemon's log, escaped
start_daemon elm elm --every 1
# (a loaded machine may first log a slow link's timeout: wait for the refusal itself)
for i in $(seq 1 300); do
	grep -q "sync with bad .*failed" "$T/elm.log" && grep -qF '\x1b[2J' "$T/elm.log" && break
	sleep 0.1
done
grep -q "sync with bad .*failed" "$T/elm.log" && ok || fail "serve logged no failed sync: $(cat -v "$T/elm.log" | tail -5)"
stop_daemon elm
found=$(hostile_in "$T/elm.log") && fail "serve's log holds raw $found: $(cat -v "$T/elm.log" | tail -5)" || ok
grep -qF '\x1b[2J' "$T/elm.log" && ok || fail "serve's log does not show the refusal escaped"

finish
