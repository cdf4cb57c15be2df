# milter-client.py - one SMTP connection replayed into a milter the way Postfix sends it,
# for the spf plugin's tests: several messages per connection, and what the milter answers.
#
#   milter-client.py HOST PORT CLIENT-ADDR HELO [--auth USER] [--raw] SENDER...
#
# CLIENT-ADDR is an IPv4 or IPv6 address; HELO "-" sends no HELO. Each SENDER ("" is the
# null sender) is one message on the connection (MAIL, RCPT, a few headers, a body, EOM).
# For each message it prints one line per header the milter inserts or adds, top first
# as the milter asked ("insert IDX NAME: VALUE" / "add NAME: VALUE", folding removed;
# with --raw the line breaks are shown as \n), then the verdict: "accept", or the reply
# ("MAIL 550 5.7.23 text" when the milter answered MAIL, "EOM 451 ..." at end of message).
import re
import socket
import struct
import sys


def main(argv):
    host, port, addr, helo = argv[:4]
    rest = argv[4:]
    auth = None
    raw = False
    while rest and rest[0].startswith("--"):
        if rest[0] == "--auth":
            auth = rest[1]
            rest = rest[2:]
        elif rest[0] == "--raw":
            raw = True
            rest = rest[1:]
        else:
            sys.exit("unknown option " + rest[0])
    s = socket.create_connection((host, int(port)))

    def send(cmd, data=b""):
        s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv():
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        d = s.recv(n, socket.MSG_WAITALL)
        return d[:1], d[1:]

    def z(*parts):
        return b"".join(p.encode() + b"\0" for p in parts)

    def show(value):
        v = value.decode()
        return v.replace("\n", "\\n") if raw else re.sub(r"\n[ \t]", " ", v)

    def reply(stage, out):
        """Read to the final answer; header changes go to out. Returns True to go on."""
        while True:
            c, d = recv()
            if c == b"i":
                idx = struct.unpack(">I", d[:4])[0]
                name, value = d[4:].split(b"\0")[:2]
                out.append("insert %d %s: %s" % (idx, name.decode(), show(value)))
            elif c == b"h":
                name, value = d.split(b"\0")[:2]
                out.append("add %s: %s" % (name.decode(), show(value)))
            elif c in (b"m", b"q"):
                continue
            elif c in (b"c", b"a"):
                return True
            elif c == b"y":
                out.append("%s %s" % (stage, d.rstrip(b"\0").decode()))
                return False
            else:
                out.append("%s %r" % (stage, c.decode()))
                return False

    send(b"O", struct.pack(">III", 6, 0x1FF, 0))
    recv()
    family = b"6" if ":" in addr else b"4"
    out = []
    send(b"D", b"C" + z("j", "mx.world.test"))
    send(b"C", z("client.example") + family + struct.pack(">H", 25) + z(addr))
    reply("CONNECT", out)
    if helo != "-":
        send(b"H", z(helo))
        reply("HELO", out)
    for n, sender in enumerate(rest, 1):
        out = []
        macros = ["i", "SPF%d" % n]
        if auth is not None:
            macros += ["{auth_type}", "PLAIN", "{auth_authen}", auth]
        send(b"D", b"M" + z(*macros))
        send(b"M", z("<%s>" % sender))
        ok = reply("MAIL", out)
        if ok:
            send(b"R", z("<bob@example.net>"))
            ok = reply("RCPT", out)
        if ok:
            hdrs = [("From", "<%s>" % (sender or "mailer-daemon@example.net")),
                    ("Subject", "message %d" % n),
                    ("Received-SPF", "pass (forged upstream) client-ip=192.0.2.1;")]
            for name, value in hdrs:
                send(b"L", z(name, value))
                ok = ok and reply("HEADER", out)
        if ok:
            send(b"N")
            ok = reply("EOH", out)
        if ok:
            send(b"B", b"Hello.\r\n")
            ok = reply("BODY", out)
        if ok:
            send(b"E")
            ok = reply("EOM", out)
            if ok:
                out.append("accept")
        print("--- %s" % (sender or "<>"))
        for line in out:
            print(line)
        sys.stdout.flush()
    send(b"Q")


main(sys.argv[1:])
