# client.py - replay a message file into a milter the way Postfix does, print our AR header.
#
#   client.py HOST PORT CLIENT-ADDR MESSAGE-FILE   prints the Authentication-Results value that
#                                                  the milter inserts or adds at eom (folding
#                                                  shown as " "), or "no-ar"
#   client.py HOST PORT CLIENT-ADDR MESSAGE-FILE MAIL-FROM
#                                                  the same with that envelope sender (default
#                                                  alice@valid.test); after the AR line
#                                                  "held: REASON" when the milter quarantines;
#                                                  a refusal prints only "refused: REPLY"
#   client.py b8 MESSAGE-FILE                      the first 8 characters of each
#                                                  DKIM-Signature's b=, top first
#   client.py out OUT-FILE HOST PORT CLIENT-ADDR MESSAGE-FILE [MAIL-FROM]
#                                                  the same as the second form, and writes
#                                                  the message as the MTA would pass it on:
#                                                  the milter's header insertions and
#                                                  additions applied (CRLF lines)
#
# Like Postfix without SMFIP_HDR_LEADSPC: the blanks after the colon are dropped and folded
# lines are joined with a bare LF; the body goes in CRLF lines, in small chunks, so the
# plugin has to stream it.
import re
import socket
import struct
import sys


def parse(path):
    data = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = data.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += b"\n" + line
        else:
            name, _, value = line.partition(b":")
            headers.append([name, value.lstrip(b" \t")])
    return headers, body.replace(b"\n", b"\r\n")


def b8(path):
    for name, value in parse(path)[0]:
        if name.lower() == b"dkim-signature":
            m = re.search(rb"(?:^|;)\s*b=([^;]*)", value)
            print(re.sub(rb"\s", b"", m.group(1))[:8].decode())


def write(out, headers, mods, body):
    headers = [list(h) for h in headers]
    for c, idx, name, value in mods:
        if c == b"i":
            headers.insert(min(idx, len(headers)), [name, value])
        else:
            headers.append([name, value])
    with open(out, "wb") as f:
        for name, value in headers:
            f.write(name + b": " + value.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n")
        f.write(b"\r\n" + body)


def run(host, port, addr, path, mail_from="alice@valid.test", out=None):
    held = []
    mods = []

    headers, body = parse(path)
    s = socket.create_connection((host, int(port)))

    def send(cmd, data=b""):
        s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv():
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        d = s.recv(n, socket.MSG_WAITALL)
        return d[:1], d[1:]

    def z(*parts):
        return b"".join(p + b"\0" for p in parts)

    def reply():
        ar = None
        while True:
            c, d = recv()
            if c in (b"i", b"h"):  # insert (with its index) or add a header
                name, value = (d[4:] if c == b"i" else d).split(b"\0")[:2]
                idx = struct.unpack(">I", d[:4])[0] if c == b"i" else 0
                mods.append((c, idx, name, value))
                if name == b"Authentication-Results":
                    ar = value
                continue
            if c == b"m":
                continue
            if c == b"q":  # quarantine, with its reason
                held.append(d.rstrip(b"\0").decode())
                continue
            if c in (b"y", b"r", b"t"):  # reply code, reject, tempfail
                text = {b"r": "5xx", b"t": "4xx"}.get(c) or d.rstrip(b"\0").decode()
                print("refused: " + re.sub(r"\s+", " ", text))
                send(b"Q")
                sys.exit(0)
            if c != b"c" and c != b"a":
                sys.exit("milter replied %r %r" % (c, d))
            return ar

    send(b"O", struct.pack(">III", 6, 0x1FF, 0))
    recv()
    send(b"D", b"C" + z(b"j", b"mx.world.test"))
    send(b"C", z(b"client.example") + b"4" + struct.pack(">H", 25) + z(addr.encode()))
    reply()
    send(b"H", z(b"client.example"))
    reply()
    send(b"D", b"M" + z(b"i", b"4DKIM"))
    send(b"M", z(b"<" + mail_from.encode() + b">"))
    reply()
    send(b"R", z(b"<bob@example.net>"))
    reply()
    for name, value in headers:
        send(b"L", z(name, value))
        reply()
    send(b"N")
    reply()
    for i in range(0, len(body), 7):
        send(b"B", body[i : i + 7])
        reply()
    send(b"E")
    ar = reply()
    send(b"Q")
    print(re.sub(r"\s+", " ", ar.decode()) if ar is not None else "no-ar")
    if out is not None:
        write(out, headers, mods, body)
    for reason in held:
        print("held: " + reason)


if sys.argv[1] == "b8":
    b8(sys.argv[2])
elif sys.argv[1] == "out":
    run(*sys.argv[3:8], out=sys.argv[2]) if len(sys.argv) > 7 else run(*sys.argv[3:7], out=sys.argv[2])
else:
    run(*sys.argv[1:6])
