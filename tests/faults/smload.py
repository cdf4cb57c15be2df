#!/usr/bin/python3
"""smload.py - socketmap load for the fault tests: CONNS connections ask KEYS in turn
for SECONDS and check every answer against what KEY may be answered.

    smload.py PORT SECONDS CONNS KEY=REGEX [KEY=REGEX...]

REGEX must match the whole reply (without the netstring frame). A connection that is
closed or times out (10 s, or $SMLOAD_TIMEOUT) counts as an error and is opened again.
Prints one line per KEY and answer with its count, then "wrong N errors N answers N"; exits 1 on any wrong
answer or connection error.
"""
import os
import re
import socket
import sys
import threading
import time


def ask(sock, key):
    q = ("mailward " + key).encode()
    sock.sendall(b"%d:%s," % (len(q), q))
    buf = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by the server")
        buf += chunk
        head, sep, rest = buf.partition(b":")
        if sep and head.isdigit() and len(rest) >= int(head) + 1:
            n = int(head)
            if rest[n:n + 1] != b",":
                raise ConnectionError("bad netstring %r" % buf)
            return rest[:n].decode("utf-8", "replace")


def worker(port, until, cases, stats, lock, idx):
    sock = None
    i = idx
    while time.monotonic() < until:
        key, rx = cases[i % len(cases)]
        i += 1
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port),
                                                timeout=float(os.environ.get("SMLOAD_TIMEOUT", "10")))
            got = ask(sock, key)
        except (OSError, ConnectionError) as e:
            with lock:
                stats["errors"] += 1
                stats["seen"][(key, "error: %s" % e)] = stats["seen"].get((key, "error: %s" % e), 0) + 1
            if sock is not None:
                sock.close()
            sock = None
            time.sleep(0.1)
            continue
        with lock:
            stats["answers"] += 1
            if not rx.fullmatch(got):
                stats["wrong"] += 1
            stats["seen"][(key, got)] = stats["seen"].get((key, got), 0) + 1
    if sock is not None:
        sock.close()


def main():
    port, seconds, conns = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    cases = []
    for arg in sys.argv[4:]:
        key, _, rx = arg.partition("=")
        cases.append((key, re.compile(rx)))
    stats = {"wrong": 0, "errors": 0, "answers": 0, "seen": {}}
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(port, until, cases, stats, lock, n))
               for n in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (key, got), n in sorted(stats["seen"].items()):
        print("%s [%s] %d" % (key, got, n))
    print("wrong %d errors %d answers %d" % (stats["wrong"], stats["errors"], stats["answers"]))
    sys.exit(1 if stats["wrong"] or stats["errors"] or not stats["answers"] else 0)


main()
