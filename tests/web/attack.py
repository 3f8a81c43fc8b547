#!/usr/bin/env python3
"""attack.py: the web interface (`hamlet ui`) attacked the way docs/security.md ("The web
interface") lists, over real HTTP against real `hamlet ui` processes.

A county node made with `hamlet init`, a clerk, a doctor and an officer made with `hamlet user
add`; a `hamlet ui` on 127.0.0.1 (a port the kernel picks). Each test is one attacker:
- test_session_flood: any page of any site (or another account of the machine) asks for /login
  300 times, each a new login form's session: the clerk's session must live on;
- test_login_flood: one account logging in again and again takes only its own sessions (a
  ninth login ends its first), never another user's;
- test_logout: a cookie kept from before the logout is dead at the server; a cookie planted
  before the login (fixation) is not the session the login makes;
- test_body_kinds: a form posted as multipart/form-data or text/plain (what a page of another
  site can send without CORS) is refused 403 unread, even with the right token;
- test_fetch_metadata: a request the browser says another site made (Sec-Fetch-Site cross-site
  or same-site: every other port of 127.0.0.1 is the same site, so SameSite cookies go with it),
  here an <img> or an <iframe> of a report with names=1, is refused 403 and records no reveal; the same asked
  by the station's own page is recorded; following a link from elsewhere still opens the page;
- test_low_role: a doctor and a clerk sending an officer's or auditor's requests (POST and GET)
  directly, with a good session and token: 403, nothing done, nothing in the access log;
- test_bundle_path: "write a bundle" only as a new file in an existing folder outside the
  node's folder: a relative path, a missing folder, the node's own folder (a peers file it has
  not made yet), an existing file, a link at the last component are refused and leave nothing;
  a good path gets a 0600 file;
- test_headers: every kind of response (a page, a static file, a redirect, 403, 404, 405, 413,
  421, a CSV download, JSON, HEAD, OPTIONS) carries the CSP, nosniff, X-Frame-Options DENY,
  Referrer-Policy no-referrer and Cache-Control no-store; no CORS header ever;
- test_odd_requests: a wrong Host on a static file and an error page (421), %00 and ../ in the
  path, an overlong cookie, many session cookies, HEAD, OPTIONS, TRACE, 256 KiB of fields:
  never a 500, never a page without a session, and the server still answers;
- test_markup: a person's name with quotes, markup, a newline and a bidi override, echoed back
  in the register form's attributes, and a peer's failure holding quotes: escaped;
- test_loopback: `ui --listen` on 0.0.0.0 or [::] without --any-address is refused;
- test_per_address: with --any-address, one address holds at most 16 connections (slowloris);
- test_throttle_reset (a second `hamlet ui`): a doctor who knows their own password cannot
  reset the station's count of wrong passwords between guesses at other names.

Environment: HAMLET_BIN (the binary), HAMLET_TEST_TMP (a scratch folder). Exits 0 when every
check passed, 1 otherwise (each failure printed)."""
import http.client
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from urllib.parse import urlencode

from webtest import ENV, HM, Client, Server, check, finish, hamlet, scratch

T = scratch("web_attack")
C = os.path.join(T, "c")
PW = {"clerk1": "clerk's password 1", "doc1": "doctor's password 1",
      "off1": "officer's password 1"}
EVIL = "\"'><script>alert(1)</script>\n\u202eevil"


def setup():
    hamlet(C, "init", "--role", "county", "--region", "lin", "--name", "County")
    for name, role in (("clerk1", "clerk"), ("doc1", "doctor"), ("off1", "officer")):
        hamlet(C, "user", "add", name, "--role", role, stdin=PW[name] + "\n")
    with open(os.path.join(C, "peers.state"), "w") as f:
        f.write('hub 0 1700000000000 1 0 0 refused: "><b onmouseover="x\n')


def logged_in(port, name):
    b = Client(port)
    r, _ = b.login(name, PW[name])
    check(r.status == 303, f"{name}'s login: {r.status}")
    return b


def raw(port, data, timeout=10):
    """data sent as is on a new connection; the status line answered (or '' when closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while b"\r\n" not in out:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    s.close()
    return out.split(b"\r\n", 1)[0].decode("latin-1")


def test_session_flood(port):
    b = logged_in(port, "clerk1")
    for i in range(300):
        r, _ = Client(port).get("/login")
        if r.status != 200:
            check(False, f"GET /login number {i}: {r.status}")
            break
    r, _ = b.get("/sync")
    check(r.status == 200, f"the clerk's session after 300 login forms: {r.status}, not 200")


def test_login_flood(port):
    d = logged_in(port, "doc1")
    first = logged_in(port, "clerk1")
    for _ in range(8):
        last = logged_in(port, "clerk1")
    r, _ = last.get("/sync")
    check(r.status == 200, f"the clerk's ninth session: {r.status}")
    r, _ = first.get("/sync")
    check(r.status == 303, f"the clerk's first session after 8 more logins: {r.status}, not 303")
    r, _ = d.get("/today")
    check(r.status == 200, f"the doctor's session after the clerk's logins: {r.status}, not 200")


def test_logout(port):
    b = logged_in(port, "clerk1")
    kept = b.cookies["hamlet_session"]
    token = b.csrf("/sync")
    r, _ = b.post("/logout", {"csrf": token})
    check(r.status == 303, f"logout: {r.status}")
    old = Client(port)
    old.cookies["hamlet_session"] = kept
    r, _ = old.get("/sync")
    check(r.status == 303 and r.headers.get("Location", "").startswith("/login"),
          f"a cookie kept from before the logout: {r.status}, not 303 to /login")
    r, _ = old.post("/sync/now", {"csrf": token, "peer": "hub"})
    check(r.status == 403, f"a POST with the logged-out session and its token: {r.status}")
    # Fixation: the attacker's own login-form session, planted in the clerk's browser.
    attacker = Client(port)
    attacker.get("/login")
    planted = attacker.cookies["hamlet_session"]
    victim = Client(port)
    victim.cookies["hamlet_session"] = planted
    r, _ = victim.login("clerk1", PW["clerk1"])
    check(r.status == 303 and victim.cookies.get("hamlet_session") not in (None, planted),
          "the login kept the planted session id")
    r, _ = attacker.get("/sync")
    check(r.status == 303, f"the planted id after the victim's login: {r.status}, not 303")


def test_body_kinds(port):
    b = logged_in(port, "clerk1")
    token = b.csrf("/sync")
    cookie = f"hamlet_session={b.cookies['hamlet_session']}"
    bound = "xYzBoUnDaRy"
    multipart = (f"--{bound}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n"
                 f"--{bound}--\r\n")
    for ctype, body in ((f"multipart/form-data; boundary={bound}", multipart),
                        ("text/plain", f"csrf={token}"),
                        ("application/x-www-form-urlencodedX", f"csrf={token}")):
        r, _ = b.request("POST", "/logout", body=body,
                         headers={"Content-Type": ctype, "Cookie": cookie})
        check(r.status == 403, f"POST /logout as {ctype} with the token: {r.status}, not 403")
    r, _ = b.get("/sync")
    check(r.status == 200, f"the session after those posts: {r.status}, not 200 (logged out)")
    r, _ = b.request("POST", "/logout", body=f"csrf={token}",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                              "Cookie": cookie})
    check(r.status == 303, f"the real form (with a charset): {r.status}, not 303")


def access_count():
    return len(json.loads(hamlet(C, "list", "access", "--json")))


def test_fetch_metadata(port):
    o = logged_in(port, "off1")
    path = "/reports/daily?names=1"
    img = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors",
           "Sec-Fetch-Dest": "image"}
    for site in ("same-site", "cross-site"):
        before = access_count()
        r, _ = o.get(path, headers=dict(img, **{"Sec-Fetch-Site": site}))
        check(r.status == 403, f"an <img> of {path} from a {site} page: {r.status}, not 403")
        check(access_count() == before, f"an <img> from a {site} page recorded a reveal")
    before = access_count()
    r, _ = o.get(path, headers={"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate",
                                "Sec-Fetch-Dest": "iframe"})
    check(r.status == 403 and access_count() == before,
          f"an <iframe> of {path} from a same-site page: {r.status}, not 403 and no reveal")
    r, _ = o.get(path, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"})
    check(r.status == 200 and access_count() == before + 1,
          f"the station's own page asking {path}: {r.status}, the reveal recorded once")
    r, _ = o.get("/reports", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                      "Sec-Fetch-Dest": "document"})
    check(r.status == 200, f"a link followed from another site: {r.status}, not 200")
    # a page of another program on 127.0.0.1 running location=...: a navigation of the
    # document, same-site, but no user's click (no Sec-Fetch-User)
    script = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate",
              "Sec-Fetch-Dest": "document"}
    for p in ("/reports/daily.csv", "/reports/daily?names=1", "/reports/daily.csv?names=1",
              "/audit.json", "/audit/report"):
        for site in ("same-site", "cross-site"):
            before = access_count()
            r, _ = o.get(p, headers=dict(script, **{"Sec-Fetch-Site": site}))
            check(r.status == 403 and access_count() == before,
                  f"a scripted {site} navigation to {p}: {r.status}, not 403 and no record")
    before = access_count()
    r, _ = o.get("/reports/daily.csv", headers=dict(script, **{"Sec-Fetch-User": "?1"}))
    check(r.status == 200 and access_count() == before + 1,
          f"the user's own click on a same-site link to the CSV: {r.status}, not 200 and "
          f"the export recorded once")
    r, _ = o.get("/reports/daily", headers=script)
    check(r.status == 200, f"a same-site navigation to a report, names masked: {r.status}")
    c = logged_in(port, "clerk1")
    before = access_count()
    r, _ = c.get("/today", headers=script)
    check(r.status == 403 and access_count() == before,
          f"a scripted same-site navigation to the clerk's /today: {r.status}, not 403")
    token = c.csrf("/sync")
    r, _ = c.post("/logout", {"csrf": token},
                  headers={"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"})
    check(r.status == 403, f"a form posted by a same-site page, with the token: {r.status}")
    r, _ = c.get("/sync")
    check(r.status == 200, f"the clerk after that post: {r.status}, not 200 (logged out)")


def test_account_changes(port):
    """An account removed, or given a new password, while its user is logged in: the session
    ends, the next request goes to /login (the station reads the users file again)."""
    for name, change in (("gone1", ["remove"]), ("pw1", ["passwd"])):
        hamlet(C, "user", "add", name, "--role", "doctor", stdin="a doctor's password 9\n")
        b = Client(port)
        r, _ = b.login(name, "a doctor's password 9")
        check(r.status == 303, f"{name}'s login: {r.status}")
        r, _ = b.get("/today")
        check(r.status == 200, f"{name}'s /today before the change: {r.status}")
        hamlet(C, "user", *change, name, stdin="another password 99\n")
        r, _ = b.get("/today")
        check(r.status == 303 and r.headers.get("Location", "").startswith("/login"),
              f"{name}'s /today after `user {change[0]}`: {r.status} "
              f"{r.headers.get('Location')}, not 303 to /login")
    d = logged_in(port, "doc1")
    r, _ = d.get("/today")
    check(r.status == 200, f"another doctor's session after those changes: {r.status}")


def test_catalogue_header(port):
    """No page shows the gettext catalogue's header (the words of the msgid ""), in Chinese or
    in English: a table head or field with an empty label once printed it on /questions."""
    pages = {"off1": ("/", "/questions", "/reports", "/reports/daily", "/audit", "/peers",
                      "/sync", "/tips", "/notices"),
             "clerk1": ("/", "/today", "/today/print", "/register", "/stock", "/sync", "/tips"),
             "doc1": ("/", "/today", "/register")}
    for lang in (None, "en"):
        for name, paths in pages.items():
            b = Client(port, lang=lang)
            r, _ = b.login(name, PW[name])
            for path in paths:
                r, text = b.get(path)
                check(r.status == 200, f"{name} GET {path} ({lang or 'zh'}): {r.status}")
                check("Project-Id-Version" not in text and "Content-Type: text/plain" not in text,
                      f"{name} GET {path} ({lang or 'zh'}) shows the catalogue's header")


def test_low_role(port):
    """A doctor (and a clerk) sending an officer's or auditor's requests directly, with a good
    session and token: 403, nothing done."""
    for name, posts, gets in (
            ("doc1", ("/questions/merge", "/questions/apart", "/sync/now", "/sync/bundle"),
             ("/reports", "/reports/daily", "/reports/daily.csv", "/reports/daily?names=1",
              "/questions", "/audit", "/audit.json", "/audit/report", "/peers", "/sync")),
            ("clerk1", ("/questions/merge", "/questions/apart"),
             ("/reports/daily.csv", "/reports/daily?names=1", "/questions", "/audit.json",
              "/audit/report", "/peers"))):
        b = logged_in(port, name)
        token = b.csrf("/")
        before = access_count()
        for path in posts:
            r, _ = b.post(path, {"csrf": token, "keep": "p1", "drop": "p2", "peer": "hub",
                                 "path": os.path.join(T, f"{name}.bundle")})
            check(r.status == 403, f"POST {path} as {name}: {r.status}, not 403")
        for path in gets:
            r, _ = b.get(path)
            check(r.status == 403, f"GET {path} as {name}: {r.status}, not 403")
        check(access_count() == before, f"{name}'s refused requests wrote to the access log")
        check(not os.path.exists(os.path.join(T, f"{name}.bundle")), f"{name} wrote a bundle")


def test_bundle_path(port):
    b = logged_in(port, "clerk1")
    token = b.csrf("/sync")
    out = os.path.join(T, "out")
    os.makedirs(out)
    existing = os.path.join(out, "existing")
    with open(existing, "w") as f:
        f.write("keep me\n")
    target = os.path.join(T, "elsewhere", "target")
    os.makedirs(os.path.dirname(target))
    link = os.path.join(out, "link.bundle")
    os.symlink(target, link)
    for path, what, status in (
            ("rel.bundle", "a relative path", 400),
            (os.path.join(T, "no-such-dir", "x.bundle"), "a folder that does not exist", 400),
            (os.path.join(C, "peers"), "the node's own folder", 400),
            (os.path.join(C, ".", "peers"), "the node's own folder by another name", 400),
            (out + "/", "a folder", 400),
            (existing, "an existing file", 409),
            (link, "a link to a file that does not exist yet", 409)):
        r, _ = b.post("/sync/bundle", {"csrf": token, "path": path})
        check(r.status == status, f"a bundle to {what} ({path}): {r.status}, not {status}")
    check(not os.path.exists(os.path.join(C, "peers")), "a bundle was written as the node's peers")
    with open(existing) as f:
        check(f.read() == "keep me\n", "an existing file was replaced by a bundle")
    check(os.path.islink(link) and not os.path.exists(target),
          "the link was replaced or followed by the bundle")
    check(not [n for n in os.listdir(out) if ".tmp." in n], "a temporary file was left")
    good = os.path.join(out, "station.bundle")
    r, text = b.post("/sync/bundle", {"csrf": token, "path": good})
    check(r.status == 303 and os.path.isfile(good), f"a bundle to a new file: {r.status}")
    if os.path.isfile(good):
        mode = stat.S_IMODE(os.stat(good).st_mode)
        check(mode == 0o600, f"the bundle's mode is {oct(mode)}, not 0600")
        check(os.path.getsize(good) > 0, "the bundle is empty")
    d = logged_in(port, "doc1")
    r, _ = d.post("/sync/bundle", {"csrf": d.csrf("/today"),
                                   "path": os.path.join(out, "doc.bundle")})
    check(r.status == 403, f"a doctor writing a bundle: {r.status}, not 403")


HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def headers_ok(r, what):
    for k, v in HEADERS.items():
        check(r.headers.get(k) == v, f"{what} ({r.status}): {k} is {r.headers.get(k)}, not {v}")
    for k in r.headers.keys():
        check(not k.lower().startswith("access-control-"), f"{what}: a CORS header {k}")


def test_headers(port):
    o = logged_in(port, "off1")
    anon = Client(port)
    cases = [
        (o, "GET", "/", None, {}, 200), (anon, "GET", "/static/style.css", None, {}, 200),
        (anon, "GET", "/static/app.js", None, {}, 200), (anon, "GET", "/sync", None, {}, 303),
        (anon, "POST", "/login", "csrf=x", {}, 403), (anon, "GET", "/nope", None, {}, 404),
        (anon, "GET", "/logout", None, {}, 405), (anon, "GET", "/", None, {"Host": "evil"}, 421),
        (o, "POST", "/sync/now", "a=" + "b" * (300 << 10), {}, 413),
        (o, "GET", "/reports/daily.csv", None, {}, 200), (o, "GET", "/audit.json", None, {}, 200),
        (anon, "HEAD", "/login", None, {}, 405), (anon, "OPTIONS", "/login", None, {}, 405),
        (logged_in(port, "doc1"), "GET", "/sync", None, {}, 403)]
    for who, method, path, body, extra, status in cases:
        host = extra.pop("Host", None)
        if method == "POST":
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        r, _ = who.request(method, path, body=body, host=host, headers=extra)
        check(r.status == status, f"{method} {path}: {r.status}, not {status}")
        headers_ok(r, f"{method} {path}")
        if path.endswith(".csv"):
            check(re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"',
                               r.headers.get("Content-Disposition", "")) is not None,
                  f"the CSV's Content-Disposition: {r.headers.get('Content-Disposition')}")


def test_odd_requests(port):
    b = Client(port)
    for path in ("/static/style.css", "/nope", "/login"):
        r, _ = b.get(path, host="rebound.example:%d" % port)
        check(r.status == 421, f"GET {path} with a rebound name as Host: {r.status}, not 421")
    for path in ("/sync%00", "/sync%00.css", "/static/%2e%2e/%2e%2e/etc/passwd",
                 "/static/../../etc/passwd", "/%2Fetc%2Fpasswd", "/reports/daily%00.csv",
                 "/today/%2e%2e/sync"):
        r, text = b.get(path)
        check(r.status in (303, 404), f"GET {path} without a session: {r.status}")
        check("root:" not in text, f"GET {path}: a file of the machine")
    # libmicrohttpd answers a request over its 64 KiB itself (431, a fixed page): no headers
    # of ours, nothing of the request in it.
    status = raw(port, b"GET /sync HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: hamlet_session=%s"
                       b"\r\n\r\n" % (port, b"a" * 70000))
    check(" 431 " in status or " 413 " in status, f"an overlong cookie: {status!r}")
    r, _ = b.get("/sync", headers={"Cookie": "hamlet_session=" + "a" * 30000})
    check(r.status == 303, f"a long cookie: {r.status}, not 303")
    many = "; ".join(f"hamlet_session={i:064x}" for i in range(200))
    r, _ = b.get("/sync", headers={"Cookie": many})
    check(r.status == 303, f"200 session cookies: {r.status}, not 303")
    for method in ("TRACE", "PUT", "DELETE", "get"):
        r, text = b.request(method, "/sync")
        check(r.status in (404, 405), f"{method} /sync: {r.status}")
    status = raw(port, b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
    check(" 500 " not in status and status, f"OPTIONS *: {status!r}")
    status = raw(port, b"GET /sync HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" % port)
    check(" 500 " not in status, f"a request both chunked and with a length: {status!r}")
    # 256 KiB of fields from a logged-in clerk: refused whole, and quickly.
    c = logged_in(port, "clerk1")
    token = c.csrf("/sync")
    body = f"csrf={token}&" + "&".join(f"f{i}=" for i in range(40000))
    t0 = time.monotonic()
    r, _ = c.request("POST", "/today", body=body[:256 << 10])
    check(r.status == 413, f"256 KiB of empty fields: {r.status}, not 413")
    check(time.monotonic() - t0 < 5, "256 KiB of fields took more than 5 s")
    r, _ = c.get("/sync")
    check(r.status == 200, f"the station after all that: {r.status}")


def test_markup(port):
    c = logged_in(port, "clerk1")
    token = c.csrf("/register")
    r, text = c.post("/register", {"csrf": token, "name": EVIL, "id_number": EVIL,
                                   "phone": EVIL, "compound": EVIL, "sex": "bad"})
    check(r.status in (200, 400, 422), f"a bad registration: {r.status}")
    for raw_text in ("<script>", "\"'>", "\u202e"):
        check(raw_text not in text, f"the register form echoes {raw_text!r} raw")
    check('value="&quot;&#39;&gt;&lt;script&gt;' in text,
          "the register form does not echo the name escaped in its value attribute")
    r, text = c.get("/sync")
    check('"><b onmouseover=' not in text, "/sync shows a peer's failure unescaped")
    for path in ("/person/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                 "/person/x%E2%80%AEy%0A%3Cscript%3E", "/reports/%3Cscript%3E"):
        r, text = c.get(path)
        check(r.status in (400, 403, 404) and "<script>alert" not in text and
              "\u202e" not in text and "<script>\n" not in text,
              f"GET {path}: {r.status}, the id in the path shown raw or the page found")


def test_loopback():
    for addr in ("0.0.0.0:0", "[::]:0", "192.0.2.1:0"):
        p = subprocess.run([HM, "-d", C, "ui", "--listen", addr], env=ENV, capture_output=True,
                           text=True, timeout=30)
        check(p.returncode != 0 and "loopback" in p.stderr,
              f"ui --listen {addr} without --any-address: exit {p.returncode}: {p.stderr}")


def test_per_address():
    """Served to other machines (--any-address on 0.0.0.0), one address holds at most 16
    connections: the 64 of the server are not all one attacker's (slowloris)."""
    log = os.path.join(T, "ui-any.err")
    with open(log, "w+") as err:
        p = subprocess.Popen([HM, "-d", C, "ui", "--listen", "0.0.0.0:0", "--any-address"],
                             env=ENV, stdout=subprocess.DEVNULL, stderr=err)
        port = None
        for _ in range(200):
            err.seek(0)
            m = re.search(r"serving http://0\.0\.0\.0:(\d+)/", err.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        check(port is not None, "ui --listen 0.0.0.0:0 --any-address did not start")
        if port:
            held = [socket.create_connection(("127.0.0.1", port), timeout=10)
                    for _ in range(16)]
            for s in held:
                s.sendall(b"GET /login HTTP/1.1\r\n")  # and never the rest
            time.sleep(0.3)
            status = raw(port, b"GET /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
            check(status == "", f"a 17th connection from one address: {status!r}, not closed")
            for s in held:
                s.close()
            time.sleep(0.3)
            status = raw(port, b"GET /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
            check(" 200 " in status, f"once they are closed: {status!r}, not 200")
        p.terminate()
        check(p.wait(timeout=15) == 0, "ui --any-address: not exit 0 on SIGTERM")


def test_throttle_reset(port):
    b = Client(port)
    for i in range(20):
        r, _ = b.login(f"nobody{i}", "a wrong password")
        check(r.status == 200, f"wrong password {i + 1} (another name each): {r.status}")
    time.sleep(1.2)  # the first wait (1 s) over
    d = logged_in(port, "doc1")
    r, _ = b.login("nobody20", "a wrong password")
    check(r.status == 200, f"the 21st wrong password after the wait: {r.status}")
    r, _ = b.login("nobody21", "a wrong password")
    check(r.status == 429, f"the 22nd at once, after a right password of the doctor's between: "
                           f"{r.status}, not 429 (the doctor's login reset the station's count)")
    r, _ = d.get("/today")
    check(r.status == 200, f"the doctor's session: {r.status}")


def main():
    setup()
    ui = Server(C, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    servers = [ui]
    try:
        for t in (test_session_flood, test_login_flood, test_logout, test_body_kinds,
                  test_fetch_metadata, test_account_changes, test_catalogue_header, test_low_role,
                  test_bundle_path, test_headers,
                  test_odd_requests, test_markup):
            t(ui.port)
        test_loopback()
        test_per_address()
        rc = ui.stop()
        check(rc == 0, f"ui.err: exited {rc} on SIGTERM")
        servers = [Server(C, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui2.err"))]
        test_throttle_reset(servers[0].port)
    finally:
        rc = finish("web_attack", servers)
    return rc


if __name__ == "__main__":
    sys.exit(main())
