#!/bin/bash
# docs_examples.sh SOURCE_DIR: every shell example of docs/ledger.md, then of docs/cli.md, runs
# as written, in order, in one folder, against the built hamlet (run_examples.py says how an
# example is read; docs/development.md, "Examples in the docs"). The folder starts with the
# network of docs/running.md: the county `county` (lin), the township `east` (lin/east,
# enrolled with --may-enroll) and its villages `elm` and `oak` (lin/east/elm, lin/east/oak),
# enrolled by the township. Fails at the first example that fails, naming it. Then checks that
# docs/reports.md lists the reports, their tables, defaults and parameters as the program has them.
. "$(dirname "$0")/../integration/lib.sh"

SRC=${1:?usage: docs_examples.sh SOURCE_DIR}
mkdir -p bin
ln -sf "$HM" bin/hamlet
export PATH=$T/bin:$PATH

must -d county init --role county --region lin --name "Linhe county office" || finish
use_county_dir() {
	ROOT_KEY=$("$HM" -d county status --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["root"])')
}
use_county_dir
must -d east init --role township --region lin/east --name "East township hub" &&
	enroll east county --may-enroll &&
	must -d elm init --role village --region lin/east/elm --name Elm &&
	enroll elm east &&
	must -d oak init --role village --region lin/east/oak --name Oak &&
	enroll oak east || finish

if python3 "$SRC/tests/docs/run_examples.py" "$T" "$SRC/docs/ledger.md" "$SRC/docs/cli.md"; then
	ok
else
	FAILED=1
fi

# docs/reports.md's first table lists the reports in the order of `hamlet report --help`, each
# with the tables the program prints (in its order), its --days default and the parameters it
# prints, as `--json` says on the node the examples filled.
hm report --help
cp "$OUT" report-help.txt
for r in $(sed -n '/^reports:/,/^$/p' report-help.txt | awk 'NR > 1 && /^  [a-z]/ { print $1 }'); do
	opts=
	[ "$r" = contacts ] && opts="--person $(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))[0]["id"])' <("$HM" -d elm list person --json))"
	# shellcheck disable=SC2086
	"$HM" -d elm report "$r" --json $opts >"report-$r.json" 2>"$ERR" ||
		fail "hamlet report $r --json $opts exited non-zero"
done
if python3 "$SRC/tests/docs/check_reports.py" "$SRC/docs/reports.md" report-help.txt; then
	ok
else
	FAILED=1
fi
finish
