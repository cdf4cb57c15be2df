# check.py - check a message's OpenPGP structure as RFC 3156 / RFC 9788 demand.
#
#   check.py encrypted MSG DIR  multipart/encrypted; protocol="application/pgp-encrypted";
#                               part 1 application/pgp-encrypted "Version: 1", part 2
#                               application/octet-stream with an armored PGP MESSAGE
#                               (written to DIR/cipher.asc); prints "subject=OUTER"
#   check.py signed MSG DIR     multipart/signed; protocol="application/pgp-signature";
#                               micalg=pgp-<lower case>; the first part's exact bytes (CRLF,
#                               7 bit) to DIR/data, the signature to DIR/sig.asc;
#                               prints "micalg=..."
#   check.py inner FILE         a decrypted entity: prints "hp=", "protected-headers=",
#                               "subject=", "from=" "to=" "cc=" "date=" "message-id=" (when
#                               present, folds unfolded), "hp-outer-NAME=" for each HP-Outer
#                               field and the text of the body
# Exits 1 with the reason on the first violation.
import email
import email.policy
import re
import sys


def fail(why):
    sys.exit("check.py: " + why)


def encrypted(path, d):
    m = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.compat32)
    if m.get_content_type() != "multipart/encrypted":
        fail("top type is " + m.get_content_type())
    if m.get_param("protocol") != "application/pgp-encrypted":
        fail("protocol is %r" % m.get_param("protocol"))
    parts = m.get_payload()
    if len(parts) != 2:
        fail("%d parts" % len(parts))
    if parts[0].get_content_type() != "application/pgp-encrypted":
        fail("part 1 is " + parts[0].get_content_type())
    if not re.match(r"\s*Version: 1\s*$", parts[0].get_payload()):
        fail("part 1 says %r" % parts[0].get_payload())
    if parts[1].get_content_type() != "application/octet-stream":
        fail("part 2 is " + parts[1].get_content_type())
    c = parts[1].get_payload()
    if not c.lstrip().startswith("-----BEGIN PGP MESSAGE-----"):
        fail("part 2 is not an armored OpenPGP message")
    open(d + "/cipher.asc", "w").write(c)
    print("subject=" + str(m.get("Subject")))


def signed(path, d):
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    if m.get_content_type() != "multipart/signed":
        fail("top type is " + m.get_content_type())
    if m.get_param("protocol") != "application/pgp-signature":
        fail("protocol is %r" % m.get_param("protocol"))
    micalg = m.get_param("micalg")
    if not re.fullmatch(r"pgp-[a-z0-9]+", micalg or ""):
        fail("micalg is %r" % micalg)
    b = m.get_boundary().encode()
    body = raw.split(b"\r\n\r\n", 1)[1]
    chunks = re.split(rb"(?:^|\r\n)--" + re.escape(b) + rb"(?:--)?[ \t]*\r\n", body)
    if len(chunks) < 3:
        fail("cannot find the parts")
    data, sig = chunks[1], chunks[2]
    if any(x > 127 for x in data):
        fail("the signed part is not 7 bit")
    if re.search(rb"(?<!\r)\n", data):
        fail("the signed part has bare LF")
    sigpart = email.message_from_bytes(sig)
    if sigpart.get_content_type() != "application/pgp-signature":
        fail("part 2 is " + sigpart.get_content_type())
    open(d + "/data", "wb").write(data)
    open(d + "/sig.asc", "wb").write(sigpart.get_payload(decode=True))
    print("micalg=" + micalg)


def inner(path):
    m = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.compat32)
    print("hp=%s" % m.get_param("hp"))
    print("protected-headers=%s" % m.get_param("protected-headers"))
    print("subject=%s" % m.get("Subject"))
    for name in ("From", "To", "Cc", "Date", "Message-ID"):
        if m.get(name) is not None:
            print("%s=%s" % (name.lower(), " ".join(m.get(name).split())))
    for v in m.get_all("HP-Outer") or []:
        name, value = v.split(":", 1)
        print("hp-outer-%s=%s" % (name.strip().lower(), " ".join(value.split())))
    for part in m.walk():
        if part.get_content_type() == "text/plain":
            print("text=" + part.get_payload(decode=True).decode(errors="replace").strip())
        elif not part.is_multipart():
            print("attachment=%s %s" % (part.get_content_type(), part.get_filename()))


if sys.argv[1] == "encrypted":
    encrypted(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "signed":
    signed(sys.argv[2], sys.argv[3])
else:
    inner(sys.argv[2])
