#!/bin/sh
# policyd-conns.sh - mailward-policyd with 10,000 idle socketmap connections (from ten
# loopback addresses, 1000 each: max_connections_per_client) and a client
# sending its request one byte per second: 300 lookups on new connections meanwhile are
# answered, each within 2 s; the slow client is cut off at request_timeout (its request
# still incomplete); every idle connection still answers; once the clients hang up the
# daemon's descriptors go back to where they were.
. "$top_srcdir/tests/policyd/lib.sh"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 10100 ] || { echo "SKIP: RLIMIT_NOFILE below 10100"; exit 77; }
sed -i -e 's/^idle_timeout = .*/idle_timeout = 300/' -e 's/^request_timeout = .*/request_timeout = 4/' "$T/mw.conf"
start_daemon
fds0=$(ls /proc/$PID/fd | wc -l)
out=$($PY - "$SM_PORT" "$PID" <<'PY'
import os, socket, sys, threading, time
port, pid = int(sys.argv[1]), sys.argv[2]
def fds():
    return len(os.listdir("/proc/%s/fd" % pid))
idle = []
t_start = time.monotonic()
for i in range(10000):
    # From ten loopback addresses: one address gets max_connections_per_client (1000).
    idle.append(socket.create_connection(("127.0.0.1", port), timeout=30,
                                         source_address=("127.0.0.%d" % (10 + i % 10), 0)))
deadline = time.monotonic() + 90
while fds() < 10000 and time.monotonic() < deadline:
    time.sleep(0.2)
print("open", fds(), "after %.1f s" % (time.monotonic() - t_start), file=sys.stderr)
print("open", fds() >= 10000)
# The slow client: one byte per second of "20:mailward example.net,".
slow_res = []
def slow():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    t0 = time.monotonic()
    try:
        for b in b"20:mailward example.net,":
            s.sendall(bytes([b]))
            time.sleep(1)
        s.settimeout(10)
        slow_res.append("answered" if s.recv(100) else "cut")
    except OSError:
        slow_res.append("cut after %.0f s" % (time.monotonic() - t0))
    s.close()
th = threading.Thread(target=slow)
th.start()
worst = 0.0
answers = set()
for i in range(300):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"20:mailward example.net,")
    buf = b""
    while not buf.endswith(b","):
        chunk = s.recv(100)
        if not chunk:
            break
        buf += chunk
    s.close()
    answers.add(buf.decode())
    worst = max(worst, time.monotonic() - t0)
    time.sleep(0.02)
print("answers", sorted(answers))
print("prompt", worst < 2.0, "%.3f" % worst, file=sys.stderr)
th.join()
print("slow", slow_res[0].split(" after")[0])
# Still open (idle_timeout is 300 s here; tests/policyd/limits.sh proves it closes):
# every idle connection answers a lookup, then the clients hang up.
closed = 0
for s in idle:
    s.sendall(b"20:mailward example.net,")
for s in idle:
    if s.recv(100) == b"10:OK encrypt,":
        closed += 1
    s.close()
print("idle answered", closed)
PY
) || fail "the client failed: $out"
want=$(printf '%s\n' "open True" "answers ['10:OK encrypt,']" "slow cut" "idle answered 10000")
[ "$out" = "$want" ] || fail "got [$out], want [$want]"
grep -q 'request incomplete after 4 s (request_timeout)' "$T/log" || fail "no log line for the slow client"
i=0
while fds1=$(ls /proc/$PID/fd | wc -l) && [ "$fds1" -gt $((fds0 + 2)) ] && [ $i -lt 60 ]; do
    i=$((i + 1))
    sleep 0.5
done
[ "$fds1" -le $((fds0 + 2)) ] || fail "$fds1 descriptors open after, $fds0 before"
kill -0 "$PID" || fail "the daemon is gone"
echo "PASS: 10,000 idle connections and a slow client"
