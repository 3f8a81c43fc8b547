#!/usr/bin/env bash
# A serving hub E under attack from raw_client (nanomsg REQ with hand-made frames): garbage, a
# short message, a truncated hello, a hello with a wrong magic, a frame above the 16 MiB cap, a
# sealed frame for a session that does not exist, a sealed frame too short for its tag, the
# exact bytes of a real session's auth (captured by raw_client relaying a real sync) replayed
# as they were and inside a fresh session, and an HTTP request on the TCP port. After each:
# the daemon is alive, and a real village's sync with it still succeeds.
# Then revocation: the county revokes village oak; once the revocation has reached E, oak's
# sync with E is refused with an error that says why, while elm's still works.
. "$(dirname "$0")/netlib.sh"
need_helpers "$RAW"

use_county lin
ln -s "$COUNTY_DIR" C
new_node E lin/east East C --may-enroll
new_node elm lin/east/elm Elm E
new_node oak lin/east/oak Oak E
start_daemon E E
start_daemon C C
URL=$(url_of E)
n_put=0

# still_serving WHAT: E's daemon is alive and a real sync from elm, with a new record, works.
still_serving() {
	n_put=$((n_put + 1))
	if ! alive E; then
		fail "after $1: E's daemon died: $(tail -3 "$T/E.log")"
		start_daemon E E
		return
	fi
	ok
	must -d elm put person elm-$n_put name="After $1"
	net_sync elm "$URL"
	[ "$RC" = 0 ] && [ "$SENT" = 1 ] && ok || fail "after $1: elm's sync: rc $RC, sent '$SENT'"
}

# attack KIND PATTERN: one crafted frame; its reply matches the extended regex PATTERN.
attack() {
	run "$RAW" send "$URL" "$1"
	if [ "$RC" = 0 ] && grep -Eq -- "$2" "$OUT"; then
		ok
	else
		fail "$1: rc $RC, reply '$(cat "$OUT")', want /$2/"
	fi
	still_serving "$1"
}

attack garbage '^E not a hamlet sync message'
attack short '^E a message too short'
attack hello-truncated '^E not a hamlet sync hello'
attack hello-bad-magic '^E not a hamlet sync hello'
attack unknown-session '^E no such session'
attack sealed-short '^E no such session'
# above NN_RCVMAXSIZE: nanomsg drops the connection, nothing is answered, nobody crashes
attack oversized '^none$'
note "crafted frames done"

# ---- a real session relayed through raw_client, its frames saved, then replayed
mkdir -p "$T/capture"
PROXY_PORT=$(free_port)
"$RAW" proxy "tcp://127.0.0.1:$PROXY_PORT" "$URL" "$T/capture" >"$T/proxy.out" 2>&1 &
PROXY=$!
BG_PIDS+=("$PROXY")
for i in $(seq 1 50); do
	grep -q proxying "$T/proxy.out" && break
	sleep 0.1
done
must -d elm put person elm-relayed name="Through the relay"
must_sync elm "tcp://127.0.0.1:$PROXY_PORT"
kill "$PROXY" 2>/dev/null
wait "$PROXY" 2>/dev/null
[ -s "$T/capture/c2s-0" ] && [ -s "$T/capture/c2s-1" ] && ok || fail "no session captured"
[ "$(head -c 1 "$T/capture/c2s-0")" = H ] && ok || fail "the first captured frame is not a hello"
# the relay saw only ciphertext after the handshake: no record name in any frame
if grep -q "Through the relay" "$T"/capture/*; then
	fail "a record's content crossed the relay in clear"
else
	ok
fi
run "$RAW" replay "$URL" "$T/capture"
cat "$OUT"
[ "$RC" = 0 ] && ok || fail "a replayed auth was answered in session (rc $RC)"
grep -q '^auth as recorded: E no such session' "$OUT" && ok || fail "replayed auth, as recorded"
grep -q '^hello as recorded: A ' "$OUT" && ok || fail "a replayed hello did not get a new session"
grep -q '^auth in the new session: E .*does not decrypt' "$OUT" && ok ||
	fail "replayed auth in a new session was not refused as undecryptable"
still_serving "replays"

# ---- HTTP on the nanomsg port: the SP header is wrong, the connection is dropped
run python3 - "${D_PORT[E]}" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8\r\n\r\n" * 50)
try:
    got = s.recv(4096)
    print("reply", len(got), got[:8])
except socket.timeout:
    print("no reply")
s.close()
EOF
[ "$RC" = 0 ] && ok || fail "the HTTP client itself failed: $(cat "$ERR")"
still_serving "an HTTP request"
# and a slow client that opens the port and says nothing holds nobody up
exec 7<>"/dev/tcp/127.0.0.1/${D_PORT[E]}"
still_serving "an idle TCP connection"
exec 7>&-
note "replays and foreign protocols done"

# ---- revocation: the county revokes oak; E learns it from the county; oak is refused by E
# the county knows oak's certificate from oak's first change set, relayed by E
must -d oak put person oak-1 name="Before the revocation"
must_sync oak "$URL"
must_sync E "$(url_of C)"
OAK_ID=$(node_id oak)
OAK_SEQ=$(status_field oak seq)
must -d C revoke "$OAK_ID" --after-seq "$OAK_SEQ" --reason "laptop stolen"
must_sync E "$(url_of C)"
must -d oak put person oak-after name="Written after the revocation"
net_sync oak "$URL"
if [ "$RC" = 1 ] && grep -Eiq "revoked" "$ERR"; then
	ok
else
	fail "oak's sync after its revocation: rc $RC, stderr '$(cat "$ERR")', want a refusal naming the revocation"
fi
echo "  oak is told: $(cat "$ERR")"
expect 1 "" -d E get person oak-after
still_serving "the revoked peer"
must_sync E "$(url_of C)"
check_scoped C E elm
check_settled E elm
for n in E C; do
	alive "$n" && ok || fail "daemon $n died"
	stop_daemon "$n"
done
note "done"
finish
