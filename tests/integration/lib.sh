# lib.sh - helpers for the CLI integration tests, sourced by each tests/integration/cli_*.sh.
#
# Each test runs the real `hamlet` binary ($HAMLET_BIN) on node directories under
# $HAMLET_TEST_TMP/<test name>, and checks exit codes, stderr messages and that a failed command
# changed nothing (the node's `digest` and `status --json` are equal before and after).
#
# Every node has keys (docs/cli.md, issue #3): `new_node` makes one and enrolls it with a county
# made on first use, so it can write and import at once; `mesh` builds a whole enrolled county.
# The passphrase of every key file is $HAMLET_PASSPHRASE, exported here.
#
# A check that fails marks the test failed and the script goes on, so one run lists every
# problem. `known_bug` runs a check that is expected to fail because of a bug outside tests/
# (named in its description): it is reported, not counted, until the bug is fixed.

set -u

HM=${HAMLET_BIN:?set HAMLET_BIN to the hamlet binary}
TEST_NAME=$(basename "$0" .sh)
T=${HAMLET_TEST_TMP:-/tmp/hamlet-test}/$TEST_NAME
rm -rf "$T"
mkdir -p "$T"
cd "$T" || exit 1
unset HAMLET_DIR HAMLET_MAP_MAX HAMLET_MAX_DRIFT_MS HAMLET_CLOCK_OFFSET_MS HAMLET_LOCALEDIR
# The tests read the English messages (C.UTF-8: bash still reads $'\u202e' as UTF-8), whatever
# language the machine has; cli_i18n.sh sets its own.
unset LANGUAGE LC_ALL LC_MESSAGES
export LANG=C.UTF-8
export HAMLET_PASSPHRASE="integration test passphrase"

FAILED=0
CHECKS=0
IN_KNOWN_BUG=0
KNOWN_BUG_FAILED=0

# The last command run by `run`: its exit code, stdout and stderr files.
RC=0
OUT=$T/.out
ERR=$T/.err

run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# hm ARGS...: run hamlet, output in $OUT / $ERR, code in $RC.
hm() {
	run "$HM" "$@"
}

fail() {
	if [ "$IN_KNOWN_BUG" = 1 ]; then
		KNOWN_BUG_FAILED=1
		echo "    (known bug) $*"
		return
	fi
	FAILED=1
	echo "FAIL: $*"
	if [ -s "$ERR" ]; then
		echo "  stderr:"
		sed 's/^/    /' "$ERR" | head -20
	fi
}

ok() {
	CHECKS=$((CHECKS + 1))
}

# known_bug "DESCRIPTION (file: function)" CHECK ARGS...: run a check that a bug outside tests/
# makes fail, without failing the test. Says so loudly when the check starts passing.
known_bug() {
	local what=$1
	shift
	IN_KNOWN_BUG=1
	KNOWN_BUG_FAILED=0
	"$@"
	IN_KNOWN_BUG=0
	if [ "$KNOWN_BUG_FAILED" = 1 ]; then
		echo "KNOWN BUG (not counted): $what"
	else
		echo "NOTE: the known bug seems fixed, turn this into a plain check: $what"
	fi
}

# snapshot DIR: the node's digest and status, as one string.
snapshot() {
	"$HM" -d "$1" digest 2>&1
	"$HM" -d "$1" status --json 2>&1
}

# expect CODE PATTERN ARGS...: hamlet ARGS exits CODE and its stderr matches the extended regex
# PATTERN, and its first line of stderr starts with "hamlet: " (unless NOPREFIX is set).
# Output goes to $OUT and $ERR.
expect() {
	local code=$1 pattern=$2
	shift 2
	hm "$@"
	if [ "$RC" != "$code" ]; then
		fail "hamlet $* exited $RC, want $code"
		return
	fi
	# LC_ALL=C: a message may quote bytes of a damaged file that are not valid UTF-8
	if [ "$code" != 0 ] && ! LC_ALL=C grep -Eq -- "$pattern" "$ERR"; then
		fail "hamlet $*: stderr does not match /$pattern/"
		return
	fi
	if [ "$code" != 0 ] && [ -z "${NOPREFIX:-}" ] && ! head -1 "$ERR" | grep -q '^hamlet: '; then
		fail "hamlet $*: stderr does not start with 'hamlet: '"
		return
	fi
	ok
}

# expect_same DIR CODE PATTERN ARGS...: as expect, and the node in DIR is unchanged.
expect_same() {
	local dir=$1 before after
	shift
	before=$(snapshot "$dir")
	expect "$@"
	after=$(snapshot "$dir")
	if [ "$before" != "$after" ]; then
		fail "hamlet ${*:3} changed the node in $dir"
		diff <(echo "$before") <(echo "$after") | head -10 | sed "s/^/    /"
		return
	fi
	ok
}

# must ARGS...: hamlet ARGS succeeds (setup steps).
must() {
	hm "$@"
	if [ "$RC" != 0 ]; then
		fail "setup step hamlet $* exited $RC"
		return 1
	fi
	return 0
}

# is_json FILE: FILE holds one JSON document.
is_json() {
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null
}

# json_get FILE EXPR: evaluate the Python expression EXPR over the document `d` in FILE.
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# damage_older_meta DIR: zero the magic of the older of DIR's two LMDB meta pages (the one a
# `check --repair` can write again from the other: docs/reliability.md, "Damaged media").
damage_older_meta() {
	python3 - "$1/data.mdb" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    m = f.read(200)
    psize = struct.unpack_from("<I", m, 40)[0]
    t0 = struct.unpack_from("<Q", m, 144)[0]
    f.seek(psize)
    t1 = struct.unpack_from("<Q", f.read(200), 144)[0]
    f.seek((0 if t0 < t1 else 1) * psize + 16)
    f.write(b"\0\0\0\0")  # its magic
PY
}

# digest_of DIR
digest_of() {
	"$HM" -d "$1" digest
}

# role_of REGION: county, township or village by the number of parts.
role_of() {
	case $(echo "$1" | tr -cd / | wc -c) in
	0) echo county ;;
	1) echo township ;;
	*) echo village ;;
	esac
}

# node_id DIR: the node's id.
node_id() {
	"$HM" -d "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])'
}

# use_county REGION: make REGION's county (its first part) if there is none yet, in
# $T/.county-<county>; set COUNTY_DIR to it and ROOT_KEY to its root key (the county's sign
# key, 64 hex digits, as `enroll sign` prints it).
use_county() {
	local county=${1%%/*}
	COUNTY_DIR=$T/.county-$county
	if [ ! -e "$COUNTY_DIR/node.key" ]; then
		must -d "$COUNTY_DIR" init --role county --region "$county" --name "County $county" ||
			return 1
	fi
	ROOT_KEY=$("$HM" -d "$COUNTY_DIR" status --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["root"])')
}

# enroll DIR SIGNER_DIR [SIGN_OPTIONS...]: request on DIR, sign on SIGNER_DIR, accept on DIR
# with the root key pinned (ROOT_KEY, set by use_county).
enroll() {
	local dir=$1 signer=$2 files
	shift 2
	files=$T/.enroll/$(echo "$dir" | tr / _)
	mkdir -p "$T/.enroll"
	rm -f "$files.req" "$files.ans"
	must -d "$dir" enroll request -o "$files.req" &&
		must -d "$signer" enroll sign "$files.req" -o "$files.ans" "$@" &&
		must -d "$dir" enroll accept "$files.ans" --root "$ROOT_KEY"
}

# new_node DIR REGION [NAME [SIGNER_DIR [SIGN_OPTIONS...]]]: a node of REGION's role, enrolled
# by SIGNER_DIR (default: REGION's county, made on first use). A county region makes a county.
new_node() {
	local dir=$1 region=$2 name=${3:-$1} signer=${4:-} role
	shift $(($# < 4 ? $# : 4))
	role=$(role_of "$region")
	if [ "$role" = county ]; then
		must -d "$dir" init --role county --region "$region" --name "$name"
		return
	fi
	use_county "$region" || return 1
	[ -n "$signer" ] || signer=$COUNTY_DIR
	must -d "$dir" init --role "$role" --region "$region" --name "$name" &&
		enroll "$dir" "$signer" "$@"
}

# mesh: an enrolled county: C (county lin), E (township lin/east, enrolled --may-enroll), W
# (township lin/west), elm and oak (villages of lin/east, enrolled by E) and ash (village of
# lin/west, enrolled by the county). ROOT is the root key; ID_C, ID_E, ... the node ids.
mesh() {
	local d
	must -d "$T/.county-lin" init --role county --region lin --name County || return 1
	ln -s .county-lin C
	use_county lin
	ROOT=$ROOT_KEY
	new_node E lin/east East C --may-enroll
	new_node W lin/west West C
	new_node elm lin/east/elm Elm E
	new_node oak lin/east/oak Oak E
	new_node ash lin/west/ash Ash C
	for d in C E W elm oak ash; do
		eval "ID_$d=$(node_id "$d")"
	done
}

# carry DST SRC...: bring DST every change set the SRC nodes hold, by bundle files.
carry() {
	local dst=$1 src
	shift
	for src in "$@"; do
		must -d "$src" export -o "$src.bundle" --force && must -d "$dst" import "$src.bundle"
	done
}

# hostile_in FILE: FILE holds a raw terminal control or a forged line: C0 controls other than
# newline and tab, DEL, C1 (U+0080-U+009F), bidi overrides and isolates, a line that starts
# with "status  released" (forged by a newline in a value), or bytes that are not UTF-8.
hostile_in() {
	python3 - "$1" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
bad = []
if re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", b): bad.append("C0/DEL")
try:
    t = b.decode("utf-8")
except UnicodeDecodeError:
    bad.append("not UTF-8"); t = b.decode("utf-8", "replace")
if re.search("[\u0080-\u009f]", t): bad.append("C1")
if re.search("[\u202a-\u202e\u2066-\u2069]", t): bad.append("bidi")
if re.search(r"(?m)^\s*status\s+released", t): bad.append("forged line")
if bad:
    print(", ".join(bad)); sys.exit(0)
sys.exit(1)
PY
}

# no_hostile WHAT: the last command's stdout and stderr hold nothing hostile_in finds.
no_hostile() {
	local f what=$1 found
	for f in "$OUT" "$ERR"; do
		if found=$(hostile_in "$f"); then
			fail "$what: raw $found in its output: $(head -c 300 "$f" | od -c | head -5)"
			return
		fi
	done
	ok
}

finish() {
	if [ "$FAILED" = 0 ]; then
		echo "PASS: $TEST_NAME ($CHECKS checks)"
		exit 0
	fi
	echo "FAILED: $TEST_NAME"
	exit 1
}
