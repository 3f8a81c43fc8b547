#!/usr/bin/env python3
"""browser.py: the clerk's, the officer's and the doctor's day in a real browser (issue #12 §4).

Debian's Chromium, headless, driven by Selenium through chromedriver: a temporary profile, a
fixed window, no network but 127.0.0.1 (every other host unresolvable, every other address sent
to a closed proxy). Real `hamlet` processes: a county hub (lin) running `serve --listen
tcp://127.0.0.1:P --ui 127.0.0.1:0` and a village (lin/east/elm, enrolled by the county) running
`ui`, accounts of each role made with `hamlet user add` (password on stdin).

The story: the village's clerk logs in, registers a returnee (person, journey and isolation in
one form) and adds a contact from the returnee's page, prints the due list (kept as a PDF),
enters the morning's temperatures for five persons with one bad row (nothing saved, the error
beside the row), fixes it and saves, then syncs with the hub; the county's officer sees the
figures on the township's monitoring page; the village's doctor sees the returnee's phone masked
and cannot reveal it. What a browser adds to tests/web/security.py: a person whose name is a
script or an <img onerror> is shown literally and runs nothing (no alert, the title unchanged),
and no page asks for anything outside the station.

A step whose page is not in this build (its route answers 404) is skipped, named, and the file
then exits 77 (ctest: skipped) unless a check failed: it never passes silently. The whole file is
skipped (77) with its reason when chromium, chromedriver or selenium is missing. Screenshots of
the main pages (and the printed due list as a PDF) go to HAMLET_SCREENSHOTS.

Environment: HAMLET_BIN, HAMLET_TEST_TMP, HAMLET_SCREENSHOTS (default: TMP/screenshots)."""
import os
import shutil
import sys

SKIP = 77


def selenium_python():
    """Debian's python3-selenium is installed for /usr/bin/python3: run under it when this
    interpreter (another python3 first in PATH) lacks selenium."""
    try:
        import selenium  # noqa: F401
        return
    except ImportError:
        pass
    debian = "/usr/bin/python3"
    if (os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian)
            and not os.environ.get("HAMLET_BROWSER_REEXEC")):
        os.environ["HAMLET_BROWSER_REEXEC"] = "1"
        os.execv(debian, [debian, *sys.argv])
    print("SKIP: python3-selenium is not installed (scripts/install-deps installs it)")
    sys.exit(SKIP)


def chromium_paths():
    """(chromium's binary, chromedriver), or the file skipped naming what is missing. Debian's
    /usr/bin/chromium is a shell wrapper: the binary behind it is started directly."""
    browser = next((p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "",
                                shutil.which("chromium-browser") or "") if p and
                    os.access(p, os.X_OK)), None)
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
         if os.access(p, os.X_OK)), None)
    missing = [w for w, p in (("chromium", browser), ("chromium-driver", driver)) if not p]
    if missing:
        print(f"SKIP: {' and '.join(missing)} not installed (scripts/install-deps installs them)")
        sys.exit(SKIP)
    return browser, driver


selenium_python()
BROWSER, DRIVER = chromium_paths()

# These imports need selenium, checked above.
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (NoAlertPresentException,  # noqa: E402
                                        NoSuchElementException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from webtest import Client, Server, check, finish, free_port, hamlet, scratch  # noqa: E402

T = scratch("web_browser")
C, V = os.path.join(T, "county"), os.path.join(T, "elm")
SHOTS = os.environ.get("HAMLET_SCREENSHOTS") or os.path.join(T, "screenshots")
PW = {"clerk1": "clerk's password 1", "doc1": "doctor's password 1",
      "officer1": "officer's password 1"}
SCRIPT_NAME = "<script>alert('name')</script>"
IMG_NAME = "<img src=x onerror=\"alert('img');document.title='pwned'\">"
skipped = []


def id_number(body17):
    """An 18-character ID number with its check digit (GB 11643-1999)."""
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * k for c, k in zip(body17, w)) % 11]


RETURNEE_ID = id_number("11010519800312003")


def setup(hub_port):
    """The county and its village, the accounts, four persons in a home isolation that started
    today (the returnee registered in the browser makes five) and the two with a script for a
    name."""
    hamlet(C, "init", "--role", "county", "--region", "lin", "--name", "County")
    hamlet(V, "init", "--role", "village", "--region", "lin/east/elm", "--name", "Elm")
    root = re.search(r'"root":\s*"([0-9a-f]+)"', hamlet(C, "status", "--json")).group(1)
    req, ans = os.path.join(T, "elm.req"), os.path.join(T, "elm.ans")
    hamlet(V, "enroll", "request", "-o", req)
    hamlet(C, "enroll", "sign", req, "-o", ans)
    hamlet(V, "enroll", "accept", ans, "--root", root)
    hamlet(V, "peer", "add", "hub", f"tcp://127.0.0.1:{hub_port}")
    hamlet(V, "user", "add", "clerk1", "--role", "clerk", stdin=PW["clerk1"] + "\n")
    hamlet(V, "user", "add", "doc1", "--role", "doctor", stdin=PW["doc1"] + "\n")
    hamlet(C, "user", "add", "officer1", "--role", "officer", stdin=PW["officer1"] + "\n")
    for pid, name, compound in (("e1", "王芳", "河畔3号"), ("e2", "王磊", "河畔3号"),
                                ("e3", "李娜", "东院"), ("e4", "张伟", "东院")):
        hamlet(V, "person", "add", "--id", pid, "--name", name, "--category", "close",
               "--compound", compound, "--phone", "13800000001")
        hamlet(V, "episode", "start", pid, "--kind", "home", "--reason", "close", "--days", "14")
    # Not in isolation: on the person pages, the due list stays five rows long.
    hamlet(V, "person", "add", "--id", "x-script", "--name", SCRIPT_NAME, "--category", "other")
    hamlet(V, "person", "add", "--id", "x-img", "--name", IMG_NAME, "--category", "other")


class Browser:
    """Headless Chromium on one of the stations (base: its URL), its console and alerts
    watched."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=T)
        o = webdriver.ChromeOptions()
        o.binary_location = BROWSER
        args = ["--headless=new", "--window-size=1280,1000", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--lang=zh-CN",
                # No network but loopback: names do not resolve, and every address but
                # loopback (which Chromium never sends to a proxy) goes to a closed port.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--proxy-server=http://127.0.0.1:{free_port()}"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        for a in args:
            o.add_argument(a)
        self.d = webdriver.Chrome(service=Service(DRIVER, log_output=os.path.join(
            T, "chromedriver.log")) if _service_takes_log_output() else Service(DRIVER),
            options=o)
        self.d.set_page_load_timeout(30)
        self.base = None

    def quit(self):
        try:
            self.d.quit()
        except WebDriverException:
            pass

    def at(self, port):
        """The next pages come from the station on port, as a new person: no cookies."""
        self.d.execute_cdp_cmd("Network.enable", {})
        self.d.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.base = f"http://127.0.0.1:{port}"

    def open(self, path):
        self.d.get(self.base + path)
        self.no_alert(path)
        return self.d

    def path(self):
        return self.d.current_url[len(self.base):] if self.d.current_url.startswith(
            self.base) else self.d.current_url

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def no_alert(self, where):
        try:
            a = self.d.switch_to.alert
            msg = a.text
            a.dismiss()
            check(False, f"{where}: a script ran and opened an alert: {msg!r}")
        except NoAlertPresentException:
            pass

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        check(self.d.save_screenshot(os.path.join(SHOTS, name + ".png")),
              f"the screenshot {name}.png was not written")

    def fill(self, form, fields):
        """Types each value into form's field of that name (a select: the option of that
        value)."""
        for name, value in fields.items():
            el = form.find_element(By.NAME, name)
            if el.tag_name == "select":
                Select(el).select_by_value(value)
            else:
                el.clear()
                el.send_keys(value)

    def submit(self, form):
        """Sends form by its submit button; waits for the next page."""
        old = self.d.find_element(By.TAG_NAME, "html")
        form.find_element(By.CSS_SELECTOR, "button[type=submit], button:not([type]), "
                                           "input[type=submit]").click()
        for _ in range(200):
            try:
                old.tag_name
            except WebDriverException:
                break
            time.sleep(0.025)
        self.no_alert("after a form was sent")

    def form(self, action):
        """The page's form posting to action."""
        for f in self.d.find_elements(By.TAG_NAME, "form"):
            if (f.get_attribute("action") or "").endswith(action):
                return f
        raise NoSuchElementException(f"no form to {action} on {self.path()}")

    def login(self, name):
        self.open("/login")
        f = self.form("/login")
        self.fill(f, {"name": name, "password": PW[name]})
        self.submit(f)
        check(not self.path().startswith("/login"), f"{name}'s login stayed on {self.path()}")

    def only_loopback(self, where):
        """Every resource the page loaded came from the station itself."""
        urls = self.d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        outside = [u for u in urls if not u.startswith(self.base + "/")]
        check(not outside, f"{where} asked for something outside the station: {outside}")


def _service_takes_log_output():
    import inspect
    return "log_output" in inspect.signature(Service.__init__).parameters


def have(port, path):
    """Whether this build serves path: a page asked for without a session leads to the login;
    an unknown one is 404."""
    r, _ = Client(port).get(path)
    return r.status != 404


def skip_unless(port, step, *paths):
    """True when every path is served; else the step is recorded as skipped, naming them."""
    missing = [p for p in paths if not have(port, p)]
    if missing:
        msg = f"{step}: skipped: the page {', '.join(missing)} is not in this build"
        print("SKIP " + msg, flush=True)
        skipped.append(msg)
    return not missing


def followups():
    """The village's temperature checks, read with the CLI."""
    out = hamlet(V, "list", "followup")
    return len(re.findall(r"^followup/", out, re.M))


def person_by_id_number(node, number):
    """The id of the person registered with this ID number, or None."""
    m = re.search(r"\b(p-[0-9a-z]+)\b", hamlet(node, "person", "find", "--id-number", number))
    return m.group(1) if m else None


# -- the story, one function a step; each returns what a later step needs -------------------

def step_login(b, ui):
    b.at(ui.port)
    b.open("/")
    check(b.path().startswith("/login"), f"/ without a session: at {b.path()}, not /login")
    b.shot("login")
    b.login("clerk1")


def step_register(b, ui):
    """The returnee's form: the ID number marked as typed (the script's check), then person,
    journey and isolation in one write; a contact added from the returnee's page."""
    if not skip_unless(ui.port, "register a returnee with a contact", "/register"):
        return None
    b.open("/register")
    f = b.form("/register")
    idn = f.find_element(By.NAME, "id_number")
    idn.send_keys(RETURNEE_ID[:-1] + ("0" if RETURNEE_ID[-1] != "0" else "1"))
    check("invalid" in (idn.get_attribute("class") or ""),
          "/register: a wrong check digit is not marked as the clerk types")
    idn.clear()
    idn.send_keys(RETURNEE_ID)
    check("invalid" not in (idn.get_attribute("class") or ""),
          "/register: a right ID number stays marked invalid")
    fields = {"name": "赵敏", "phone": "13912345678", "compound": "河畔3号",
              "from_area": "wuhan", "arrival_date": time.strftime("%Y-%m-%d")}
    b.fill(f, {k: v for k, v in fields.items() if f.find_elements(By.NAME, k)})
    b.shot("register")
    b.submit(f)
    pid = person_by_id_number(V, RETURNEE_ID)
    check(pid is not None, f"/register: no person with the ID number after sending ({b.path()})")
    if not pid:
        return None
    check(b.path().startswith("/person/" + pid),
          f"/register: the returnee's page is not shown after sending: at {b.path()}")
    check(re.search(r"^episode/", hamlet(V, "list", "episode", "-w", f"person={pid}"), re.M),
          "/register: the returnee has no isolation")
    b.open("/person/" + pid)
    b.shot("person")
    step_contact(b, pid)
    return pid


def step_contact(b, pid):
    """A first-degree contact of the returnee: a person the form registers, or e4."""
    f = next((f for f in b.d.find_elements(By.TAG_NAME, "form")
              if "contact" in (f.get_attribute("action") or "")), None)
    check(f is not None, f"/person/{pid}: no form to add a contact")
    if f is None:
        return
    fields = {"contact": "e4", "name": "张伟", "mode": "meal", "degree": "1"}
    b.fill(f, {k: v for k, v in fields.items() if f.find_elements(By.NAME, k)})
    b.submit(f)
    out = hamlet(V, "list", "exposure", "-w", f"source={pid}")
    check(re.search(r"^exposure/", out, re.M), f"/person/{pid}: the contact was not recorded")


def step_print(b, ui, names):
    """The due list on A4: one row per person due, with boxes; kept as a PDF."""
    if not skip_unless(ui.port, "print the due list", "/today/print"):
        return
    b.open("/today/print")
    text = b.text()
    for n in names:
        check(n in text, f"/today/print: {n} is not on the printed list")
    b.shot("today-print")
    pdf = b.d.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69,
                                                  "printBackground": False})
    import base64
    data = base64.b64decode(pdf["data"])
    with open(os.path.join(SHOTS, "today-print.pdf"), "wb") as out:
        out.write(data)
    check(data.startswith(b"%PDF"), "/today/print: Chromium printed no PDF")


def today_rows(b):
    """The due list's rows that take a temperature: each a <tr> with an input named like
    temperature."""
    return [tr for tr in b.d.find_elements(By.CSS_SELECTOR, "form tr")
            if tr.find_elements(By.CSS_SELECTOR, "input[name*=temp]")]


def step_checks(b, ui, n):
    """The morning's temperatures of the n persons due, one row bad: nothing saved and the
    error beside that row; fixed: all saved in one write."""
    if not skip_unless(ui.port, "enter the morning's temperatures", "/today"):
        return
    b.open("/today")
    b.shot("today")
    rows = today_rows(b)
    check(len(rows) == n, f"/today: {len(rows)} rows to fill in, not {n}")
    if len(rows) != n:
        return
    temps = ["36.5", "36.8", "45.2", "37.0", "36.4"][:n]
    for tr, t in zip(rows, temps):
        el = tr.find_element(By.CSS_SELECTOR, "input[name*=temp]")
        el.clear()
        el.send_keys(t)
    before = followups()
    b.submit(b.form("/today/checks"))
    check(followups() == before, "/today/checks: a batch with a bad row saved something")
    rows = today_rows(b)
    bad = [i for i, tr in enumerate(rows) if tr.find_elements(By.CSS_SELECTOR, ".error")]
    check(bad == [2], f"/today/checks: the error is beside rows {bad}, not the third")
    if len(rows) > 2:
        check("45.2" in (rows[2].find_element(By.CSS_SELECTOR, "input[name*=temp]")
                         .get_attribute("value") or ""),
              "/today/checks: the bad row's value is not kept for fixing")
    b.shot("today-error")
    if len(rows) != n:
        return
    el = rows[2].find_element(By.CSS_SELECTOR, "input[name*=temp]")
    el.clear()
    el.send_keys("36.9")
    b.submit(b.form("/today/checks"))
    check(followups() == before + n, f"/today/checks: {followups() - before} saved, not {n}")
    b.shot("today-saved")


def step_sync(b, ui):
    """Sync now with the hub: confirmed on the page, and the county holds what the village
    wrote (its persons, episodes and checks)."""
    b.open("/sync")
    b.submit(b.form("/sync/now"))
    check(b.d.find_elements(By.CSS_SELECTOR, ".notice.ok") and "hub" in b.text(),
          f"/sync/now: no confirmation of the sync with the hub: {b.text()[:300]!r}")
    b.shot("sync")
    for coll in ("person", "episode", "followup"):
        mine = len(re.findall(f"^{coll}/", hamlet(V, "list", coll), re.M))
        hubs = len(re.findall(f"^{coll}/", hamlet(C, "list", coll), re.M))
        check(hubs == mine and (mine or coll == "followup"), f"after the sync the hub holds {hubs} {coll}, not {mine}")


def step_officer(b, hub, synced):
    """The county's officer: the township's monitoring page shows the village's figures."""
    if not skip_unless(hub.port, "the officer's monitoring page", "/reports/monitoring"):
        return
    b.at(hub.port)
    b.login("officer1")
    b.open("/reports/monitoring?region=lin/east")
    b.shot("report-monitoring")
    text = b.text()
    check("elm" in text, "/reports/monitoring of lin/east: the village elm is not shown")
    cells = [c.text for c in b.d.find_elements(By.CSS_SELECTOR, "table td")]
    check(str(synced) in cells, f"/reports/monitoring: no cell of {synced} monitored persons: "
                                f"{cells[:40]}")
    b.only_loopback("/reports/monitoring")


def step_doctor(b, ui, pid):
    """The village's doctor sees the returnee's page with the phone masked and cannot reveal
    it; nothing goes to the access log under the doctor's name."""
    if not skip_unless(ui.port, "a doctor cannot reveal a phone", "/person/" + (pid or "e1")):
        return
    pid = pid or "e1"
    phone = "13912345678" if pid != "e1" else "13800000001"
    b.at(ui.port)
    b.login("doc1")
    b.open("/person/" + pid)
    check(phone not in b.text(), f"/person/{pid}: the doctor sees the phone in clear")
    reveal = [e for e in b.d.find_elements(By.CSS_SELECTOR, "form, a")
              if "reveal" in ((e.get_attribute("action") or "") + (e.get_attribute("href") or ""))]
    check(not reveal, f"/person/{pid}: the doctor is offered a reveal")
    for path in (f"/person/{pid}?reveal=1", f"/person/{pid}?reveal=phone"):
        b.open(path)
        check(phone not in b.text(), f"{path}: the doctor sees the phone in clear")
    r, _ = Client(ui.port).post(f"/person/{pid}/reveal", {"field": "phone"})
    check(r.status in (303, 403, 404, 405), f"POST /person/{pid}/reveal: {r.status}")
    b.shot("person-doctor")
    check("doc1" not in hamlet(V, "list", "access"), "the access log holds a reveal by the doctor")


def step_scripts(b, ui):
    """A script and an <img onerror> in persons' names: shown as text, nothing runs."""
    pages = ["/person/x-script", "/person/x-img"]
    if not skip_unless(ui.port, "a script in a person's name", *pages):
        return
    b.at(ui.port)
    b.login("clerk1")
    for path, name in zip(pages, (SCRIPT_NAME, IMG_NAME)):
        b.open(path)
        title = b.d.title
        b.no_alert(path)
        check(name in b.text(), f"{path}: the name is not shown literally: {b.text()[:200]!r}")
        check(title != "pwned", f"{path}: the <img onerror> in the name ran")
        b.only_loopback(path)
    b.shot("person-script")


def run(b, step, *args):
    """step(*args); a page that lacks what the step looks for fails the step (with a
    screenshot of where it stopped), not the file."""
    try:
        return step(*args)
    except (NoSuchElementException, WebDriverException) as e:
        check(False, f"{step.__name__}: at {b.path()}: {str(e).splitlines()[0]}")
        try:
            b.shot("failed-" + step.__name__)
        except WebDriverException:
            pass
    return None


def main():
    hub_port = free_port()
    setup(hub_port)
    hub = Server(C, ["serve", "--listen", f"tcp://127.0.0.1:{hub_port}", "--every", "3600",
                     "--ui", "127.0.0.1:0"], os.path.join(T, "serve.err"))
    ui = Server(V, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    b = None
    try:
        b = Browser()
        run(b, step_login, b, ui)
        pid = run(b, step_register, b, ui)
        if not pid:  # the fifth person due, when the form could not make it
            hamlet(V, "person", "add", "--id", "e5", "--name", "赵敏", "--category", "returnee",
                   "--id-number", RETURNEE_ID, "--phone", "13912345678")
            hamlet(V, "episode", "start", "e5", "--kind", "home", "--reason", "returnee",
                   "--days", "14")
        run(b, step_print, b, ui, ["王芳", "王磊", "李娜", "张伟", "赵敏"])
        run(b, step_checks, b, ui, 5)
        run(b, step_sync, b, ui)
        run(b, step_officer, b, hub, 5)
        run(b, step_doctor, b, ui, pid)
        run(b, step_scripts, b, ui)
    finally:
        if b:
            b.quit()
        rc = finish("web_browser", [ui, hub])
    if rc == 0 and skipped:
        print("web_browser: SKIPPED (pages not in this build):\n  " + "\n  ".join(skipped))
        return SKIP
    return rc


if __name__ == "__main__":
    sys.exit(main())
