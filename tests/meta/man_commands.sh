#!/bin/bash
# man_commands.sh MANPAGE SOURCE_DIR: every command `hamlet --help` lists, and every verb,
# subcommand and report each of them lists in its own --help, appears in the man page as
# "COMMAND" or "COMMAND SUB" in bold; the page has its sections, every exit code of
# docs/cli.md and every variable cli/ reads.
. "$(dirname "$0")/../integration/lib.sh"

MAN=${1:?usage: man_commands.sh MANPAGE SOURCE_DIR}
SRC=${2:?usage: man_commands.sh MANPAGE SOURCE_DIR}
# The page's text with groff's escapes undone: \- is -, bold runs as <b>...</b>.
TEXT=$T/man.txt
sed 's/\\-/-/g; s/\\fB/<b>/g; s/\\f[RP]/<\/b>/g; s/\\fI//g' "$MAN" | sed 's/^\.B <b>/.B /' >"$TEXT"

# named WORDS: WORDS begin a .B line (a command's heading) or are a bold run in the text.
named() {
	if grep -qE "^\.B $1( |\||$)" "$TEXT" || grep -qF "<b>$1</b>" "$TEXT"; then
		ok
	else
		fail "'hamlet $1' is not in the man page"
	fi
}

nsubs=0
hm --help
cmds=$(sed -n '/^commands:/,/^$/p' "$OUT" | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$cmds" | wc -w)" -gt 20 ] || fail "hamlet --help lists too few commands: $cmds"
for c in $cmds; do
	named "$c"
	hm "$c" --help
	# A group lists its verbs (or reports) in a block, or one usage line per subcommand.
	subs=$( (sed -n '/^\(verbs\|reports\):/,/^$/p' "$OUT" | awk 'NR > 1 && /^  [a-z]/ { print $1 }'
		sed -n -e "s/^\(usage:\)\? *hamlet \[-d DIR\] $c \([a-z][a-z-]*\).*/\2/p" \
			-e "s/^usage: hamlet $c \([a-z][a-z-]*\).*/\1/p" "$OUT") |
		sort -u)
	nsubs=$((nsubs + $(echo "$subs" | wc -w)))
	for s in $subs; do
		# "init --role" is an option, not a subcommand; options never match [a-z] first.
		named "$c $s"
	done
done

# Today 43 verbs, subcommands and reports: far fewer means the help's layout changed under this
# test, which must then learn to read it.
[ "$nsubs" -ge 40 ] || fail "found only $nsubs subcommands in the groups' --help"

for section in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
	if grep -q "^\.SH \"\?$section\"\?$" "$MAN"; then ok; else fail "no section $section"; fi
done
# Every exit code docs/cli.md defines, and every variable cli/ reads (getenv).
for code in 0 1 2; do
	if sed -n '/^\.SH EXIT STATUS/,/^\.SH/p' "$MAN" | grep -q "^\.B $code$"; then ok; else
		fail "EXIT STATUS does not define $code"
	fi
done
vars=$(grep -rhoE 'getenv\("[A-Z_]+"\)' "$SRC/cli" | sed 's/getenv("//;s/")//' | sort -u)
[ -n "$vars" ] || fail "found no getenv in $SRC/cli"
for var in $vars; do
	if sed -n '/^\.SH ENVIRONMENT/,/^\.SH/p' "$MAN" | grep -q "^\.B $var$"; then ok; else
		fail "ENVIRONMENT does not name $var"
	fi
done
finish
