# points.sh - which N an out-of-memory loop over a command tries (sourced by oom_cli.sh and
# oom_sync.sh). ALL=1: every N up to CALLS; otherwise N = 1 to 5, then about 1.6 times the last,
# and CALLS itself.

# points: the N to try, one a line (CALLS: the allocations of a clean run)
points() {
	local n=1
	if [ "$ALL" = 1 ]; then
		seq 1 "$CALLS"
		return
	fi
	while [ "$n" -lt "$CALLS" ]; do
		echo "$n"
		if [ "$n" -lt 5 ]; then n=$((n + 1)); else n=$((n * 8 / 5)); fi
	done
	echo "$CALLS"
}
