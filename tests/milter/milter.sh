#!/bin/sh
# milter.sh - mailward-milter end to end: the real daemon with the probe test
# plugin, driven by miltertest (tests/milter/*.lua) and, where miltertest
# cannot tell (which header index was deleted, the reply text), by a small
# MTA-side milter protocol client in Python below.
set -u
command -v miltertest >/dev/null 2>&1 || { echo "miltertest not installed"; exit 77; }
: "${top_builddir:?}" "${top_srcdir:?}"

MILTER=$top_builddir/milter/mailward-milter
PLUGDIR=$top_builddir/tests/plugins/.libs
LUA=$top_srcdir/tests/milter
T=$(mktemp -d)
PID=
ARID=mx.test.example

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID"; fi
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    echo "--- milter stderr:"
    cat "$T/err.log" 2>/dev/null
    exit 1
}

# write_conf FILE [PROBE-LINES...]
write_conf() {
    f=$1
    shift
    cat >"$f" <<EOF
[general]
user =
plugin_dir = $PLUGDIR
metrics_listen =
[milter]
socket = unix:$T/sock
authserv_id = $ARID
internal_hosts = 127.0.0.1/32 ::1/128
plugins = probe
pid_file = $T/run/milter.pid
drain_timeout = 10
[probe]
EOF
    for l in "$@"; do echo "$l" >>"$f"; done
}

# wait_log PATTERN: until the daemon's stderr has a line matching PATTERN (at most 10 s).
wait_log() {
    i=0
    until grep -q -e "$1" "$T/err.log"; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "no log line matching: $1"
        sleep 0.05
    done
}

mt() {
    miltertest -D SOCK="unix:$T/sock" -D ARID=$ARID "$@" >"$T/mt.out" 2>&1 ||
        { cat "$T/mt.out"; fail "miltertest $*"; }
}

# The raw protocol client: prints every modification and reply, one per line.
cat >"$T/client.py" <<'PY'
import socket, struct, sys
sock, addr, auth, stop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
def send(cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)
def recv():
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    d = s.recv(n, socket.MSG_WAITALL)
    return d[:1], d[1:]
def z(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)
def reply(stage):
    while True:
        c, d = recv()
        if c in (b"h", b"i", b"m"):
            if c != b"h":
                idx, d = struct.unpack(">I", d[:4])[0], d[4:]
            name, value = d.split(b"\0")[:2]
            op = {b"h": "add", b"i": "insert %d" % (idx if c != b"h" else 0),
                  b"m": "change %d" % (idx if c != b"h" else 0)}[c]
            print("%s %s %s %r" % (stage, op, name.decode(), value.decode()))
            continue
        print(("%s reply %s %s" % (stage, c.decode(), d.rstrip(b"\0").decode())).rstrip())
        return c
send(b"O", struct.pack(">III", 6, 0x1FF, 0))
recv()
send(b"D", b"C" + z("j", "mx.test.example"))
send(b"C", z("client.test.example") + b"4" + struct.pack(">H", 25) + z(addr))
if reply("connect") != b"c": sys.exit(0)
send(b"H", z("client.test.example"))
if reply("helo") != b"c": sys.exit(0)
macros = ["i", "4RAW"] + (["{auth_authen}", auth] if auth != "-" else [])
send(b"D", b"M" + z(*macros))
send(b"M", z("<alice@example.org>"))
if reply("mail") != b"c" or stop == "mail": sys.exit(0)
send(b"R", z("<bob@example.net>"))
if reply("rcpt") != b"c": sys.exit(0)
for name, value in [("From", "alice@example.org"),
                    ("Authentication-Results", "mx.test.example; spf=pass"),
                    ("Authentication-Results", "other.example; spf=fail"),
                    ("Authentication-Results", "(x (y)) \"MX.Test.Example\" 1; dkim=pass"),
                    ("Authentication-Results", "mx.test.example.evil; spf=pass")]:
    send(b"L", z(name, value))
    if reply("header") != b"c": sys.exit(0)
send(b"N")
reply("eoh")
send(b"B", b"body\r\n")
reply("body")
send(b"E")
reply("eom")
send(b"Q")
PY

# 1. -n: an unknown key in a plugin section is a configuration error naming FILE:LINE.
write_conf "$T/bad.conf" "verdict = reject" "colour = blue"
"$MILTER" -n -c "$T/bad.conf" >"$T/n.out" 2>&1
rc=$?
[ $rc -eq 78 ] || { cat "$T/n.out"; fail "-n with an unknown key exited $rc, not 78"; }
line=$(grep -n '^colour' "$T/bad.conf" | cut -d: -f1)
grep -q "bad.conf:$line: .*colour" "$T/n.out" || { cat "$T/n.out"; fail "-n did not name bad.conf:$line"; }
write_conf "$T/ok.conf" "verdict = continue"
"$MILTER" -n -c "$T/ok.conf" >"$T/n.out" 2>&1 || { cat "$T/n.out"; fail "-n rejected a good file"; }

# 2. Start the daemon in the foreground (logs to stderr).
write_conf "$T/m.conf"
"$MILTER" -f -c "$T/m.conf" 2>"$T/err.log" &
PID=$!
i=0
until [ -S "$T/sock" ] && [ -s "$T/run/milter.pid" ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && fail "the milter did not start"
    kill -0 $PID 2>/dev/null || fail "the milter exited at start"
    sleep 0.05
done
[ "$(cat "$T/run/milter.pid")" = "$PID" ] || fail "pid file does not hold $PID"

# 3. Inbound: one AR header on top, forged ones deleted, foreign kept, per-message log line.
#    The raw client sends AR headers #1 ours, #2 foreign, #3 ours (odd case, comments,
#    quoted, version), #4 a longer name: exactly #3 and #1 go, highest first.
mt -D ADDR=192.0.2.1 -D DIR=inbound -D FORGED=1 -s "$LUA/message.lua"
grep -q "4ABCDEF: inbound client=client.test.example\[192.0.2.1\] from=<alice@example.org> probe=pass body=14 headers=5 action=accept" "$T/err.log" ||
    fail "no per-message log line for the inbound message"
python3 "$T/client.py" "$T/sock" 192.0.2.1 - eom >"$T/raw.out" || fail "raw client failed"
cat >"$T/raw.want" <<EOF
eom add X-Mailward-Probe 'inbound'
eom change 3 Authentication-Results ''
eom change 1 Authentication-Results ''
eom insert 0 Authentication-Results '$ARID;\n\tx-probe=pass smtp.mailfrom=alice@example.org'
eom reply c
EOF
grep '^eom' "$T/raw.out" | diff -u "$T/raw.want" - || fail "wrong changes at end of message"

# 4. Direction: internal_hosts and SMTP AUTH are outbound.
mt -D ADDR=127.0.0.1 -D DIR=outbound -s "$LUA/message.lua"
mt -D ADDR=192.0.2.1 -D AUTH=alice -D DIR=outbound -s "$LUA/message.lua"
grep -q "4ABCDEF: outbound client=client.test.example\[192.0.2.1\]" "$T/err.log" ||
    fail "SMTP AUTH message not logged as outbound"

# 5. A burst of 100000 SIGHUPs (the kernel merges most): none stops the filter. One
#    arriving while the main thread's handler ran used to reach libmilter's own signal
#    thread, which stopped the filter (milter/sigwait.c).
/usr/bin/python3 -c '
import os, signal, sys
for _ in range(100000):
    os.kill(int(sys.argv[1]), signal.SIGHUP)
' $PID || fail "the milter went away during the SIGHUP burst"
wait_log "reload: configuration .* in use"
sleep 1
kill -0 $PID 2>/dev/null || fail "the milter died on SIGHUP"
grep -q "stopped unexpectedly" "$T/err.log" && fail "libmilter stopped on a SIGHUP"
kill -0 $PID 2>/dev/null || fail "the milter died on SIGHUP"
mt -D ADDR=192.0.2.1 -D DIR=inbound -s "$LUA/message.lua"

# 6. Reload applies a new [probe] setting: reject at MAIL with the configured text.
write_conf "$T/m.conf" "verdict = reject" "stage = mail" "reason = no mail from you today"
kill -HUP $PID
i=0
until python3 "$T/client.py" "$T/sock" 192.0.2.1 - mail >"$T/raw.out" &&
    grep -q "^mail reply y 550 5.7.1 no mail from you today$" "$T/raw.out"; do
    i=$((i + 1))
    [ $i -gt 100 ] && { cat "$T/raw.out"; fail "no 550 reply with the reason after reload"; }
    sleep 0.1
done
mt -s "$LUA/reject.lua"
grep -q "4REJECT: inbound client=.* from=<alice@example.org> probe=reject plugin=probe action=reject" \
    "$T/err.log" || fail "reject not logged"

# 7. A broken file on reload is refused and the running configuration stays.
write_conf "$T/m.conf" "verdict = maybe"
kill -HUP $PID
wait_log "has errors; keeping the running configuration"
python3 "$T/client.py" "$T/sock" 192.0.2.1 - mail >"$T/raw.out" || fail "raw client failed"
grep -q "^mail reply y 550" "$T/raw.out" || fail "configuration lost after a refused reload"

# 8. SIGTERM: exit 0, pid file removed.
kill -TERM $PID
wait $PID
rc=$?
PID=
[ $rc -eq 0 ] || fail "SIGTERM exit status $rc"
[ ! -e "$T/run/milter.pid" ] || fail "pid file left behind"
grep -q "stopped" "$T/err.log" || fail "no stop message"
echo "PASS"
exit 0
