#!/usr/bin/env python3
"""run_examples.py WORKDIR DOC...: run the shell examples of each DOC, in order, in WORKDIR.

The conventions (docs/development.md, "Examples in the docs"):

- A fenced block with a line `$ COMMAND` (or `PROMPT$ COMMAND`, e.g. `county$`) is an example;
  a line ending in `\\` continues on the next. The lines after a command, up to the next one,
  are what it prints (stdout and stderr together); `...` stands for lines left out.
- A block whose info string is `sh-norun` is not run; `csv file=NAME` (any info with
  `file=NAME`) is written to NAME in WORKDIR before the examples after it run.
- A command whose first output line is `hamlet: ...` (an error) must exit non-zero; every other
  command must exit 0. Each output line shown must appear, in order, in what it printed.
- Generated ids (`p-mx1s3raebfacba35`), hex values of 16 digits or more (node ids, change-set
  ids, the root key), change-set numbers and sizes (`N bytes`) in the output stand for
  whatever the program printed there; a generated id or hex value in a later command stands
  for what the program printed in its place. `/media/usb/` (the USB stick), in commands and output, is the folder
  `usb/` in WORKDIR.

Stops at the first example that fails, naming it (file, line, command), with its output.
With HAMLET_DOCS_RENUMBER=1 it also rewrites, in each DOC, the change-set numbers of the lines
shown to those the program printed (after an example is added or moved).
"""
import os
import re
import subprocess
import sys

ID = r"[a-z]+-[0-9a-z]{8}[0-9a-f]{8}"
HEX = r"[0-9a-f]{16,64}"
TOKEN = re.compile(r"\b(?:%s|%s)\b" % (ID, HEX))
CHANGESET = re.compile(r"(change sets?) \d+")
BYTES = re.compile(r"\d+ (bytes)")


def blocks(path):
    """Yield (info, first line number, lines) for each fenced block of the markdown file."""
    info, start, body = None, 0, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("```"):
                if info is None:
                    info, start, body = line[3:].strip(), n + 1, []
                else:
                    yield info, start, body
                    info = None
            elif info is not None:
                body.append(line)


PROMPT = re.compile(r"^[a-z]*\$ (.*)$")


def examples(start, lines):
    """Yield (line number, command, expected output lines as (line number, text))."""
    i = 0
    while i < len(lines):
        m = PROMPT.match(lines[i])
        if not m:
            i += 1
            continue
        n, cmd = start + i, m.group(1)
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        i += 1
        out = []
        while i < len(lines) and not PROMPT.match(lines[i]):
            out.append((start + i, lines[i]))
            i += 1
        yield n, cmd, out


def pattern(doc_line):
    """A regex for one output line of the doc; its groups are the tokens that stand for others."""
    parts, tokens, pos = [], [], 0
    text = doc_line.strip()
    prefix = text.endswith("...")
    if prefix:
        text = text[:-3]
    text = text.replace("/media/usb/", "usb/")
    for m in re.finditer("|".join(r.pattern for r in (TOKEN, CHANGESET, BYTES)), text):
        parts.append(re.escape(text[pos:m.start()]))
        if CHANGESET.fullmatch(m.group(0)):
            parts.append(re.escape(m.group(1)) + r" \d+")
        elif BYTES.fullmatch(m.group(0)):
            parts.append(r"\d+ bytes")
        else:
            tok = m.group(0)
            parts.append("(%s)" % (ID if re.fullmatch(ID, tok) else "[0-9a-f]{%d}" % len(tok)))
            tokens.append(tok)
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    rx = "".join(parts)
    rx = re.sub(r"(\\ )+", r"\\s+", rx)  # runs of spaces: any spacing (aligned columns)
    return re.compile(r"^\s*" + rx + (r"" if prefix else r"\s*$")), tokens


def renumber(doc_line, actual_line):
    """doc_line with its change-set numbers taken from actual_line."""
    nums = iter(re.findall(r"change sets? (\d+)", actual_line))
    return re.sub(r"(change sets?) \d+", lambda m: "%s %s" % (m.group(1), next(nums, "0")),
                  doc_line)


def check_output(expected, actual, bound, fixes=None):
    """Every expected line appears in order in actual; bind its tokens. None, or what is wrong.
    With fixes (a dict), the line number of each shown line maps to it with the numbers printed."""
    at = 0
    for n, line in expected:
        if not line.strip() or line.strip() == "...":
            continue
        rx, tokens = pattern(line)
        for j in range(at, len(actual)):
            m = rx.match(actual[j])
            if m:
                for tok, value in zip(tokens, m.groups()):
                    bound[tok] = value
                if fixes is not None and CHANGESET.search(line):
                    fixes[n] = renumber(line, actual[j])
                at = j + 1
                break
        else:
            return "no line of its output matches: %s" % line.strip()
    return None


def substitute(cmd, bound):
    cmd = TOKEN.sub(lambda m: bound.get(m.group(0), m.group(0)), cmd)
    return cmd.replace("/media/usb/", "usb/")


def run_doc(doc, workdir, bound, fix):
    """Run DOC's examples; with fix, rewrite its change-set numbers to those printed."""
    count, fixes = 0, {} if fix else None
    for info, start, body in blocks(doc):
        name = re.search(r"\bfile=(\S+)", info)
        if name:
            with open(os.path.join(workdir, name.group(1)), "w", encoding="utf-8") as f:
                f.write("\n".join(body) + "\n")
            continue
        if info.startswith("sh-norun"):
            continue
        for n, cmd, out in examples(start, body):
            real = substitute(cmd, bound)
            p = subprocess.run(["bash", "-c", real], cwd=workdir, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            text = p.stdout.decode("utf-8", "replace").replace("\ufeff", "")  # a CSV template starts with a BOM
            shown = [l for _, l in out if l.strip() and l.strip() != "..."]
            want_fail = bool(shown) and shown[0].startswith("hamlet: ") and \
                "warning" not in shown[0] and "note" not in shown[0]
            problem = None
            if want_fail and p.returncode == 0:
                problem = "exited 0, the doc shows an error"
            elif not want_fail and p.returncode != 0:
                problem = "exited %d" % p.returncode
            else:
                problem = check_output(out, text.splitlines(), bound, fixes)
            if problem:
                print("FAIL: %s:%d: $ %s" % (os.path.basename(doc), n, cmd))
                if real != cmd:
                    print("  ran: %s" % real)
                print("  %s; it printed:" % problem)
                for l in text.splitlines()[:30]:
                    print("    " + l)
                return False
            count += 1
    print("%s: %d examples ran as written" % (os.path.basename(doc), count))
    if fixes:
        with open(doc, encoding="utf-8") as f:
            text = f.read().split("\n")
        changed = [n for n, line in fixes.items() if text[n - 1] != line]
        for n in changed:
            text[n - 1] = fixes[n]
        with open(doc, "w", encoding="utf-8") as f:
            f.write("\n".join(text))
        print("%s: %d lines rewritten (change-set numbers)" % (os.path.basename(doc), len(changed)))
    return True


def main():
    workdir, docs = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.join(workdir, "usb"), exist_ok=True)
    bound = {}
    fix = os.environ.get("HAMLET_DOCS_RENUMBER") == "1"
    for doc in docs:
        if not run_doc(doc, workdir, bound, fix):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
