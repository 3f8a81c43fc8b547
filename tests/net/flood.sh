#!/usr/bin/env bash
# Fair sessions (issue #9, section 4): anyone who reaches the port can send hellos, and used to
# evict an authenticated sync in progress by sending 256 of them. Here a real village (elm)
# pushes a few hundred KB to a serving hub (E) over a slow link (tests/net/slow_sync.c: each
# request after the handshake waits SLOW_MS, so its session sits idle on the server), while
# raw_client floods E with well-formed hellos from fresh keys for FLOOD_S seconds (thousands of
# them). The sync must complete with every change set applied at E; a hello whose key gives no
# session key is refused without stopping the daemon; and E still serves afterwards.
. "$(dirname "$0")/netlib.sh"
SLOW=${HAMLET_SLOW_SYNC:-}
need_helpers "$RAW" "$BULK" "$SLOW"
SLOW_MS=1200
FLOOD_S=4

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node elm lin/east/elm Elm E
start_daemon E E
URL=$(url_of E)

# a hello with an all-zero key: no session can come of it, and the daemon must not stop
run "$RAW" send "$URL" hello-zero-key
grep -q '^E .*key is not usable' "$OUT" && ok || fail "a zero-key hello: reply '$(cat "$OUT")'"
alive E && ok || fail "a zero-key hello stopped the daemon: $(tail -2 "$T/E.log")"
alive E || start_daemon E E

# 240 records of 2 KB in change sets of 40: six change sets, about 500 KB, pushed 128 KB a time
run "$BULK" elm elm 240 40 2000
[ "$RC" = 0 ] && ok || fail "bulk_put: $(cat "$ERR")"
want=$(status_field elm seq)

"$SLOW" elm "$URL" "$SLOW_MS" 131072 >"$T/slow.out" 2>"$T/slow.err" &
SLOW_PID=$!
BG_PIDS+=("$SLOW_PID")
sleep 0.5 # the handshake is done; the session is authenticated and waits on its slow link
run "$RAW" flood "$URL" "$FLOOD_S"
note "$(cat "$OUT")"
[ "$RC" = 0 ] && ok || fail "the flood did not get its hellos through: $(cat "$OUT" "$ERR")"
wait "$SLOW_PID"
rc=$?
note "slow sync: rc $rc: $(cat "$T/slow.out" "$T/slow.err")"
[ "$rc" = 0 ] && ok || fail "the authenticated sync was broken by the flood: $(cat "$T/slow.err")"
grep -q "^sent $want " "$T/slow.out" && ok || fail "the sync did not send all $want change sets"
expect 0 "" -d E get person elm-00239
alive E && ok || fail "the daemon died under the flood: $(tail -2 "$T/E.log")"

# and a plain sync afterwards
must -d elm put person elm-after name="After the flood"
must_sync elm "$URL"
expect 0 "" -d E get person elm-after
stop_daemon E
note "done"
finish
