#!/bin/bash
# unit_security.sh UNIT: `systemd-analyze security --offline` scores the configured unit
# (dist/systemd/hamlet.service.in as the build configured it) 2.0 or less. Skips (exit 77)
# when systemd-analyze is missing or too old to analyse a unit file offline (systemd < 250).
. "$(dirname "$0")/../integration/lib.sh"

UNIT=${1:?usage: unit_security.sh UNIT}
MAX=2.0

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed (Debian: systemd)"
	exit 77
fi
# systemd-analyze names the unit by its file name: analyse a copy named hamlet.service.
cp "$UNIT" "$T/hamlet.service"
run systemd-analyze security --offline=true --no-pager "$T/hamlet.service"
if grep -q "unrecognized option\|Unknown option" "$ERR"; then
	echo "SKIP: this systemd-analyze ($(systemd-analyze --version | head -1)) has no --offline"
	exit 77
fi
score=$(sed -n 's/.*Overall exposure level for hamlet.service: \([0-9.]*\).*/\1/p' "$OUT" "$ERR")
if [ -z "$score" ]; then
	fail "systemd-analyze security printed no overall exposure level (exit $RC)"
	sed 's/^/    /' "$OUT" | tail -5
elif python3 -c "import sys; sys.exit(0 if float('$score') <= $MAX else 1)"; then
	echo "exposure $score (at most $MAX)"
	ok
else
	fail "hamlet.service scores $score, above $MAX: what it still exposes:"
	grep '✗' "$OUT" | sed 's/^/    /'
fi
finish
