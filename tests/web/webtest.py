"""webtest.py: what the tests of tests/web share: the checks, `hamlet` run on a node folder,
`hamlet ui` (or `serve --ui`) started on a port the kernel picks, and a browser (Client) whose
every response is checked for the security headers.

Environment: HAMLET_BIN (the binary), HAMLET_TEST_TMP (a scratch folder)."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import urlencode

HM = os.environ["HAMLET_BIN"]
ENV = dict(os.environ, HAMLET_PASSPHRASE="web test passphrase")
for _k in ("HAMLET_DIR", "HAMLET_CLOCK_OFFSET_MS"):
    ENV.pop(_k, None)
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
failures = []
checks = [0]


def scratch(name):
    """A fresh folder for the test name."""
    t = os.path.join(os.environ.get("HAMLET_TEST_TMP", "/tmp/hamlet-test"), name)
    shutil.rmtree(t, ignore_errors=True)
    os.makedirs(t)
    return t


def check(cond, what):
    checks[0] += 1
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)


def hamlet(node, *args, stdin=None):
    """hamlet -d node ARGS: its stdout; the test stops if it fails."""
    r = subprocess.run([HM, "-d", node, *args], input=stdin, env=ENV, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"hamlet -d {node} {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def county_and_village(county, village, scratch_dir):
    """A county node (region lin) and its village Elm (lin/east/elm), the village enrolled by the
    county (request, sign, accept): the pair most web tests start from. Returns the county's
    root key (hex)."""
    hamlet(county, "init", "--role", "county", "--region", "lin", "--name", "County")
    hamlet(village, "init", "--role", "village", "--region", "lin/east/elm", "--name", "Elm")
    root = json.loads(hamlet(county, "status", "--json"))["root"]
    req, ans = os.path.join(scratch_dir, "elm.req"), os.path.join(scratch_dir, "elm.ans")
    hamlet(village, "enroll", "request", "-o", req)
    hamlet(county, "enroll", "sign", req, "-o", ans)
    hamlet(village, "enroll", "accept", ans, "--root", root)
    return root


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """hamlet -d node ARGS (ui, or serve --ui) until stop(); port: the interface's."""

    def __init__(self, node, args, log):
        self.log = log
        self.err = open(log, "w+")
        self.p = subprocess.Popen([HM, "-d", node, *args], env=ENV, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        self.port = None
        for _ in range(200):
            self.err.seek(0)
            m = re.search(r"hamlet: ui: serving http://127\.0\.0\.1:(\d+)/", self.err.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        self.err.seek(0)
        sys.exit(f"hamlet {' '.join(args)} did not start: {self.err.read()}")

    def stop(self):
        """SIGTERM; its exit status (checked 0 by the caller)."""
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -1

    def text(self):
        with open(self.log) as f:
            return f.read()


class Client:
    """One browser: its cookie jar, every response checked for the security headers."""

    def __init__(self, port, lang=None):
        self.port = port
        self.cookies = {"hamlet_lang": lang} if lang else {}

    def request(self, method, path, body=None, host=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
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
            if "Max-Age=0" in v:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";")[0]
        check(r.headers.get("Content-Security-Policy") == CSP,
              f"{method} {path} ({r.status}): the CSP is missing or not the strict one")
        check(r.headers.get("X-Content-Type-Options") == "nosniff",
              f"{method} {path}: no X-Content-Type-Options nosniff")
        return r, text

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, **kw):
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


def finish(name, servers):
    """Stop the servers (each must exit 0), print their logs on failure; the exit status."""
    for s in servers:
        rc = s.stop()
        check(rc == 0, f"{s.log}: exited {rc} on SIGTERM")
    if failures:
        for s in servers:
            print(f"{s.log}:\n{s.text()}")
    print(f"{name}: {checks[0]} checks, {len(failures)} failed")
    return 1 if failures else 0
