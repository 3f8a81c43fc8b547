#!/usr/bin/env bash
# `hamlet user`: the accounts of the people of a station, end to end (issue #12 section 2):
# passwords on standard input, exit codes 0/1/2, --json, --help, and (security) the users file
# refused when edited by hand or copied from another station. Each add or passwd hashes a
# password (about 0.1 s): a dozen of them here.
. "$(dirname "$0")/lib.sh"

PW='hills-of-tea9'
PW2='山高水长月明风清'

must -d v init --role village --region lin/east/elm --name elm

# ---- help and usage ----
expect 0 '' -d v user --help
grep -q 'passwd' "$OUT" && grep -q 'remove' "$OUT" && ok || fail "user --help lacks its verbs"
expect 0 '' -d v user add --help
grep -q -- '--role ROLE' "$OUT" && grep -q 'standard input' "$OUT" && ok ||
	fail "user add --help lacks --role or how the password is read"
expect 2 'which verb' -d v user
expect 2 'unknown|verb' -d v user rename li
expect 2 -- '--role must be' -d v user add li <<<"$PW"
expect 2 -- '--role must be' -d v user add li --role boss <<<"$PW"
expect 2 'the name begins with a space' -d v user add ' li' --role clerk <<<"$PW"
expect 2 'the name is longer than 64 bytes' -d v user add "$(printf 'x%.0s' {1..65})" \
	--role clerk <<<"$PW"
expect 2 'usage' -d v user remove
[ ! -e v/users ] && ok || fail "a refused command wrote v/users"

# ---- passwords refused ----
expect 1 'the password is refused: it is too short' -d v user add li --role clerk <<<"short1!"
expect 1 'the password is refused: it is one of the first guesses' -d v user add li \
	--role clerk <<<"12345678"
expect 1 'the password is empty' -d v user add li --role clerk </dev/null
[ ! -e v/users ] && ok || fail "a refused password wrote v/users"

# ---- add, list, passwd, remove ----
expect 0 '' -d v user add li --role clerk <<<"$PW"
grep -qx 'added li' "$OUT" && ok || fail "user add said: $(cat "$OUT")"
if grep -q -- "$PW" "$OUT" "$ERR" v/users; then fail "the password was printed or stored"; else ok; fi
expect 0 '' -d v user add 王小明 --role 医生 <<<"$PW2"
expect 1 'li already has an account' -d v user add li --role auditor <<<"$PW"
[ "$(stat -c %a v/users)" = 600 ] && ok || fail "v/users is not 0600"

expect 0 '' -d v user list
grep -q '^li  *clerk ' "$OUT" && grep -q '^王小明  *doctor ' "$OUT" && ok ||
	fail "user list: $(cat "$OUT")"
expect 0 '' -d v user list --json
is_json "$OUT" && ok || fail "user list --json is not JSON: $(cat "$OUT")"
[ "$(json_get "$OUT" '[(u["name"], u["role"]) for u in d]')" = \
	"[('li', 'clerk'), ('王小明', 'doctor')]" ] && ok || fail "user list --json: $(cat "$OUT")"
[ "$(json_get "$OUT" 'sorted(d[0].keys())')" = \
	"['changed_ms', 'created_ms', 'name', 'role']" ] && ok || fail "user list --json keys"

before=$(cat v/users)
expect 0 '' -d v user passwd li <<<"$PW2"
grep -qx 'changed the password of li' "$OUT" && ok || fail "user passwd said: $(cat "$OUT")"
[ "$(cat v/users)" != "$before" ] && ok || fail "user passwd did not change v/users"
expect 1 'no account is named zhao' -d v user passwd zhao <<<"$PW"
expect 0 '' -d v user remove 王小明
expect 1 'no account is named 王小明' -d v user remove 王小明
expect 0 '' -d v user list --json
[ "$(json_get "$OUT" '[u["name"] for u in d]')" = "['li']" ] && ok ||
	fail "after remove: $(cat "$OUT")"

# Four adds at once: each reads, changes and renames the file under the lock, none is lost.
for n in ann bo cai dan; do
	"$HM" -d v user add "$n" --role doctor <<<"$PW" >"$T/par.$n" 2>&1 &
done
wait
expect 0 '' -d v user list --json
[ "$(json_get "$OUT" '[u["name"] for u in d]')" = "['ann', 'bo', 'cai', 'dan', 'li']" ] && ok ||
	fail "four adds at once: $(cat "$OUT") $(cat "$T"/par.*)"
for n in ann bo cai dan; do must -d v user remove "$n"; done

# The node's own passphrase still guards the accounts.
HAMLET_PASSPHRASE='not the passphrase' expect 1 'wrong passphrase' -d v user list

# ---- the users file refused (security) ----
cp v/users good.users
python3 - v/users <<'EOF'
import sys
p = sys.argv[1]
t = open(p, encoding="utf-8").read()
# an account added by hand, with a hash copied from li's line (a password the intruder knows)
h = [l for l in t.splitlines() if l.startswith("li\t")][0].split("\t")[4]
t = t.replace("hamlet users 1\n", "hamlet users 1\neve\tauditor\t1\t1\t%s\n" % h)
open(p, "w", encoding="utf-8").write(t)
EOF
expect 1 'the users file .*/users was altered' -d v user list
expect 1 'was altered' -d v user add zhao --role clerk <<<"$PW"
grep -q '^eve' v/users && ok || fail "a refused add rewrote the altered file"
sed 's/^li\tclerk\t/li\tauditor\t/' good.users >v/users
expect 1 'was altered' -d v user list
head -c 100 good.users >v/users
expect 1 'was altered' -d v user list

# The users file of another station (its MAC right for that station only).
must -d w init --role village --region lin/east/oak --name oak
expect 0 '' -d w user add eve --role auditor <<<"$PW"
cp w/users v/users
expect 1 'was altered' -d v user list

# Put back: accepted again. A whole copy of the node directory (its key file with it) is the
# same station, and keeps its accounts.
cp good.users v/users
expect 0 '' -d v user list --json
[ "$(json_get "$OUT" '[u["name"] for u in d]')" = "['li']" ] && ok || fail "restored: $(cat "$OUT")"
cp -a v v2
expect 0 '' -d v2 user list

finish
