# lib.sh - helpers for the CLI integration tests, sourced by each tests/integration/cli_*.sh.
#
# Each test runs the real `hamlet` binary ($HAMLET_BIN) on node directories under
# $HAMLET_TEST_TMP/<test name>, and checks exit codes, stderr messages and that a failed command
# changed nothing (the node's `digest` and `status --json` are equal before and after).
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
unset HAMLET_DIR HAMLET_MAP_MAX HAMLET_MAX_DRIFT_MS HAMLET_CLOCK_OFFSET_MS

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
	if [ "$code" != 0 ] && ! grep -Eq -- "$pattern" "$ERR"; then
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

# digest_of DIR
digest_of() {
	"$HM" -d "$1" digest
}

# new_node DIR REGION [NAME]: a village node (or township/county by the region's depth).
new_node() {
	local role
	case $(echo "$2" | tr -cd / | wc -c) in
	0) role=county ;;
	1) role=township ;;
	*) role=village ;;
	esac
	must -d "$1" init --role "$role" --region "$2" --name "${3:-$1}"
}

finish() {
	if [ "$FAILED" = 0 ]; then
		echo "PASS: $TEST_NAME ($CHECKS checks)"
		exit 0
	fi
	echo "FAILED: $TEST_NAME"
	exit 1
}
