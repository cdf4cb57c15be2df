#!/bin/sh
# tests/pgp/password.sh - password-encrypted messages (plugins/pgp/password.c)
# opened by real OpenPGP programs: the entity is multipart/mixed with the
# explanation and message.eml.pgp; gpg and rnp decrypt the attachment with the
# password to exactly the original bytes; the packets say AES-256 (cipher 9)
# and S2K mode 3; a wrong password fails; a home whose gpg.conf forces
# AES-128 makes the wrap fail instead of sending weaker encryption; the
# password is found in no file of the home.
set -eu
: "${top_builddir:?run through make check}"
wrap=$top_builddir/tests/pgp/password-wrap
for t in gpg rnp; do command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }; done
tmp=$(mktemp -d /tmp/mwpw.XXXXXX)
cleanup() {
    for h in "$tmp"/h "$tmp"/g "$tmp"/w; do gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null || :; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
pw='correct horse battery staple'

printf 'From: alice@example.com\r\nTo: bob@example.net\r\nSubject: the plan\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nthe plan \303\244\r\n\r\n-- \r\nAlice\r\n' >"$tmp/msg"
MW_TEST_PASSWORD=$pw "$wrap" "$tmp/h" "Custom text: ask Alice for the password." <"$tmp/msg" >"$tmp/entity" ||
    fail "wrap failed"
grep -q "$(printf '\r$')" "$tmp/entity" || fail "entity lines are not CRLF"
if grep -c "$(printf '[^\r]$')" "$tmp/entity" | grep -qv '^0$'; then fail "a line without CR"; fi

# The structure, and the attachment out of it (Python's email package).
/usr/bin/python3 - "$tmp/entity" "$tmp/att.pgp" <<'PY' || fail "entity structure"
import sys, email
from email import policy
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(b'MIME-Version: 1.0\r\n' + raw, policy=policy.default)
assert m.get_content_type() == 'multipart/mixed', m.get_content_type()
parts = list(m.iter_parts())
assert len(parts) == 2, len(parts)
assert parts[0].get_content_type() == 'text/plain'
assert 'Custom text: ask Alice' in parts[0].get_content(), parts[0].get_content()
assert parts[1].get_filename() == 'message.eml.pgp', parts[1].get_filename()
assert parts[1].get_content_disposition() == 'attachment'
assert parts[1]['Content-Transfer-Encoding'] == 'base64'
open(sys.argv[2], 'wb').write(parts[1].get_payload(decode=True))
PY

# gpg, in a fresh home, with the password.
mkdir -m 700 "$tmp/g"
gpg --homedir "$tmp/g" --batch --pinentry-mode loopback --passphrase "$pw" --decrypt \
    --output "$tmp/dec-gpg" "$tmp/att.pgp" 2>"$tmp/gpg.err" || { cat "$tmp/gpg.err"; fail "gpg --decrypt"; }
cmp "$tmp/msg" "$tmp/dec-gpg" || fail "gpg: decrypted bytes differ from the original"
grep -q "AES256" "$tmp/gpg.err" || { cat "$tmp/gpg.err"; fail "gpg does not report AES256"; }

# The packets: symkey packet version 4, cipher 9 (AES-256), S2K 3; integrity protected.
gpg --homedir "$tmp/g" --batch --list-packets --pinentry-mode loopback --passphrase "$pw" \
    "$tmp/att.pgp" >"$tmp/packets" 2>&1 || :
grep -Eq '^:symkey enc packet: version 4, cipher 9, .*s2k 3, hash 10' "$tmp/packets" ||
    { cat "$tmp/packets"; fail "symkey packet is not AES256/S2K 3/SHA512"; }
grep -q 'encrypted data packet' "$tmp/packets" && grep -q 'mdc_method: 2' "$tmp/packets" ||
    { cat "$tmp/packets"; fail "not integrity protected (no MDC)"; }

# A wrong password fails.
if gpg --homedir "$tmp/g" --batch --pinentry-mode loopback --passphrase wrong --decrypt \
    "$tmp/att.pgp" >/dev/null 2>&1; then fail "gpg decrypted with a wrong password"; fi

# rnp (another implementation).
mkdir -p "$tmp/r"
rnp --homedir "$tmp/r" --password "$pw" -d "$tmp/att.pgp" --output "$tmp/dec-rnp" >/dev/null 2>"$tmp/rnp.err" ||
    { cat "$tmp/rnp.err"; fail "rnp -d"; }
cmp "$tmp/msg" "$tmp/dec-rnp" || fail "rnp: decrypted bytes differ from the original"

# The password is in no file of the wrapping home (no agent cache, no temp files).
if grep -rlF "$pw" "$tmp/h" 2>/dev/null; then fail "the password is in a file of the home"; fi

# An administrator's AES-128 in gpg.conf: the wrap refuses.
mkdir -m 700 "$tmp/w"
echo "s2k-cipher-algo AES128" >"$tmp/w/gpg.conf"
if MW_TEST_PASSWORD=$pw "$wrap" "$tmp/w" <"$tmp/msg" >"$tmp/weak" 2>"$tmp/weak.err"; then
    fail "wrap accepted AES-128"
fi
grep -q "cipher algorithm 7, not AES-256" "$tmp/weak.err" || { cat "$tmp/weak.err"; fail "weak cipher message"; }
[ ! -s "$tmp/weak" ] || fail "output despite the failure"

# Empty password refused.
if MW_TEST_PASSWORD= "$wrap" "$tmp/h" <"$tmp/msg" >/dev/null 2>&1; then fail "empty password accepted"; fi
echo "password: all checks passed"
