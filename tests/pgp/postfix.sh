#!/bin/sh
# postfix.sh - the pgp plugin end to end: mail submitted to the world's sending Postfix
# (through mailward-milter) reaches bob's mailbox only as ciphertext that bob decrypts;
# a message to bob and dave (no key) leaves bob's copy encrypted and gives dave a clear,
# signed copy through the milter-free re-injection port 127.0.0.1:10026.
. "$top_srcdir/tests/world/lib.sh"
world_up
T=$WORLD_DIR/pgp
mkdir -p "$T"
G() { home=$1; shift; gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' "$@"; }
ALICE=$WORLD_GNUPG/alice@valid.test
BOB=$WORLD_GNUPG/bob@valid.test
KS=$WORLD_GNUPG/milter
mkdir -m 700 "$KS"
G "$KS" --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import public keys"
G "$ALICE" --export-secret-keys alice@valid.test >"$T/alice.sec" || world_fail "export alice"
G "$KS" --import "$T/alice.sec" 2>/dev/null || world_fail "import alice's secret key"
G "$BOB" --import "$ALICE.asc" 2>/dev/null || world_fail "bob imports alice"

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
reinject = smtp://127.0.0.1:10026
CONF
# No TLS policy daemon here; the re-injection port runs no milter.
postconf -c "$WORLD_DIR/postfix/sender" -M -e \
    '127.0.0.1:10026/inet=127.0.0.1:10026 inet n - n - - smtpd -o smtpd_milters= -o non_smtpd_milters=' ||
    world_fail "cannot add the re-injection port"
world_postconf sender "smtp_tls_policy_maps ="

token=pgp-$$-$(date +%s)
world_send alice@valid.test bob@valid.test --h-Subject "$token" --body "body $token"
msg=$(world_wait_delivered valid bob@valid.test)
grep -q "$token" "$msg" && world_fail "bob's mailbox holds the clear text"
/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" encrypted "$msg" "$T" >/dev/null || world_fail "not RFC 3156"
G "$BOB" -d "$T/cipher.asc" >"$T/inner" 2>/dev/null || world_fail "bob cannot decrypt"
grep -q "^Subject: $token" "$T/inner" || world_fail "no protected Subject inside"
grep -q "body $token" "$T/inner" || world_fail "no body inside"
grep -q 'pgp=encrypted:1,signed' "$WORLD_DIR/mailward/milter.log" || world_fail "no log item"
echo "ok 1 bob's mailbox holds only ciphertext, which bob decrypts"

token=mixed-$$-$(date +%s)
world_exec swaks --server "$WORLD_SENDER" --from alice@valid.test --to bob@valid.test,dave@valid.test \
    --h-Subject "$token" --body "body $token" >>"$WORLD_DIR/log/swaks.log" 2>&1 || world_fail "swaks"
msg=$(world_wait_delivered valid bob@valid.test 2)
grep -q "$token" "$msg" && world_fail "mixed: bob's copy holds clear text"
/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" encrypted "$msg" "$T" >/dev/null || world_fail "mixed: not encrypted"
G "$BOB" -d "$T/cipher.asc" 2>/dev/null | grep -q "body $token" || world_fail "mixed: bob cannot decrypt"
clear=$(world_wait_delivered valid dave@valid.test)
grep -q "^Subject: $token" "$clear" || world_fail "dave's copy has no clear Subject"
grep -q "body $token" "$clear" || world_fail "dave's copy has no clear body"
grep -q 'BEGIN PGP SIGNATURE' "$clear" || world_fail "dave's copy is not signed"
grep -q 'BEGIN PGP MESSAGE' "$clear" && world_fail "dave's copy is encrypted"
[ "$(ls "$WORLD_MAIL/valid/dave@valid.test/new" | wc -l)" = 1 ] || world_fail "dave got more than one copy"
echo "ok 2 mixed: bob's copy is ciphertext, dave's a clear signed copy (re-injected)"
world_stop_daemons
