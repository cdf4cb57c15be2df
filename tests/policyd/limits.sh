#!/bin/sh
# limits.sh - idle_timeout closes a silent connection; beyond max_connections
# new clients wait in the listen queue and are served once a slot frees.
. "$top_srcdir/tests/policyd/lib.sh"
sed -i -e 's/^idle_timeout = .*/idle_timeout = 1/' -e '/^\[policyd\]/a max_connections = 1' "$T/mw.conf"
start_daemon

out=$(/usr/bin/python3 - "$SM_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
def ask(s, key):
    q = ("mailward " + key).encode()
    s.sendall(b"%d:%s," % (len(q), q))
    buf = b""
    while not buf.endswith(b","):
        chunk = s.recv(1)
        if not chunk:
            return "closed"
        buf += chunk
    return buf.decode()
a = socket.create_connection(("127.0.0.1", port), timeout=30)
print("A", ask(a, "example.net"))
# The one slot is taken: B is queued by the kernel, its request waits.
b = socket.create_connection(("127.0.0.1", port), timeout=30)
q = b"20:mailward example.net,"
b.sendall(q)
# A goes silent: idle_timeout closes it, which frees the slot for B.
print("A idle", "closed" if a.recv(1) == b"" else "data")
buf = b""
while not buf.endswith(b","):
    buf += b.recv(1)
print("B", buf.decode())
PY
)
want=$(printf '%s\n' "A 10:OK encrypt," "A idle closed" "B 10:OK encrypt,")
expect "max_connections and idle_timeout" "$out" "$want"
grep -q "connections (max_connections): new clients wait" "$T/log" || fail "no max_connections line"
grep -q "closing connection from 127.0.0.1:[0-9]*: idle timeout" "$T/log" || fail "no idle timeout line"

# max_connections_per_client: a client address holding 3 connections has a 4th closed at
# once (EOF before any answer) while another address is served; once one of the 3 closes,
# the address is served again.
kill "$PID"
wait "$PID" || true
rm -f "$T/policyd.pid"
sed -i -e '/^max_connections = 1$/d' -e 's/^idle_timeout = .*/idle_timeout = 30/' \
    -e '/^\[policyd\]/a max_connections_per_client = 3' "$T/mw.conf"
start_daemon
out=$(/usr/bin/python3 - "$SM_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
def conn(src):
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
def ask(s):
    buf = b""
    try:  # closed at accept: EOF, or a reset when the request arrived first
        s.sendall(b"20:mailward example.net,")
        while not buf.endswith(b","):
            chunk = s.recv(100)
            if not chunk:
                return "closed"
            buf += chunk
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    return buf.decode()
three = [conn("127.0.0.1") for _ in range(3)]
print("1-3", " ".join(ask(s) for s in three))
print("4th", ask(conn("127.0.0.1")))
print("other", ask(conn("127.0.0.2")))
three.pop().close()
import time
for _ in range(50):
    r = ask(conn("127.0.0.1"))
    if r != "closed":
        break
    time.sleep(0.1)
print("after one closed", r)
PY
)
want=$(printf '%s\n' "1-3 10:OK encrypt, 10:OK encrypt, 10:OK encrypt," "4th closed" \
    "other 10:OK encrypt," "after one closed 10:OK encrypt,")
expect "max_connections_per_client" "$out" "$want"
grep -q "refusing connections from 127.0.0.1: 3 open (max_connections_per_client)" "$T/log" ||
    fail "no max_connections_per_client line"
# 1, or more if the retry above came before the daemon saw the close
n=$(metric 'mailward_policyd_refused_connections_total{service="socketmap"}')
[ "${n:-0}" -ge 1 ] 2>/dev/null || fail "refused connections metric is [$n]"
echo "PASS: limits"
