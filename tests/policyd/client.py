"""client.py - socketmap and policy delegation clients for the policyd tests.

  client.py socketmap PORT REQUEST...   send the requests pipelined (one write),
                                        print each reply netstring's payload on a line
  client.py raw PORT BYTES N            send BYTES (Python escapes), print N replies
  client.py policy PORT ATTR=VALUE...   one delegation request, print the reply lines
"""
import socket
import sys


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    return s


def netstring(payload):
    data = payload.encode()
    return str(len(data)).encode() + b":" + data + b","


class Reader:
    """Reads netstrings from a socket, strictly."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed by the server")
        self.buf += chunk

    def netstring(self):
        while b":" not in self.buf:
            self.fill()
        head, _, _ = self.buf.partition(b":")
        n = int(head)
        need = len(head) + 1 + n + 1
        while len(self.buf) < need:
            self.fill()
        if self.buf[need - 1:need] != b",":
            raise SystemExit("reply netstring without comma: %r" % self.buf)
        payload = self.buf[len(head) + 1:need - 1]
        self.buf = self.buf[need:]
        return payload.decode()

    def until(self, marker):
        while marker not in self.buf:
            self.fill()
        head, _, self.buf = self.buf.partition(marker)
        return head.decode()


def main(argv):
    mode, port = argv[1], argv[2]
    s = connect(port)
    r = Reader(s)
    if mode == "socketmap":
        s.sendall(b"".join(netstring(q) for q in argv[3:]))
        for _ in argv[3:]:
            print(r.netstring())
    elif mode == "raw":
        s.sendall(argv[3].encode().decode("unicode_escape").encode("latin-1"))
        for _ in range(int(argv[4])):
            print(r.netstring())
    elif mode == "policy":
        s.sendall(("\n".join(argv[3:]) + "\n\n").encode())
        print(r.until(b"\n\n"))
    s.close()


if __name__ == "__main__":
    main(sys.argv)
