#!/usr/bin/env python3
"""Slow clients against a running Eckart server, and how a normal client fares meanwhile.

    python3 scripts/slowloris.py PORT SLOW_CONNECTIONS SECONDS

Opens SLOW_CONNECTIONS connections to 127.0.0.1:PORT that each send a request line and then one
header byte every 3 s, reconnecting any the server drops (as an attacker would); meanwhile one normal
client sends GET /healthz five times a second for SECONDS. Prints how many normal requests got 200,
how many failed, and their median and worst latency. With the defaults (256 connection slots, a
minimum receive rate of 500 B/s after a 2 s grace), `500 60` gives every normal request a 200.
"""
import http.client
import socket
import sys
import threading
import time

port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
REQUEST_LINE = b"GET /healthz HTTP/1.1\r\n"


def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.send(REQUEST_LINE)
    return s


slow = []
for _ in range(count):
    try:
        slow.append(connect())
    except OSError:
        pass
stopping = False


def trickle():
    while not stopping:
        for s in list(slow):
            try:
                s.send(b"X")
            except OSError:
                slow.remove(s)
        while len(slow) < count and not stopping:
            try:
                slow.append(connect())
            except OSError:
                break
        time.sleep(3)


threading.Thread(target=trickle, daemon=True).start()
ok = failed = 0
latencies = []
started = time.time()
while time.time() < started + seconds:
    t0 = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        if r.status == 200:
            ok += 1
        else:
            failed += 1
            print("status", r.status, f"at {time.time() - started:.1f} s")
    except OSError as e:
        failed += 1
        print("error", e, f"at {time.time() - started:.1f} s")
    latencies.append(time.time() - t0)
    time.sleep(0.2)
stopping = True
latencies.sort()
print(f"slow={count} normal ok={ok} failed={failed} p50={latencies[len(latencies) // 2] * 1000:.1f}ms max={latencies[-1] * 1000:.1f}ms")
