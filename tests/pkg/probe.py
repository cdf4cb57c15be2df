#!/usr/bin/python3
"""probe.py - one real request to each installed daemon (tests/pkg/install.sh):
a milter option negotiation on 127.0.0.1:8891 (the reply must be SMFIC_OPTNEG with
protocol version 6) and a Postfix policy delegation request on 127.0.0.1:10040
(the answer must be an action=DUNNO line and an empty line)."""
import socket
import struct
import sys


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise RuntimeError("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def milter():
    with socket.create_connection(("127.0.0.1", 8891), timeout=10) as s:
        body = b"O" + struct.pack("!III", 6, 0x1FF, 0x1FFFFF)
        s.sendall(struct.pack("!I", len(body)) + body)
        (length,) = struct.unpack("!I", recv_exact(s, 4))
        reply = recv_exact(s, length)
        if reply[:1] != b"O" or length < 13:
            raise RuntimeError("milter: reply %r is no option negotiation" % reply[:16])
        version, actions, protocol = struct.unpack("!III", reply[1:13])
        if version != 6:
            raise RuntimeError("milter: version %d" % version)
        s.sendall(struct.pack("!I", 1) + b"Q")
    print("milter: option negotiation: version %d actions 0x%x protocol 0x%x" % (version, actions, protocol))


def policy():
    req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
           "client_address=192.0.2.1\nclient_name=client.example.org\nhelo_name=client.example.org\n"
           "sender=alice@example.org\nrecipient=bob@example.net\nencryption_protocol=\n\n")
    with socket.create_connection(("127.0.0.1", 10040), timeout=10) as s:
        s.sendall(req.encode())
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    answer = data.decode(errors="replace")
    if not answer.startswith("action=DUNNO\n") or not answer.endswith("\n\n"):
        raise RuntimeError("policy: answer %r" % answer)
    print("policy: %s" % answer.strip())


try:
    milter()
    policy()
except Exception as e:  # noqa: BLE001 - any failure is the test's failure
    print("FAIL: %s" % e)
    sys.exit(1)
