#!/usr/bin/env python3
"""today.py: the clerk's and doctor's pages of a village's interface (/today, /today/print,
/register), over real HTTP against a real `hamlet ui`.

A county (lin) and a village (lin/east/elm, enrolled by it); on the village, made with the CLI:
persons in episodes started today (two compounds, two workers), one checked in both slots today
(due in neither), one with a fever this morning (due only in the evening), one whose episode
started three days ago with no check (overdue), one whose isolation ends today, one registered
but not monitored, one whose name is a script; accounts made with `hamlet user add` (a clerk, a
doctor, an auditor). Checks, each named as it fails:
- the morning's and the evening's due lists name exactly the persons the fixture makes due, in
  clear; overdue, fever and ends today are marked; Chinese by default;
- five temperatures with one bad row: 400, no follow-up written (the log grows only by the
  access record of the page shown again, which names the persons), the reason beside that row,
  every value typed kept; corrected: 303, one change set more, five follow-ups of the morning;
  the five are then due no more;
- /today/print: a sheet per compound (and per worker), a row with a morning and an evening box
  per person under monitoring, no form in the page's main part;
- /register: one change set holding the person, the return and the episode (`hamlet get`), then
  303 to /person/ID; the same ID number again: nothing written, the warning naming the first
  with a link to their page and a "register anyway" button, which writes; a bad ID number
  refused with the reason beside its field and the values kept;
- an auditor is refused /today, /today/print and /register (403); a script in a person's name
  is escaped on /today and /today/print.

Environment: HAMLET_BIN, HAMLET_TEST_TMP. Exits 0 when every check passed."""
import datetime
import json
import os
import re
import sys

from webtest import Client, county_and_village, Server, check, finish, hamlet, scratch

SCRIPT = "<script>alert(1)</script>"
T = scratch("web_today")
C, V = os.path.join(T, "county"), os.path.join(T, "elm")
TODAY = datetime.date.today()
ID1 = "11010519491231002X"  # a valid ID number (GB 11643)
BAD_ID = "110105194912310021"  # its check character wrong

# person id -> (name, compound, worker): episodes started today
FRESH = {
    "a1": ("Li Ming", "Riverside 3", "Chen"),
    "a2": ("Li Hua", "Riverside 3", "Chen"),
    "a3": ("Zhou Jie", "Oak Garden", "Wu"),
    "a4": ("Zhou Yan", "Oak Garden", "Wu"),
    "a5": ("Ma Lin", "Oak Garden", "Chen"),
}


def day(delta):
    return (TODAY + datetime.timedelta(days=delta)).isoformat()


def at(*args, stdin=None):
    return hamlet(V, *args, stdin=stdin)


def setup():
    county_and_village(C, V, T)
    for name, role in (("clerk1", "clerk"), ("doc1", "doctor"), ("aud1", "auditor")):
        at("user", "add", name, "--role", role, stdin=f"{name}'s password\n")
    for pid, (name, compound, worker) in FRESH.items():
        person(pid, name, compound, worker)
    person("g1", "Gao Checked", "Riverside 3", "Chen")  # both slots checked today
    for slot, temp in (("morning", "36.5"), ("evening", "36.6")):
        at("followup", "add", "g1", "--temp", temp, "--method", "visit", "--slot", slot)
    person("f1", "Fan Fever", "Riverside 3", "Wu")  # 38.2 this morning
    at("followup", "add", "f1", "--temp", "38.2", "--method", "visit", "--slot", "morning")
    person("o1", "Ou Overdue", "Oak Garden", "Wu", start=day(-3))
    person("e1", "En Ends", "Oak Garden", "Wu", start=day(-14), days="14")
    at("person", "add", "--id", "x1", "--name", "Xu Notmonitored", "--compound", "Oak Garden",
       "--category", "close")
    person("evil", SCRIPT, "Riverside 3", "Chen")
    person("d1", "Ding Once", "Oak Garden", "Wu", per_day="1")  # one a day, none yet: both
    person("d2", "Du Once", "Oak Garden", "Wu", per_day="1")  # one a day, taken: neither
    at("followup", "add", "d2", "--temp", "36.4", "--method", "phone", "--slot", "morning")


def person(pid, name, compound, worker, start=None, days="14", per_day="2"):
    at("person", "add", "--id", pid, "--name", name, "--compound", compound, "--category",
       "close")
    at("episode", "start", pid, "--kind", "home", "--reason", "close", "--start",
       start or day(0), "--days", days, "--worker", worker, "--checks-per-day", per_day)


def count(*args):
    return len(json.loads(at(*args, "--json")))


def log_len():
    return count("log")


def form_rows(text):
    """The persons of the due form (their temperature fields)."""
    return re.findall(r'name="t:([^"]+)"', text)


def row_of(text, pid):
    """The <tr> of the form holding pid's temperature field, or ''."""
    m = re.search(r'<tr[^>]*>(?:(?!</tr>).)*name="t:' + re.escape(pid) + r'".*?</tr>', text,
                  re.S)
    return m.group(0) if m else ""


def main_part(text):
    m = re.search(r"<main>(.*)</main>", text, re.S)
    return m.group(1) if m else ""


def test_due(b):
    morning = set(FRESH) | {"o1", "e1", "evil", "d1"}
    r, text = b.get("/today?slot=morning")
    check(r.status == 200, f"GET /today as the clerk: {r.status}")
    got = form_rows(text)
    check(set(got) == morning and len(got) == len(morning),
          f"the morning's due list: {sorted(got)}, not {sorted(morning)}")
    r, text = b.get("/today?slot=evening")
    got = form_rows(text)
    check(set(got) == morning | {"f1"}, f"the evening's due list: {sorted(got)}")
    check("Li Ming" in text and "Ou Overdue" in text, "/today does not show names in clear")
    check("上午待测" in text and "逾期" in text and "今日解除隔离" in text and "发热" in text,
          "/today is not in Chinese by default")
    check(re.search(r"逾期 6</span>", row_of(text, "o1")),
          f"o1 is not marked overdue with 6 checks missed: {row_of(text, 'o1')}")
    check("今日解除隔离" in row_of(text, "e1"), "e1's isolation is not marked as ending today")
    check("发热" in row_of(text, "f1") and "38.2" in row_of(text, "f1"),
          "f1's fever is not marked")
    check("Xu Notmonitored" not in text, "a person not monitored is on /today")
    check(SCRIPT not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text,
          "/today does not escape a script in a name")
    r, text = b.get("/today?slot=morning&by=worker")
    heads = re.findall(r'<tr class="group"><th colspan="9">([^<]*)</th>', text)
    check(heads == ["负责人: Chen", "负责人: Wu"], f"/today per worker: groups {heads}")


def morning_post(b, token, temps):
    fields = {"csrf": token, "slot": "morning", "by": "compound"}
    methods = {"a1": "visit", "a2": "visit", "a3": "phone", "a4": "phone", "a5": "self"}
    for pid in FRESH:
        fields[f"t:{pid}"] = temps[pid]
        fields[f"m:{pid}"] = methods[pid]
        fields[f"s:{pid}"] = "咳嗽" if pid == "a2" else ""
    for pid in ("o1", "e1", "evil", "d1"):  # rows left empty: not sent to the batch
        fields.update({f"t:{pid}": "", f"m:{pid}": "visit", f"s:{pid}": ""})
    return b.post("/today", fields)


def test_batch(b):
    temps = {"a1": "36.5", "a2": "36.6", "a3": "73.5", "a4": "36.7", "a5": "36.8"}
    token = b.csrf("/register")  # a page that names no one: no access record
    fu, log, acc = count("list", "followup"), log_len(), count("list", "access")
    r, text = morning_post(b, token, temps)
    check(r.status == 400, f"a batch with one bad row: {r.status}, not 400")
    check(count("list", "followup") == fu, "a batch with a bad row wrote follow-ups")
    check(log_len() == log + 1 and count("list", "access") == acc + 1,
          "a batch with a bad row wrote more than the page's access record")
    bad = row_of(text, "a3")
    # beside its row the reason goes without the field's name (review #12, 13)
    check('class="bad"' in bad and re.search(r'row-error">应为[^<]*体温[^<]*73\.5', bad),
          f"the reason is not beside the bad row, or repeats its field: {bad}")
    for pid in ("a1", "a2", "a4", "a5"):
        check('row-error"></td>' in row_of(text, pid), f"a good row {pid} shows a reason")
    # The language is the request's: the same refusal on an English page, the ledger's reason
    # in English (the serving thread speaks each request's language), and Chinese again after.
    b.cookies["hamlet_lang"] = "en"
    r, text = morning_post(b, token, temps)
    check(r.status == 400 and re.search(r'row-error">must be a body temperature[^<]*73\.5',
                                        row_of(text, "a3")),
          f"the reason on an English page: {row_of(text, 'a3')}")
    b.cookies.pop("hamlet_lang")
    r, text = morning_post(b, token, temps)
    check("摄氏度" in row_of(text, "a3"), "the page did not speak Chinese again after English")
    for pid, t in temps.items():
        check(f'value="{t}"' in row_of(text, pid), f"{pid}'s temperature {t} was not kept")
    check('name="s:a2" value="咳嗽"' in row_of(text, "a2"), "a2's symptoms were not kept")
    check('<option value="phone" selected>' in row_of(text, "a4"), "a4's method was not kept")
    temps["a3"] = "36.9"
    log = log_len()
    r, _ = morning_post(b, token, temps)
    check(r.status == 303 and "saved=5" in r.headers.get("Location", ""),
          f"the corrected batch: {r.status} {r.headers.get('Location')}")
    check(log_len() == log + 1, "the corrected batch is not one change set")
    rows = [f for f in json.loads(at("list", "followup", "--json"))
            if f["fields"]["person"] in FRESH]
    got = {f["fields"]["person"]: (f["fields"].get("temperature"), f["fields"].get("slot"))
           for f in rows}
    check(got == {p: (float(t), "morning") for p, t in temps.items()},
          f"the follow-ups written: {got}")
    r, text = b.get("/today?slot=morning")
    check(set(form_rows(text)) == {"o1", "e1", "evil", "d1"},
          f"due after the save: {form_rows(text)}")


def test_other_writer(b):
    """Today is kept between requests (web/cache.c) only while the store is unchanged: a check
    written by another process (the command line) shows on the next request."""
    r, text = b.get("/today?slot=morning")
    check("o1" in form_rows(text), f"o1 is not due this morning: {form_rows(text)}")
    r, text = b.get("/today?slot=morning")  # the same store: the page kept
    check("o1" in form_rows(text), "the second request of an unchanged Today differs")
    at("followup", "add", "o1", "--temp", "36.5", "--method", "visit", "--slot", "morning")
    r, text = b.get("/today?slot=morning")
    check("o1" not in form_rows(text),
          "a check written by the command line is still due on /today: a stale page was kept")


def test_print(b):
    monitored = set(FRESH) | {"g1", "f1", "o1", "e1", "evil", "d1", "d2"}
    for by, groups in (("compound", 2), ("worker", 2)):
        r, text = b.get(f"/today/print?by={by}")
        main = main_part(text)
        check(r.status == 200, f"GET /today/print?by={by}: {r.status}")
        check("<form" not in main and "<input" not in main, f"/today/print?by={by} has a form")
        sheets = main.count('<section class="sheet">')
        check(sheets == groups, f"/today/print?by={by}: {sheets} sheets, not {groups}")
        persons = re.findall(r'<tr class="person">.*?</tr>', main, re.S)
        check(len(persons) == len(monitored), f"/today/print?by={by}: {len(persons)} rows")
        check(all('class="box am"' in p and 'class="box pm"' in p for p in persons),
              f"/today/print?by={by}: a person without a morning and an evening box")
        check(SCRIPT not in text and "&lt;script&gt;" in text,
              "/today/print does not escape a script in a name")
    check("Li Ming" in main and "Gao Checked" in main, "/today/print does not name the persons")


RETURNEE = {"name": "Zhang San", "id_number": ID1, "phone": "13800000009", "sex": "male",
            "village": "lin/east/elm", "compound": "Riverside 3", "household": "2-301",
            "from_area": "wuhan", "departure_date": day(-2), "arrival_date": day(-1),
            "transport": "train", "route": "Wuhan; Zhengzhou", "kind": "home", "days": "14"}


def register(b, fields):
    return b.post("/register", dict(fields, csrf=b.csrf("/register")))


def test_register(b):
    r, text = b.get("/register")
    check(r.status == 200 and 'data-check="id-number"' in text,
          f"GET /register: {r.status}, or the ID number is not checked as typed")
    check('<option value="male">男</option>' in text and "集中隔离" in text,
          "/register's selects do not show the stored words in Chinese")
    log = log_len()
    r, _ = register(b, RETURNEE)
    loc = r.headers.get("Location", "")
    check(r.status == 303 and loc.startswith("/person/p-"), f"register: {r.status} {loc}")
    check(log_len() == log + 1, "a registration is not one change set")
    pid = loc[len("/person/"):]
    got = at("get", "person", pid)
    check("category       returnee" in got and "Riverside 3" in got, f"hamlet get: {got}")
    rets = [x for x in json.loads(at("list", "return", "--json"))
            if x["fields"].get("person") == pid]
    eps = [x for x in json.loads(at("list", "episode", "--json"))
           if x["fields"].get("person") == pid]
    check(len(rets) == 1 and rets[0]["fields"].get("from_area") == "wuhan",
          f"the return of {pid}: {rets}")
    check(len(eps) == 1 and eps[0]["fields"].get("kind") == "home",
          f"the episode of {pid}: {eps}")

    log = log_len()
    again = dict(RETURNEE, name="Zhang S.")
    r, text = register(b, again)
    check(r.status == 200 and f'href="/person/{pid}"' in text and 'name="anyway"' in text,
          f"the same ID number again: {r.status}, no warning naming {pid}")
    check(log_len() == log, "a possible duplicate was written before 'register anyway'")
    check('value="Zhang S."' in text, "the warning did not keep the values typed")
    r, _ = register(b, dict(again, anyway="1"))
    check(r.status == 303 and r.headers.get("Location", "").startswith("/person/p-") and
          r.headers.get("Location") != loc, f"register anyway: {r.status}")
    check(log_len() == log + 1, "register anyway is not one change set")

    log = log_len()
    r, text = register(b, dict(RETURNEE, name="Qian Si", id_number=BAD_ID))
    field = re.search(r'<p class="field bad">(?:(?!</p>).)*name="id_number".*?</p>', text, re.S)
    check(r.status == 400 and field and "row-error" in field.group(0),
          f"a bad ID number: {r.status}, the reason not beside its field")
    check(log_len() == log, "a bad ID number wrote something")
    check('value="Qian Si"' in text, "a refused form did not keep the values typed")


def test_roles(port):
    a = Client(port)
    a.login("aud1", "aud1's password")
    for path in ("/today", "/today/print", "/register"):
        r, _ = a.get(path)
        check(r.status == 403, f"GET {path} as an auditor: {r.status}, not 403")
    r, _ = a.post("/today", {"csrf": a.csrf("/sync"), "slot": "morning", "t:a1": "36.5"})
    check(r.status == 403, f"POST /today as an auditor: {r.status}, not 403")
    d = Client(port)
    d.login("doc1", "doc1's password")
    r, text = d.get("/today")
    check(r.status == 200 and "Ou Overdue" in text, f"GET /today as the doctor: {r.status}")


def main():
    setup()
    ui = Server(V, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    try:
        b = Client(ui.port)
        r, _ = b.login("clerk1", "clerk1's password")
        check(r.status == 303, f"the clerk's login: {r.status}")
        for t in (test_due, test_batch, test_other_writer, test_print, test_register):
            t(b)
        test_roles(ui.port)
    finally:
        rc = finish("web_today", [ui])
    return rc


if __name__ == "__main__":
    sys.exit(main())
