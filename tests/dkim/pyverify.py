#!/usr/bin/python3
# pyverify.py - dkimpy's verdict on every DKIM-Signature of a message, the reference the
# interop test compares mailward with. Prints "B8=RESULT" per signature, top first (B8: the
# first 8 characters of b=), or "none". RESULT: pass; permerror when the key is missing or
# unusable (RFC 6376 §6.1.2 PERMFAIL); temperror on a DNS timeout; fail otherwise.
# Keys come from DNS through /etc/resolv.conf (the world's resolver inside the world).
import logging
import re
import sys

import dkim


class Catch(logging.Handler):
    def __init__(self):
        super().__init__()
        self.msgs = []

    def emit(self, record):
        self.msgs.append(record.getMessage())


msg = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
log = logging.getLogger("pyverify")
log.setLevel(logging.DEBUG)
d = dkim.DKIM(msg, logger=log)
sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
if not sigs:
    print("none")
for i, value in enumerate(sigs):
    b8 = re.sub(rb"\s", b"", re.search(rb"(?:^|;)\s*b=([^;]*)", value).group(1))[:8].decode()
    catch = Catch()
    log.addHandler(catch)
    try:
        ok = d.verify(idx=i)
        res = "pass" if ok else "fail"
    except dkim.DnsTimeoutError:
        res = "temperror"
    except dkim.KeyFormatError:
        res = "permerror"
    except dkim.DKIMException:
        res = "fail"
    log.removeHandler(catch)
    if res == "fail" and any(re.search(r"missing public key|unknown algorithm|unparsable", m) for m in catch.msgs):
        res = "permerror"
    print("%s=%s" % (b8, res))
