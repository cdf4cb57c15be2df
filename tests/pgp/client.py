# client.py - replay a message into a milter the way Postfix does and rebuild what the
# MTA would deliver from the milter's replies (header changes, replaced body, recipients).
#
#   client.py PORT CLIENT-ADDR MESSAGE-FILE OUT-FILE MAIL-FROM RCPT...
#
# Prints one line per envelope change ("rcpt-add: X", "rcpt-del: X") and then
# "accept", or "refused: CODE TEXT" (then OUT-FILE is not written). OUT-FILE gets the
# rebuilt message with CRLF lines, as the MTA would queue it.
# MW_CLIENT_AUTH=USER in the environment: the client authenticated as USER ({auth_authen}).
# Like Postfix without SMFIP_HDR_LEADSPC: the blank after the colon is dropped, folds are
# bare LF; the body goes in CRLF lines and in chunks.
import os
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


def apply_change(headers, c, d):
    if c == b"h":
        name, value = d.split(b"\0")[:2]
        headers.append([name, value])
    elif c == b"i":
        idx = struct.unpack(">I", d[:4])[0]
        name, value = d[4:].split(b"\0")[:2]
        headers.insert(idx, [name, value])
    elif c == b"m":
        idx = struct.unpack(">I", d[:4])[0]
        name, value = d[4:].split(b"\0")[:2]
        n = 0
        for i, h in enumerate(headers):
            if h[0].lower() == name.lower():
                n += 1
                if n == idx:
                    if value:
                        h[1] = value
                    else:
                        del headers[i]
                    break


def run(port, addr, path, out, mail_from, *rcpts):
    headers, body = parse(path)
    s = socket.create_connection(("127.0.0.1", int(port)))
    newbody = None

    def send(cmd, data=b""):
        s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv():
        n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
        d = s.recv(n, socket.MSG_WAITALL)
        return d[:1], d[1:]

    def z(*parts):
        return b"".join(p + b"\0" for p in parts)

    def reply():
        nonlocal newbody
        while True:
            c, d = recv()
            if c in (b"h", b"i", b"m"):
                apply_change(headers, c, d)
            elif c == b"b":
                newbody = (newbody or b"") + d
            elif c == b"+":
                print("rcpt-add: " + d.rstrip(b"\0").decode())
            elif c == b"-":
                print("rcpt-del: " + d.rstrip(b"\0").decode())
            elif c in (b"q", b"p"):
                continue
            elif c in (b"y", b"r", b"t"):
                text = {b"r": "5xx", b"t": "4xx"}.get(c) or d.rstrip(b"\0").decode()
                print("refused: " + re.sub(r"\s+", " ", text))
                send(b"Q")
                sys.exit(0)
            elif c in (b"c", b"a"):
                return
            else:
                sys.exit("milter replied %r %r" % (c, d))

    send(b"O", struct.pack(">III", 6, 0x1FF, 0))
    recv()
    send(b"D", b"C" + z(b"j", b"mx.world.test"))
    send(b"C", z(b"client.example") + b"4" + struct.pack(">H", 25) + z(addr.encode()))
    reply()
    send(b"H", z(b"client.example"))
    reply()
    auth = os.environ.get("MW_CLIENT_AUTH", "").encode()
    send(b"D", b"M" + z(b"i", b"4PGP") + (z(b"{auth_authen}", auth) if auth else b""))
    send(b"M", z(b"<" + mail_from.encode() + b">"))
    reply()
    for r in rcpts:
        send(b"R", z(b"<" + r.encode() + b">"))
        reply()
    for name, value in headers:
        send(b"L", z(name, value))
        reply()
    send(b"N")
    reply()
    for i in range(0, len(body), 1000):
        send(b"B", body[i : i + 1000])
        reply()
    send(b"E")
    reply()
    send(b"Q")
    with open(out, "wb") as f:
        for name, value in headers:
            f.write(name + b": " + re.sub(rb"\r?\n", b"\r\n", value) + b"\r\n")
        f.write(b"\r\n")
        f.write(newbody if newbody is not None else body)
    print("accept")


run(*sys.argv[1:])
