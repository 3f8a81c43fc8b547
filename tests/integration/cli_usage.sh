#!/usr/bin/env bash
# Usage errors exit 2 with a message that names the problem, and change nothing; --help on
# every command exits 0 and prints its usage.
. "$(dirname "$0")/lib.sh"

new_node n lin/east/elm
must -d n put person p1 name=Ann

# ---- unknown command, unknown option, missing arguments
expect_same n 2 "unknown command 'frobnicate'" -d n frobnicate
expect_same n 2 "unknown option '--bogus'.*hamlet put --help" -d n put --bogus person p1 name=x
expect_same n 2 "unknown option '-q'" -d n status -q
expect_same n 2 "^hamlet: get: unknown option '--jsonx'" -d n get person p1 --jsonx
# Global option errors come from getopt (prefixed with argv[0]) and are followed by the usage.
expect 2 "^hamlet: unknown option '--no-such-global'" -d n --no-such-global status
expect 2 "^hamlet: which command\\?"
for args in "put" "put person" "put person p1" "get" "get person" "del person" "list" \
	"import" "blame person"; do
	# shellcheck disable=SC2086
	expect_same n 2 "^hamlet: ${args%% *}: missing arguments" -d n $args
done
expect_same n 2 "too many arguments" -d n get person p1 p2
expect_same n 2 "too many arguments" -d n status extra
expect_same n 2 "option '--where' needs a value" -d n list person --where
expect_same n 2 "give both COLLECTION and ID" -d n conflicts person
expect_same n 2 "-o FILE is required" -d n export
expect_same n 2 "^hamlet: list: --where takes FIELD=VALUE" -d n list person --where name

# ---- init: bad role, bad region, missing options; nothing is created
expect 2 "--role must be county, township or village, not 'mayor'" \
	-d fresh init --role mayor --region lin/east/elm --name x
expect 2 "--region 'Lin/East' is not a region path" \
	-d fresh init --role township --region Lin/East --name x
expect 2 "--region 'lin//elm' is not a region path" \
	-d fresh init --role village --region lin//elm --name x
expect 2 "a village node's region has 3 part\(s\); 'lin/east' has 2" \
	-d fresh init --role village --region lin/east --name x
expect 2 "--role, --region and --name are all required" -d fresh init --role village
if [ -e fresh ]; then fail "a refused init created directory 'fresh'"; else ok; fi
# A refused init leaves nothing behind: not the key file, not the directory (nor its parents).
expect 2 "name must be 1 to 64 printable bytes" -d fresh2 init --role county --region lin --name ''
[ ! -e fresh2 ] && ok || fail "a refused init (empty name) left directory 'fresh2'"
# refused after the directory and before the key file (no passphrase): nothing left either
HAMLET_PASSPHRASE= expect 1 "the passphrase is empty" \
	-d fresh3/sub/ init --role county --region lin --name x </dev/null
[ ! -e fresh3 ] && ok || fail "a refused init (no passphrase) left directory 'fresh3': $(find fresh3)"
# a directory that was there stays, and a node already there is not touched
mkdir -p there
HAMLET_PASSPHRASE= expect 1 "the passphrase is empty" -d there init --role county --region lin \
	--name x </dev/null
[ -d there ] && [ -z "$(ls -A there)" ] && ok || fail "a refused init changed a directory that was there"
expect_same n 2 "--role must be" -d n init --role mayor --region lin --name x

# ---- put: 'x' with no '=', a counter delta that is not a number
expect_same n 2 "'x' is not FIELD=VALUE or FIELD\+=N" -d n put person p1 x
expect_same n 2 "'=5' is not FIELD=VALUE" -d n put person p1 =5
expect_same n 2 "'quantity\+=lots': N must be a whole number" -d n put stock s1 item=N95 'quantity+=lots'

# ---- --since and --scope garbage
expect_same n 2 "^hamlet: log: --since must be a version vector" -d n log --since garbage
expect_same n 2 "^hamlet: export: --since must be a version vector" \
	-d n export -o out.bundle --since 'zz:1'
if [ -e out.bundle ]; then fail "a refused export wrote out.bundle"; else ok; fi
expect_same n 2 "^hamlet: digest: --scope 'A B' is not a region path" -d n digest --scope 'A B'

# ---- the trust commands and options (issue #3)
# (no "hamlet: enroll:" prefix here: it prints the usage alone, as bare `hamlet` does)
expect_same n 2 "^hamlet: enroll: which verb\\? request, sign or accept" -d n enroll
expect_same n 2 "^hamlet: enroll: no verb 'join'" -d n enroll join
expect_same n 2 "^hamlet: enroll request: -o REQUEST is required" -d n enroll request
expect_same n 2 "^hamlet: enroll sign: -o ANSWER is required" -d n enroll sign x.req
expect_same n 2 "--days must be 1 to 3650" -d n enroll sign x.req -o x.ans --days 0
expect_same n 2 "--root must be 64 hex digits" -d n enroll accept x.ans --root abc
expect_same n 2 "--after-seq N and --reason TEXT are required" -d n revoke 00
expect_same n 2 "NODE must be a node id" -d n revoke zz --after-seq 1 --reason r
expect_same n 2 "--after-seq must be a whole number" \
	-d n revoke 0123456789abcdef0123456789abcdef --after-seq -1 --reason r
expect_same n 2 "--sign and -o REPORT go together" -d n audit --sign
expect_same n 2 "--sign and -o REPORT go together" -d n audit -o r.txt
expect 2 "--root HEX is required" verify-report r.txt
expect 2 "--root must be 64 hex digits" verify-report r.txt --root 12
expect_same n 2 "--to and --scope are alternatives" -d n export -o o.bundle --to \
	0123456789abcdef0123456789abcdef --scope lin/east
expect_same n 2 "--to must be a node id" -d n export -o o.bundle --to elm
expect_same n 2 "--scope 'Lin' is not a region path" -d n export -o o.bundle --scope Lin
if [ -e o.bundle ] || [ -e x.ans ] || [ -e r.txt ]; then fail "a usage error wrote a file"; else ok; fi
# The global --passphrase-file FILE that `hamlet --help` and the prompt's message offer.
echo "$HAMLET_PASSPHRASE" >pass.txt
HAMLET_PASSPHRASE= expect 0 "" --passphrase-file pass.txt -d n status
HAMLET_PASSPHRASE= expect 0 "" -d n --passphrase-file=pass.txt status
# A descriptor of its own is read as it is: standard input ("-", /dev/stdin), /dev/fd/N.
HAMLET_PASSPHRASE= expect 0 "" --passphrase-file - -d n status < <(echo "$HAMLET_PASSPHRASE")
HAMLET_PASSPHRASE= expect 0 "" --passphrase-file /dev/fd/7 -d n status 7<pass.txt
HAMLET_PASSPHRASE= expect_same n 1 "cannot read the passphrase file /dev/fd/9" \
	--passphrase-file /dev/fd/9 -d n status
# ... and left as it was for whoever shares it: a file's offset does not move (two commands on
# one descriptor), a pipe is read up to the end of the passphrase's line only.
if (exec 3<pass.txt && HAMLET_PASSPHRASE= "$HM" --passphrase-file /dev/fd/3 -d n status >/dev/null &&
	HAMLET_PASSPHRASE= "$HM" --passphrase-file /dev/fd/3 -d n status >/dev/null); then ok; else
	fail "a second command on the same descriptor could not read the passphrase"
fi
rest=$(printf '%s\nthe rest\n' "$HAMLET_PASSPHRASE" |
	(HAMLET_PASSPHRASE= "$HM" --passphrase-file - -d n status >/dev/null && cat))
[ "$rest" = "the rest" ] && ok || fail "the rest of standard input after the passphrase: '$rest'"
# The install step of docs/running.md: root's pipe read by another account through /dev/stdin.
# A pipe root made cannot be opened again by another account, only read (before, "cannot read
# the passphrase file /dev/stdin: Permission denied"). As root, the account is nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	pd=$(mktemp -d /tmp/hamlet-nobody.XXXXXX)
	chmod 755 "$pd" && cp -a n "$pd/n" && chown -R nobody "$pd/n"
	if out=$(echo "$HAMLET_PASSPHRASE" | HAMLET_PASSPHRASE= setpriv --reuid=nobody \
		--regid="$(id -g nobody)" --clear-groups "$HM" --passphrase-file /dev/stdin -d "$pd/n" \
		status 2>&1); then ok; else fail "nobody, root's pipe through /dev/stdin: $out"; fi
	rm -rf "$pd"
else
	echo "note: not root (or no setpriv): the pipe from root to another account is not tried"
fi

# ---- environment knobs with bad values
HAMLET_MAP_MAX=12 expect_same n 2 "HAMLET_MAP_MAX must be a byte count" -d n status
HAMLET_MAX_DRIFT_MS=soon expect_same n 2 "HAMLET_MAX_DRIFT_MS must be a positive number" -d n status
HAMLET_CLOCK_OFFSET_MS=3d expect_same n 2 "HAMLET_CLOCK_OFFSET_MS must be a number" -d n status

# ---- --help on every command: exit 0, usage on stdout, nothing on stderr
commands=$("$HM" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || fail "hamlet --help lists no commands"
before=$(snapshot n)
for cmd in $commands; do
	for flag in --help -h; do
		if [ "$cmd" = help ]; then continue; fi
		expect 0 "" -d n "$cmd" $flag
		if ! grep -q "^usage: hamlet.* $cmd" "$OUT"; then
			fail "hamlet $cmd $flag does not print its usage"
		elif [ -s "$ERR" ]; then
			fail "hamlet $cmd $flag wrote to stderr"
		else
			ok
		fi
	done
	# --help needs no node, and stops before any later argument is looked at
	[ "$cmd" = help ] && continue
	expect 0 "" -d nowhere "$cmd" --help --bogus-after-help
	grep -q "^usage:" "$OUT" && ok || fail "hamlet $cmd --help with no node prints no usage"
done
[ "$(snapshot n)" = "$before" ] && ok || fail "--help on some command changed the node"
expect 0 "" --help
grep -q "^usage: hamlet" "$OUT" && ok || fail "hamlet --help prints no usage"
expect 0 "" help put
grep -q "^usage: hamlet \[-d DIR\] put" "$OUT" && ok || fail "hamlet help put prints no usage"
expect 2 "^hamlet: help: .*'nosuch'" help nosuch
if [ -e nowhere ]; then fail "--help created a node directory"; else ok; fi

expect 0 "" help --help
grep -q "^usage: hamlet help" "$OUT" && ok || fail "hamlet help --help prints no usage"
[ -s "$ERR" ] && fail "hamlet help --help wrote to stderr" || ok

finish
