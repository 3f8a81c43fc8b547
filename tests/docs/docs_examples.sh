#!/bin/bash
# docs_examples.sh SOURCE_DIR: every shell example of docs/ledger.md, then of docs/cli.md, runs
# as written, in order, in one folder, against the built hamlet (run_examples.py says how an
# example is read; docs/development.md, "Examples in the docs"). The folder starts with the
# network of docs/running.md: the county `county` (lin), the township `east` (lin/east,
# enrolled with --may-enroll) and its villages `elm` and `oak` (lin/east/elm, lin/east/oak),
# enrolled by the township. Fails at the first example that fails, naming it.
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
finish
