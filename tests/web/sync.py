#!/usr/bin/env python3
"""sync.py: the /sync page of a village's interface against a real hub, in English.

A county (lin) and a village (lin/east/elm, enrolled by the county), each with an account; the
county runs `serve --listen tcp://... --ui 127.0.0.1:0` (the sync server and the interface in
one process, taking turns on the node), the village `hamlet ui`. The village's clerk opens
/sync (the hub, never synced), syncs now (the hub gets the village's person, peers.state
records it), sees nothing waiting, writes a person, sees one change set waiting, writes a bundle
to a path (and is told when the file exists); the county's officer reads the county's /sync
page while the village syncs again. A sync with a hub that is down is reported, not fatal.

Environment: HAMLET_BIN, HAMLET_TEST_TMP. Exits 0 when every check passed."""
import os
import re
import sys
import threading

from webtest import Client, county_and_village, Server, check, finish, free_port, hamlet, scratch

T = scratch("web_sync")
C, V = os.path.join(T, "county"), os.path.join(T, "elm")


def setup(hub_port):
    county_and_village(C, V, T)
    hamlet(V, "peer", "add", "hub", f"tcp://127.0.0.1:{hub_port}")
    hamlet(V, "peer", "add", "down", f"tcp://127.0.0.1:{free_port()}")
    hamlet(V, "user", "add", "clerk1", "--role", "clerk", stdin="clerk's password 1\n")
    hamlet(C, "user", "add", "officer1", "--role", "officer", stdin="officer's password 1\n")
    hamlet(V, "put", "person", "p-1", "name=Li Wei")


def row(text, peer):
    """The cells of peer's row on /sync after its name: address, last exchange, sent,
    received, waiting to send, failures."""
    m = re.search(r"<tr><td>" + peer + r"</td>(.*?)</tr>", text, re.S)
    return re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S) if m else []


def sync_now(b, peer):
    return b.post("/sync/now", {"csrf": b.csrf("/sync"), "peer": peer})


def followed(b, r, what):
    """A POST answered 303 See Other to /sync?..., then the GET of it (twice: a reload
    writes nothing, peers.state unchanged). Returns the response and text of the GET."""
    r = r[0]
    loc = r.headers.get("Location") or ""
    check(r.status == 303 and loc.startswith("/sync?"), f"{what}: {r.status} to {loc!r}")
    if r.status != 303:
        return r, ""
    state = os.path.join(V, "peers.state")
    r, text = b.get(loc)
    before = open(state).read() if os.path.exists(state) else None
    b.get(loc)
    check((open(state).read() if os.path.exists(state) else None) == before,
          f"reloading {loc} changed peers.state")
    return r, text


def test_village(b):
    r, text = b.get("/sync")
    check(r.status == 200, f"GET /sync: {r.status}")
    cells = row(text, "hub")
    check(len(cells) >= 6 and "unknown" in cells[4], f"the hub before any sync: {cells}")
    r, text = followed(b, sync_now(b, "hub"), "sync now with the hub")
    check(r.status == 200 and "Synced with hub: sent 1" in text,
          f"sync now with the hub: {r.status} {re.findall(r'notice[^<]*<', text)}")
    cells = row(text, "hub")
    check(len(cells) >= 6 and cells[1] != "-" and cells[4] == "0",
          f"the hub after a sync: last exchange and nothing waiting: {cells}")
    state = os.path.join(V, "peers.state")
    check(os.path.exists(state) and re.match(r"hub \d{13} 0 0 1 0", open(state).read()),
          "peers.state does not record the sync with the hub")
    hamlet(V, "put", "person", "p-2", "name=Wang Fang")
    r, text = b.get("/sync")
    cells = row(text, "hub")
    check(len(cells) >= 6 and cells[4] == "1", f"one change set written since: {cells}")
    r, text = sync_now(b, "down")
    check(r.status == 502 and "The sync failed with down" in text,
          f"sync now with a hub that is down: {r.status}")
    r, text = sync_now(b, "nobody")
    check(r.status == 400, f"sync now with no such peer: {r.status}")


def test_bundle(b):
    path = os.path.join(T, "usb", "elm.bundle")
    os.makedirs(os.path.dirname(path))
    r, text = followed(b, b.post("/sync/bundle", {"csrf": b.csrf("/sync"), "path": path}),
                       "write a bundle")
    check(r.status == 200 and "Bundle written: " in text and os.path.exists(path),
          f"write a bundle: {r.status}")
    r, text = b.post("/sync/bundle", {"csrf": b.csrf("/sync"), "path": path})
    check(r.status == 409 and "exists already" in text, f"the bundle again: {r.status}")
    r, text = b.post("/sync/bundle", {"csrf": b.csrf("/sync"), "path": "relative.bundle"})
    check(r.status == 400, f"a bundle to a relative path: {r.status}")
    hamlet(C, "import", path)
    check("Wang Fang" not in hamlet(C, "get", "person", "p-2", "--region", "lin/east/elm"),
          "the county shows the masked name")


def test_adopt(b):
    """While "sync now" waits on a peer that never answers, another process (the daemon) saves
    the outcome of another link: the page's save keeps it (review #12, 9)."""
    import socket
    import time
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    hamlet(V, "peer", "add", "slow", f"tcp://127.0.0.1:{silent.getsockname()[1]}")
    state = os.path.join(V, "peers.state")
    out = []
    t = threading.Thread(target=lambda: out.append(sync_now(b, "slow")))
    t.start()
    time.sleep(1.5)
    lines = [ln for ln in open(state).read().splitlines() if not ln.startswith("down ")]
    lines.append(f"down 0 {int(time.time() * 1000)} 9 0 0 the daemon's own failure")
    with open(state, "w") as f:
        f.write("\n".join(lines) + "\n")
    t.join()
    silent.close()
    check(out and out[0][0].status == 502, f"sync now with a silent peer: {out and out[0][0].status}")
    down = [ln for ln in open(state).read().splitlines() if ln.startswith("down ")]
    check(down and " 9 0 0 the daemon's own failure" in down[0],
          f"sync now overwrote the daemon's outcome of another link: {down}")


def test_county_while_syncing(village, county):
    """The county's officer reads its /sync page while the village syncs with it: the web and
    the sync server of one process take turns on the node."""
    errors = []

    def read_pages():
        for _ in range(20):
            r, _ = county.get("/sync")
            if r.status != 200:
                errors.append(r.status)

    t = threading.Thread(target=read_pages)
    t.start()
    for _ in range(3):
        r, text = followed(village, sync_now(village, "hub"), "sync again")
        check(r.status == 200 and "Synced with hub" in text, f"sync again: {r.status}")
    t.join()
    check(not errors, f"the county's /sync during syncs: {errors}")


def main():
    hub_port = free_port()
    setup(hub_port)
    hub = Server(C, ["serve", "--listen", f"tcp://127.0.0.1:{hub_port}", "--every", "3600",
                     "--ui", "127.0.0.1:0"], os.path.join(T, "serve.err"))
    ui = Server(V, ["ui", "--listen", "127.0.0.1:0"], os.path.join(T, "ui.err"))
    try:
        b = Client(ui.port, lang="en")
        r, _ = b.login("clerk1", "clerk's password 1", "/sync")
        check(r.status == 303, f"the clerk's login: {r.status}")
        test_village(b)
        test_bundle(b)
        test_adopt(b)
        o = Client(hub.port, lang="en")
        r, _ = o.login("officer1", "officer's password 1", "/sync")
        check(r.status == 303, f"the officer's login at the county: {r.status}")
        test_county_while_syncing(b, o)
    finally:
        rc = finish("web_sync", [ui, hub])
    return rc


if __name__ == "__main__":
    sys.exit(main())
