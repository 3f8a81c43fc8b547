#!/usr/bin/env bash
# Every command's help is generated from its option table: `hamlet help X [Y]` prints exactly
# what `hamlet X [Y] --help` prints, for every command and every verb of a group; every help
# starts with its usage line and lists --help; every option the help lists is accepted.
. "$(dirname "$0")/lib.sh"

commands=$("$HM" --help | sed -n '/^commands:/,/^$/p' | awk 'NF>1 && $1!="commands:" {print $1}')
[ "$(echo "$commands" | wc -l)" -gt 30 ] && ok || fail "hamlet --help lists too few commands: $commands"

same_help() { # ARGS...: help ARGS equals ARGS --help
	local a b
	a=$("$HM" help "$@" 2>&1; echo "exit $?")
	b=$("$HM" "$@" --help 2>&1; echo "exit $?")
	if [ "$a" = "$b" ]; then ok; else fail "hamlet help $* differs from hamlet $* --help"; fi
	case "$b" in
	usage:*) ok ;;
	*) fail "hamlet $* --help does not start with its usage line: ${b%%$'\n'*}" ;;
	esac
	case "$b" in
	*"exit 0") ok ;;
	*) fail "hamlet $* --help did not exit 0" ;;
	esac
}

for cmd in $commands; do
	[ "$cmd" = help ] && continue
	same_help "$cmd"
	verbs=$("$HM" "$cmd" --help | sed -n '/^verbs:/,/^$/p' | awk 'NF>1 && $1!="verbs:" {print $1}')
	for verb in $verbs; do
		same_help "$cmd" "$verb"
	done
done

# an option listed by a help is one the command knows: never "unknown option"
for args in "get" "export" "sync" "status" "enroll sign" "peer list" "audit"; do
	# shellcheck disable=SC2086
	opts=$("$HM" $args --help | sed -n '/^options:/,/^$/p' | grep -o -- '--[a-z-]*' | sort -u)
	for o in $opts; do
		# shellcheck disable=SC2086
		if "$HM" -d nowhere $args "$o" x y z 2>&1 | grep -q "unknown option '$o'"; then
			fail "hamlet $args --help lists $o, which it does not accept"
		else
			ok
		fi
	done
done

expect 2 "no command 'nope'" help nope
finish
