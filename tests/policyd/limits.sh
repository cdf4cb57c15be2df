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
echo "PASS: limits"
