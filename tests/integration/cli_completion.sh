#!/usr/bin/env bash
# Bash completion (dist/bash-completion/hamlet) completes commands, verbs and options from the
# binary's own --help, which comes from each command's option table.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/integration/lib.sh"
. "$SRC/dist/bash-completion/hamlet"

complete_of() { # WORDS...: what completing the last word offers, one per line
	COMP_WORDS=("$HM" "$@")
	COMP_CWORD=$#
	_hamlet
	printf '%s\n' "${COMPREPLY[@]}"
}
offers() { # WANT WORDS...: completing WORDS offers WANT
	local want=$1
	shift
	if complete_of "$@" | grep -qx -- "$want"; then ok; else
		fail "completing 'hamlet $*' does not offer $want: $(complete_of "$@" | tr '\n' ' ')"
	fi
}
offers export ex
offers enroll enr
offers sign enroll s
offers --limit-rate sync --li
offers --episode followup add --ep
offers --store stock issue --st
offers --output -d n export --out
offers --json peer list --j
offers schema help sch
[ -z "$(complete_of enroll sign --nonsense)" ] && ok || fail "completion offered an option that does not exist"
finish
