#!/usr/bin/env python3
"""check_po.py SOURCE_DIR: the translations are well formed and say what their English says.

- msgfmt --check accepts every po/LANG.po of po/LINGUAS (header, domain, and the c-format
  entries' directives);
- every translated entry whose msgid holds printf directives, c-format or not (a string marked
  with N_ and formatted later is not always flagged), has a msgstr whose directives take the same
  arguments with the same conversions: in the same order, or reordered with %N$;
- po/hamlet.pot lists every message the sources mark (scripts/update-po --check).
Prints the count translated of the total per catalogue; exits 1 naming each problem.
`ctest -L i18n` runs it."""
import os
import re
import subprocess
import sys

DIRECTIVE = re.compile(
    r"%(?:(\d+)\$)?[-+ #0']*(\*|\d+)?(?:\.(\*|\d+))?"
    r"(?:(<PRI[diouxX][A-Z0-9]+>)|(hh|h|ll|l|L|j|z|t)?([diouxXeEfFgGaAcsp%]))")


def unquote(s):
    return bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def entries(path):
    """(msgid, msgstr, fuzzy, line) of each entry but the header."""
    text = open(path, encoding="utf-8").read()
    out = []
    line = 1
    for block in text.split("\n\n"):
        fuzzy = any(l.startswith("#,") and "fuzzy" in l for l in block.split("\n"))
        parts, key = {}, None
        for l in block.split("\n"):
            m = re.match(r'^(msgid|msgstr|msgctxt|msgid_plural) (".*")$', l)
            if m:
                key = m.group(1)
                parts[key] = unquote(m.group(2)[1:-1])
            elif l.startswith('"') and key:
                parts[key] += unquote(l[1:-1])
            elif l.startswith("#~"):
                key = None
        if parts.get("msgid"):
            out.append((parts["msgid"], parts.get("msgstr", ""), fuzzy, line))
        line += block.count("\n") + 2
    return out


def arguments(s):
    """{argument number: conversion} of a format string, or a reason it is malformed."""
    args, pos, numbered, unnumbered = {}, 0, False, False
    for m in DIRECTIVE.finditer(s):
        num, width, prec, pri, size, conv = m.groups()
        if pri:
            size, conv = pri, ""
        if conv == "%":
            continue
        if num:
            numbered = True
            n = int(num)
        else:
            unnumbered = True
            for star in (width, prec):
                if star == "*":
                    pos += 1
                    args[pos] = "*"
            pos += 1
            n = pos
        kind = (size or "") + ("d" if conv == "i" else conv)
        if n in args and args[n] != kind:
            return None, f"argument {n} is used as {args[n]} and as {kind}"
        args[n] = kind
    if numbered and unnumbered:
        return None, "mixes %N$ and plain directives"
    return args, None


def main():
    src = sys.argv[1]
    problems = []
    linguas = [l.strip() for l in open(os.path.join(src, "po", "LINGUAS"))
               if l.strip() and not l.startswith("#")]
    for lang in linguas:
        po = os.path.join(src, "po", lang + ".po")
        r = subprocess.run(["msgfmt", "--check", "-o", os.devnull, po],
                           capture_output=True, text=True)
        if r.returncode:
            problems.append(f"msgfmt --check {po}:\n{r.stderr}")
        done = total = 0
        for msgid, msgstr, fuzzy, line in entries(po):
            total += 1
            if not msgstr or fuzzy:
                continue
            done += 1
            want, _ = arguments(msgid)
            got, why = arguments(msgstr)
            if want is None:
                continue
            if got is None:
                problems.append(f"{po}:{line}: the translation {why}: {msgstr!r}")
            elif got != want:
                problems.append(f"{po}:{line}: the directives differ: {msgid!r} takes "
                                f"{sorted(want.items())}, {msgstr!r} takes {sorted(got.items())}")
        print(f"check_po: {po}: {done} of {total} messages translated")
    r = subprocess.run(["bash", os.path.join(src, "scripts", "update-po"), "--check"],
                       capture_output=True, text=True, cwd=src)
    if r.returncode:
        problems.append(r.stderr)
    for p in problems:
        print(f"check_po: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
