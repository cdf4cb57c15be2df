#!/bin/sh
# reload.sh - SIGHUP re-reads the configuration and the rules table without
# dropping connections; a broken table keeps the running rules; SIGTERM
# exits 0 and removes the pid file.
. "$top_srcdir/tests/policyd/lib.sh"
start_daemon

# A client that keeps one connection open across the reload: it asks, signals
# the test through a file, waits for the go-ahead file, asks again.
/usr/bin/python3 - "$SM_PORT" "$T" >"$T/held.out" <<'PY' &
import os, socket, sys, time
port, tdir = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
def ask(key):
    q = ("mailward " + key).encode()
    s.sendall(b"%d:%s," % (len(q), q))
    buf = b""
    while not buf.endswith(b","):
        chunk = s.recv(1)
        if not chunk:
            raise SystemExit("closed")
        buf += chunk
    print(buf.decode().split(":", 1)[1][:-1], flush=True)
ask("example.net")
open(tdir + "/asked", "w").close()
for _ in range(300):
    if os.path.exists(tdir + "/go"):
        break
    time.sleep(0.1)
ask("example.net")
ask("new.example")
PY
HELD=$!
i=0
while [ ! -e "$T/asked" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "held client did not ask"; sleep 0.1; done

# wait_log PATTERN: the daemon logged it (reload is asynchronous to us).
wait_log() {
    i=0
    while ! grep -q "$1" "$T/log"; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "log never showed: $1"
        sleep 0.1
    done
}

# A broken table on reload: the running rules stay.
cp "$T/rules" "$T/rules.good"
echo "example.net bogus-level" >"$T/rules"
kill -HUP "$PID"
wait_log "keeping the running configuration"
grep -q "$T/rules:1: unknown TLS level" "$T/log" || fail "reload error does not name table and line"
expect "after a failed reload" "$($CLIENT socketmap "$SM_PORT" "mailward example.net")" "OK encrypt"

# A good new table: answers change, and the open connection still works.
printf 'example.net verify\nnew.example may\n' >"$T/rules"
kill -HUP "$PID"
wait_log "reloaded $T/mw.conf"
expect "after reload" "$($CLIENT socketmap "$SM_PORT" "mailward example.net")" "OK verify"
touch "$T/go"
wait "$HELD" || fail "held connection failed across the reload"
expect "held connection" "$(cat "$T/held.out")" "$(printf '%s\n' "OK encrypt" "OK verify" "OK may")"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
expect "exit status after SIGTERM" "$rc" "0"
[ ! -e "$T/policyd.pid" ] || fail "pid file left behind"
grep -q "mailward-policyd stopped" "$T/log" || fail "no stop line"
echo "PASS: reload"
