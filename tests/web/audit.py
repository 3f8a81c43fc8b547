#!/usr/bin/env python3
"""audit.py: the audit (/audit and its downloads), each peer's state (/peers) and the navigation
(the top bar and the start page), over real HTTP against a real `hamlet ui`.

A county (lin) and a village (lin/east/elm, enrolled by the county) that serves its sync port;
the county adds it as a peer and syncs with it (real figures: sent, received, the last
success), and has a second peer whose address and last failure hold a script (written into its
peers files as a broken or hostile file would hold them). Accounts of the four roles made with
`hamlet user add`. Checks, each named as it fails:
- /audit of a clean county: "no finding", the same origins (and their writes) as `hamlet audit
  --json`; /audit.json is that document; /audit/report is a signed report `hamlet
  verify-report` accepts;
- the village writes again, the county syncs and then revokes it after its first write: /audit
  (the same running interface, its kept audit now stale) shows the findings `hamlet audit
  --json` shows, each origin and seq, and the village's origin as revoked;
- a clerk and a doctor get 403 on /audit, /audit.json, /audit/report and /peers;
- /peers shows each peer as `hamlet status --json`'s peers: address, last success and failure,
  sent, received, waiting to send, failures, last error; the scripts are escaped;
- the top bar and the start page of each role list exactly the pages it may open (each opens
  with 200, every other page of the list does not), the current page marked, the bar not
  printed;
- Chinese by default, English by the switch.

Environment: HAMLET_BIN (the binary), HAMLET_TEST_TMP (a scratch folder). Exits 0 when every
check passed, 1 otherwise."""
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

from webtest import (
    ENV, HM, Client, county_and_village, Server, check, finish, free_port, hamlet, scratch)

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
T = scratch("web_audit")
C, V = os.path.join(T, "county"), os.path.join(T, "elm")
USERS = {"off1": "officer", "aud1": "auditor", "clerk1": "clerk", "doc1": "doctor"}
# The pages of the navigation and which roles may open each (ledger/users.c, hm_role_may).
PAGES = {
    "/today": {"clerk", "doctor"}, "/register": {"clerk", "doctor"}, "/stock": {"clerk"},
    "/tips": {"clerk", "officer"}, "/notices": {"clerk", "officer"},
    "/reports": {"clerk", "officer", "auditor"}, "/questions": {"officer", "auditor"},
    "/audit": {"officer", "auditor"}, "/peers": {"officer", "auditor"},
    "/sync": {"clerk", "officer", "auditor"},
}
# The pages this branch serves (others may arrive later: they must then appear, see above).
SERVED = {"/today", "/register", "/reports", "/questions", "/audit", "/peers", "/sync"}


def setup(port):
    root = county_and_village(C, V, T)
    hamlet(V, "put", "person", "e1", "name=Ann", "village=lin/east/elm")
    hamlet(C, "peer", "add", "elm", f"tcp://127.0.0.1:{port}")
    for name, role in USERS.items():
        hamlet(C, "user", "add", name, "--role", role, stdin=f"{name} password 1\n")
    return root


def hostile_peer():
    """A peer whose address and last failure hold a script, as its files would hold them."""
    with open(os.path.join(C, "peers"), "a") as f:
        f.write(f"hub tcp://{SCRIPT}:1\n")
    with open(os.path.join(C, "peers.state"), "a") as f:
        f.write(f"hub 0 1700000000000 3 0 0 refused: {SCRIPT}\n")


def sync(peer):
    """hamlet -d C sync PEER, retried while the village's server starts."""
    for _ in range(50):
        r = subprocess.run([HM, "-d", C, "sync", peer], env=ENV, capture_output=True, text=True,
                           timeout=60)
        if r.returncode == 0:
            return
        import time
        time.sleep(0.1)
    sys.exit(f"hamlet sync {peer} failed: {r.stderr}")


class Page(HTMLParser):
    """A page's rows (attributes and cell texts), its top bar's links and its buttons."""

    def __init__(self, text):
        super().__init__()
        self.rows, self.nav, self.buttons, self.current = [], [], [], []
        self.header_classes, self.h1 = "", ""
        self._row = self._cell = None
        self._h1 = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "header":
            self.header_classes = a.get("class", "")
        elif tag == "h1":
            self._h1 = True
        elif tag == "tr":
            self._row = {"attrs": a, "cells": [], "cell_attrs": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
            self._row["cell_attrs"].append(a)
        elif tag == "a" and a.get("class") in ("nav", "button"):
            (self.nav if a["class"] == "nav" else self.buttons).append(a["href"])
            if a.get("aria-current") == "page":
                self.current.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "h1":
            self._h1 = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._h1:
            self.h1 += data
        if self._cell is not None:
            self._cell += data


def login(port, name):
    b = Client(port)
    r, _ = b.login(name, f"{name} password 1")
    check(r.status == 303, f"{name}'s login: {r.status}")
    return b


def cli_audit():
    r = subprocess.run([HM, "-d", C, "audit", "--json"], env=ENV, capture_output=True,
                       text=True, timeout=60)
    return json.loads(r.stdout)


def check_audit_page(b, what):
    """/audit shows what `hamlet audit --json` shows: its origins, their writes, its findings."""
    doc = cli_audit()
    r, text = b.get("/audit")
    check(r.status == 200, f"{what}: GET /audit: {r.status}")
    p = Page(text)
    origins = {row["attrs"]["data-origin"]: row["cells"] for row in p.rows
               if "data-origin" in row["attrs"]}
    want = {o["origin"]: o for o in doc["origins"]}
    check(set(origins) == set(want), f"{what}: origins {sorted(origins)}, CLI {sorted(want)}")
    for o, cells in origins.items():
        if o in want:
            w = f"{want[o]['seq_from']}\u2013{want[o]['seq_to']}" if want[o]["seq_to"] else "-"
            check(cells[3] == w and cells[2] == want[o]["region"],
                  f"{what}: origin {o}: {cells}, CLI {want[o]}")
    found = sorted((row["attrs"]["data-kind"], int(row["attrs"]["data-seq"]),
                    row["cells"][1][:len(row["cells"][1]) - len(row["cells"][1].lstrip("0123456789abcdef"))])
                   for row in p.rows if "data-kind" in row["attrs"])
    want_f = sorted((f["kind"], f["seq"], f["origin"]) for f in doc["findings"])
    check(found == want_f, f"{what}: findings {found}, CLI {want_f}")
    check(("没有发现问题" in text) == doc["clean"],
          f"{what}: 'no finding' shown {('没有发现问题' in text)}, CLI clean {doc['clean']}")
    check(p.h1 == "审计", f"{what}: the title is {p.h1!r}, not Chinese")
    # findings before origins
    check(text.find('class="findings"') < text.find('class="origins"'),
          f"{what}: the findings are not first")
    return doc, text


def test_downloads(b, root):
    r, text = b.get("/audit.json")
    check(r.status == 200 and "attachment" in (r.headers.get("Content-Disposition") or ""),
          f"GET /audit.json: {r.status} {r.headers.get('Content-Disposition')}")
    try:
        doc, cli = json.loads(text), cli_audit()
        doc.pop("at", None), cli.pop("at", None)
        check(doc == cli, "/audit.json is not `hamlet audit --json`'s document")
    except ValueError:
        check(False, f"/audit.json is not JSON: {text[:200]}")
    r, text = b.get("/audit/report")
    check(r.status == 200 and text.startswith("hamlet audit report v1\n"),
          f"GET /audit/report: {r.status} {text[:60]!r}")
    path = os.path.join(T, "web.report")
    with open(path, "w") as f:
        f.write(text)
    v = subprocess.run([HM, "verify-report", path, "--root", root], env=ENV,
                       capture_output=True, text=True, timeout=60)
    check(v.returncode == 0, f"verify-report of /audit/report: {v.returncode} {v.stdout}{v.stderr}")


def test_after_reveal(b):
    """/audit kept, then a report seen with names (a reveal: a change set of the station's own
    origin): /audit agrees with /audit.json and the CLI, not the kept page of before."""
    b.get("/audit")
    r, _ = b.get("/reports/daily?names=1")
    check(r.status == 200, f"GET /reports/daily?names=1: {r.status}")
    _, text = check_audit_page(b, "after a report seen with names")
    r, js = b.get("/audit.json")
    doc = json.loads(js) if r.status == 200 else {"origins": []}
    shown = {row["attrs"]["data-origin"]: row["cells"][3] for row in Page(text).rows
             if "data-origin" in row["attrs"]}
    for o in doc["origins"]:
        w = f"{o['seq_from']}\u2013{o['seq_to']}" if o["seq_to"] else "-"
        check(shown.get(o["origin"]) == w,
              f"after a report seen with names: /audit shows {o['origin']} as "
              f"{shown.get(o['origin'])}, /audit.json {w}")


def test_forbidden(port):
    for name in ("clerk1", "doc1"):
        b = login(port, name)
        for path in ("/audit", "/audit.json", "/audit/report", "/peers"):
            r, _ = b.get(path)
            check(r.status == 403, f"{name} asking for {path}: {r.status}, not 403")


def test_peers(b):
    peers = {p["name"]: p for p in json.loads(hamlet(C, "status", "--json"))["peers"]}
    r, text = b.get("/peers")
    check(r.status == 200, f"GET /peers: {r.status}")
    check(SCRIPT not in text and ESCAPED in text, "/peers does not escape the peer's script")
    rows = {row["attrs"]["data-peer"]: row for row in Page(text).rows
            if "data-peer" in row["attrs"]}
    check(set(rows) == set(peers), f"/peers lists {sorted(rows)}, status {sorted(peers)}")
    for name, p in peers.items():
        if name not in rows:
            continue
        c, a = rows[name]["cells"], rows[name]["cell_attrs"]
        waiting = str(p["waiting_to_send"]) if p["waiting_to_send"] >= 0 else "未知（尚未同步）"
        got = [c[0], c[1], int(a[2]["data-ms"]), int(a[3]["data-ms"]), c[4], c[5], c[6], c[7],
               c[8]]
        want = [p["name"], p["url"], p["last_ok_ms"], p["last_error_ms"], str(p["sent"]),
                str(p["received"]), waiting, str(p["failures"]), p["last_error"]]
        check(got == want, f"/peers' {name}: {got}, status {want}")
    check(peers.get("elm", {}).get("received", 0) > 0 and peers["elm"]["waiting_to_send"] == 1,
          f"the fixture: elm's figures are not those of a real sync: {peers.get('elm')}")
    r, text = b.get("/sync")
    check(r.status == 200 and SCRIPT not in text, f"/sync: {r.status}, or a script shown raw")


def test_nav(port):
    """Each role's top bar and start page list exactly the pages it may open."""
    for name, role in USERS.items():
        b = login(port, name)
        r, text = b.get("/")
        check(r.status == 200, f"{name}: GET /: {r.status}")
        home = Page(text)
        opens = set()
        for path in PAGES:
            r, _ = b.get(path)
            check(r.status in (200, 403, 404), f"{name}: GET {path}: {r.status}")
            if r.status == 200:
                opens.add(path)
        want = {p for p in PAGES if role in PAGES[p]}
        check(opens <= want and want & SERVED <= opens,
              f"{name} ({role}) opens {sorted(opens)}; the permissions say {sorted(want)}")
        check(set(home.nav) == opens and set(home.buttons) == opens,
              f"{name}: the bar lists {home.nav}, the start page {home.buttons}, opens "
              f"{sorted(opens)}")
        check(home.nav == [p for p in PAGES if p in opens], f"{name}: the bar's order {home.nav}")
        check("noprint" in home.header_classes, f"{name}: the top bar is printed")
        for path in opens:
            page = Page(b.get(path)[1])
            check(page.current == [path], f"{name}: on {path} the bar marks {page.current}")


def test_english(b):
    b.cookies["hamlet_lang"] = "en"
    _, text = b.get("/audit")
    check("<h1>Audit</h1>" in text and "Findings" in text, "/audit in English: no English title")
    b.cookies["hamlet_lang"] = "zh"


def po_words(path):
    """msgid -> msgstr of a PO file, fuzzy entries left out (gettext does not use them)."""
    words = {}
    for block in open(path, encoding="utf-8").read().split("\n\n"):
        if re.search(r"^#,.*\bfuzzy\b", block, re.M):
            continue
        m = re.search(r'^msgid ((?:"(?:[^"\\]|\\.)*"\n?)+)msgstr ((?:"(?:[^"\\]|\\.)*"\n?)+)',
                      block, re.M)
        if m:
            join = lambda s: "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s))
            words[join(m.group(1))] = join(m.group(2))
    return words


def test_finding_words():
    """Every finding kind the ledger names (ledger/audit.c) has its words on /audit
    (web/page_audit.c), marked N_() and translated in po/zh_CN.po (review #12, 8)."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    kinds = re.findall(r'return "([a-z-]+)";',
                       open(os.path.join(src, "ledger", "audit.c")).read().split(
                           "hm_audit_finding_name", 1)[1].split("\n}", 1)[0])
    page = open(os.path.join(src, "web", "page_audit.c")).read()
    table = dict(re.findall(r'\{"([a-z-]+)",\s*N_\(((?:\s*"(?:[^"\\]|\\.)*")+)\)\}', page))
    fallback = re.search(r'return N_\(("(?:[^"\\]|\\.)*")\);\n\}', page)
    table["other"] = fallback.group(1) if fallback else ""  # a kind the page does not know
    zh = po_words(os.path.join(src, "po", "zh_CN.po"))
    check(len(kinds) >= 10, f"the finding kinds of ledger/audit.c: {kinds}")
    for kind in kinds:
        msgid = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', table.get(kind, "")))
        check(msgid, f"the finding {kind} has no words marked N_() in web/page_audit.c")
        check(not msgid or zh.get(msgid), f"the finding {kind} has no Chinese words: {msgid!r}")


def main():
    test_finding_words()
    port = free_port()
    root = setup(port)
    village = Server(V, ["serve", "--listen", f"tcp://127.0.0.1:{port}", "--every", "3600",
                         "--ui", "127.0.0.1:0"], os.path.join(T, "village.err"))
    sync("elm")
    hamlet(C, "put", "person", "c1", "name=Bo")  # one change set waiting to send to elm
    hostile_peer()
    ui = Server(C, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    aud = login(ui.port, "aud1")
    _, text = check_audit_page(aud, "clean")
    test_downloads(aud, root)
    test_forbidden(ui.port)
    test_peers(login(ui.port, "off1"))
    test_nav(ui.port)
    test_english(aud)
    test_after_reveal(aud)  # a change set of the county's: after /peers' figures
    # a finding: the village writes again, the county takes it, then revokes the village
    hamlet(V, "put", "person", "e2", "name=Cy", "village=lin/east/elm")
    sync("elm")
    vid = json.loads(hamlet(V, "status", "--json"))["node_id"]
    hamlet(C, "revoke", vid, "--after-seq", "1", "--reason", f"stolen {SCRIPT}")
    doc, text = check_audit_page(aud, "after a revocation")
    check(not doc["clean"] and doc["findings"], f"the fixture: no finding after a revocation")
    check(SCRIPT not in text, "/audit shows a script raw")
    rows = [row for row in Page(text).rows if row["attrs"].get("data-origin") == vid]
    check(rows and "吊销" in rows[0]["cells"][5], f"the village's origin is not shown revoked: "
          f"{rows[0]['cells'] if rows else None}")
    return finish("web_audit", [ui, village])


if __name__ == "__main__":
    sys.exit(main())
