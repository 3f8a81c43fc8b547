#!/usr/bin/env python3
"""wan.py - a village's link between two network namespaces, for tests/links/shaped.sh.

    wan.py NS_A ADDR_A NS_B ADDR_B CTL_DIR

Makes a TUN device in each namespace (hmwan0, ADDR_A/30 in NS_A, ADDR_B/30 in NS_B) and carries
every IP packet between them as a slow link would: serialised at RATE bits/s each way, each
packet delayed by half the round trip, a share lost at random, a queue of about two seconds
(tail drop beyond it, as a modem's buffer), and nothing at all while the link is down (packets
in flight are lost too). This is what `tc qdisc ... netem rate R delay D loss L` does; it is done
here in user space because netem is not in every kernel a CI runs (it is not in ours).

CTL_DIR/params holds the link as JSON, re-read when it changes:
    {"rate_bps": 64000, "rtt_ms": 600, "loss_pct": 5, "down": false, "seed": 1}
CTL_DIR/stats is rewritten every 0.2 s: bytes and packets delivered each way, and lost.
CTL_DIR/ready appears once both devices are up. SIGTERM ends it; the devices die with it.
Only the two addresses given, inside the two namespaces given, are ever used.
"""
import ctypes
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
DEV = "hmwan0"

libc = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
    os.close(fd)


def tun(ns, addr):
    enter(ns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", DEV.encode(), IFF_TUN | IFF_NO_PI))
    for cmd in (["ip", "link", "set", "lo", "up"],
                ["ip", "addr", "add", addr + "/30", "dev", DEV],
                ["ip", "link", "set", DEV, "up"]):
        subprocess.run(cmd, check=True)
    return fd


def main():
    ns_a, addr_a, ns_b, addr_b, ctl = sys.argv[1:6]
    fds = {"a2b": tun(ns_a, addr_a), "b2a": tun(ns_b, addr_b)}
    out = {"a2b": fds["b2a"], "b2a": fds["a2b"]}
    src = {fds["a2b"]: "a2b", fds["b2a"]: "b2a"}
    params, mtime = {}, None
    rng = random.Random(1)
    free = {"a2b": 0.0, "b2a": 0.0}  # when each direction's serialiser is free
    stats = {d: {"bytes": 0, "packets": 0, "lost": 0, "queue_drops": 0} for d in free}
    heap, seq = [], 0
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    open(os.path.join(ctl, "ready"), "w").close()
    next_ctl = 0.0
    while running[0]:
        now = time.monotonic()
        if now >= next_ctl:
            next_ctl = now + 0.2
            try:
                m = os.stat(os.path.join(ctl, "params")).st_mtime_ns
                if m != mtime:
                    mtime = m
                    with open(os.path.join(ctl, "params")) as f:
                        params = json.load(f)
                    if "seed" in params:
                        rng.seed(params["seed"])
            except (OSError, ValueError):
                pass
            tmp = os.path.join(ctl, "stats.tmp")
            with open(tmp, "w") as f:
                json.dump(stats, f)
            os.rename(tmp, os.path.join(ctl, "stats"))
        rate = float(params.get("rate_bps", 0)) or 1e9
        oneway = float(params.get("rtt_ms", 0)) / 2000.0
        loss = float(params.get("loss_pct", 0)) / 100.0
        down = bool(params.get("down", False))
        qcap = max(8192.0, rate / 8 * 2)
        wait = 0.05
        if heap:
            wait = min(wait, max(0.0, heap[0][0] - now))
        ready, _, _ = select.select(list(src), [], [], wait)
        now = time.monotonic()
        for fd in ready:
            d = src[fd]
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if down or rng.random() < loss:
                    stats[d]["lost"] += 1
                    continue
                backlog = max(0.0, free[d] - now) * rate / 8
                if backlog + len(pkt) > qcap:
                    stats[d]["queue_drops"] += 1
                    continue
                free[d] = max(now, free[d]) + len(pkt) * 8 / rate
                seq += 1
                heapq.heappush(heap, (free[d] + oneway, seq, d, pkt))
        while heap and heap[0][0] <= now:
            _, _, d, pkt = heapq.heappop(heap)
            if down:
                stats[d]["lost"] += 1
                continue
            try:
                os.write(out[d], pkt)
                stats[d]["bytes"] += len(pkt)
                stats[d]["packets"] += 1
            except OSError:
                stats[d]["lost"] += 1
    with open(os.path.join(ctl, "stats"), "w") as f:
        json.dump(stats, f)


if __name__ == "__main__":
    main()
