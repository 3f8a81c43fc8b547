#!/usr/bin/env bash
# A revoked issuer can no longer enroll (issue #9, section 1), end to end with the real command.
#
# Township E enrolled village elm honestly. The county revokes E after its last change set; a
# copy of E's directory (the stolen keys) enrolls a new village, rogue, which writes. Everywhere:
# rogue's bundle is refused at the county; hub H, which has not heard of the revocation, takes
# rogue's change sets, and withdraws them when the revocation reaches it, so nothing of rogue
# reaches the county through H; rogue's sync handshake is refused by the county's daemon, and the
# county refuses rogue's daemon when it syncs to it; the audit names rogue. elm keeps working
# (its bundle and its sync are accepted) and is re-enrolled as a new node under a new township
# key (docs/running.md); once the old elm is retired, the audit names only rogue.
. "$(dirname "$0")/netlib.sh"

mesh
new_node H lin/east Hub C # a second hub of lin/east, enrolled by the county
ID_H=$(node_id H)

# expect_rc CODE ARGS...: hamlet ARGS exits CODE (findings go to stdout)
expect_rc() {
	local code=$1
	shift
	hm "$@"
	[ "$RC" = "$code" ] && ok || fail "hamlet $* exited $RC, want $code: $(head -c 300 "$ERR")"
}

# has_person DIR ID: DIR holds person ID.
has_person() {
	"$HM" -d "$1" list person --json | python3 -c 'import json,sys
sys.exit(0 if any(r["id"] == sys.argv[1] for r in json.load(sys.stdin)) else 1)' "$2"
}

# audit_names DIR ID: DIR's audit has a revoked-issuer finding naming ID.
audit_names() {
	"$HM" -d "$1" audit --json >"$T/.audit" 2>/dev/null
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(f["kind"] == "revoked-issuer" and f["origin"] == sys.argv[2]
                  for f in d["findings"]) else 1)' "$T/.audit" "$2"
}

# ---- before: elm, enrolled by E, writes; the county and H hear E and elm
must -d elm put person e1 name=Honest
carry C E elm
carry H E elm

# ---- the theft, and the county's revocation of E after its last change set
cp -a E stolen
N=$(status_field E seq)
must -d C revoke "$ID_E" --after-seq "$N" --reason "keys stolen"

# ---- the stolen keys enroll rogue, which writes
must -d rogue init --role village --region lin/east/rogue --name Rogue
enroll rogue stolen
ID_rogue=$(node_id rogue)
must -d rogue put person r1 name=Planted
must -d rogue export -o rogue.bundle
must -d stolen export -o stolen.bundle

# ---- rogue's bundle is refused at the county, which applies nothing of it (and keeps the
# refusal as evidence)
before=$(digest_of C)
expect 1 "revoked issuer" -d C import rogue.bundle
[ "$(digest_of C)" = "$before" ] && ok || fail "the refused bundle changed the county's records"
has_person C r1 && fail "the county holds rogue's record" || ok
audit_names C "$ID_rogue" && ok || fail "the county's audit does not name rogue's refused bundle"

# ---- a hub that has not heard takes rogue; once it hears, it withdraws it
must -d H import stolen.bundle
must -d H import rogue.bundle
has_person H r1 && ok || fail "hub H (not yet told) did not take rogue's record"
carry H C
has_person H r1 && fail "hub H kept rogue's record after hearing of the revocation" || ok
has_person H e1 && ok || fail "hub H lost elm's record"
[ "$(status_field H pending)" = 0 ] && ok || fail "hub H keeps change sets pending"
audit_names H "$ID_rogue" && ok || fail "hub H's audit does not name rogue"
carry C H
has_person C r1 && fail "rogue's record reached the county through hub H" || ok
[ "$(digest_of H)" = "$("$HM" -d C digest --scope lin/east)" ] && ok ||
	fail "hub H and the county's view of lin/east differ"

# ---- the sync handshake: as server (rogue syncs to the county) and as client (the county
# syncs to rogue's daemon), rogue is refused
start_daemon C C
net_sync rogue "$(url_of C)"
[ "$RC" != 0 ] && ok || fail "rogue's sync with the county was accepted"
has_person C r1 && fail "rogue's sync left its record at the county" || ok
start_daemon R rogue
net_sync C "$(url_of R)"
[ "$RC" != 0 ] && ok || fail "the county synced with rogue's daemon"
grep -q "revoked issuer" "$ERR" && ok || fail "the county's refusal of rogue does not say why: $(cat "$ERR")"
stop_daemon R

# ---- the audit names rogue
expect_rc 1 -d C audit
audit_names C "$ID_rogue" && ok || fail "the county's audit does not name rogue"

# ---- elm, enrolled before the revocation, keeps working: its sync and its bundle
must -d elm put person e2 name="Still Here"
must_sync elm "$(url_of C)"
has_person C e2 && ok || fail "the county did not take elm's new record by sync"
must -d elm put person e3 name="By Bundle"
carry C elm
has_person C e3 && ok || fail "the county did not take elm's bundle"
stop_daemon C

# ---- re-enrollment under a new township key (docs/running.md): a new hub key, elm as a new
# node enrolled by it, catching up from the county; then the county retires the old elm
new_node E2 lin/east "East (new key)" C --may-enroll
new_node elm2 lin/east/elm "Elm (re-enrolled)" E2
carry elm2 C
has_person elm2 e1 && ok || fail "the re-enrolled elm does not read the village's records"
must -d elm2 put person e4 name="After Re-enrollment"
carry C E2 elm2
has_person C e4 && ok || fail "the county did not take the re-enrolled elm's record"
must -d C revoke "$ID_elm" --after-seq "$(status_field elm seq)" --reason "re-enrolled as elm2"
has_person C e1 && ok || fail "retiring the old elm lost what it wrote"
audit_names C "$ID_elm" && fail "the audit still names the retired elm" || ok
audit_names C "$ID_rogue" && ok || fail "the audit no longer names rogue"

finish
