#!/usr/bin/python3
"""report-mail.py - write a TLS report mail as RFC 8460 section 5.3 describes it.

usage: report-mail.py JSON OUT MODE [TO]
MODE: gzip (application/tlsrpt+gzip, base64), json (application/tlsrpt+json),
truncated (the gzip cut in half), none (no report part, only the text),
big (gzip after 1.2 MB of text: over max_size = 1048576).
"""
import gzip
import sys
from email.message import EmailMessage
from email.utils import formatdate

src, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
to = sys.argv[4] if len(sys.argv) > 4 else "tlsrpt@valid.test"
with open(src, "rb") as f:
    report = f.read()

msg = EmailMessage()
msg["From"] = "tlsrpt-noreply@company-x.example"
msg["To"] = to
msg["Subject"] = "Report Domain: valid.test Submitter: company-x.example Report-ID: <r1>"
msg["Date"] = formatdate()
msg["Message-ID"] = "<tlsrpt-%s@company-x.example>" % mode
msg["TLS-Report-Domain"] = "valid.test"
msg["TLS-Report-Submitter"] = "company-x.example"
text = "This is an aggregate TLS report from company-x.example.\n"
if mode == "big":
    text += ("padding " * 9 + "\n") * 16000
msg.set_content(text)
if mode in ("gzip", "truncated", "big"):
    data = gzip.compress(report, mtime=0)
    if mode == "truncated":
        data = data[: len(data) // 2]
    msg.add_attachment(data, maintype="application", subtype="tlsrpt+gzip",
                       filename="company-x.example!valid.test!1459468800!1459555199!r1.json.gz")
elif mode == "json":
    msg.add_attachment(report, maintype="application", subtype="tlsrpt+json",
                       filename="company-x.example!valid.test!1459468800!1459555199!r1.json")
msg.replace_header("Content-Type", msg["Content-Type"].replace("multipart/mixed", "multipart/report"))
msg.set_param("report-type", "tlsrpt")
with open(out, "wb") as f:
    f.write(bytes(msg).replace(b"\n", b"\r\n"))
