#!/bin/sh
# badinput.sh - hostile socketmap clients against the real mailward-policyd: requests
# split into single bytes, absurd and overflowing lengths, missing names and keys,
# NUL and high bytes in keys, a megabyte of random garbage, a thousand pipelined
# requests, clients that vanish mid-frame. Each gets PERM (or, for garbage that
# cannot be resynchronised, PERM and then whatever follows) or a closed connection;
# never a crash. Throughout, a well-behaved client on its own connection keeps
# asking and must get every answer right, and the daemon must exit 0 on SIGTERM.
# (socketmap.sh has the basic malformed frames and the stalled client.)
. "$top_srcdir/tests/policyd/lib.sh"
start_daemon

$PY - "$SM_PORT" "$T/badinput.out" <<'PY' || fail "hostile clients: $(cat "$T/badinput.out" 2>/dev/null)"
import os, random, socket, sys, threading, time

port = int(sys.argv[1])
out = open(sys.argv[2], "w")
problems = []


def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def reply(self):
        """One reply netstring's payload, or None when the server closed."""
        while True:
            head, sep, rest = self.buf.partition(b":")
            if sep:
                n = int(head)
                if len(rest) > n:
                    if rest[n:n + 1] != b",":
                        raise AssertionError("reply without comma: %r" % self.buf)
                    self.buf = rest[n + 1:]
                    return rest[:n].decode()
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk


def check(what, got, prefix):
    ok = got is not None and got.startswith(prefix)
    out.write("%s %s: %r\n" % ("ok" if ok else "BAD", what, got))
    if not ok:
        problems.append(what)


# A well-behaved client asking all the time on its own connection.
stop = threading.Event()
good = {"asked": 0, "wrong": 0}


def good_client():
    s = conn()
    r = Reader(s)
    while not stop.is_set():
        s.sendall(ns(b"mailward example.net") + ns(b"mailward nothing.example"))
        a, b = r.reply(), r.reply()
        good["asked"] += 2
        if a != "OK encrypt" or b != "NOTFOUND ":
            good["wrong"] += 1
            out.write("BAD good client got %r %r\n" % (a, b))
        time.sleep(0.01)
    s.close()


t = threading.Thread(target=good_client)
t.start()

# 1. A request split into single bytes, with pauses: answered as if sent at once.
s = conn()
r = Reader(s)
for byte in ns(b"mailward Example.NET."):
    s.sendall(bytes([byte]))
    time.sleep(0.005)
check("byte by byte", r.reply(), "OK encrypt")
# ... and two requests split across writes at odd places.
data = ns(b"mailward example.net") + ns(b"mailward x.example.net")
s.sendall(data[:3]); time.sleep(0.05)
s.sendall(data[3:25]); time.sleep(0.05)
s.sendall(data[25:])
check("split pipeline 1", r.reply(), "OK encrypt")
check("split pipeline 2", r.reply(), "OK secure match=nexthop:dot-nexthop")
s.close()

# 2. Absurd lengths: PERM, and the connection still answers a good request.
for bad in (b"99999999999999999999:", b"18446744073709551617:x,", b"4294967296:",
            b"-1:x,", b":x,", b"abc:", b"0x10:", b" 5:hello,", b"10001:"):
    s = conn()
    r = Reader(s)
    s.sendall(bad)
    check("length %r" % bad, r.reply(), "PERM ")
    s.sendall(ns(b"mailward example.net"))
    check("after length %r" % bad, r.reply(), "OK encrypt")
    s.close()

# 3. Missing name or key, empty frames, NUL and high bytes, overlong labels: PERM each,
#    all on one connection, answered in order, then a good request.
s = conn()
r = Reader(s)
bad = [b"", b"mailward", b"mailward ", b" example.net", b"mailward  ",
       b"mailward ex\x00ample.net", b"mailward \xff\xfe\xfd", b"mailward \x00",
       b"mailward example.net\x00", b"mailward exa mple.net", b"mailward example.net\n",
       b"mailward " + b"a" * 64 + b".example", b"mailward " + b"a." * 130 + b"net",
       b"mailward ..", b"mailward .", b"\x00\x00\x00\x00", bytes(range(256))]
s.sendall(b"".join(ns(b) for b in bad) + ns(b"mailward example.net"))
for b in bad:
    check("key %r" % b[:40], r.reply(), "PERM ")
check("after bad keys", r.reply(), "OK encrypt")
# Explicit next-hops (transport table) name no domain policy: NOTFOUND, once well formed.
hops = [b"[mx.example.net]:587", b"example.net:submission", b"[192.0.2.1]", b"[192.0.2.1]:25",
        b"[ipv6:2001:db8::1]:25", b"[2001:db8::1]"]
badhops = [b"[mx.example.net", b"[]", b"[]:25", b"[x.example]y", b"example.net:", b":25",
           b"[mx..example]:25", b"[192.0.2.1]:25:26", b"[ipv6:192.0.2.1]", b"a:b:c",
           b"[mx.example.net]:5\x0087", b"[mx.ex\x00ample.net]:25"]
s.sendall(b"".join(ns(b"mailward " + h) for h in hops + badhops))
for h in hops:
    check("next-hop %r" % h, r.reply(), "NOTFOUND ")
for h in badhops:
    check("bad next-hop %r" % h, r.reply(), "PERM ")
s.close()

# 4. A megabyte of random garbage: PERM and/or a closed connection, never a hang.
rnd = random.Random(7261)
for i in range(3):
    s = conn()
    r = Reader(s)
    try:
        s.sendall(bytes(rnd.getrandbits(8) for _ in range(1 << 20)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        got = r.reply()
    except (ConnectionResetError, socket.timeout) as e:
        got = None
        if isinstance(e, socket.timeout):
            problems.append("garbage %d: no answer, no close" % i)
    out.write("ok garbage %d: %r\n" % (i, got))
    if got is not None and not got.startswith("PERM "):
        problems.append("garbage %d answered %r" % (i, got))
    s.close()

# 5. Clients that vanish mid-frame, mid-pipeline and without reading their answers.
for i in range(50):
    s = conn()
    s.sendall(ns(b"mailward example.net") * 10 + b"20:mailward exa")
    s.close()

# 6. A thousand pipelined requests in one write: every answer, in order.
s = conn()
r = Reader(s)
keys = [b"mailward example.net", b"mailward a.example.net", b"mailward none.example"]
want = ["OK encrypt", "OK secure match=nexthop:dot-nexthop", "NOTFOUND "]
s.sendall(b"".join(ns(keys[i % 3]) for i in range(1000)))
wrong = sum(1 for i in range(1000) if r.reply() != want[i % 3])
out.write("%s 1000 pipelined: %d wrong\n" % ("ok" if wrong == 0 else "BAD", wrong))
if wrong:
    problems.append("pipeline")
s.close()

stop.set()
t.join()
out.write("good client: %d answers, %d wrong\n" % (good["asked"], good["wrong"]))
if good["wrong"] or good["asked"] < 10:
    problems.append("good client")
out.close()
sys.exit(1 if problems else 0)
PY
cat "$T/badinput.out"
grep -q '^BAD' "$T/badinput.out" && fail "some hostile input was mishandled"

# Still alive and serving; Postfix's client agrees; clean exit.
kill -0 "$PID" || fail "the daemon died"
postfix_dir
command -v postmap >/dev/null &&
    expect "postmap after the storm" "$(postmap -c "$T/postfix" -q example.net "socketmap:inet:127.0.0.1:$SM_PORT:mailward")" encrypt
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
expect "exit status after SIGTERM" "$rc" "0"
! grep -Eq 'Sanitizer|runtime error' "$T/log" || fail "sanitizer report in the daemon log"
echo "PASS: hostile socketmap input"
