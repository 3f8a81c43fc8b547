#!/usr/bin/env python3
"""reports.py: the pages of a township officer and a county auditor (/reports, /questions), over
real HTTP against a real `hamlet ui`.

A county (lin) with two enrolled townships (lin/east, lin/west, so that it holds their keys),
its records written with `hamlet put` as tests/integration/cli_report.sh writes them, plus a
person and a compound whose names are scripts, two registrations of one ID number (a
duplicate), and a name two stations wrote at once (an identity question and a conflict, carried
by bundles). Accounts of the four roles made with `hamlet user add`. Checks, each named as it
fails:
- every table of each of the six report pages holds the rows `hamlet report NAME --json`
  prints, cell by cell, for the county and, by following the page's own drill-down links, for a
  township and a village; persons link to /person/ID; the picker lists the regions;
- Chinese by default (the ledger's Chinese headers, Chinese titles), English by the switch;
- names masked unless an officer asks (names=1), and that reveal recorded in the access log
  under the officer's name; a clerk may not ask (403);
- the CSV download: attachment, a BOM, Chinese headers, the same figures as `hamlet report
  NAME --csv`, an export in the access log under the auditor's name; a clerk gets 403;
- a table longer than a page (rows=10: 30 persons not seen) a page at a time: the count
  ("rows 1-10 of N"), next and previous links that keep region, date, days, names and rows,
  the pages together the rows of `hamlet report --json`; rows= out of 10-1000 and page=0
  refused (400); the CSV has every row whatever rows= says;
- a doctor cannot open /reports nor /questions (403), a clerk not /questions;
- the scripts are escaped on every page made here;
- /questions lists the identity question, the conflict and the duplicate; "keep apart" writes
  it (`hamlet list merge`: state apart; no longer proposed, in any session nor by `person
  dups`); "merge" then merges the pair after all (`hamlet list merge`, `person dups`).

Environment: HAMLET_BIN (the binary), HAMLET_TEST_TMP (a scratch folder). Exits 0 when every
check passed, 1 otherwise."""
import csv
import html
import io
import json
import os
import re
import sys
from html.parser import HTMLParser
from urllib.parse import urlencode

from webtest import Client, Server, check, finish, hamlet, scratch

SCRIPT = "<script>alert(1)</script>"
D = "2026-02-03"
T = scratch("web_reports")
C = os.path.join(T, "c")
REPORTS = ["daily", "monitoring", "contacts", "supplies", "compounds", "rewards"]
USERS = {"off1": "officer", "aud1": "auditor", "clerk1": "clerk", "doc1": "doctor"}
IDNUM = "11010519491231002X"

# The county's records, as tests/integration/cli_report.sh writes them (lin/eastern left out).
RECORDS = """
person p1 name=Li_Wei village=lin/east/elm category=returnee compound=c1
person p2 name=Zhang_San village=lin/east/elm category=close compound=c1
person p3 name=Wang_Wu village=lin/east/elm category=second compound=c2
person p4 name=Zhao_Liu village=lin/east/oak category=case compound=c9
person p5 name=Sun_Qi village=lin/east/oak category=close
person p6 name=Zhou_Ba village=lin/west/ash category=returnee compound=c5
person p7 name=Wu_Jiu village=lin/west/ash category=second
person p8 name=Zheng_Shi village=lin/west/ash category=other
person p9 name=Feng_Shiyi village=lin/east/elm category=returnee compound=c2
person p1dup name=Li_Wei village=lin/east/oak category=returnee
merge m1 keep=p1 drop=p1dup state=merged region=lin
merge m2 keep=p7 drop=p8 state=undone region=lin
episode e1 person=p1 village=lin/east/elm kind=home reason=returnee start=2026-02-01 checks_per_day=2
episode e1dup person=p1dup village=lin/east/oak kind=home reason=returnee start=2026-02-02
episode e2 person=p2 village=lin/east/elm kind=central reason=close start=2026-02-03
episode e3 person=p3 village=lin/east/elm kind=monitoring reason=second start=2026-01-20 end=2026-02-03
episode e4 person=p4 village=lin/east/oak kind=central reason=case start=2026-01-30 checks_per_day=3
episode e5 person=p6 village=lin/west/ash kind=home reason=returnee start=2026-02-02 end=2026-02-10
episode e6 person=p5 village=lin/east/oak kind=home reason=close start=2026-02-04
episode e7 person=p8 village=lin/west/ash kind=monitoring reason=other start=2026-01-25
episode e8 person=p9 village=lin/east/elm kind=home reason=returnee start=2026-01-28
return r1 person=p1 village=lin/east/elm from_area=wuhan registered=2026-02-01
return r1dup person=p1dup village=lin/east/oak from_area=wuhan registered=2026-02-03
return r2 person=p6 village=lin/west/ash from_area=hubei registered=2026-02-03
return r3 person=p7 village=lin/west/ash from_area=other registered=2026-02-05
followup f1 person=p1 village=lin/east/elm time=2026-02-03T08:00 temperature=36.5 method=visit
followup f2 person=p1 village=lin/east/elm time=2026-02-03T18:00 temperature=37.5 method=visit
followup f3 person=p2 village=lin/east/elm time=2026-02-03T09:00 temperature=36.8 method=phone
followup f4 person=p4 village=lin/east/oak time=2026-02-02T09:00 temperature=37.3 method=phone
followup f6 person=p1dup village=lin/east/oak time=2026-02-03T12:00 temperature=36.7 method=phone
followup f7 person=p8 village=lin/west/ash time=2026-02-03T07:00 temperature=38.0 method=self
checkpoint_tally t1 checkpoint=k1 date=2026-02-03 shift=1 fever=2 region=lin/east/oak
exposure x1 source=p1 contact=p2 degree=1 village=lin/east/elm
exposure x2 source=p2 contact=p3 degree=2 village=lin/east/elm
exposure x3 source=p4 contact=p5 degree=1 village=lin/east/oak
exposure x4 source=p5 contact=p7 degree=2 village=lin/east/oak
exposure x5 source=p6 contact=p8 degree=1 village=lin/west/ash
stock_txn s1 item=n95 store=east-depot movement=received quantity=1000 date=2026-01-20 region=lin/east shipment=sh1
stock_txn s2 item=n95 store=east-depot movement=issued quantity=140 date=2026-02-01 region=lin/east
stock_txn s4 item=n95 store=elm-store movement=consumed quantity=70 date=2026-02-03 region=lin/east/elm
stock_txn s6 item=n95 store=east-depot movement=requested quantity=3000 date=2026-01-18 region=lin/east
shipment sh1 from=county-depot to=east-depot region=lin/east lines=n95:1500 status=arrived
notice n1 compound=c1 audience=property date=2026-02-02 village=lin/east/elm
notice n3 compound=c9 audience=residents date=2026-02-01 village=lin/east/oak
tip t1 village=lin/east/elm received=2026-01-20 state=verified paid=2026-01-25
tip t2 village=lin/east/elm received=2026-01-22 state=verified reward=800
tip t4 village=lin/west/ash received=2026-01-24 state=new
penalty pen1 village=lin/east/oak person=p5 state=imposed date=2026-01-28
penalty pen3 village=lin/west/ash person=p7 state=proposed date=2026-02-01
"""


# Persons under monitoring since before D and never seen: more rows in monitoring's not_seen
# than a page of rows=10 holds.
UNSEEN = 30


def unseen_persons():
    persons = os.path.join(T, "unseen-person.csv")
    episodes = os.path.join(T, "unseen-episode.csv")
    with open(persons, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "village", "category"])
        for i in range(UNSEEN):
            w.writerow([f"q{i:02d}", f"Qian Unseen{i:02d}", "lin/west/ash", "returnee"])
    with open(episodes, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "person", "village", "kind", "reason", "start"])
        for i in range(UNSEEN):
            w.writerow([f"eq{i:02d}", f"q{i:02d}", "lin/west/ash", "home", "returnee",
                        "2026-01-31"])
    hamlet(C, "import-csv", "person", persons)
    hamlet(C, "import-csv", "episode", episodes)


def township(region, name):
    """A township node enrolled by the county (which then holds the township's key)."""
    d = os.path.join(T, name)
    hamlet(d, "init", "--role", "township", "--region", region, "--name", name)
    hamlet(d, "enroll", "request", "-o", d + ".req")
    hamlet(C, "enroll", "sign", d + ".req", "-o", d + ".ans")
    root = json.loads(hamlet(C, "status", "--json"))["root"]
    hamlet(d, "enroll", "accept", d + ".ans", "--root", root)
    return d


def carry(dst, src):
    hamlet(src, "export", "-o", src + ".bundle", "--force")
    hamlet(dst, "import", src + ".bundle")


def setup():
    hamlet(C, "init", "--role", "county", "--region", "lin", "--name", "County")
    east = township("lin/east", "east")
    township("lin/west", "west")
    for line in RECORDS.strip().splitlines():
        coll, rid, *fields = line.split()
        hamlet(C, "put", coll, rid, *[f.replace("_", " ") if f.startswith("name=") else f
                                      for f in fields])
    # A script as a person's name and as a compound, under monitoring (in every report).
    hamlet(C, "put", "person", "pevil", f"name={SCRIPT}", "village=lin/east/elm",
           "category=returnee", f"compound={SCRIPT}")
    hamlet(C, "put", "episode", "eevil", "person=pevil", "village=lin/east/elm", "kind=home",
           "reason=returnee", "start=2026-02-01")
    unseen_persons()
    # One ID number registered twice: a duplicate (the first named with a script).
    hamlet(C, "person", "add", "--id", "pd1", "--name", SCRIPT, "--id-number", IDNUM,
           "--village", "lin/east/elm")
    hamlet(C, "person", "add", "--id", "pd2", "--name", "Dup Two", "--id-number", IDNUM,
           "--village", "lin/west/ash")
    # p2's name written at once by the township and the county: a conflict, and an identity
    # question.
    carry(east, C)
    hamlet(east, "put", "person", "p2", "name=Zhang San E")
    hamlet(C, "put", "person", "p2", "name=Zhang San C")
    carry(C, east)
    for name, role in USERS.items():
        hamlet(C, "user", "add", name, "--role", role, stdin=f"{name} password 1\n")


class Page(HTMLParser):
    """A page's sections (h2, table rows as lists of cell texts), links, options and th."""

    def __init__(self, text):
        super().__init__()
        self.sections, self.links, self.options, self.ths = [], [], [], []
        self._cell = self._row = None
        self._in = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append({"title": "", "rows": [], "table": False})
        elif tag == "h2" and self.sections:
            self._in = "h2"
        elif tag == "table" and self.sections:
            self.sections[-1]["table"] = True
        elif tag == "tr" and self.sections:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "option":
            self.options.append(a.get("value"))

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append((tag, self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row and all(t == "td" for t, _ in self._row):
                self.sections[-1]["rows"].append([c for _, c in self._row])
            elif self._row:
                self.ths.extend(c for _, c in self._row)
            self._row = None

    def handle_data(self, data):
        if self._in == "h2":
            self.sections[-1]["title"] += data
        if self._cell is not None:
            self._cell += data


def cell(v):
    return "-" if v is None else str(v)


def cli_report(name, *args):
    return json.loads(hamlet(C, "report", name, "--date", D, "--json", *args))


# The ledger's own words in a cell, as a Chinese page shows them.
ZH = {"village": "村", "township": "乡镇", "county": "县", "subtotal": "小计", "total": "合计",
      "yes": "是", "no": "否", "never": "从未"}
WORD_COLUMNS = ("level", "case", "acted", "property_told", "residents_told", "last_followup")


def same_figures(page, doc, what, zh=True):
    """Each table of the CLI's JSON has the same rows on the page (tree tables have none); on a
    Chinese page, the ledger's words (a row's level, yes, no) in Chinese."""
    sections = [s for s in page.sections if s["table"]]
    tables = [t for t in doc["tables"] if t["name"] != "chain_trees"]
    check(len(sections) == len(tables),
          f"{what}: {len(sections)} tables on the page, {len(tables)} in `hamlet report`")
    for s, t in zip(sections, tables):
        word = [zh and c in WORD_COLUMNS for c in t["columns"]]
        want = [[ZH.get(cell(c), cell(c)) if word[k] else cell(c) for k, c in enumerate(row)]
                for row in t["rows"]] or [["none"]]
        got = s["rows"]
        if got == [["无"]]:
            got = [["none"]]
        check(got == want, f"{what}: table {t['name']}: page {got[:3]}..., CLI {want[:3]}...")


def table_rows(page, title_of):
    """The rows of the page's section whose title is title_of's."""
    for s in page.sections:
        if s["title"] == title_of:
            return s["rows"]
    check(False, f"no section {title_of!r} on the page")
    return []


def test_paging(b, port):
    """monitoring's not_seen, 10 rows a page, walked by the pages' own next links and back."""
    doc = cli_report("monitoring", "--days", "3", "--show-pii")
    t = next(t for t in doc["tables"] if t["name"] == "not_seen")
    want = [[ZH.get(cell(c), cell(c)) if t["columns"][k] in WORD_COLUMNS else cell(c)
             for k, c in enumerate(row)] for row in t["rows"]]
    n = len(want)
    check(n > 20, f"the fixture's not_seen has {n} rows, not more than two pages of 10")
    path = f"/reports/monitoring?date={D}&days=3&rows=10&names=1"
    got, pages, title = [], 0, None
    while path and pages < 10:
        r, text = b.get(path)
        check(r.status == 200, f"{path}: {r.status}")
        p = Page(text)
        if title is None:
            title = next(s["title"] for s in p.sections if s["table"] and
                         any(row and row[0] == want[0][0] for row in s["rows"]))
        rows = table_rows(p, title)
        first = pages * 10
        check(rows == want[first:first + 10],
              f"{path}: rows {rows[:2]}..., not those of `hamlet report` from {first + 1}")
        check(f"第 {first + 1}-{min(first + 10, n)} 行，共 {n} 行" in text,
              f"{path}: no count 'rows {first + 1}-{min(first + 10, n)} of {n}'")
        got += rows
        pages += 1
        nexts = [h for h in p.links if "table=not_seen" in h and f"page={pages + 1}" in h]
        prevs = [h for h in p.links if "table=not_seen" in h and f"page={pages - 1}" in h]
        check(pages == 1 or prevs, f"{path}: no link to the previous page")
        for h in nexts + prevs:
            for arg in ("region=lin", f"date={D}", "days=3", "names=1", "rows=10"):
                check(arg in h.split("?", 1)[1].split("&"), f"a page link lacks {arg}: {h}")
        path = nexts[0] if nexts else None
    check(got == want, f"the pages together: {len(got)} rows, `hamlet report`: {n}")
    check(pages == (n + 9) // 10, f"{pages} pages for {n} rows of 10")
    for q in ("rows=9", "rows=1001", "rows=x", "page=0", "page=-1"):
        r, _ = b.get(f"/reports/monitoring?date={D}&{q}")
        check(r.status == 400, f"/reports/monitoring?{q}: {r.status}, not 400")
    aud = Client(port)
    aud.login("aud1", "aud1 password 1")
    r, text = aud.get(f"/reports/monitoring.csv?date={D}&days=3&rows=10&table=not_seen&page=2")
    check(r.status == 200, f"the monitoring CSV with rows=10: {r.status}")
    cli = hamlet(C, "report", "monitoring", "--date", D, "--days", "3", "--csv")
    check(len(text.lstrip("\ufeff").splitlines()) == len(cli.splitlines()),
          "the CSV with rows=10 lacks rows of `hamlet report --csv`")


def test_access(port):
    doc = Client(port)
    doc.login("doc1", "doc1 password 1")
    for path in ("/reports", "/reports/daily", "/reports/daily.csv", "/questions"):
        r, _ = doc.get(path)
        check(r.status == 403, f"a doctor's GET {path}: {r.status}, not 403")
    clerk = Client(port)
    clerk.login("clerk1", "clerk1 password 1")
    r, _ = clerk.get("/reports")
    check(r.status == 200, f"a clerk's /reports: {r.status}, not 200")
    for path in (f"/reports/daily.csv?date={D}", f"/reports/monitoring?date={D}&names=1",
                 "/questions"):
        r, text = clerk.get(path)
        check(r.status == 403, f"a clerk's GET {path}: {r.status}, not 403")
        check("Zhou Ba" not in text and "n95" not in text, f"a clerk's {path}: data shown")
    r, _ = clerk.post("/questions/merge", {"csrf": clerk.csrf("/reports"), "keep": "pd1",
                                           "drop": "pd2"})
    check(r.status == 403, f"a clerk's POST /questions/merge: {r.status}, not 403")
    r, _ = Client(port).get("/reports/daily")
    check(r.status == 303 and r.headers.get("Location", "").startswith("/login"),
          f"/reports/daily without a session: {r.status}")


def test_index(b):
    r, text = b.get("/reports")
    check(r.status == 200, f"/reports: {r.status}")
    p = Page(text)
    for name in REPORTS:
        check(f"/reports/{name}" in p.links, f"/reports: no link to {name}")
    check("每日报表" in text and "/questions" in p.links, "/reports: no Chinese title or no "
          "link to /questions")


def test_figures(b):
    for name in REPORTS:
        r, text = b.get(f"/reports/{name}?date={D}")
        check(r.status == 200, f"/reports/{name}: {r.status}")
        same_figures(Page(text), cli_report(name), f"/reports/{name}")
    r, text = b.get(f"/reports/contacts?date={D}&person=p4")
    same_figures(Page(text), cli_report("contacts", "--person", "p4"), "contacts of p4")
    r, text = b.get(f"/reports/monitoring?date={D}&days=5")
    same_figures(Page(text), cli_report("monitoring", "--days", "5"), "monitoring, 5 days")
    for path, status in (("/reports/nope", 404), (f"/reports/daily?region=lin/north", 404),
                         ("/reports/daily?date=2026-13-45", 400),
                         ("/reports/daily?days=4", 400), ("/reports/supplies?days=0", 400)):
        r, _ = b.get(path)
        check(r.status == status, f"{path}: {r.status}, not {status}")


def test_other_writer(b):
    """A report is kept between requests (web/cache.c) only while the store is unchanged: a
    stock movement written by the command line while the interface runs shows at once."""
    before = cli_report("supplies")
    hamlet(C, "put", "stock_txn", "s-web-cache", "item=n95", "store=east-depot",
           "movement=received", "quantity=555", f"date={D}", "region=lin/east")
    after = cli_report("supplies")
    check(after != before, "the stock receipt did not change the supplies report")
    r, text = b.get(f"/reports/supplies?date={D}")
    same_figures(Page(text), after, "/reports/supplies after a write by the command line")


def test_drill(b):
    """County -> township -> village by the page's own links; persons link to their page."""
    r, text = b.get(f"/reports/daily?date={D}")
    p = Page(text)
    for region in ("lin", "lin/east", "lin/east/elm", "lin/east/oak", "lin/west/ash"):
        check(region in p.options, f"the picker lacks {region}: {p.options}")
    link = f"/reports/daily?{urlencode({'region': 'lin/east', 'date': D})}"
    check(link in p.links, f"no drill-down link {link} in {p.links}")
    r, text = b.get(link)
    p = Page(text)
    same_figures(p, cli_report("daily", "--region", "lin/east"), "daily of lin/east")
    link = f"/reports/daily?{urlencode({'region': 'lin/east/elm', 'date': D})}"
    check(link in p.links, f"lin/east: no drill-down link {link}")
    check(f"/reports/daily?region=lin&date={D}" in p.links, "lin/east: no link up to lin")
    r, text = b.get(link)
    same_figures(Page(text), cli_report("daily", "--region", "lin/east/elm"),
                 "daily of lin/east/elm")
    r, text = b.get(f"/reports/monitoring?{urlencode({'region': 'lin/east/elm', 'date': D})}")
    p = Page(text)
    same_figures(p, cli_report("monitoring", "--region", "lin/east/elm"),
                 "monitoring of lin/east/elm")
    check("/person/p9" in p.links, f"monitoring of lin/east/elm: p9 not linked: {p.links}")
    check("Feng Shiyi" not in text and "F*****" in text, "a masked report shows a name")


def test_language(port):
    en = Client(port, lang="en")
    en.login("off1", "off1 password 1")
    r, text = en.get(f"/reports/daily?date={D}")
    p = Page(text)
    check("monitored" in p.ths and "在管人数" not in p.ths, f"English headers: {p.ths[:6]}")
    same_figures(p, cli_report("daily"), "daily in English", zh=False)
    zh = Client(port)
    zh.login("off1", "off1 password 1")
    r, text = zh.get(f"/reports/daily?date={D}")
    p = Page(text)
    check("在管人数" in p.ths and "地区" in p.ths, f"Chinese headers: {p.ths[:6]}")
    for name in REPORTS:
        r, text = zh.get(f"/reports/{name}?date={D}&person=p4" if name == "contacts" else
                         f"/reports/{name}?date={D}")
        for s in Page(text).sections:
            check(re.search("[\u4e00-\u9fff]", s["title"]),
                  f"/reports/{name}: a title with no Chinese word: {s['title']}")


def access_log():
    return json.loads(hamlet(C, "list", "access", "--json"))


def test_reveal(b):
    before = len(access_log())
    r, text = b.get(f"/reports/monitoring?date={D}&names=1")
    check(r.status == 200 and "Zhou Ba" in text, f"names=1 shows no name ({r.status})")
    log = access_log()
    new = [a["fields"] for a in log[before:]] if len(log) > before else []
    check(any(a.get("action") == "reveal" and a.get("actor") == "off1" and
              a.get("what", "").startswith(f"report monitoring --region lin --date {D}")
              for a in new), f"the reveal is not in the access log under off1: {new}")


def test_csv(port):
    b = Client(port)
    b.login("aud1", "aud1 password 1")
    before = len(access_log())
    r, text = b.get(f"/reports/daily.csv?region=lin%2Feast&date={D}")
    check(r.status == 200, f"the CSV: {r.status}")
    check(r.headers.get("Content-Type", "").startswith("text/csv"),
          f"the CSV's type: {r.headers.get('Content-Type')}")
    check(r.headers.get("Content-Disposition") ==
          f'attachment; filename="daily-lin-east-{D}.csv"',
          f"the CSV's disposition: {r.headers.get('Content-Disposition')}")
    check(text.startswith("\ufeff# under_monitoring\n地区,级别,在管人数,"),
          f"no BOM or no Chinese headers: {text[:60]!r}")
    cli = hamlet(C, "report", "daily", "--region", "lin/east", "--date", D, "--csv")
    got, want = text.lstrip("\ufeff").splitlines(), cli.splitlines()
    heads = {i + 1 for i, line in enumerate(want) if line.startswith("# ")}
    check(len(got) == len(want) and
          all(g == w for i, (g, w) in enumerate(zip(got, want)) if i not in heads),
          f"the CSV's figures differ from `hamlet report --csv`:\n{text}\n{cli}")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    check(["lin/east", "total"] == rows[-1][:2] if rows else False, "the CSV's last row")
    new = [a["fields"] for a in access_log()[before:]]
    check(any(a.get("action") == "export" and a.get("actor") == "aud1" and
              a.get("what", "").endswith(f"-o daily-lin-east-{D}.csv") for a in new),
          f"the export is not in the access log under aud1: {new}")


def test_escaped(b):
    pages = ["/reports", "/questions"] + [f"/reports/{n}?date={D}&names=1" for n in REPORTS]
    pages.append(f"/reports/compounds?date={D}&region=lin%2Feast%2Felm")
    for path in pages:
        r, text = b.get(path)
        check(r.status == 200, f"{path}: {r.status}")
        check("<script>alert" not in text and "<script" not in text.replace(
            '<script src="/static/app.js" defer></script>', ""), f"{path}: a script unescaped")
    r, text = b.get(f"/reports/compounds?date={D}")
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in text, "the compound's script not shown "
          "escaped in /reports/compounds")


def test_questions(port):
    b = Client(port)
    b.login("off1", "off1 password 1")
    r, text = b.get("/questions")
    check(r.status == 200, f"/questions: {r.status}")
    p = Page(text)
    titles = [s["title"] for s in p.sections]
    rows = {t: s["rows"] for t, s in zip(titles, p.sections)}
    check(any("p2" in r[0] for r in rows.get("身份信息疑问", [])),
          f"/questions: no identity question about p2: {rows}")
    check(any(r[1] == "p2" and r[3].startswith("Z") and "*" in r[3]
              for r in rows.get("数据冲突", [])), f"/questions: no masked conflict: {rows}")
    check(any("pd1" in r[0] and "pd2" in r[1] for r in rows.get("可能重复登记的人员", [])),
          f"/questions: the duplicate pd1/pd2 is not proposed: {rows}")
    check("不再列出" in text, "/questions does not say what keep-apart records")
    check("&lt;*****" in text and "<*" not in text,
          "/questions: pd1's masked name (a script) is not escaped")
    token = b.csrf("/questions")
    r, text = b.post("/questions/apart", {"csrf": token, "keep": "pd1", "drop": "pd2"})
    loc = r.headers.get("Location") or ""
    check(r.status == 303 and loc.startswith("/questions?done=apart"),
          f"keep apart: {r.status} to {loc!r}")
    r, text = b.get(loc)
    check(r.status == 200 and "已记为不合并" in text and
          "/person/pd2" not in Page(text).links, f"kept apart: the pair is still listed ({r.status})")
    merges = {m["id"]: m["fields"] for m in json.loads(hamlet(C, "list", "merge", "--json"))}
    check(merges.get("m-pd1-pd2", {}).get("state") == "apart",
          f"keep apart is not in `hamlet list merge`: {merges}")
    check("pd2" not in hamlet(C, "person", "dups"), "`hamlet person dups` still proposes pd2")
    other = Client(port)
    other.login("aud1", "aud1 password 1")
    r, text = other.get("/questions")
    check("/person/pd2" not in Page(text).links, "another session still proposes the pair kept apart")
    r, _ = other.post("/questions/apart", {"keep": "pd1", "drop": "pd2"})
    check(r.status == 403, f"a keep apart without its CSRF token: {r.status}, not 403")
    # merged after all
    r, _ = other.post("/questions/merge", {"keep": "pd1", "drop": "pd2"})
    check(r.status == 403, f"a merge without its CSRF token: {r.status}, not 403")
    r, text = other.post("/questions/merge", {"csrf": other.csrf("/questions"), "keep": "pd1",
                                              "drop": "pd2"})
    # 303 back to /questions (a reload merges nothing again), the pair named by its names,
    # escaped (review #12, 7 and 13)
    loc = r.headers.get("Location") or ""
    check(r.status == 303 and loc.startswith("/questions?"), f"the merge: {r.status} to {loc!r}")
    r, text = other.get(loc)
    before = hamlet(C, "list", "merge", "--json")
    other.get(loc)
    check(r.status == 200 and "Dup Two → " + html.escape(SCRIPT, quote=True) in text and
          SCRIPT not in text, f"the merge's outcome on {loc}: {r.status}")
    check(hamlet(C, "list", "merge", "--json") == before, f"reloading {loc} wrote a merge")
    merges = {m["id"]: m["fields"] for m in json.loads(hamlet(C, "list", "merge", "--json"))}
    check(merges.get("m-pd1-pd2", {}).get("state") == "merged",
          f"the merge is not in `hamlet list merge`: {merges}")
    check("pd2" not in hamlet(C, "person", "dups"), "`hamlet person dups` still lists pd2")
    shown = json.loads(hamlet(C, "person", "show", "pd1", "--json"))
    check(shown["person"]["id"] == "pd1", "`hamlet person show pd1` after the merge")
    r, text = other.post("/questions/merge", {"csrf": other.csrf("/questions"), "keep": "pd1",
                                              "drop": "no-such"})
    check(r.status == 404, f"a merge of an unknown person: {r.status}, not 404")
    r, _ = other.post("/questions/merge", {"csrf": other.csrf("/questions"), "keep": "pd1"})
    check(r.status == 400, f"a merge without drop: {r.status}, not 400")


def main():
    setup()
    ui = Server(C, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    try:
        test_access(ui.port)
        b = Client(ui.port)
        r, _ = b.login("off1", "off1 password 1")
        check(r.status == 303, f"the officer's login: {r.status}")
        test_index(b)
        test_figures(b)
        test_paging(b, ui.port)
        test_other_writer(b)
        test_drill(b)
        test_language(ui.port)
        test_reveal(b)
        test_csv(ui.port)
        test_escaped(b)
        test_questions(ui.port)
    finally:
        rc = finish("web_reports", [ui])
    return rc


if __name__ == "__main__":
    sys.exit(main())
