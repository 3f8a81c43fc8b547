#!/usr/bin/env bash
# `hamlet import` keeps only what the node's area may hold, exactly as sync does (issue #9,
# section 5). The county exports a county-wide bundle holding the records of villages elm, oak
# (lin/east) and ash (lin/west), of township E and of the county. Imported at elm it keeps elm's
# own records, its township's and the county's, and nothing of oak's, ash's or the other
# township's: their names are not readable with --show-pii, their origins are not in elm's
# version vector (so no sync asks for them), elm's log holds none of their change sets, and
# elm's next bundle carries none of them (a hub importing it learns nothing of oak). Certificates
# travel apart from change sets, so elm still knows every node: it seals a bundle for oak, its
# audit is clean, and later change sets of origins in its scope verify.
. "$(dirname "$0")/lib.sh"

mesh

# has_person DIR ID: DIR holds person ID (names shown: --show-pii).
has_person() {
	"$HM" -d "$1" list person --show-pii --json | python3 -c 'import json,sys
sys.exit(0 if any(r["id"] == sys.argv[1] for r in json.load(sys.stdin)) else 1)' "$2"
}

# in_vv DIR ID: ID is an origin of DIR's version vector.
in_vv() {
	"$HM" -d "$1" status --json | python3 -c 'import json,sys
d = json.load(sys.stdin)
sys.exit(0 if any(e["origin"] == sys.argv[1] for e in d["version_vector"]) else 1)' "$2"
}

must -d elm put person e1 name=Elm-Resident phone=13900000001
must -d oak put person o1 name=Oak-Secret-Name phone=13900000002
must -d ash put person a1 name=Ash-Secret-Name phone=13900000003
must -d E put site east-clinic name="East clinic" kind=clinic
must -d W put site west-clinic name="West clinic" kind=clinic
must -d C setting set fever.threshold 37.5
carry C E W elm oak ash
must -d C export -o county.bundle

# ---- imported at a village: its own, its township's and the county's records, no other's
must -d elm import county.bundle --json
[ "$(json_get "$OUT" 'd["out_of_scope"] > 0')" = True ] && ok ||
	fail "elm's import did not count what it left out: $(cat "$OUT")"
has_person elm e1 && ok || fail "elm lost its own record"
has_person elm o1 && fail "elm keeps oak's person after importing the county's bundle" || ok
has_person elm a1 && fail "elm keeps ash's person after importing the county's bundle" || ok
must -d elm list person --show-pii
grep -q "Oak-Secret-Name\|Ash-Secret-Name\|13900000002" "$OUT" &&
	fail "another village's name or phone is readable at elm" || ok
must -d elm get site east-clinic
must -d elm setting list
grep -q "fever.threshold" "$OUT" && ok || fail "elm lost the county's setting: $(cat "$OUT")"
expect 1 "no record site/west-clinic" -d elm get site west-clinic
for id in "$ID_oak" "$ID_ash" "$ID_W"; do
	in_vv elm "$id" && fail "elm reports holding change sets of $id, outside its area" || ok
done
in_vv elm "$ID_E" && ok || fail "elm does not hold its township's change sets"
must -d elm log --json
grep -q "$ID_oak\|$ID_ash" "$OUT" && fail "elm's log holds another village's change sets" || ok

# ---- importing it again changes nothing, and a village's next bundle passes nothing on
before=$(digest_of elm)
must -d elm import county.bundle
[ "$(digest_of elm)" = "$before" ] && ok || fail "a second import changed elm"
must -d elm export -o elm-next.bundle
new_node H lin/east Hub C # a fresh hub of lin/east: it may hold oak's records, if given them
must -d H import elm-next.bundle
has_person H e1 && ok || fail "elm's bundle did not carry its own record"
has_person H o1 && fail "elm's bundle passed oak's record on" || ok
in_vv H "$ID_oak" && fail "elm's bundle carried oak's change sets" || ok
# ... but it carried oak's certificate, which elm learnt from the county's bundle although it
# kept none of oak's change sets: H can seal a bundle for oak before it ever heard from it
must -d H export -o h-to-oak.bundle --to "$ID_oak"

# ---- certificates still known and verifying
must -d elm export -o to-oak.bundle --to "$ID_oak" # needs oak's certificate
must -d oak import to-oak.bundle
expect 0 "" -d elm audit
grep -q "^clean: 0 findings" "$OUT" && ok || fail "elm's audit after a scoped import: $(cat "$OUT")"
# a later change set of an origin in elm's scope (its township) verifies and applies
must -d E put site east-store name="East store" kind=store
must -d E export -o e2.bundle --force
must -d elm import e2.bundle
must -d elm get site east-store
# a later change set of oak, whose seq 1 elm never kept: still out of scope, still not kept
must -d oak put person o2 name=Oak-Second
must -d oak export -o oak2.bundle
must -d elm import oak2.bundle
has_person elm o2 && fail "elm keeps oak's later record" || ok
# ... and where it is in scope (the hub H), it verifies and applies
must -d H import oak2.bundle
has_person H o2 && ok || fail "hub H did not apply oak's change sets"
expect 0 "" -d H audit

finish
