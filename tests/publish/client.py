#!/usr/bin/python3
"""client.py - HTTPS clients for the publishing listener's tests (tests/publish/).

  client.py get ADDR PORT HOST CA PATH HOST-HEADER [HEADER-BYTES]
      one GET over TLS with SNI HOST and the Host header HOST-HEADER, an extra
      header of HEADER-BYTES if given;
      prints the status line (or "closed" when the server drops the connection)
  client.py slowloris ADDR PORT HOST CA SECONDS
      handshake, send half a request line, then nothing; prints how many seconds
      passed until the server closed the connection (or "open" after SECONDS)
  client.py keepalive ADDR PORT HOST CA CMD...
      GET on one connection, run CMD (e.g. a certificate reload), GET again on the
      same connection; prints both statuses and the SHA-256 of the certificate
      this connection got, then that of a new connection's certificate
"""
import hashlib
import socket
import ssl
import subprocess
import sys
import time


def connect(addr, port, host, ca):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((addr, int(port)), timeout=20)
    return ctx.wrap_socket(raw, server_hostname=host)


def request(host, path, extra=0):
    head = "GET %s HTTP/1.1\r\nHost: %s\r\n" % (path, host)
    if extra:
        head += "X-Padding: %s\r\n" % ("a" * extra)
    return (head + "\r\n").encode()


def read_response(s):
    """The status line of one response, its body read by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return "closed" if not data else data.split(b"\r\n")[0].decode()
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return lines[0]


def cert_hash(s):
    return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def main():
    cmd, addr, port, host, ca = sys.argv[1:6]
    if cmd == "get":
        s = connect(addr, port, host, ca)
        extra = int(sys.argv[8]) if len(sys.argv) > 8 else 0
        try:
            s.sendall(request(sys.argv[7], sys.argv[6], extra))
            print(read_response(s))
        except (ConnectionError, ssl.SSLError):
            print("closed")
    elif cmd == "slowloris":
        s = connect(addr, port, host, ca)
        start = time.time()
        s.sendall(b"GET /.well-known/mta")
        s.settimeout(float(sys.argv[6]))
        try:
            print("%.1f" % (time.time() - start) if not s.recv(1) else "data")
        except socket.timeout:
            print("open")
        except (ConnectionError, ssl.SSLError):
            print("%.1f" % (time.time() - start))
    elif cmd == "keepalive":
        s = connect(addr, port, host, ca)
        s.sendall(request(host, "/.well-known/mta-sts.txt"))
        first = read_response(s)
        subprocess.run(sys.argv[6:], check=True)
        s.sendall(request(host, "/.well-known/mta-sts.txt"))
        second = read_response(s)
        t = connect(addr, port, host, ca)
        print(first)
        print(second)
        print(cert_hash(s))
        print(cert_hash(t))
    else:
        sys.exit("unknown command " + cmd)


main()
