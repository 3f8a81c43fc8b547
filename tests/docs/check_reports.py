#!/usr/bin/env python3
"""check_reports.py REPORTS_MD HELP: the first table of docs/reports.md lists the reports in the
order of `hamlet report --help` (the file HELP), and for each the tables the program prints in
its order, its --days default and the parameters it prints, as report-NAME.json (the report's
--json output, in the current folder) has them. Prints each difference; exit 1 when any."""
import json
import re
import sys


def main():
    doc, help_file = sys.argv[1], sys.argv[2]
    helps = open(help_file, encoding="utf-8").read()
    order = re.findall(r"^  ([a-z]+) ", helps.split("\nreports:\n", 1)[1].split("\n\n")[0], re.M)
    rows = re.findall(r"^\| `([a-z]+)` \|[^|]*\|([^|]*)\|([^|]*)\|([^|]*)\|$",
                      open(doc, encoding="utf-8").read(), re.M)
    bad = []
    if [r[0] for r in rows] != order:
        bad.append("reports.md lists %s; hamlet report --help %s" % ([r[0] for r in rows], order))
    for name, tables, options, params in rows:
        d = json.load(open("report-%s.json" % name, encoding="utf-8"))
        have = [t["name"] for t in d["tables"]]
        want = re.findall(r"`([a-z_]+)`", tables)
        if have != want:
            bad.append("%s: reports.md says tables %s, the program prints %s" % (name, want, have))
        doc_params = re.findall(r"`([a-z_.]+)`", params)
        if set(d["parameters"]) != set(doc_params):
            bad.append("%s: reports.md says parameters %s, the program prints %s" %
                       (name, doc_params, sorted(d["parameters"])))
        days = re.search(r"`--days N` \((\d+)\)", options)
        if days and d["parameters"].get("days") != days.group(1):
            bad.append("%s: reports.md says --days defaults to %s, the program uses %s" %
                       (name, days.group(1), d["parameters"].get("days")))
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
