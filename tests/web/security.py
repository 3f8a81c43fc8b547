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
station; a body over the cap is refused (413); a session idle past its time leads to /login, in
`hamlet ui --session-idle` and in `serve --ui --ui-session-idle`, which refuses 0 seconds.

Environment: HAMLET_BIN (the binary), HAMLET_TEST_TMP (a scratch folder). Exits 0 when every
check passed, 1 otherwise (each failure printed)."""
import http.client
import os
import subprocess
import sys
import time
from urllib.parse import urlencode

from webtest import ENV, HM, Client, Server, check, finish, free_port, hamlet, scratch

SCRIPT = "<script>alert(1)</script>"
IDLE_S = 2
T = scratch("web_security")
C = os.path.join(T, "c")


def setup():
    hamlet(C, "init", "--role", "county", "--region", "lin", "--name", "County")
    hamlet(C, "user", "add", "clerk1", "--role", "clerk", stdin="clerk's password 1\n")
    hamlet(C, "user", "add", "doc1", "--role", "doctor", stdin="doctor's password 1\n")
    hamlet(C, "put", "person", "p-evil", f"name={SCRIPT}")
    with open(os.path.join(C, "peers"), "w") as f:
        f.write(f"hub tcp://{SCRIPT}:1\n")
    with open(os.path.join(C, "peers.state"), "w") as f:
        f.write(f"hub 0 1700000000000 1 0 0 refused: {SCRIPT}\n")


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


def serve_idle():
    """serve --ui takes the same idle time as ui (--ui-session-idle), and refuses 0."""
    port = free_port()
    args = ["serve", "--listen", f"tcp://127.0.0.1:{port}", "--every", "3600",
            "--ui", "127.0.0.1:0", "--ui-session-idle"]
    r = subprocess.run([HM, "-d", C, *args, "0"], env=ENV, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 2 and "--ui-session-idle takes 1 to 604800 seconds" in r.stderr,
          f"serve --ui-session-idle 0: exit {r.returncode}, {r.stderr.strip()}")
    return Server(C, args + [str(IDLE_S)], os.path.join(T, "serve.err"))


def main():
    setup()
    ui = Server(C, ["ui", "--listen", "127.0.0.1:0", "--session-idle", str(IDLE_S)],
                os.path.join(T, "ui.err"))
    servers = [ui]
    try:
        for t in (test_host, test_no_session, test_csrf, test_throttle, test_login, test_pages,
                  test_idle):
            t(ui.port)
        ui.stop()
        servers.append(serve_idle())
        test_idle(servers[-1].port)
    finally:
        rc = finish("web_security", servers)
    return rc


if __name__ == "__main__":
    sys.exit(main())
