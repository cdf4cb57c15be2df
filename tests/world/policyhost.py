"""policyhost.py ADDRESS PORT HOSTS-LIST PKI-DIR - the MTA-STS policy hosts of the test world.

One HTTPS server for every policy host of policy-hosts.list (they all resolve to
ADDRESS). The host name (SNI, then the Host header) picks the line, and the line's
BEHAVIOUR picks how the server (mis)behaves, so a policy fetcher meets every kind of
broken server a real one meets: see policy-hosts.list for the list. The certificate is
PKI-DIR/policyhost.chain (test CA, every well-behaved name) or, for "wrongcert" hosts,
PKI-DIR/policyhost-wrong.chain (test CA, wrong-name.invalid). Every request is logged to
stderr as "host path status", so tests can see whether a fetch happened. "file" hosts
serve PKI-DIR/../sts-policy/DOMAIN as it is at the time of the request (404 while it is
absent), so a test can change or break a policy while a daemon holds it; a file that
reads "@BEHAVIOUR" makes the host behave as BEHAVIOUR instead (tests/faults/).
"""
import http.server
import os
import socket
import socketserver
import struct
import ssl
import sys
import time

PATH = "/.well-known/mta-sts.txt"


def load_hosts(path):
    hosts = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            hosts["mta-sts." + words[0]] = words[1:]
    return hosts


def policy(words):
    mode = words[1] if len(words) > 1 else "enforce"
    text = "version: STSv1\r\nmode: %s\r\n" % mode
    for mx in words[2:]:
        text += "mx: %s\r\n" % mx
    return (text + "max_age: 86400\r\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.headers.get("Host", "-") if self.headers else "-", fmt % args))
        sys.stderr.flush()

    def reply(self, status, body, ctype="text/plain", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower().rstrip(".")
        words = self.server.hosts.get(host)
        if words is None or self.path != PATH:
            return self.reply(404, b"no such policy\n")
        how = words[0]
        body = policy(words)
        if how == "file":
            how = self.file_behaviour(host) or how
        if how in ("ok", "wrongcert", "notxt"):
            self.reply(200, body)
        elif how == "redirect":
            self.reply(301, b"", extra={"Location": "https://mta-sts.enforce.sts.test" + PATH})
        elif how == "ctype":
            self.reply(200, body, ctype="text/html")
        elif how == "oversized":
            self.reply(200, body + b"#" * (128 * 1024 - len(body)))
        elif how == "slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
        elif how == "notfound":
            self.reply(404, b"not found\n")
        elif how == "file":
            try:
                with open(os.path.join(self.server.policies, host[len("mta-sts."):]), "rb") as f:
                    self.reply(200, f.read())
            except FileNotFoundError:
                self.reply(404, b"no policy file\n")
        elif how == "garbage":
            self.reply(200, b"\x00\xff<html>version: STSv2\nmode: maybe\n\x1b[0m\xc3(")
        elif how == "reset":
            # RST instead of an answer: SO_LINGER with a zero timeout, then close.
            self.log_request("RST")
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif how == "endless":
            # 200 without a length, then policy-like lines until the client hangs up.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(body)
                while True:
                    self.wfile.write(b"mx: endless.example\r\n" * 512)
            except OSError:
                pass
        else:
            self.reply(500, b"unknown behaviour\n")


    def file_behaviour(self, host):
        """The BEHAVIOUR a "file" host's file names ("@BEHAVIOUR"), or None."""
        try:
            with open(os.path.join(self.server.policies, host[len("mta-sts."):]), "rb") as f:
                head = f.read(64)
        except FileNotFoundError:
            return None
        return head[1:].decode().strip() if head.startswith(b"@") else None


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def context(chain):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain)
    return ctx


def main():
    addr, port, hosts_file, pki = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    hosts = load_hosts(hosts_file)
    good = context(pki + "/policyhost.chain")
    wrong = context(pki + "/policyhost-wrong.chain")

    def pick(sock, name, _ctx):
        # SNI decides the certificate, before any HTTP is read.
        words = hosts.get((name or "").lower())
        if words and words[0] == "wrongcert":
            sock.context = wrong

    good.sni_callback = pick
    server = Server((addr, port), Handler)
    server.hosts = hosts
    server.policies = os.path.join(os.path.dirname(os.path.abspath(pki)), "sts-policy")
    # The handshake happens in the request thread, so a stalled client blocks nobody.
    server.socket = good.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.serve_forever()


if __name__ == "__main__":
    main()
