#!/bin/sh
# password-milter.sh - password mode of the pgp plugin in the real mailward-milter, replayed
# with client.py: an authenticated sender's Encrypt-Password message becomes multipart/mixed
# (explanation + message.eml.pgp) that gpg and rnp open with the password and that equals
# the original without the field; the password is in no log of the world; the field from an
# unauthenticated or inbound client is removed and ignored; several fields are refused.
. "$top_srcdir/tests/world/lib.sh"
for t in gpg rnp; do command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }; done
world_up
T=$WORLD_DIR/pgp-password
mkdir -p "$T"
PY=/usr/bin/python3
client() { world_exec $PY "$top_srcdir/tests/pgp/client.py" 8891 "$@"; }
PW='Tr0ub4dor &3 horse-staple'

# The milter's keystore holds bob's key: password mode must win over key encryption.
KS=$WORLD_GNUPG/milter-pw
mkdir -m 700 "$KS"
gpg --homedir "$KS" --batch --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import keys"
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
sign = never
reinject =
password_explanation = Encrypted with a password.\nAsk the sender for it.
CONF
grep -q '^s2k-cipher-algo AES256' "$KS/gpg.conf" || world_fail "gpg.conf lacks the AES-256 line"

cat >"$T/orig.eml" <<'EOF2'
From: Alice <alice@valid.test>
To: Bob <bob@valid.test>
Subject: the secret plan
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <pw-plan@valid.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße: meet at noon.
EOF2
# The field in the middle of the header section, folded.
{ sed -n '1,3p' "$T/orig.eml"; printf 'Encrypt-Password: %s\n' "${PW%% *}"
  printf ' %s\n' "${PW#* }"; sed -n '4,$p' "$T/orig.eml"; } >"$T/pw.eml"

# Extract the final message's parts: prints the structure, writes DIR/att.pgp.
parts() {
    $PY - "$1" "$2" <<'EOF2'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("type=" + m.get_content_type())
print("mime-version=" + str(m.get("MIME-Version")))
print("encrypt-password=%d" % len(m.get_all("Encrypt-Password") or []))
print("subject=" + str(m.get("Subject")))
for p in m.iter_parts():
    print("part=%s %s %s" % (p.get_content_type(), p.get_content_disposition(), p.get_filename()))
    if p.get_content_type() == "text/plain":
        print("text=" + p.get_content().replace("\n", "|"))
    else:
        open(sys.argv[2] + "/att.pgp", "wb").write(p.get_payload(decode=True))
EOF2
}

# 1. Authenticated outbound: encrypted with the password.
out=$(MW_CLIENT_AUTH=alice client 127.0.0.1 "$T/pw.eml" "$T/out.eml" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "password: client says $out"
p=$(parts "$T/out.eml" "$T") || world_fail "cannot parse the result"
echo "$p"
echo "$p" | grep -qx 'type=multipart/mixed' || world_fail "not multipart/mixed"
echo "$p" | grep -qx 'mime-version=1.0' || world_fail "MIME-Version"
echo "$p" | grep -qx 'encrypt-password=0' || world_fail "Encrypt-Password kept"
echo "$p" | grep -qx 'subject=the secret plan' || world_fail "subject changed"
echo "$p" | grep -qx 'part=text/plain None None' || world_fail "no explanation part"
echo "$p" | grep -qx 'text=Encrypted with a password.|Ask the sender for it.|' || world_fail "explanation text"
echo "$p" | grep -qx 'part=application/octet-stream attachment message.eml.pgp' ||
    world_fail "no attachment"
sed '/^\r$/q' "$T/out.eml" >"$T/out.head"
[ "$(grep -ci '^Content-' "$T/out.head")" = 1 ] || world_fail "Content-* fields: $(grep -i '^Content-' "$T/out.head")"
grep -q 'noon' "$T/out.eml" && world_fail "clear text in the message"
sed 's/$/\r/' "$T/orig.eml" >"$T/expect.eml"
mkdir -m 700 "$T/g" "$T/r"
gpg --homedir "$T/g" --batch --pinentry-mode loopback --passphrase "$PW" --decrypt \
    --output "$T/dec-gpg" "$T/att.pgp" 2>"$T/gpg.err" || world_fail "gpg: $(cat "$T/gpg.err")"
grep -q AES256 "$T/gpg.err" || world_fail "gpg does not say AES256: $(cat "$T/gpg.err")"
cmp "$T/dec-gpg" "$T/expect.eml" || world_fail "gpg: decrypted message differs from the original"
rnp --homedir "$T/r" --password "$PW" -d "$T/att.pgp" --output "$T/dec-rnp" >/dev/null 2>&1 ||
    world_fail "rnp cannot decrypt"
cmp "$T/dec-rnp" "$T/expect.eml" || world_fail "rnp: decrypted message differs from the original"
gpg --homedir "$T/g" --batch --pinentry-mode loopback --passphrase wrong --decrypt \
    "$T/att.pgp" >/dev/null 2>&1 && world_fail "decrypted with a wrong password"
grep -q 'pgp=password-encrypted' "$WORLD_DIR/mailward/milter.log" || world_fail "no log item"
echo "ok 1 authenticated: multipart/mixed, gpg (AES256) and rnp decrypt the original without the field"

# 2. Unauthenticated (internal host) and inbound: field removed, message otherwise untouched.
out=$(client 127.0.0.1 "$T/pw.eml" "$T/unauth.eml" alice@valid.test dave@valid.test)
[ "$out" = accept ] || world_fail "unauthenticated: $out"
cmp "$T/unauth.eml" "$T/expect.eml" || world_fail "unauthenticated: message not the original minus the field"
out=$(client 192.0.2.9 "$T/pw.eml" "$T/in.eml" carol@elsewhere.test bob@valid.test)
[ "$out" = accept ] || world_fail "inbound: $out"
cmp "$T/in.eml" "$T/expect.eml" || world_fail "inbound: message not the original minus the field"
[ "$(grep -c 'pgp-password=ignored' "$WORLD_DIR/mailward/milter.log")" -ge 2 ] ||
    world_fail "ignored fields not logged"
echo "ok 2 unauthenticated and inbound: field removed and ignored (logged), body untouched"

# 3. Two fields from an authenticated sender: refused; an empty value: refused.
{ echo "Encrypt-Password: other"; cat "$T/pw.eml"; } >"$T/two.eml"
out=$(MW_CLIENT_AUTH=alice client 127.0.0.1 "$T/two.eml" "$T/x" alice@valid.test bob@valid.test)
echo "$out" | grep -q '^refused: 550 5.7.1 more than one Encrypt-Password' || world_fail "two: $out"
{ echo "Encrypt-Password: "; cat "$T/orig.eml"; } >"$T/empty.eml"
out=$(MW_CLIENT_AUTH=alice client 127.0.0.1 "$T/empty.eml" "$T/x" alice@valid.test bob@valid.test)
echo "$out" | grep -q '^refused: 550 5.7.1 Encrypt-Password value unusable' || world_fail "empty: $out"
echo "ok 3 several fields and an empty value are refused (550 5.7.1)"

# Over max_size: refused, never passed in clear (too_big_action = pass does not apply).
world_stop_daemons
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
max_size = 1024
too_big_action = pass
CONF
{ cat "$T/pw.eml"; head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 70; } >"$T/big.eml"
out=$(MW_CLIENT_AUTH=alice client 127.0.0.1 "$T/big.eml" "$T/x" alice@valid.test bob@valid.test)
echo "$out" | grep -q '^refused: 451 4.3.4 message too big to encrypt with a password' ||
    world_fail "too big: $out"
echo "ok 3b over max_size: 451 4.3.4 even with too_big_action = pass"

# 4. The password is in no file of the world's logs (nor anywhere under WORLD_DIR but the
# test's own inputs).
world_stop_daemons
hits=$(grep -rlF -e "${PW%% *}" -e "${PW#* }" "$WORLD_DIR" 2>/dev/null | grep -v "^$T/")
[ -z "$hits" ] || world_fail "the password is in: $hits"
echo "ok 4 the password appears in no log or file of the world"
