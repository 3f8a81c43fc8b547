#!/usr/bin/env bash
# The transports a peer may be reached by (docs/protocol.md, "Slow links"): a township that
# answers on tcp:// and ws:// at once (`serve --listen tcp://...,ws://...`), a village syncing
# over each, a village's daemon syncing with a peer added by its ws:// address, and what a user
# is told when an address is wrong: a tcp:// client at a ws:// port, a TCP listener that never
# speaks, a --listen list with a bad URL, and one whose second port is taken.
. "$(dirname "$0")/netlib.sh"
need_helpers "$BULK"

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node elm lin/east/elm Elm E
new_node oak lin/east/oak Oak E
new_node ash lin/east/ash Ash E

TCP_PORT=$(free_port)
WS_PORT=$(free_port)
while [ "$WS_PORT" = "$TCP_PORT" ]; do WS_PORT=$(free_port); done
TCP_URL=tcp://127.0.0.1:$TCP_PORT
WS_URL=ws://127.0.0.1:$WS_PORT

# ---- a township answering on both, its log naming both
D_PORT[E]=$TCP_PORT
start_daemon E E --listen "$TCP_URL,$WS_URL" || finish
grep -q "serving .* on $TCP_URL,$WS_URL" "$T/E.log" && ok ||
	fail "the log does not name both URLs: $(grep serving "$T/E.log")"

must -d elm put person elm-1 name="Elm one"
must -d oak put person oak-1 name="Oak one"
must -d E put person E-1 name="East one"

# ---- a village over ws://, another over tcp://: both sync, both ways
must_sync elm "$WS_URL"
[ "$SENT" = 1 ] && [ "$RECEIVED" -ge 1 ] && ok ||
	fail "elm over ws://: sent $SENT, received $RECEIVED"
must_sync oak "$TCP_URL"
[ "$SENT" = 1 ] && [ "$RECEIVED" -ge 1 ] && ok ||
	fail "oak over tcp://: sent $SENT, received $RECEIVED"
check_scoped E elm
check_scoped E oak

# a change set of some size over ws:// (40 records of 3 KB: a frame longer than 64 KiB carries
# a 64-bit length)
"$BULK" elm elm 40 40 3000 >/dev/null || fail "bulk_put elm"
must_sync elm "$WS_URL"
[ "$SENT" = 1 ] && ok || fail "elm's large change set over ws://: sent $SENT"
check_scoped E elm

# ---- a peer added by its ws:// address, synced by the village's own daemon
hm -d ash peer add east "$WS_URL"
[ "$RC" = 0 ] && ok || fail "peer add with a ws:// URL exited $RC: $(cat "$ERR")"
must -d ash put person ash-1 name="Ash one"
start_daemon ash ash --every 1 || finish
for i in $(seq 1 100); do
	hm -d E get person ash-1
	[ "$RC" = 0 ] && break
	sleep 0.1
done
[ "$RC" = 0 ] && ok || fail "ash's daemon did not bring ash-1 to the township over ws:// in 10 s"
stop_daemon ash

# ---- wrong addresses, told plainly
# a tcp:// client at the ws:// port: the connection is taken at once, the opening exchange never
# ends: not a long round trip (that is shaped.sh's), an address that is no hamlet sync port
net_sync oak "tcp://127.0.0.1:$WS_PORT"
[ "$RC" = 1 ] && grep -q "does not answer as a hamlet sync port" "$ERR" && ok ||
	fail "a tcp:// client at a ws:// port: exit $RC, $(cat "$ERR")"
# a TCP listener that takes connections and never speaks (not a hamlet node)
mute_listener 60
net_sync oak "ws://127.0.0.1:$MUTE_PORT"
[ "$RC" = 1 ] && grep -q "does not answer as a hamlet sync port" "$ERR" && ok ||
	fail "a ws:// client at a mute listener: exit $RC, $(cat "$ERR")"
# a port nobody listens on: refused at once
net_sync oak "ws://127.0.0.1:$(free_port)"
[ "$RC" = 1 ] && grep -q "accepts no connection" "$ERR" && ok ||
	fail "a ws:// client at a closed port: exit $RC, $(cat "$ERR")"

# a peer is one URL: the hub's list, given as one, is refused where it is given
hm -d oak peer add east "$TCP_URL,$WS_URL"
[ "$RC" = 2 ] && grep -q "is a list" "$ERR" && ok || fail "peer add with a list: exit $RC, $(cat "$ERR")"
hm -d oak sync "$TCP_URL,$WS_URL"
[ "$RC" = 2 ] && grep -q "is a list" "$ERR" && ok || fail "sync with a list: exit $RC, $(cat "$ERR")"

# --listen lists: a bad URL is a usage error; a taken port names the URL, exit 1
hm -d oak serve --listen "$TCP_URL,http://127.0.0.1:1"
[ "$RC" = 2 ] && grep -q "each URL is tcp://ADDR:PORT, ws://ADDR:PORT" "$ERR" && ok ||
	fail "--listen with an http:// URL: exit $RC, $(cat "$ERR")"
hm -d oak serve --listen "tcp://127.0.0.1:$(free_port),"
[ "$RC" = 2 ] && ok || fail "--listen with an empty URL: exit $RC, $(cat "$ERR")"
hm -d oak serve --listen "tcp://127.0.0.1:$(free_port),$WS_URL"
[ "$RC" = 1 ] && grep -q "$WS_URL: Address already in use" "$ERR" && ok ||
	fail "--listen with a taken ws:// port: exit $RC, $(cat "$ERR")"

# the township still serves both after all that
must -d oak put person oak-2 name="Oak two"
must_sync oak "$WS_URL"
[ "$SENT" = 1 ] && ok || fail "oak over ws:// at the end: sent $SENT"
stop_daemon E
finish
