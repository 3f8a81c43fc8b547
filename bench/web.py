#!/usr/bin/env python3
"""bench/web.py - the station's web interface over real HTTP (issue #12 §5): the Today page of a
village of 2,000 persons and the report pages of a county of about 610,000 records, each asked
for N times of a running `hamlet ui` on 127.0.0.1 by a logged-in user over one kept-alive
connection; prints the median, p95 and best of each, cold (the store changed by another
process just before each request, so the server's cache of built pages cannot answer) and
cached (the same page again, the store unchanged), and the binary's size with and without the
web library. Cold twice: after a person written, and after a check (a new follow-up) written.

  bench/web.py [--hamlet PATH] [--dir DIR] [--requests N] [--report-requests N]
               [--persons N] [--quick] [--rebuild] [--only today|reports]

The county's data is made once by bench/ledger.sh (import-csv of generated registers: 100,000
persons in 50 villages, 50,000 episodes and contacts, 400,000 follow-ups, 10,000 stock
movements; about 20 s) and kept in DIR/county-PERSONS between runs (--rebuild makes it again;
do so after a change of the store's format). The village is the data of bench_today: 2,000
persons, 300 in a home isolation on its 10th day with two checks a day so far (the odd ones
missed the last two days), 500 whose isolation ended weeks ago with their 28 checks: 15,300
follow-ups, dated from the real today (the interface runs on the real clock). It is imported
into a village node enrolled by a county, kept in DIR/village-2000 for the day it was made.

Timings are of the whole request as a client sees it (the server's work, the HTTP, the
client's read); nothing is asserted about them: the exit status is 1 only when a page answers
neither 200 nor 404 (a page not in the build). Figures in docs/performance.md.
"""
import argparse
import csv
import datetime
import http.client
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
PASS = "bench passphrase 2026"  # bench/ledger.sh's
ENV = dict(os.environ, HAMLET_PASSPHRASE=PASS)
for _k in ("HAMLET_DIR", "HAMLET_CLOCK_OFFSET_MS"):
    ENV.pop(_k, None)
REPORTS = ("daily", "monitoring", "contacts", "supplies", "compounds", "rewards")
USER_PW = "bench user password 1"


def hamlet(hm, node, *args, stdin=None):
    r = subprocess.run([hm, "-d", node, *args], input=stdin, env=ENV, capture_output=True,
                       text=True)
    if r.returncode:
        sys.exit(f"bench/web.py: hamlet -d {node} {' '.join(args[:3])}: {r.stderr.strip()}")
    return r.stdout


def county_data(a):
    """DIR/county-N/county: made by bench/ledger.sh unless kept from an earlier run."""
    top = os.path.join(a.dir, f"county-{a.persons}")
    node, done = os.path.join(top, "county"), os.path.join(top, ".made")
    if a.rebuild or not os.path.exists(done):
        shutil.rmtree(top, ignore_errors=True)
        print(f"making the county ({a.persons} persons, bench/ledger.sh; kept in {top})",
              flush=True)
        t0 = time.time()
        subprocess.run(["bash", os.path.join(HERE, "ledger.sh"), "--persons", str(a.persons),
                        "--dir", top, "--hamlet", a.hamlet, "--no-reports"], check=True,
                       stdout=subprocess.DEVNULL)
        for f in os.listdir(top):  # the CSV files: only the node is kept
            if f.endswith(".csv"):
                os.unlink(os.path.join(top, f))
        hamlet(a.hamlet, node, "user", "add", "officer", "--role", "officer", stdin=USER_PW)
        open(done, "w").write(f"{time.time() - t0:.1f}\n")
    return node


def village_csv(d, today, n, monitored, closed, region):
    """bench_today's village as CSV files in d."""
    def day(k):
        return (today + datetime.timedelta(days=k)).isoformat()
    surnames = "王李张刘陈杨黄赵"
    with open(os.path.join(d, "person.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "village", "compound", "household", "category", "phone"])
        for i in range(n):
            w.writerow([f"p-{i:06d}", f"{surnames[i % 8]}{i}", region, f"compound {i // 40}",
                        str((i // 4) % 10), "returnee", "13800000000"])
    with open(os.path.join(d, "return.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "person", "village", "from_area", "registered"])
        for i in range(n):
            w.writerow([f"r-{i:06d}", f"p-{i:06d}", region, "wuhan", day(-10)])
    eps, fus = [], []
    for i in range(monitored + closed):
        start, end = (day(-9), "") if i < monitored else (day(-37), day(-23))
        eps.append([f"e-{i:06d}", f"p-{i:06d}", region, "home", "returnee", start,
                    (datetime.date.fromisoformat(start) + datetime.timedelta(days=14))
                    .isoformat(), end, "2", "Wang" if i % 2 else "Li"])
        last = 9 if i < monitored else 14
        for k in range(last):
            if i % 2 and k > 6:
                break
            date = (datetime.date.fromisoformat(start) + datetime.timedelta(days=k)).isoformat()
            for s, hour in enumerate(("08:10", "17:30")):
                fus.append([f"f-{i:06d}-{k:02d}-{s}", f"p-{i:06d}", f"{date}T{hour}", region,
                            f"{36.2 + (i % 13) / 10:.1f}", "visit", f"e-{i:06d}",
                            "evening" if s else "morning"])
    with open(os.path.join(d, "episode.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "person", "village", "kind", "reason", "start", "planned_end", "end",
                    "checks_per_day", "worker"])
        w.writerows(eps)
    for k in range(0, len(fus), 10000):  # within a change set's caps
        with open(os.path.join(d, f"followup.{k // 10000}.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "person", "time", "village", "temperature", "method", "episode",
                        "slot"])
            w.writerows(fus[k:k + 10000])
    return len(fus)


def village_data(a):
    """DIR/village-N-DATE/elm: a village (lin/east/elm) enrolled by a county, its records
    imported; kept for the day it was made (its dates are the real today's)."""
    today = datetime.date.today()
    top = os.path.join(a.dir, f"village-{a.village}-{today.isoformat()}")
    node, county, done = (os.path.join(top, "elm"), os.path.join(top, "county"),
                          os.path.join(top, ".made"))
    if not a.rebuild and os.path.exists(done):
        return node
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    print(f"making the village ({a.village} persons; kept in {top})", flush=True)
    hm = a.hamlet
    hamlet(hm, county, "init", "--role", "county", "--region", "lin", "--name", "County")
    hamlet(hm, node, "init", "--role", "village", "--region", "lin/east/elm", "--name", "Elm")
    root = re.search(r'"root":\s*"([0-9a-f]+)"', hamlet(hm, county, "status", "--json"))[1]
    req, ans = os.path.join(top, "elm.req"), os.path.join(top, "elm.ans")
    hamlet(hm, node, "enroll", "request", "-o", req)
    hamlet(hm, county, "enroll", "sign", req, "-o", ans)
    hamlet(hm, node, "enroll", "accept", ans, "--root", root)
    monitored, closed = a.village * 3 // 20, a.village // 4
    n_fu = village_csv(top, today, a.village, monitored, closed, "lin/east/elm")
    for coll in ("person", "return", "episode"):
        hamlet(hm, node, "import-csv", coll, os.path.join(top, coll + ".csv"))
    for f in sorted(os.listdir(top)):
        if f.startswith("followup."):
            hamlet(hm, node, "import-csv", "followup", os.path.join(top, f))
    for f in os.listdir(top):
        if f.endswith(".csv"):
            os.unlink(os.path.join(top, f))
    hamlet(hm, node, "user", "add", "clerk", "--role", "clerk", stdin=USER_PW)
    print(f"  {a.village} persons, {monitored + closed} episodes, {n_fu} follow-ups", flush=True)
    open(done, "w").write("made\n")
    return node


class Ui:
    """hamlet -d node ui on a port the kernel picks, a user logged in, one connection."""

    def __init__(self, hm, node, user):
        self.log = open(os.path.join(os.path.dirname(node), "ui.err"), "w+")
        self.p = subprocess.Popen([hm, "-d", node, "ui", "--listen", "127.0.0.1:0"], env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=self.log)
        self.port = None
        for _ in range(400):
            self.log.seek(0)
            m = re.search(r"serving http://127\.0\.0\.1:(\d+)/", self.log.read())
            if m:
                self.port = int(m[1])
                break
            time.sleep(0.05)
        if not self.port:
            self.stop()
            sys.exit(f"bench/web.py: hamlet ui on {node} did not start")
        self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.cookie = ""
        _, page = self.get("/login")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)[1]
        status, _ = self.request("POST", "/login", urlencode(
            {"csrf": token, "name": user, "password": USER_PW, "next": "/"}))
        if status != 303:
            sys.exit(f"bench/web.py: {user}'s login: {status}")

    def request(self, method, path, body=None):
        h = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookie:
            h["Cookie"] = self.cookie
        if body:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        text = r.read().decode("utf-8", "replace")
        for v in r.headers.get_all("Set-Cookie") or []:
            if v.startswith("hamlet_session="):
                self.cookie = v.split(";")[0]
        if r.headers.get("Connection", "").lower() == "close":
            self.c.close()
        return r.status, text

    def get(self, path):
        return self.request("GET", path)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)


def timed(ui, path, n, touch=None):
    """n GETs of path: (status, bytes, [ms...]); the first is a warm-up, not counted. touch:
    called (untimed) before each, to change the store so that the server's cache of built
    pages (web/cache.c, kept until the store changes) cannot answer."""
    status, page = ui.get(path)
    if status != 200:
        return status, len(page), []
    v = []
    for _ in range(n):
        if touch:
            touch()
        t0 = time.perf_counter()
        status, page = ui.get(path)
        v.append((time.perf_counter() - t0) * 1000)
    return status, len(page.encode()), v


def toucher(hm, node, kind="person", village=None, day=None):
    """A write to node by another process, so that no page is kept from before it: "person",
    hamlet put of one person, not in any episode (changes no figure but the persons counted);
    "check", a new follow-up in village at 08:00 on day (the clerk's most common write)."""
    n = [0]

    def touch():
        if kind == "person":
            hamlet(hm, node, "put", "person", "p-bench-touch", "name=touch")
            return
        n[0] += 1
        hamlet(hm, node, "put", "followup", f"fu-bench-{os.getpid()}-{time.time_ns()}-{n[0]}",
               "person=p-bench-touch", f"village={village}", f"time={day}T08:00",
               "temperature=36.6", "method=visit")
    return touch


BAD = []  # pages that answered neither 200 nor 404


def line(what, status, size, v):
    if status not in (200, 404):
        BAD.append(f"{what}: {status}")
    if not v:
        why = "not in this build" if status == 404 else f"answered {status}"
        print(f"{what:<44} {why}", flush=True)
        return
    v = sorted(v)
    p95 = v[math.ceil(0.95 * len(v)) - 1]  # nearest rank
    print(f"{what:<44} median {statistics.median(v):8.1f} ms  p95 {p95:8.1f} ms  "
          f"best {v[0]:8.1f} ms  ({len(v)} requests, {size / 1024:.0f} KiB)", flush=True)


def sizes(hm):
    """The binary's size and the web library's share of it (text+data+bss of libhm_web.a's
    objects and of cli/ui_cmds.c; libmicrohttpd is a shared library, not in the binary)."""
    build = os.path.dirname(os.path.dirname(os.path.realpath(hm)))
    lib = os.path.join(build, "web", "libhm_web.a")
    ui_o = os.path.join(build, "cli", "CMakeFiles", "hm_cli.dir", "ui_cmds.c.o")

    def total(*files):
        out = subprocess.run(["size", "-t", *files], capture_output=True, text=True).stdout
        return int(out.strip().splitlines()[-1].split()[3])
    whole = total(hm)
    print(f"hamlet: {os.path.getsize(hm) / 1e6:.2f} MB on disk, text+data+bss "
          f"{whole / 1e6:.2f} MB")
    if os.path.exists(lib) and os.path.exists(ui_o):
        web = total(lib, ui_o)
        print(f"the web interface (libhm_web.a + ui_cmds.o): text+data+bss {web / 1e6:.3f} MB "
              f"({100 * web / whole:.1f}% of the binary; without it about "
              f"{(whole - web) / 1e6:.2f} MB)")


def main():
    p = argparse.ArgumentParser(description="the web interface's speed over HTTP")
    p.add_argument("--hamlet", default=os.path.join(HERE, "..", "build-rel", "cli", "hamlet"))
    p.add_argument("--dir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                 "hamlet-bench-web"))
    p.add_argument("--requests", type=int, default=100, help="GETs of /today")
    p.add_argument("--report-requests", type=int, default=10, help="GETs of each report page")
    p.add_argument("--persons", type=int, default=100000, help="the county's persons")
    p.add_argument("--village", type=int, default=2000, help="the village's persons")
    p.add_argument("--quick", action="store_true", help="2,000 county persons, 5 requests")
    p.add_argument("--rebuild", action="store_true", help="make the data again")
    p.add_argument("--only", choices=("today", "reports"))
    a = p.parse_args()
    if a.quick:
        a.persons, a.village, a.requests, a.report_requests = 2000, 200, 5, 2
    a.hamlet = os.path.realpath(a.hamlet)
    if not os.access(a.hamlet, os.X_OK):
        sys.exit(f"bench/web.py: no hamlet at {a.hamlet} (build build-rel, or give --hamlet)")
    os.makedirs(a.dir, exist_ok=True)
    print(f"hamlet web benchmark: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    sizes(a.hamlet)
    if a.only != "reports":
        node = village_data(a)
        ui = Ui(a.hamlet, node, "clerk")
        try:
            today = datetime.date.today().isoformat()
            for path in ("/today", "/today/print"):
                line(f"{path} (village of {a.village}), cold",
                     *timed(ui, path, a.requests, toucher(a.hamlet, node)))
                line(f"{path}, cold after a check",
                     *timed(ui, path, a.requests,
                            toucher(a.hamlet, node, "check", "lin/east/elm", today)))
                line(f"{path}, cached", *timed(ui, path, a.requests))
        finally:
            ui.stop()
    if a.only != "today":
        node = county_data(a)
        ui = Ui(a.hamlet, node, "officer")
        try:
            for region in ("lin", "lin/t1"):
                for r in REPORTS:
                    path = f"/reports/{r}?region={region}&date=2026-11-26"
                    line(f"/reports/{r}?region={region}, cold",
                         *timed(ui, path, a.report_requests, toucher(a.hamlet, node)))
                    line(f"/reports/{r}?region={region}, cold after a check",
                         *timed(ui, path, a.report_requests,
                                toucher(a.hamlet, node, "check", "lin/t1/v1", "2026-11-26")))
                    line(f"/reports/{r}?region={region}, cached",
                         *timed(ui, path, a.report_requests))
        finally:
            ui.stop()
    for b in BAD:
        print(f"bench/web.py: {b}", file=sys.stderr)
    return 1 if BAD else 0


if __name__ == "__main__":
    sys.exit(main())
