"""wait-ports.py SECONDS HOST:PORT... - wait until every TCP port accepts a connection.

Exits 0 when all do, 1 (naming the ones that do not) when SECONDS have passed.
"""
import socket
import sys
import time


def main():
    deadline = time.monotonic() + float(sys.argv[1])
    waiting = list(sys.argv[2:])
    while waiting and time.monotonic() < deadline:
        still = []
        for hp in waiting:
            host, port = hp.rsplit(":", 1)
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
            except OSError:
                still.append(hp)
        waiting = still
        if waiting:
            time.sleep(0.05)
    if waiting:
        sys.stderr.write("wait-ports: not listening: %s\n" % " ".join(waiting))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
