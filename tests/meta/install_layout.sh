#!/bin/bash
# install_layout.sh BUILD_DIR BINDIR MANDIR DOCDIR UNITDIR SYSUSERSDIR LOCALEDIR: `cmake --install`
# into a temporary DESTDIR puts the binary, the man page, every document the man page points to,
# the systemd unit, the sysusers file and the Chinese catalogue where the build says (absolute
# paths, as configured), the installed unit runs the installed binary, and the installed binary
# reads the installed catalogue, not the build tree's.
. "$(dirname "$0")/../integration/lib.sh"

BUILD=$1 BINDIR=$2 MANDIR=$3 DOCDIR=$4 UNITDIR=$5 SYSUSERSDIR=$6 LOCALEDIR=$7
D=$T/destdir

if ! DESTDIR=$D cmake --install "$BUILD" >"$OUT" 2>"$ERR"; then
	fail "cmake --install into $D failed"
	finish
fi

# present FILE WHAT: FILE (under DESTDIR) was installed.
present() {
	if [ -f "$D$1" ]; then ok; else fail "$2 is not installed as $1"; fi
}

present "$BINDIR/hamlet" "the binary"
if [ -x "$D$BINDIR/hamlet" ] && "$D$BINDIR/hamlet" --help >/dev/null; then ok; else
	fail "the installed binary does not run"
fi
present "$MANDIR/man1/hamlet.1" "the man page"
present "$UNITDIR/hamlet.service" "the systemd unit"
present "$SYSUSERSDIR/hamlet.conf" "the sysusers file"
present "$DOCDIR/hamlet.env.example" "the unit's settings example"
present "$(dirname "$MANDIR")/bash-completion/completions/hamlet" "the bash completion"
present "$LOCALEDIR/zh_CN/LC_MESSAGES/hamlet.mo" "the Chinese catalogue"

# The installed binary speaks Chinese from the installed catalogue (here under DESTDIR, named by
# HAMLET_LOCALEDIR), and does not read the build tree's: without the catalogue at LOCALEDIR
# itself it stays English. Needs the zh_CN.UTF-8 locale (scripts/install-deps).
if locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
	said=$(HAMLET_LOCALEDIR=$D$LOCALEDIR LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= "$D$BINDIR/hamlet" \
		-d "$T/none" status 2>&1)
	case $said in *"中没有 hamlet 节点"*) ok ;; *) fail "the installed catalogue is not read: '$said'" ;; esac
	if [ ! -e "$LOCALEDIR/zh_CN/LC_MESSAGES/hamlet.mo" ]; then
		said=$(LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= "$D$BINDIR/hamlet" -d "$T/none" status 2>&1)
		case $said in *"no hamlet node in"*) ok ;; *)
			fail "the installed binary read a catalogue that is not installed: '$said'" ;;
		esac
	fi
fi

# The unit runs the installed binary, and nothing was left unconfigured.
if grep -q "^ExecStart=$BINDIR/hamlet " "$D$UNITDIR/hamlet.service"; then ok; else
	fail "the unit's ExecStart does not run $BINDIR/hamlet:" \
		"$(grep ExecStart "$D$UNITDIR/hamlet.service")"
fi
if grep -l '@[A-Z_]*@' "$D$UNITDIR/hamlet.service" "$D$MANDIR/man1/hamlet.1"; then
	fail "an @VARIABLE@ was left unconfigured in the files above"
else
	ok
fi
if grep -q '^u hamlet ' "$D$SYSUSERSDIR/hamlet.conf"; then ok; else
	fail "the sysusers file makes no account hamlet"
fi

# Every document the man page's SEE ALSO names is in the folder it names.
man=$D$MANDIR/man1/hamlet.1
if grep -q "installed in \\\\fI$DOCDIR\\\\fR" "$man"; then ok; else
	fail "the man page does not name the doc folder $DOCDIR"
fi
docs=$(sed -n '/^\.SH SEE ALSO/,$p' "$man" | grep -o '\\fI[a-z\\-]*\.\(md\|example\)\\fR' |
	sed 's/\\fI//;s/\\fR//;s/\\-/-/g')
[ -n "$docs" ] || fail "the man page's SEE ALSO names no document"
for f in $docs; do
	present "$DOCDIR/$f" "$f (named by the man page)"
done
finish
