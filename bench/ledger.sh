#!/usr/bin/env bash
# bench/ledger.sh - the prevention ledger at county scale, through the `hamlet` command a county
# office runs: bulk import of registers (import-csv) and the six reports over the whole county.
#
#   bench/ledger.sh [--persons N] [--quick] [--dir DIR] [--hamlet PATH] [--no-reports]
#
# Builds a county of 5 townships x 10 villages on one county node, imports N persons (default
# 100000), N/2 episodes, N/2 contacts, 4N follow-ups and N/10 stock movements from generated CSV
# files, then times each report (--json, whole county) and its peak memory. Prints one line per
# step: what, rows, seconds, rows/s, max RSS. --quick: 2000 persons, checks the outputs parse,
# for the smoke test (timings are not asserted anywhere). --no-reports: stop after the import
# (bench/web.py makes its county so, and keeps it). Figures in docs/performance.md.
set -euo pipefail

persons=100000
dir=${TMPDIR:-/tmp}/hamlet-bench-ledger
hamlet=
quick=0
reports=1
while [ $# -gt 0 ]; do
	case $1 in
	--persons)
		persons=$2
		shift
		;;
	--quick) quick=1 persons=2000 ;;
	--no-reports) reports=0 ;;
	--dir)
		dir=$2
		shift
		;;
	--hamlet)
		hamlet=$2
		shift
		;;
	*)
		echo "usage: bench/ledger.sh [--persons N] [--quick] [--dir DIR] [--hamlet PATH] [--no-reports]" >&2
		exit 2
		;;
	esac
	shift
done
if [ -z "$hamlet" ]; then
	hamlet=$(cd "$(dirname "$0")/.." && pwd)/build-rel/cli/hamlet
fi
case $hamlet in /*) ;; *) hamlet=$PWD/$hamlet ;; esac
[ -x "$hamlet" ] || {
	echo "bench/ledger.sh: no hamlet at $hamlet (build build-rel, or give --hamlet)" >&2
	exit 2
}

export HAMLET_PASSPHRASE="bench passphrase 2026"
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
county=$dir/county

# timed WHAT ROWS CMD...: run CMD, print seconds, rows/s and peak memory
timed() {
	local what=$1 rows=$2
	shift 2
	/usr/bin/time -f "%e %M" -o .time "$@" >.out 2>.err || {
		echo "bench/ledger.sh: $what failed:" >&2
		cat .err >&2
		exit 1
	}
	read -r secs kib <.time
	python3 -c 'import sys
what, rows, secs, kib = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rate = "%10.0f" % (rows / secs) if secs > 0 and rows else "%10s" % "-"
print("%-34s %9d rows %7.2f s %s rows/s %7.1f MiB" % (what, rows, secs, rate, kib / 1024))' \
		"$what" "$rows" "$secs" "$kib"
}

"$hamlet" -d "$county" init --role county --region lin --name "bench county" >/dev/null
root=$("$hamlet" -d "$county" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["root"])')
# The county writes into its townships with their data keys, which enrolling them creates.
for t in 1 2 3 4 5; do
	"$hamlet" -d "t$t" init --role township --region "lin/t$t" --name "t$t" >/dev/null
	"$hamlet" -d "t$t" enroll request -o "t$t.req" >/dev/null
	"$hamlet" -d "$county" enroll sign "t$t.req" -o "t$t.ans" >/dev/null
	"$hamlet" -d "t$t" enroll accept "t$t.ans" --root "$root" >/dev/null
done

python3 - "$persons" <<'PY'
import csv, random, sys
n = int(sys.argv[1])
rnd = random.Random(20261129)
villages = ["lin/t%d/v%d" % (t, v) for t in range(1, 6) for v in range(1, 11)]
def day(d):
    return "2026-11-%02d" % d
CHUNK = 40000  # rows per file: one file is one write, within a change set's caps
def w(name, header, rows):
    for k in range(0, max(len(rows), 1), CHUNK):
        with open("%s.%03d.csv" % (name[:-4], k // CHUNK), "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows[k:k + CHUNK])
cats = ["returnee", "close", "second", "case", "other"]
pv = {}
rows = []
for i in range(n):
    v = villages[i % len(villages)]
    pv[i] = v
    rows.append(["p%07d" % i, "Person %d" % i, v, rnd.choice(cats), "c%d" % (i % 997),
                 "13%09d" % rnd.randrange(10**9)])
w("person.csv", ["id", "name", "village", "category", "compound", "phone"], rows)
rows = []
for i in range(0, n, 2):
    s = rnd.randrange(1, 26)
    rows.append(["e%07d" % i, "p%07d" % i, pv[i], rnd.choice(["home", "central", "monitoring"]),
                 rnd.choice(["returnee", "close", "second"]), day(s), "2026-12-10",
                 day(s + 3) if rnd.random() < 0.2 else ""])
w("episode.csv", ["id", "person", "village", "kind", "reason", "start", "planned_end", "end"], rows)
rows = []
for i in range(0, n, 2):
    j = (i + len(villages) * rnd.randrange(1, 40)) % n  # same village
    if j == i:
        continue
    rows.append(["x%07d" % i, "p%07d" % i, "p%07d" % j, pv[i], rnd.choice([1, 1, 2])])
w("exposure.csv", ["id", "source", "contact", "village", "degree"], rows)
rows = []
for i in range(4 * n):
    p = rnd.randrange(0, n, 2)
    rows.append(["f%08d" % i, "p%07d" % p, pv[p], "%sT%02d:%02d" % (day(rnd.randrange(20, 27)),
                 rnd.choice([8, 9, 18, 19]), rnd.randrange(60)),
                 "%.1f" % rnd.uniform(35.8, 38.4), rnd.choice(["visit", "visit", "phone"])])
w("followup.csv", ["id", "person", "village", "time", "temperature", "method"], rows)
# every village's store is a site: stock moves only in and out of stores
w("site.csv", ["id", "name", "kind", "region"],
  [["store-" + v.replace("/", "-"), "store of " + v, "store", v] for v in villages])
rows = []
items = ["N95", "surgical", "suit", "thermometer", "disinfectant"]
for i in range(max(n // 10, 10)):
    v = villages[i % len(villages)]
    rows.append(["t%07d" % i, rnd.choice(items), "store-" + v.replace("/", "-"), v,
                 rnd.choice(["received", "issued", "issued", "consumed", "requested"]),
                 rnd.randrange(1, 500), day(rnd.randrange(18, 27))])
w("stock_txn.csv", ["id", "item", "store", "region", "movement", "quantity", "date"], rows)
PY

echo "hamlet ledger benchmark: $persons persons in 50 villages, $(nproc) cores"
rows() { echo $(($(cat "$@" | wc -l) - $#)); }
for c in person site episode exposure followup stock_txn; do
	# shellcheck disable=SC2046
	timed "import-csv $c ($(ls $c.*.csv | wc -l) files)" "$(rows $c.*.csv)" \
		sh -c 'for f in "$@"; do "$0" -d "'"$county"'" import-csv '"$c"' "$f" || exit 1; done' \
		"$hamlet" $c.*.csv
done
if [ "$reports" = 0 ]; then
	exit 0
fi
records=$("$hamlet" -d "$county" status --json | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["records"].values()))')
for r in daily monitoring contacts supplies compounds rewards; do
	timed "report $r (county, --json)" "$records" \
		"$hamlet" -d "$county" report "$r" --date 2026-11-26 --json
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["tables"]' .out
done
timed "report daily --html" "$records" "$hamlet" -d "$county" report daily --date 2026-11-26 --html
if [ "$quick" = 1 ]; then
	grep -q "<svg" .out || {
		echo "bench/ledger.sh: the HTML page has no chart" >&2
		exit 1
	}
fi
echo "store: $(du -sh "$county" | cut -f1) for $records records"
