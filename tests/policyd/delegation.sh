#!/bin/sh
# delegation.sh - mailward-policyd's policy delegation server (Postfix
# SMTPD_POLICY_README) and the tls-rules access hook.
. "$top_srcdir/tests/policyd/lib.sh"
start_daemon

req() {
    $CLIENT policy "$PL_PORT" request=smtpd_access_policy protocol_state=RCPT \
        protocol_name=ESMTP client_address=192.0.2.1 client_name=mx.example.org \
        helo_name=mx.example.org "$@" recipient=bob@example.com
}

out=$(req sender=alice@mail.example.org encryption_protocol=)
expect "clear-text from a require_tls_from domain" "$out" \
    "action=450 4.7.1 mail from mail.example.org must arrive over TLS (tls-rules require_tls_from .example.org)"
out=$(req sender=alice@mail.example.org encryption_protocol=TLSv1.3 encryption_cipher=TLS_AES_256_GCM_SHA384)
expect "TLS from a require_tls_from domain" "$out" "action=DUNNO"
out=$(req sender=alice@secure.example)
expect "exact entry, attribute absent" "$out" \
    "action=450 4.7.1 mail from secure.example must arrive over TLS (tls-rules require_tls_from secure.example)"
out=$(req sender=alice@sub.secure.example)
expect "plain entry covers only itself" "$out" "action=DUNNO"
out=$(req sender=alice@example.org)
expect ".example.org does not cover example.org" "$out" "action=DUNNO"
out=$(req sender=)
expect "null sender" "$out" "action=DUNNO"

# Malformed requests fail closed (tempfail), and the connection stays usable.
out=$(/usr/bin/python3 - "$PL_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
buf = b""
def reply():
    global buf
    while b"\n\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("closed")
        buf += chunk
    head, _, buf = buf.partition(b"\n\n")
    print(head.decode())
good = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
        b"sender=a@x.example.org\nencryption_protocol=\n\n")
s.sendall(b"request=smtpd_access_policy\nthis line has no equals sign\n\n")
reply()
s.sendall(b"request=smtpd_access_policy\nsender=" + b"x" * 5000 + b"\n\n")
reply()
s.sendall(b"protocol_state=RCPT\n\n")
reply()
s.sendall(b"".join(b"a%d=b\n" % i for i in range(200)) + b"request=smtpd_access_policy\n\n")
reply()
s.sendall(good + good.replace(b"encryption_protocol=", b"encryption_protocol=TLSv1.2"))
reply()
reply()
PY
)
want=$(printf '%s\n' "action=451 4.3.0 malformed policy request" \
    "action=451 4.3.0 malformed policy request" "action=451 4.3.0 malformed policy request" \
    "action=451 4.3.0 malformed policy request" \
    "action=450 4.7.1 mail from x.example.org must arrive over TLS (tls-rules require_tls_from .example.org)" \
    "action=DUNNO")
expect "malformed requests, then pipelined good ones" "$out" "$want"
grep -q "malformed request from 127.0.0.1:[0-9]*: a line is not name=value" "$T/log" ||
    fail "malformed request not logged"

# nc as Postfix's delegation client would talk (check which nc is installed).
if command -v nc >/dev/null; then
    out=$(printf 'request=smtpd_access_policy\nprotocol_state=MAIL\nsender=x@y.example.org\n\n' |
        nc -w 2 127.0.0.1 "$PL_PORT" | head -n 1)
    expect "nc client" "$out" \
        "action=450 4.7.1 mail from y.example.org must arrive over TLS (tls-rules require_tls_from .example.org)"
fi
echo "PASS: delegation"
