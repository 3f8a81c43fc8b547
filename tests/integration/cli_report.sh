#!/usr/bin/env bash
# `hamlet report`: the command line over the ledger's reports. The figures themselves are checked
# cell by cell by the C tests (tests/unit/ledger/test_report_*.c, on the same county); here, one
# table per report as the command prints it, the four formats, masking and the access log,
# usage errors, a region that does not exist or that the node does not hold, and the HTML page
# as headless Chromium renders and prints it (bars against 100%, A4, Chinese, the chain trees).
# docs/reports.md defines the figures.
. "$(dirname "$0")/lib.sh"

mesh
new_node Ea lin/eastern Eastern C # so that the county holds a key for lin/eastern
D=2026-02-03

put() { must -d C put "$@"; }

# ---- the county, as its records say on D = 2026-02-03 ----
# Persons. p1dup is p1 registered again in oak (merged into p1); p8 was merged into p7 and the
# merge undone, so p8 stays a person of its own. p10 lives in lin/eastern, not lin/east.
put person p1 name="Li Wei" village=lin/east/elm category=returnee compound=c1
put person p2 name="Zhang San" village=lin/east/elm category=close compound=c1
put person p3 name="Wang Wu" village=lin/east/elm category=second compound=c2
put person p4 name="Zhao Liu" village=lin/east/oak category=case compound=c9
put person p5 name="Sun Qi" village=lin/east/oak category=close
put person p6 name="Zhou Ba" village=lin/west/ash category=returnee compound=c5
put person p7 name="Wu Jiu" village=lin/west/ash category=second
put person p8 name="Zheng Shi" village=lin/west/ash category=other
put person p9 name="Feng Shiyi" village=lin/east/elm category=returnee compound=c2
put person p10 name="Chen Er" village=lin/eastern/pine category=other
put person p1dup name="Li Wei" village=lin/east/oak category=returnee
put merge m1 keep=p1 drop=p1dup state=merged region=lin
put merge m2 keep=p7 drop=p8 state=undone region=lin

# Episodes. Active on D: start <= D and (no end or end > D).
put episode e1 person=p1 village=lin/east/elm kind=home reason=returnee start=2026-02-01 checks_per_day=2
put episode e1dup person=p1dup village=lin/east/oak kind=home reason=returnee start=2026-02-02
put episode e2 person=p2 village=lin/east/elm kind=central reason=close start=$D
put episode e3 person=p3 village=lin/east/elm kind=monitoring reason=second start=2026-01-20 end=$D
put episode e4 person=p4 village=lin/east/oak kind=central reason=case start=2026-01-30 checks_per_day=3
put episode e5 person=p6 village=lin/west/ash kind=home reason=returnee start=2026-02-02 end=2026-02-10
put episode e6 person=p5 village=lin/east/oak kind=home reason=close start=2026-02-04
put episode e7 person=p8 village=lin/west/ash kind=monitoring reason=other start=2026-01-25
put episode e8 person=p9 village=lin/east/elm kind=home reason=returnee start=2026-01-28
put episode e9 person=p10 village=lin/eastern/pine kind=monitoring reason=fever start=2026-01-31 checks_per_day=1

# Returns.
put return r1 person=p1 village=lin/east/elm from_area=wuhan registered=2026-02-01
put return r1dup person=p1dup village=lin/east/oak from_area=wuhan registered=$D
put return r2 person=p6 village=lin/west/ash from_area=hubei registered=$D
put return r3 person=p7 village=lin/west/ash from_area=other registered=2026-02-05
put return r4 person=p5 village=lin/east/oak registered=2026-01-15

# Followups.
put followup f1 person=p1 village=lin/east/elm time=${D}T08:00 temperature=36.5 method=visit
put followup f2 person=p1 village=lin/east/elm time=${D}T18:00 temperature=37.5 method=visit action="sent to clinic"
put followup f3 person=p2 village=lin/east/elm time=${D}T09:00 temperature=36.8 method=phone
put followup f4 person=p4 village=lin/east/oak time=2026-02-02T09:00 temperature=37.3 method=phone
put followup f5 person=p6 village=lin/west/ash time=2026-02-01T10:00 temperature=36.6 method=visit
put followup f6 person=p1dup village=lin/east/oak time=${D}T12:00 temperature=36.7 method=phone
put followup f7 person=p8 village=lin/west/ash time=${D}T07:00 temperature=38.0 method=self
put followup f8 person=p10 village=lin/eastern/pine time=${D}T10:00 temperature=36.9 method=visit

# Checkpoints.
put checkpoint_tally t1 checkpoint=k1 date=$D shift=1 fever=2 region=lin/east/oak
put checkpoint_tally t2 checkpoint=k1 date=2026-02-02 shift=1 fever=5 region=lin/east/oak

# Exposures.
put exposure x1 source=p1 contact=p2 degree=1 village=lin/east/elm
put exposure x2 source=p2 contact=p3 degree=2 village=lin/east/elm
put exposure x3 source=p4 contact=p5 degree=1 village=lin/east/oak
put exposure x4 source=p5 contact=p7 degree=2 village=lin/east/oak
put exposure x5 source=p6 contact=p8 degree=1 village=lin/west/ash
put exposure x6 source=p4 contact=p1dup degree=1 village=lin/east/oak

# Supplies.
put stock_txn s1 item=n95 store=east-depot movement=received quantity=1000 date=2026-01-20 region=lin/east shipment=sh1
put stock_txn s2 item=n95 store=east-depot movement=issued quantity=140 date=2026-02-01 region=lin/east
put stock_txn s3 item=n95 store=east-depot movement=transfer quantity=200 to_store=elm-store date=2026-02-02 region=lin/east
put stock_txn s4 item=n95 store=elm-store movement=consumed quantity=70 date=$D region=lin/east/elm
put stock_txn s5 item=n95 store=east-depot movement=counted quantity=-10 date=$D region=lin/east
put stock_txn s6 item=n95 store=east-depot movement=requested quantity=3000 date=2026-01-18 region=lin/east
put stock_txn s7 item=n95 store=east-depot movement=intercepted quantity=500 date=2026-01-25 region=lin/east shipment=sh1
put stock_txn s8 item=suits store=east-depot movement=received quantity=50 date=2026-02-04 region=lin/east
put stock_txn s9 item=suits store=east-depot movement=requested quantity=100 date=2026-01-30 region=lin/east
put stock_txn s10 item=thermometer store=ash-store movement=received quantity=20 date=2026-01-10 region=lin/west/ash
put shipment sh1 from=county-depot to=east-depot region=lin/east lines=n95:1500,suits:100 status=intercepted

# Notices.
put notice n1 compound=c1 audience=property date=2026-02-02 village=lin/east/elm
put notice n2 compound=c1 audience=residents date=2026-02-04 village=lin/east/elm
put notice n3 compound=c9 audience=residents date=2026-02-01 village=lin/east/oak
put notice n4 compound=c2 audience=property date=2026-02-01 village=lin/east/oak

# Tips and penalties.
put tip t1 village=lin/east/elm received=2026-01-20 state=verified paid=2026-01-25
put tip t2 village=lin/east/elm received=2026-01-22 state=verified reward=800
put tip t3 village=lin/east/oak received=2026-01-23 state=rejected
put tip t4 village=lin/west/ash received=2026-01-24 state=new
put penalty pen1 village=lin/east/oak person=p5 state=imposed date=2026-01-28
put penalty pen2 village=lin/east/oak person=p4 amount=1000 state=paid date=2026-01-29
put penalty pen3 village=lin/west/ash person=p7 state=proposed date=2026-02-01

# rows FILE TABLE: the rows of TABLE in a --json report, one a line, cells joined by '|'
# (null as '-').
rows() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ts = [t for t in d["tables"] if t["name"] == sys.argv[2]]
if not ts:
    print("(no table %s)" % sys.argv[2])
for t in ts:
    for r in t["rows"]:
        print("|".join("-" if c is None else str(c) for c in r))
PY
}

# want TABLE WHAT: the rows of TABLE in $OUT are those on stdin.
want() {
	local got expect
	got=$(rows "$OUT" "$1")
	expect=$(cat)
	if [ "$got" = "$expect" ]; then
		ok
	else
		fail "$2: table $1"
		diff <(echo "$expect") <(echo "$got") | sed 's/^/    /'
	fi
}

# report NAME ARGS...: the report as JSON, for D on the county, in $OUT.
report() {
	must -d C report "$1" --date $D --json "${@:2}" || return 1
	is_json "$OUT" && ok || fail "report $1 --json is not JSON: $(head -c 300 "$OUT")"
}

# ---- daily ----
# Under monitoring on D, once per person (p1 and p1dup are one person, under e1, which started
# first): elm p1 (home, returnee), p2 (central, close), p9 (home, returnee); oak p4 (central,
# case); pine p10 (monitoring, fever); ash p6 (home, returnee), p8 (monitoring, other). p3's
# episode ended on D, p5's starts after D. New on D: e2 (elm); released on D: e3 (elm).
report daily
want under_monitoring "daily" <<'T'
lin/east/elm|village|3|2|1|0|2|1|0|0|0|0|1|1
lin/east/oak|village|1|0|1|0|0|0|0|1|0|0|0|0
lin/east|subtotal|4|2|2|0|2|1|0|1|0|0|1|1
lin/eastern/pine|village|1|0|0|1|0|0|0|0|1|0|0|0
lin/eastern|subtotal|1|0|0|1|0|0|0|0|1|0|0|0
lin/west/ash|village|2|1|0|1|1|0|0|0|0|1|0|0
lin/west|subtotal|2|1|0|1|1|0|0|0|0|1|0|0
lin|total|7|3|2|2|3|1|0|1|1|1|1|1
T
[ "$(json_get "$OUT" 'd["report"], d["region"], d["date"]')" = "('daily', 'lin', '$D')" ] && ok ||
	fail "daily --json header: $(head -c 200 "$OUT")"

# A region keeps its own records and those below it: lin/east is not lin/eastern.
report daily --region lin/east
want under_monitoring "daily --region lin/east" <<'T'
lin/east/elm|village|3|2|1|0|2|1|0|0|0|0|1|1
lin/east/oak|village|1|0|1|0|0|0|0|1|0|0|0|0
lin/east|total|4|2|2|0|2|1|0|1|0|0|1|1
T

# A region with no record in the ledger, or one this node does not hold, is said so (exit 1),
# not printed as a report of zeros.
expect 1 "no records in region lin/north" -d C report daily --date $D --region lin/north
[ -s "$OUT" ] && fail "a report of a region with no records was printed: $(head -3 "$OUT")" || ok
expect 1 "region lin/west is outside this node's scope \(lin/east/elm\)" \
	-d elm report daily --date $D --region lin/west

# ---- monitoring (N = 2: followups dated 02-02 and 02-03) ----
# Checks due on D per person under monitoring (checks_per_day, 2 when empty) and done (followups
# on D, at most that many): elm p1 2/2 (f1 f2 f6: 3, capped), p2 2/1 (f3), p9 2/0 -> 6/3 = 50.0;
# oak p4 3/0; pine p10 1/1; ash p6 2/0, p8 2/1 -> 4/1. Followups on D by their own village and
# phone among them: elm f1 f2 f3 (f3 phone), oak f6 (phone), pine f8, ash f7.
report monitoring
want compliance "monitoring" <<'T'
lin/east/elm|village|6|3|50.0|3|1|33.3
lin/east/oak|village|3|0|0.0|1|1|100.0
lin/east|subtotal|9|3|33.3|4|2|50.0
lin/eastern/pine|village|1|1|100.0|1|0|0.0
lin/eastern|subtotal|1|1|100.0|1|0|0.0
lin/west/ash|village|4|1|25.0|1|0|0.0
lin/west|subtotal|4|1|25.0|1|0|0.0
lin|total|14|5|35.7|6|2|33.3
T
# --show-pii shows names and records the reveal (10 persons listed) in the access log first.
must -d C list access --json
reveals_before=$(json_get "$OUT" 'len([a for a in d if a["fields"]["action"] == "reveal"])')
report monitoring --show-pii
want not_seen "monitoring --show-pii" <<'T'
p6|Zhou Ba|lin/west/ash|2026-02-01
p9|Feng Shiyi|lin/east/elm|never
T
must -d C list access --json
[ "$(json_get "$OUT" 'len([a for a in d if a["fields"]["action"] == "reveal"]) - '"$reveals_before")" = 1 ] &&
	ok || fail "report --show-pii recorded no reveal: $(cat "$OUT")"
[ "$(json_get "$OUT" '[(a["fields"]["what"], a["fields"]["records"]) for a in d if a["fields"]["action"] == "reveal"][-1]')" = \
	"('report monitoring --region lin --date $D', 10)" ] && ok ||
	fail "the reveal's record: $(cat "$OUT")"

# ---- contacts ----
# Exposures by their village: elm x1 (1) x2 (2); oak x3 (1) x4 (2) x6 (1); ash x5 (1).
report contacts
want exposures "contacts" <<'T'
lin/east/elm|village|2|1|1
lin/east/oak|village|3|2|1
lin/east|subtotal|5|3|2
lin/west/ash|village|1|1|0
lin/west|subtotal|1|1|0
lin|total|6|4|2
T
# Chains: p1-p2-p3, p1-p4 (x6, p1dup is p1), p4-p5-p7: one chain of 6 holding a case (p4);
# p6-p8: 2.
want chains "contacts" <<'T'
1|6|p1 p2 p3 p4 p5 p7|yes
2|2|p6 p8|no
T
# Each chain as a tree of who infected whom: p4 (the case, whom nobody exposed) first.
want chain_trees "contacts" <<'T'
1|p4|-|0|yes
1|p1|p4|1|no
1|p2|p1|2|no
1|p3|p2|3|no
1|p5|p4|1|no
1|p7|p5|2|no
2|p6|-|0|no
2|p8|p6|1|no
T
report contacts --person p1dup --depth 1
want graph "contacts --person p1dup --depth 1" <<'T'
p1|L*****|0|p1
p2|Z********|1|p1 > p2
p4|Z*******|1|p1 > p4
T
expect 1 "no person 'nobody'" -d C report contacts --person nobody --date $D

# ---- supplies (N = 7: 01-28 .. 02-03) ----
# n95@east-depot: 1000 received - 140 issued - 200 transferred out - 10 counted = 650; use
# 140/7 = 20.0 a day; 32.5 days; requested 3000, gap 2000. n95@elm-store: 200 in - 70 consumed
# = 130; 10.0 a day; 13.0 days. suits: 50 received after D; 100 requested. thermometers: 20.
report supplies
want stock "supplies" <<'T'
n95|east-depot|1000|0|140|200|0|-10|650|20.0|32.5|3000|2000
n95|elm-store|0|200|0|0|70|0|130|10.0|13.0|0|0
suits|east-depot|0|0|0|0|0|0|0|0.0|-|100|100
thermometer|ash-store|20|0|0|0|0|0|20|0.0|-|0|0
T
# ---- compounds ----
# Under monitoring with a compound: elm c1 p1 p2, elm c2 p9, oak c9 p4, ash c5 p6 (p8 and p10
# have none). Told by D: c1 property (02-02; its residents only on 02-04), c9 residents; n4
# tells c2 of oak, not c2 of elm.
report compounds
want villages "compounds" <<'T'
lin/east/elm|village|2|3|1|2
lin/east/oak|village|1|1|1|0
lin/east|subtotal|3|4|2|2
lin/west/ash|village|1|1|1|1
lin/west|subtotal|1|1|1|1
lin|total|4|5|3|3
T
# ---- rewards (settings at their defaults: 500 a tip; 5000 a penalty after 1970-01-01) ----
# Tips: elm t1 verified 500 (default, paid), t2 verified 800 (unpaid); oak t3 rejected; ash t4
# new. Penalties: oak pen1 imposed 5000 (the rule), pen2 paid 1000 (its amount); ash pen3
# proposed 5000.
report rewards
want tips "rewards" <<'T'
lin/east/elm|village|2|2|0|1300|1|500|800
lin/east/oak|village|1|0|1|0|0|0|0
lin/east|subtotal|3|2|1|1300|1|500|800
lin/west/ash|village|1|0|0|0|0|0|0
lin/west|subtotal|1|0|0|0|0|0|0
lin|total|4|2|1|1300|1|500|800
T
[ "$(json_get "$OUT" 'd["parameters"]["reward.tip"], d["parameters"]["penalty.after"]')" = \
	"('500', '5000')" ] && ok || fail "rewards parameters: $(head -c 300 "$OUT")"

# ---- empty data: tables with zero totals ----
must -d elm report daily --date $D --json
want under_monitoring "daily on an empty village" <<'T'
lin/east/elm|total|0|0|0|0|0|0|0|0|0|0|0|0
T
must -d elm report supplies --date $D --json
want stock "supplies on an empty village" <<'T'
T

# ---- text and CSV ----
must -d C report daily --date $D
grep -q "^Daily report: region lin, date $D" "$OUT" && ok || fail "daily text title: $(head -3 "$OUT")"
grep -Eq '^  lin/east/elm +village +3 +2 +1 +0 ' "$OUT" && ok || fail "daily text row: $(cat "$OUT")"
must -d C report monitoring --date $D --csv
python3 - "$OUT" <<'PY' && ok || fail "monitoring --csv: $(head -20 "$OUT")"
import csv, sys
tables, name = {}, None
for row in csv.reader(open(sys.argv[1], newline="")):
    if row and row[0].startswith("# "):
        name = row[0][2:]
        tables[name] = []
    elif row:
        tables[name].append(row)
assert list(tables) == ["compliance", "not_seen", "phone_only", "fever_alerts",
                        "contacts_no_temperature"], list(tables)
assert tables["compliance"][0][:5] == ["region", "level", "expected", "done", "compliance_pct"]
assert tables["compliance"][-1] == ["lin", "total", "14", "5", "35.7", "6", "2", "33.3"]
assert tables["fever_alerts"][3][5] == "sent to clinic"
PY

# ---- -o FILE: written, and the export recorded ----
must -d C list access --json
exports_before=$(json_get "$OUT" 'len([a for a in d if a["fields"]["action"] == "export"])')
must -d C report supplies --date $D --csv -o "$T/supplies.csv"
[ -s "$OUT" ] && fail "report -o printed on stdout: $(head -3 "$OUT")" || ok
grep -q '^# stock$' "$T/supplies.csv" && grep -q '^n95,east-depot,1000,0,140,200,0,-10,650,20.0,32.5,3000,2000$' \
	"$T/supplies.csv" && ok || fail "report -o wrote: $(head -5 "$T/supplies.csv")"
must -d C list access --json
[ "$(json_get "$OUT" 'len([a for a in d if a["fields"]["action"] == "export"]) - '"$exports_before")" = 1 ] &&
	ok || fail "report -o recorded no export"

# ---- usage errors ----
expect 2 "no report 'weekly'" -d C report weekly
expect 2 "which report" -d C report
expect 2 "--date '2026-02-30' is not a date" -d C report daily --date 2026-02-30
expect 2 "--region 'lin//x' is not a region" -d C report daily --region lin//x
expect 2 "unknown option '--bogus'" -d C report daily --bogus
expect 2 "report daily takes no --days" -d C report daily --days 3
expect 2 "--days must be" -d C report monitoring --days 0
expect 2 "--person and --depth are for the contacts report" -d C report daily --person p1
expect 2 "alternatives" -d C report daily --json --csv
must -d C report --help
grep -q "monitoring" "$OUT" && grep -q "example" "$OUT" && ok || fail "report --help: $(cat "$OUT")"

# ---- the HTML page, as a browser shows it ----
must -d C report daily --date $D --html -o "$T/daily.html"
grep -q "<svg" "$T/daily.html" && ok || fail "the daily page has no <svg>"
grep -qi "http" "$T/daily.html" && fail "the daily page refers to http: $(grep -oi '.\{30\}http.\{30\}' "$T/daily.html" | head -3)" || ok
grep -Eqi '<script|src=|<link' "$T/daily.html" && fail "the daily page loads something" || ok
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
	echo "SKIP: chromium is not installed: the HTML page is not rendered (scripts/install-deps installs it)"
else
	timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --dump-dom "file://$T/daily.html" \
		>"$T/daily.dom" 2>"$T/chromium.err"
	python3 - "$T/daily.dom" <<'PY' && ok || fail "chromium's DOM of the daily page: $(head -c 600 "$T/daily.dom")"
import re, sys
dom = open(sys.argv[1]).read()
text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
assert "Daily report" in text, "title"
assert "lin/east/elm" in text, "a village"
# elm's bar in the chart: its label and its value (3 under monitoring)
assert re.search(r"<text[^>]*>lin/east/elm</text><rect[^>]*/?>(</rect>)?<text[^>]*>3</text>", dom), "elm's bar"
assert re.search(r"<td>lin</td><td>total</td><td class=\"num\">7</td>", dom), "the total"
assert "<svg" in dom
PY
fi

# ---- the HTML pages: bars against 100%, A4 print, Chinese, the chains as trees
grep -q '@media print{' "$T/daily.html" && grep -q 'thead{display:table-header-group}' "$T/daily.html" &&
	grep -q '@page wide{size:A4 landscape' "$T/daily.html" && grep -q '<section class="wide">' "$T/daily.html" &&
	ok || fail "the daily page has no A4 print rules (landscape for its wide table, repeated headers)"
grep -qF 'font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif' \
	"$T/daily.html" && ok || fail "the daily page has no CJK font stack"
# In lin/east elm checks 50.0% and oak 0.0%: elm's bar is half the full width (360), not full.
must -d C report monitoring --date $D --region lin/east --html -o "$T/monitoring.html"
python3 - "$T/monitoring.html" <<'PY' && ok || fail "compliance bars: $(grep -o '<text[^>]*>lin/east/[a-z]*</text><rect[^>]*>' "$T/monitoring.html")"
import re, sys
page = open(sys.argv[1]).read()
bars = dict(re.findall(r'<text[^>]*>(lin/east/[a-z]+)</text><rect[^>]*width="([0-9.]+)"', page))
assert bars == {"lin/east/elm": "180.0", "lin/east/oak": "0.0"}, bars
PY
# Chinese content says so: lang="zh-CN" on the cells that hold it.
put person pcn name=张伟 village=lin/eastern/v2 category=close compound=幸福小区
put episode epcn person=pcn village=lin/eastern/v2 kind=home start=$D
must -d C report compounds --region lin/eastern --date $D --html -o "$T/compounds.html"
grep -qF '<td lang="zh-CN">幸福小区</td>' "$T/compounds.html" && ok ||
	fail "no lang=zh-CN on Chinese cells: $(grep -o '<td[^>]*>[^<]*小区' "$T/compounds.html")"
# The chains as nested lists: p4, under it p1 (then p2, p3) and p5 (then p7).
must -d C report contacts --date $D --html -o "$T/contacts.html"
python3 - "$T/contacts.html" <<'PY' && ok || fail "the chain trees: $(grep -o '<ul class="tree">.*' "$T/contacts.html" | head -c 600)"
import re, sys
page = open(sys.argv[1]).read()
tree = page[page.index('<ul class="tree">'):]
tree = tree[:tree.index("</section>")]
items = re.sub(r"<span[^>]*>|</span>|<em>|</em>|\s", "", tree)
want = ("<ulclass=\"tree\"><li>chain1<ul><li>p4(case)<ul><li>p1<ul><li>p2<ul><li>p3</li></ul></li>"
        "</ul></li><li>p5<ul><li>p7</li></ul></li></ul></li></ul></li><li>chain2<ul><li>p6<ul>"
        "<li>p8</li></ul></li></ul></li></ul>")
assert items == want, items
PY
if [ -n "$chrome" ]; then
	# Printed: every page A4, the wide table's pages landscape.
	timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
		--print-to-pdf="$T/daily.pdf" "file://$T/daily.html" >/dev/null 2>>"$T/chromium.err"
	python3 - "$T/daily.pdf" <<'PY' && ok || fail "the daily page printed: $(grep -ao '/MediaBox[^]]*]' "$T/daily.pdf" | head)"
import re, sys
boxes = [tuple(float(v) for v in m) for m in
         re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]", open(sys.argv[1], "rb").read())]
a4 = lambda w, h: abs(w - 595.3) < 3 and abs(h - 841.9) < 3
assert boxes and all(a4(w, h) or a4(h, w) for w, h in boxes), boxes
assert any(w > h for w, h in boxes) and any(w < h for w, h in boxes), boxes
PY
fi

# ---- text and CSV are safe to show and to open: control characters escaped, no formula run
put person px name=Ctl village=lin/eastern/v1 category=close compound="$(printf 'yard\n2\033[31m')"
put episode epx person=px village=lin/eastern/v1 kind=home start=$D
must -d C report compounds --region lin/eastern --date $D
grep -qF 'yard\n2\x1b[31m' "$OUT" && ! grep -q $'\033' "$OUT" && ok ||
	fail "control characters reach the terminal: $(cat -A "$OUT" | head -20)"
put person py name=Formula village=lin/eastern/v1 category=close compound='=HYPERLINK("x","y")'
put episode epy person=py village=lin/eastern/v1 kind=home start=$D
must -d C report compounds --region lin/eastern --date $D --csv
grep -qF '"'"'"'=HYPERLINK(""x"",""y"")"' "$OUT" && ok ||
	fail "a cell starting with = is not kept as text in CSV: $(cat "$OUT")"

finish
