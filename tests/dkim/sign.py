#!/usr/bin/python3
# sign.py - sign a message with dkimpy's API, for the cases dkimsign's command line lacks.
#
#   sign.py [--ed25519] [--canon H/B] [--length] [--oversign] SELECTOR DOMAIN KEY < IN > OUT
#
# --length adds l= (the body length signed); --oversign lists From, Subject and To once
# more than they occur, so a header added later breaks the signature (RFC 6376 §8.15).
# KEY is a PEM RSA key, or for --ed25519 the base64 of the 32-byte seed (dkimpy's form).
import argparse
import sys

import dkim

p = argparse.ArgumentParser()
p.add_argument("--ed25519", action="store_true")
p.add_argument("--canon", default="relaxed/simple")
p.add_argument("--length", action="store_true")
p.add_argument("--oversign", action="store_true")
p.add_argument("selector")
p.add_argument("domain")
p.add_argument("key")
a = p.parse_args()

msg = sys.stdin.buffer.read()
hc, bc = a.canon.split("/")
headers = [b"from", b"to", b"subject", b"date", b"message-id", b"content-type"]
if a.oversign:
    headers += [b"from", b"to", b"subject"]
sig = dkim.sign(
    msg,
    a.selector.encode(),
    a.domain.encode(),
    open(a.key, "rb").read().strip(),
    canonicalize=(hc.encode(), bc.encode()),
    include_headers=headers,
    length=a.length,
    signature_algorithm=b"ed25519-sha256" if a.ed25519 else b"rsa-sha256",
)
sys.stdout.buffer.write(sig + msg)
