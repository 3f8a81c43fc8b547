#!/usr/bin/env python3
"""security.py: the web interface (`hamlet ui`) from an attacker's side, over real HTTP.

A county node made with `hamlet init`, two accounts made with `hamlet user add` (a clerk and a
doctor), a person whose name is a script written with `hamlet put`, a peer whose address and
last failure hold a script; then a real `hamlet ui` on 127.0.0.1 (a port the kernel picks, read
from its "serving" line) with sessions that end after 2 s idle. Checks, each named as it fails:
a wrong Host header is answered 421; a page without a session leads to /login; the login form
and every other form refuse a POST without their session's CSRF token (403); five wrong
passwords slow the next try (429); the session cookie is HttpOnly and SameSite=Strict and a new
one is given at login; a doctor cannot open the clerk's sync page (403); every response carries
the strict CSP; the scripts in a peer's address and failure are escaped; next= never leaves the
station; a body over the cap is refused (413); a session idle past its time leads to /login.

Environment: HAMLET_BIN (the binary), HAMLET_TEST_TMP (a scratch folder). Exits 0 when every
check passed, 1 otherwise (each failure printed)."""
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HM = os.environ["HAMLET_BIN"]
T = os.path.join(os.environ.get("HAMLET_TEST_TMP", "/tmp/hamlet-test"), "web_security")
ENV = dict(os.environ, HAMLET_PASSPHRASE="web security test passphrase")
for k in ("HAMLET_DIR", "HAMLET_CLOCK_OFFSET_MS"):
    ENV.pop(k, None)
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SCRIPT = "<script>alert(1)</script>"
IDLE_S = 2
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def hamlet(*args, stdin=None):
    r = subprocess.run([HM, "-d", os.path.join(T, "c"), *args], input=stdin, env=ENV,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"hamlet {' '.join(args)} failed: {r.stderr}")
    return r.stdout


class Client:
    """One browser: its cookie jar, every response checked for the security headers."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, host=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": host if host is not None else f"127.0.0.1:{self.port}"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        c.close()
        for v in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = v.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in v:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        check(r.headers.get("Content-Security-Policy") == CSP,
              f"{method} {path} ({r.status}): the CSP is missing or not the strict one")
        check(r.headers.get("X-Content-Type-Options") == "nosniff",
              f"{method} {path}: no X-Content-Type-Options nosniff")
        return r, text

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, **kw):
        from urllib.parse import urlencode
        return self.request("POST", path, body=urlencode(fields), **kw)

    def csrf(self, path):
        r, text = self.get(path)
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', text)
        check(m is not None, f"GET {path} ({r.status}): no csrf field in its form")
        return m.group(1) if m else ""

    def login(self, name, password, nxt="/"):
        token = self.csrf("/login")
        return self.post("/login", {"csrf": token, "name": name, "password": password,
                                    "next": nxt})


def setup():
    shutil.rmtree(T, ignore_errors=True)
    os.makedirs(T)
    hamlet("init", "--role", "county", "--region", "lin", "--name", "County")
    hamlet("user", "add", "clerk1", "--role", "clerk", stdin="clerk's password 1\n")
    hamlet("user", "add", "doc1", "--role", "doctor", stdin="doctor's password 1\n")
    hamlet("put", "person", "p-evil", f"name={SCRIPT}")
    with open(os.path.join(T, "c", "peers"), "w") as f:
        f.write(f"hub tcp://{SCRIPT}:1\n")
    with open(os.path.join(T, "c", "peers.state"), "w") as f:
        f.write(f"hub 0 1700000000000 1 0 0 refused: {SCRIPT}\n")


def start_ui():
    err = open(os.path.join(T, "ui.err"), "w+")
    p = subprocess.Popen([HM, "-d", os.path.join(T, "c"), "ui", "--listen", "127.0.0.1:0",
                          "--session-idle", str(IDLE_S)], env=ENV, stdout=subprocess.DEVNULL,
                         stderr=err)
    for _ in range(100):
        err.seek(0)
        m = re.search(r"hamlet: ui: serving http://127\.0\.0\.1:(\d+)/", err.read())
        if m:
            return p, int(m.group(1))
        if p.poll() is not None:
            break
        time.sleep(0.05)
    err.seek(0)
    sys.exit(f"hamlet ui did not start: {err.read()}")


def test_host(port):
    b = Client(port)
    for host in ("evil.example:%d" % port, "attacker.test", "127.0.0.1:%d" % (port + 1), ""):
        r, _ = b.get("/login", host=host)
        check(r.status == 421, f"Host '{host}': {r.status}, not 421")
    r, _ = b.post("/login", {"name": "clerk1"}, host="evil.example")
    check(r.status == 421, f"POST with a wrong Host: {r.status}, not 421")
    for host in (f"localhost:{port}", f"[::1]:{port}"):
        r, _ = b.get("/login", host=host)
        check(r.status == 200, f"Host '{host}': {r.status}, not 200")


def test_no_session(port):
    b = Client(port)
    for path in ("/", "/sync"):
        r, _ = b.get(path)
        check(r.status == 303 and r.headers.get("Location", "").startswith("/login"),
              f"GET {path} without a session: {r.status} {r.headers.get('Location')}")
    r, _ = b.get("/no-such-page")
    check(r.status == 404, f"an unknown page: {r.status}, not 404")
    r, _ = b.get("/static/style.css")
    check(r.status == 200 and r.headers.get("Content-Type", "").startswith("text/css"),
          f"/static/style.css: {r.status} {r.headers.get('Content-Type')}")


def test_csrf(port):
    b = Client(port)
    token = b.csrf("/login")
    for fields, what in (({}, "without csrf"), ({"csrf": "0" * 64}, "with a wrong csrf"),
                         ({"csrf": token[:-1]}, "with a cut csrf")):
        r, _ = b.post("/login", dict(fields, name="clerk1", password="clerk's password 1"))
        check(r.status == 403, f"POST /login {what}: {r.status}, not 403")
    r, _ = b.login("clerk1", "clerk's password 1")
    check(r.status == 303, f"the right login: {r.status}, not 303")
    other = Client(port)
    other_token = other.csrf("/login")  # a real token, of another session
    for fields, what in (({}, "without csrf"), ({"csrf": "f" * 64}, "with a wrong csrf"),
                         ({"csrf": other_token}, "with another session's csrf")):
        for path in ("/sync/now", "/sync/bundle", "/logout"):
            r, _ = b.post(path, dict(fields, peer="hub", path=os.path.join(T, "x.bundle")))
            check(r.status == 403, f"POST {path} {what}: {r.status}, not 403")
    check(not os.path.exists(os.path.join(T, "x.bundle")), "a refused POST wrote a bundle")
    r, _ = b.get("/logout")
    check(r.status == 405, f"GET /logout: {r.status}, not 405")
    r, _ = b.request("POST", "/sync/now", body="csrf=" + "a" * (300 * 1024))
    check(r.status == 413, f"a body over the cap: {r.status}, not 413")


def test_throttle(port):
    b = Client(port)
    for i in range(5):
        r, text = b.login("mallory", "not the password %d" % i)
        check(r.status == 200 and r.headers.get("Location") is None,
              f"wrong password {i + 1}: {r.status}")
    r, _ = b.login("mallory", "another wrong one")
    check(r.status == 429 and r.headers.get("Retry-After"),
          f"the sixth wrong password at once: {r.status}, not 429 with Retry-After")


def test_login(port):
    b = Client(port)
    b.get("/login")
    anon = b.cookies.get("hamlet_session")
    token = b.csrf("/login")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    from urllib.parse import urlencode
    c.request("POST", "/login", urlencode({"csrf": token, "name": "clerk1",
                                           "password": "clerk's password 1",
                                           "next": "//evil.example/x"}),
              {"Host": f"127.0.0.1:{port}", "Cookie": f"hamlet_session={anon}",
               "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    cookie = r.headers.get("Set-Cookie", "")
    check(r.status == 303, f"the right login: {r.status}, not 303")
    check(r.headers.get("Location") == "/", f"next=//evil.example: to {r.headers.get('Location')}")
    parts = [p.strip() for p in cookie.split(";")]
    check("HttpOnly" in parts, f"the session cookie is not HttpOnly: {cookie}")
    check("SameSite=Strict" in parts, f"the session cookie is not SameSite=Strict: {cookie}")
    new = cookie.split(";")[0].partition("=")[2]
    check(new and new != anon, "the login kept the login form's session id")
    return b


def test_pages(port):
    b = Client(port)
    r, _ = b.login("clerk1", "clerk's password 1", "/sync")
    check(r.status == 303 and r.headers.get("Location") == "/sync",
          f"login with next=/sync: {r.status} {r.headers.get('Location')}")
    r, text = b.get("/sync")
    check(r.status == 200, f"GET /sync as the clerk: {r.status}")
    check(SCRIPT not in text, "/sync shows a peer's script raw")
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in text, "/sync does not show the peer escaped")
    for path in ("/today", "/reports", "/person/p-evil"):
        r, text = b.get(path)
        check(SCRIPT not in text, f"{path} shows a person's script raw")
    d = Client(port)
    r, _ = d.login("doc1", "doctor's password 1")
    check(r.status == 303, f"the doctor's login: {r.status}")
    r, _ = d.get("/sync")
    check(r.status == 403, f"GET /sync as a doctor: {r.status}, not 403")
    token = b.csrf("/sync")
    r, _ = b.post("/logout", {"csrf": token})
    check(r.status == 303, f"logout: {r.status}")
    r, _ = b.get("/sync")
    check(r.status == 303, f"GET /sync after logout: {r.status}, not 303")


def test_idle(port):
    b = Client(port)
    b.login("clerk1", "clerk's password 1")
    r, _ = b.get("/sync")
    check(r.status == 200, f"GET /sync at once: {r.status}")
    time.sleep(IDLE_S + 1)
    r, _ = b.get("/sync")
    check(r.status == 303 and r.headers.get("Location", "").startswith("/login"),
          f"GET /sync after {IDLE_S + 1} s idle: {r.status}, not 303 to /login")


def main():
    setup()
    p, port = start_ui()
    try:
        for t in (test_host, test_no_session, test_csrf, test_throttle, test_login, test_pages,
                  test_idle):
            t(port)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = -1
    check(rc == 0, f"hamlet ui exited {rc} on SIGTERM")
    if failures:
        with open(os.path.join(T, "ui.err")) as f:
            print("hamlet ui's log:\n" + f.read())
    print(f"web_security: {checks} checks, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
