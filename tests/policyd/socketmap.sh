#!/bin/sh
# socketmap.sh - mailward-policyd's socketmap server against real clients:
# Postfix's own postmap, pipelining, malformed frames, a stalled client.
. "$top_srcdir/tests/policyd/lib.sh"
command -v postmap >/dev/null || { echo "SKIP: postmap (postfix) missing"; exit 77; }
postfix_dir
start_daemon
MAP=socketmap:inet:127.0.0.1:$SM_PORT:mailward

q() { postmap -c "$T/postfix" -q "$1" "$MAP"; }

expect "exact rule" "$(q example.net)" "encrypt"
expect "subdomain via .example.net" "$(q mx.sub.example.net)" "secure match=nexthop:dot-nexthop"
expect "parent-domain key" "$(q .example.net)" "secure match=nexthop:dot-nexthop"
expect "exact beats parent" "$(q exact.example.com)" "dane-only"
rc=0
out=$(q nothing.example.org) || rc=$?
expect "NOTFOUND exit code" "$rc" "1"
expect "NOTFOUND output" "$out" ""

# Pipelined requests on one connection come back in request order.
out=$($CLIENT socketmap "$SM_PORT" "mailward example.net" "mailward unknown.test" \
    "mailward A.Example.NET." "mailward .example.net" "mailward example.net")
want=$(printf '%s\n' "OK encrypt" "NOTFOUND " "OK secure match=nexthop:dot-nexthop" \
    "OK secure match=nexthop:dot-nexthop" "OK encrypt")
expect "pipelined" "$out" "$want"

# Bad keys: PERM, and the same connection answers the next request.
out=$($CLIENT socketmap "$SM_PORT" "mailward bad..domain" "nokey" "mailward example.net")
case "$out" in
PERM\ *"
"PERM\ *"
OK encrypt") ;;
*) fail "bad keys: got [$out]" ;;
esac

# A broken frame (missing comma, then a leading zero) is answered PERM and the
# connection stays usable for the next, well-formed request.
out=$($CLIENT raw "$SM_PORT" '3:abcX' 1)
case "$out" in PERM\ *comma*) ;; *) fail "missing comma: got [$out]" ;; esac
out=$(/usr/bin/python3 - "$SM_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def reply():
    buf = b""
    while not buf.endswith(b","):
        buf += s.recv(1)
    return buf.decode()
s.sendall(b"5:abcdeX")        # frame broken: no comma where one must be
print(reply())
s.sendall(b"007:garbage,")    # leading zero
print(reply())
s.sendall(b"99999999:")       # longer than any request may be
print(reply())
s.sendall(b"20:mailward example.net,")
print(reply())
PY
)
echo "$out" | sed -n 1p | grep -q '^[0-9]*:PERM .*comma' || fail "broken frame: [$out]"
echo "$out" | sed -n 2p | grep -q '^[0-9]*:PERM ' || fail "leading zero: [$out]"
echo "$out" | sed -n 3p | grep -q '^[0-9]*:PERM .*longer' || fail "too long: [$out]"
expect "after broken frames" "$(echo "$out" | sed -n 4p)" "10:OK encrypt,"

# A stalled client (half a netstring, then silence) delays nobody: while it
# stays connected, another client and postmap are answered.
/usr/bin/python3 - "$SM_PORT" "$T/stalled" <<'PY' &
import socket, sys, time, os
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"20:mailward exa")
open(sys.argv[2], "w").close()
time.sleep(20)
PY
STALL=$!
i=0
while [ ! -e "$T/stalled" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "staller did not start"; sleep 0.1; done
expect "while a client stalls" "$($CLIENT socketmap "$SM_PORT" "mailward example.net")" "OK encrypt"
expect "postmap while a client stalls" "$(q example.net)" "encrypt"
kill "$STALL" 2>/dev/null || true
wait "$STALL" 2>/dev/null || true

# The metrics endpoint counted what happened above (answers by type, latency).
ok=$(metric 'mailward_policyd_socketmap_answers_total{answer="OK"}')
perm=$(metric 'mailward_policyd_socketmap_answers_total{answer="PERM"}')
count=$(metric 'mailward_policyd_request_seconds_count{service="socketmap"}')
[ "${ok:-0}" -ge 5 ] || fail "metrics: OK answers counted: [$ok]"
[ "${perm:-0}" -ge 1 ] || fail "metrics: PERM answers counted: [$perm]"
[ "${count:-0}" -ge "$((ok + perm))" ] || fail "metrics: latency count $count < answers $((ok + perm))"
[ "$(metric mailward_redis_up)" = 0 ] || fail "metrics: redis_up should be 0 with the memory cache"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
expect "exit status after SIGTERM" "$rc" "0"
[ ! -e "$T/policyd.pid" ] || fail "pid file left behind"
echo "PASS: socketmap"
