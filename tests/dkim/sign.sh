#!/bin/sh
# sign.sh - the dkim plugin signs outbound mail: the real mailward-milter with
# "plugins = dkim", an OpenDKIM KeyTable with the world's rsa and ed25519 keys for
# valid.test (PEM files, mode 0600) and a refile: SigningTable with two wildcard lines,
# so a message from valid.test gets two signatures. Messages are replayed by
# tests/dkim/client.py from 127.0.0.1 (internal_hosts: outbound); the message rebuilt
# from the milter's insertions must verify with dkimpy (tests/dkim/pyverify.py, inside
# the world so it resolves the world's keys) for both signatures, with From oversigned.
# Then: an exact-match table, mail through the world's Postfix delivered signed, a key
# file of mode 0644 refused at start (exit 78, the file named) and at reload (the old
# tables stay), a malformed KeyTable line refused with FILE:LINE.
set -u
command -v dkimverify >/dev/null 2>&1 || { echo "SKIP: dkimpy (python3-dkim) not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
world_up
. "$top_srcdir/tests/dkim/lib.sh"
dkim_sanitizer_env

T=$WORLD_DIR/dkim-sign
mkdir -p "$T"
CLIENT=$top_srcdir/tests/dkim/client.py
PYVERIFY=$top_srcdir/tests/dkim/pyverify.py
PORT=${WORLD_MILTER_SOCKET##*:}
MILTER=$top_builddir/milter/mailward-milter
cp "$WORLD_DKIM_RSA" "$T/rsa.pem"
cp "$WORLD_DKIM_ED25519" "$T/ed.pem"
chmod 600 "$T/rsa.pem" "$T/ed.pem"
grep -q 'BEGIN PRIVATE KEY' "$T/ed.pem" || world_fail "the world's ed25519 key is not PEM"

cat >"$T/keytable" <<EOF
# name      domain:selector:keyfile
rsa-valid   valid.test:rsa:$T/rsa.pem
ed-valid    %:ed:$T/ed.pem
EOF
cat >"$T/signingtable" <<'EOF'
*@valid.test   rsa-valid
*@VALID.test   ed-valid   # case does not matter
EOF

cat >"$T/msg" <<'MSG'
From: Alice <alice@valid.test>
To: Bob <bob@example.net>
Subject: a signed message whose subject
	is folded
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <sign-test@valid.test>

Hello Bob,

this body is signed twice.
MSG
sed 's/^From: .*/From: Mallory <mallory@example.net>/' "$T/msg" >"$T/foreign"

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter dkim <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[dkim]
key_table = $T/keytable
signing_table = refile:$T/signingtable
CONF
LOG=$WORLD_DIR/mailward/milter.log

# send IN OUT: replay IN as an outbound message, write what the MTA would pass on to OUT.
send() {
    world_exec /usr/bin/python3 "$CLIENT" out "$2" 127.0.0.1 "$PORT" 127.0.0.1 "$1" >/dev/null ||
        world_fail "client failed on $(basename "$1")"
}
# verdicts FILE: dkimpy's "B8=RESULT" per signature, sorted, on one line.
verdicts() {
    world_exec /usr/bin/python3 "$PYVERIFY" "$1" | sed 's/^[^=]*=//' | sort | tr '\n' ' '
}
# tag FILE SELECTOR TAG: the value of TAG in the signature with s=SELECTOR (blanks removed).
tag() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().decode().replace("\r\n", "\n")
head = data.split("\n\n", 1)[0]
for h in re.split(r"\n(?![ \t])", head):
    name, _, value = h.partition(":")
    if name.lower() != "dkim-signature":
        continue
    tags = dict((k.strip(), re.sub(r"\s", "", v)) for k, _, v in (t.partition("=") for t in value.split(";")) if k.strip())
    if tags.get("s") == sys.argv[2]:
        print(tags.get(sys.argv[3], ""))
PY
}

send "$T/msg" "$T/signed"
n=$(grep -c '^DKIM-Signature:' "$T/signed")
[ "$n" = 2 ] || world_fail "want 2 DKIM-Signature headers, got $n"
v=$(verdicts "$T/signed")
[ "$v" = "pass pass " ] || world_fail "dkimpy on the signed message: [$v], want [pass pass ]"
[ "$(tag "$T/signed" rsa a)" = rsa-sha256 ] || world_fail "rsa signature a=$(tag "$T/signed" rsa a)"
[ "$(tag "$T/signed" ed a)" = ed25519-sha256 ] || world_fail "ed signature a=$(tag "$T/signed" ed a)"
[ "$(tag "$T/signed" ed d)" = valid.test ] || world_fail "ed signature d=$(tag "$T/signed" ed d) (%)"
[ "$(tag "$T/signed" rsa c)" = relaxed/relaxed ] || world_fail "c=$(tag "$T/signed" rsa c)"
for s in rsa ed; do
    h=$(tag "$T/signed" $s h | tr 'A-Z' 'a-z')
    [ "$(printf '%s' "$h" | tr ':' '\n' | grep -cx from)" = 2 ] ||
        world_fail "$s: From is not oversigned: h=$h"
    printf '%s' "$h" | tr ':' '\n' | grep -qx message-id || world_fail "$s: h= lacks Message-ID: h=$h"
done
echo "ok: two signatures, dkimpy: $v, h=$(tag "$T/signed" rsa h)"
grep -q 'dkim-sign=valid.test:rsa:rsa-sha256.*dkim-sign=valid.test:ed:ed25519-sha256' "$LOG" ||
    world_fail "no dkim-sign items in the log line"

# Oversigning: a From added after signing breaks both signatures.
sed '0,/^From:/s//From: Eve <eve@valid.test>\nFrom:/' "$T/signed" >"$T/added"
v=$(verdicts "$T/added")
[ "$v" = "fail fail " ] || world_fail "dkimpy with an added From: [$v], want [fail fail ]"
echo "ok: a From added after signing fails: $v"

# A sender the SigningTable does not name: no signature.
send "$T/foreign" "$T/foreign-out"
! grep -q '^DKIM-Signature:' "$T/foreign-out" || world_fail "example.net mail was signed"
grep -q 'dkim-sign=none:example.net' "$LOG" || world_fail "no dkim-sign=none in the log"
echo "ok: a sender without a key is not signed"

# Inbound mail (a client outside internal_hosts) is verified, not signed.
got=$(world_exec /usr/bin/python3 "$CLIENT" out "$T/inbound" 127.0.0.1 "$PORT" 198.51.100.7 "$T/msg") ||
    world_fail "client failed inbound"
! grep -q '^DKIM-Signature:' "$T/inbound" || world_fail "inbound mail was signed"
[ "$got" = "mx.world.test; dkim=none" ] || world_fail "inbound AR: $got"
echo "ok: inbound mail is verified, not signed: $got"

# reload: wait for the N-th "reload:" outcome line in the log.
reload() {
    before=$(grep -c 'reload: .*\(in use\|keeping\)' "$LOG")
    kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
    world_wait_for 20 sh -c "[ \$(grep -c 'reload: .*\\(in use\\|keeping\\)' '$LOG') -gt $before ]" ||
        world_fail "the milter did not reload"
}

# A key file readable by others: the reload is refused, the old tables keep signing.
chmod 644 "$T/ed.pem"
reload
grep -q "reload: .*$T/ed.pem.*keeping the running configuration" "$LOG" ||
    world_fail "a 0644 key was not refused at reload"
send "$T/msg" "$T/signed2"
v=$(verdicts "$T/signed2")
[ "$v" = "pass pass " ] || world_fail "after a refused reload: [$v]"
echo "ok: reload with a 0644 key refused, still signing: $v"
chmod 600 "$T/ed.pem"

# An exact-match SigningTable (no refile:): the address line wins over the domain line.
cat >"$T/exact" <<'EOF'
alice@valid.test  ed-valid
valid.test        rsa-valid
EOF
sed -i "s|^signing_table = .*|signing_table = $T/exact|" "$WORLD_DIR/mailward/milter.conf"
reload
grep -q 'reload: configuration .* in use' "$LOG" || world_fail "the exact table was not taken"
send "$T/msg" "$T/exact-alice"
sed 's/alice@valid.test/carol@valid.test/' "$T/msg" >"$T/carol"
send "$T/carol" "$T/exact-carol"
[ "$(tag "$T/exact-alice" ed s)" = ed ] && [ -z "$(tag "$T/exact-alice" rsa s)" ] ||
    world_fail "alice@valid.test is not signed with ed only"
[ "$(tag "$T/exact-carol" rsa s)" = rsa ] && [ -z "$(tag "$T/exact-carol" ed s)" ] ||
    world_fail "carol@valid.test is not signed with rsa only"
v="$(verdicts "$T/exact-alice")$(verdicts "$T/exact-carol")"
[ "$v" = "pass pass " ] || world_fail "exact-table signatures: [$v]"
echo "ok: exact-match table: alice by ed, carol by rsa, dkimpy $v"

# Through the world's Postfix: the submitted message is delivered signed and verifies.
sed -i "s|^signing_table = .*|signing_table = refile:$T/signingtable|" "$WORLD_DIR/mailward/milter.conf"
reload
: >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF
token=sign-$$-$(date +%s)
world_send alice@valid.test bob@valid.test --h-From 'Alice <alice@valid.test>' \
    --h-Subject "$token" --body "signed body $token"
msg=$(world_wait_delivered valid bob@valid.test)
grep -q "^Subject: $token" "$msg" || world_fail "the delivered message is not ours"
n=$(grep -c '^DKIM-Signature:' "$msg")
[ "$n" = 2 ] || world_fail "delivered with $n DKIM-Signature headers, want 2"
v=$(verdicts "$msg")
[ "$v" = "pass pass " ] || world_fail "dkimpy on the delivered message: [$v]"
world_exec dkimverify <"$msg" >"$T/dkimverify.out" 2>&1 || world_fail "dkimverify: $(cat "$T/dkimverify.out")"
echo "ok: delivered through Postfix, signed twice, dkimpy: $v; dkimverify: $(cat "$T/dkimverify.out")"
world_stop_daemons

# start-up refusals: exit 78 and the reason names the file (and line).
refuse() { # refuse WHAT PATTERN: start the milter with the current tables, expect 78 and PATTERN
    cp "$WORLD_DIR/mailward/milter.conf" "$T/refuse.conf"
    world_exec "$MILTER" -n -c "$T/refuse.conf" >"$T/refuse.out" 2>&1
    rc=$?
    [ $rc = 78 ] || world_fail "$1: exit $rc, want 78: $(cat "$T/refuse.out")"
    grep -q "$2" "$T/refuse.out" || world_fail "$1: no '$2' in: $(cat "$T/refuse.out")"
    ! grep -Eq 'Sanitizer|runtime error' "$T/refuse.out" || world_fail "$1: sanitizer report: $(cat "$T/refuse.out")"
    echo "ok: $1 refused: $(grep "$2" "$T/refuse.out" | head -n 1)"
}
chmod 644 "$T/rsa.pem"
refuse "a key file of mode 0644" "$T/rsa.pem.*mode 0644"
chmod 600 "$T/rsa.pem"
cp "$T/keytable" "$T/keytable.good"
echo "broken valid.test-rsa-only" >>"$T/keytable"
refuse "a malformed KeyTable line" "$T/keytable:4:"
cp "$T/keytable.good" "$T/keytable"
echo "-----BEGIN PRIVATE KEY-----" >"$T/bad.pem"
chmod 600 "$T/bad.pem"
echo "bad-key valid.test:bad:$T/bad.pem" >>"$T/keytable"
refuse "an unreadable key" "$T/bad.pem: not an unencrypted PEM private key"
cp "$T/keytable.good" "$T/keytable"
world_exec "$MILTER" -n -c "$T/refuse.conf" >"$T/refuse.out" 2>&1 ||
    world_fail "good tables refused: $(cat "$T/refuse.out")"
echo "ok: good tables accepted by -n"
exit 0
