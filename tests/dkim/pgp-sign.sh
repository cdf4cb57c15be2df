#!/bin/sh
# pgp-sign.sh - DKIM signatures of outbound mail verify with dkimpy (pyverify.py and
# dkimverify) and with opendkim in verify mode, after delivery through the world's Postfix,
# also when the pgp plugin listed before dkim ("plugins = pgp dkim") replaced the body and
# changed the header section (Content-Type, MIME-Version, Subject): the signature must
# cover the message as it leaves. Cases: alice -> bob encrypted and signed (alice's key
# pair in the keystore), carol -> bob encrypted only, carol -> dave untouched by pgp (the
# streamed signatures), alice -> bob, alice and dave (per-recipient ciphertext and clear
# copy re-injected through a port that runs the milter again, signed there), and alice -> bob again with simple/simple, where a byte of
# difference between what we signed and what Postfix wrote breaks the signature. Each
# message carries an rsa-sha256 and an ed25519-sha256 signature (the simple/simple one
# rsa-sha256 only: ed25519 with simple header canonicalization is refused); a copy with the
# Subject or the body changed must fail with all three verifiers.
# opendkim gets the key records through TestDNSData (Debian's opendkim sends no DNS query
# inside the world, see tests/dkim/lib.sh).
set -u
command -v dkimverify >/dev/null 2>&1 || { echo "SKIP: dkimpy (python3-dkim) not installed"; exit 77; }
command -v opendkim >/dev/null 2>&1 || { echo "SKIP: opendkim not installed"; exit 77; }
command -v gpg >/dev/null 2>&1 || { echo "SKIP: gpg not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
world_up
. "$top_srcdir/tests/dkim/lib.sh"
dkim_sanitizer_env

T=$WORLD_DIR/dkim-pgp
mkdir -p "$T"
CLIENT=$top_srcdir/tests/dkim/client.py
PYVERIFY=$top_srcdir/tests/dkim/pyverify.py
LOG=$WORLD_DIR/mailward/milter.log

# Signing keys: rsa and ed25519 for every valid.test sender.
cp "$WORLD_DKIM_RSA" "$T/rsa.pem"
cp "$WORLD_DKIM_ED25519" "$T/ed.pem"
chmod 600 "$T/rsa.pem" "$T/ed.pem"
printf 'rsa-valid valid.test:rsa:%s\ned-valid valid.test:ed:%s\n' "$T/rsa.pem" "$T/ed.pem" >"$T/keytable"
printf '*@valid.test rsa-valid\n*@valid.test ed-valid\n' >"$T/signingtable"

# The pgp keystore: every public key, alice's key pair.
G() { home=$1; shift; gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' "$@"; }
KS=$WORLD_GNUPG/dkim-pgp
mkdir -m 700 "$KS"
G "$KS" --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import public keys"
G "$WORLD_GNUPG/alice@valid.test" --export-secret-keys alice@valid.test >"$T/alice.sec" ||
    world_fail "export alice"
G "$KS" --import "$T/alice.sec" 2>/dev/null || world_fail "import alice's secret key"

# opendkim in verify mode beside our milter.
dkim_opendkim_start "$T" 8893 od.world.test rsa ed

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "pgp dkim" <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
reinject = smtp://127.0.0.1:10026
[dkim]
key_table = $T/keytable
signing_table = refile:$T/signingtable
CONF
: >"$WORLD_DIR/mailward/tls-rules"
# The re-injection port as in conf-examples/postfix-master.cf: it runs our milter again.
postconf -c "$WORLD_DIR/postfix/sender" -M -e \
    '127.0.0.1:10026/inet=127.0.0.1:10026 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:8891 -o non_smtpd_milters=' ||
    world_fail "cannot add the re-injection port"
world_exec postfix -c "$WORLD_DIR/postfix/sender" reload >/dev/null 2>&1
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF

# The verdicts of each verifier on FILE, sorted, one line each: "pass pass " is two good
# signatures. dkimverify (the command) says only whether all signatures pass: pass|fail.
dkimpy() { world_exec /usr/bin/python3 "$PYVERIFY" "$1" | sed 's/^[^=]*=//' | sort | tr '\n' ' '; }
odkim() {
    ar=$(world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 8893 198.51.100.7 "$1") ||
        world_fail "client failed on $(basename "$1") (opendkim)"
    echo "$(basename "$1"): $ar" >>"$T/opendkim-ar"
    printf '%s\n' "$ar" | tr ';' '\n' | sed -n 's/^ *dkim=\([a-z]*\).*/\1/p' | sort | tr '\n' ' '
}
dkimverify_() { world_exec dkimverify <"$1" >"$T/dkimverify.out" 2>&1 && echo pass || echo fail; }
verifiers() { echo "dkimpy [$(dkimpy "$1")] opendkim [$(odkim "$1")] dkimverify [$(dkimverify_ "$1")]"; }

# want RESULT: the line verifiers prints when all $NSIG signatures give RESULT.
NSIG=2
want() {
    r=$(i=0; while [ $i -lt $NSIG ]; do printf '%s ' "$1"; i=$((i + 1)); done)
    echo "dkimpy [$r] opendkim [$r] dkimverify [$1]"
}

# case_ NAME FROM TO PGP-LOG-ITEM: send, wait, check the pgp outcome and all verdicts, then
# the same for a copy with the Subject changed and one with a body line changed.
n_bob=0
n_dave=0
case_() {
    name=$1 from=$2 to=$3 item=$4
    token=$name-$$-$(date +%s)
    world_send "$from" "$to" --h-From "${from%%@*} <$from>" --h-Subject "$token" \
        --body "body $token"
    if [ "$to" = bob@valid.test ]; then n_bob=$((n_bob + 1)) n=$n_bob; else n_dave=$((n_dave + 1)) n=$n_dave; fi
    msg=$(world_wait_delivered valid "$to" $n)
    cp "$msg" "$T/$name"
    grep -q "$item" "$LOG" || world_fail "$name: no \"$item\" in the milter's log"
    case $item in
    *encrypted*)
        grep -q "$token" "$T/$name" && world_fail "$name: the clear text was delivered"
        grep -qi '^Content-Type: multipart/encrypted' "$T/$name" || world_fail "$name: not PGP/MIME"
        ;;
    *)
        grep -q "^Subject: $token" "$T/$name" || world_fail "$name: not the message sent"
        ;;
    esac
    [ "$(grep -c '^DKIM-Signature:' "$T/$name")" = $NSIG ] || world_fail "$name: not $NSIG DKIM-Signature fields"
    v=$(verifiers "$T/$name")
    [ "$v" = "$(want pass)" ] || world_fail "$name: $v; want $(want pass) ($(cat "$T/dkimverify.out"))"
    echo "ok: $name ($item): $v"
    sed '0,/^Subject: /s//Subject: x/' "$T/$name" >"$T/$name-subject"
    v=$(verifiers "$T/$name-subject")
    [ "$v" = "$(want fail)" ] || world_fail "$name with a changed Subject: $v; want $(want fail)"
    # The last non-empty body line (ciphertext, boundary or text) gets one more character.
    last=$(awk 'NF { n = NR } END { print n }' "$T/$name")
    sed "${last}s/\$/x/" "$T/$name" >"$T/$name-body"
    v=$(verifiers "$T/$name-body")
    [ "$v" = "$(want fail)" ] || world_fail "$name with a changed body: $v; want $(want fail)"
    echo "ok: $name with the Subject or the body changed: $v"
}

case_ encrypted-signed alice@valid.test bob@valid.test 'pgp=encrypted:1,signed'
grep -q 'dkim-sign=skipped' "$LOG" && world_fail "a message was left unsigned"
case_ encrypted carol@valid.test bob@valid.test 'pgp=encrypted:1 '
case_ untouched carol@valid.test dave@valid.test 'pgp=skipped:no-key'

# Mixed recipients: bob keeps the transaction's ciphertext; alice's own ciphertext
# (bcc_privacy = per-recipient) and dave's clear copy are re-injected through the port,
# pass the milter again (pgp knows its loop guard and deletes it) and get signed there.
token=mixed-$$-$(date +%s)
world_send alice@valid.test bob@valid.test,alice@valid.test,dave@valid.test \
    --h-From "alice <alice@valid.test>" --h-Subject "$token" --body "body $token"
n_bob=$((n_bob + 1)) n_dave=$((n_dave + 1))
for rn in bob:$n_bob alice:1 dave:$n_dave; do
    r=${rn%%:*}
    msg=$(world_wait_delivered valid "$r@valid.test" "${rn#*:}")
    cp "$msg" "$T/mixed-$r"
    grep -qi '^X-Mailward-PGP-Reinjected:' "$T/mixed-$r" && world_fail "mixed-$r: the loop guard left the host"
    if [ "$r" = dave ]; then
        grep -q "^Subject: $token" "$T/mixed-$r" || world_fail "mixed-dave: not the clear copy"
    else
        grep -q "$token" "$T/mixed-$r" && world_fail "mixed-$r: the clear text was delivered"
        grep -qi '^Content-Type: multipart/encrypted' "$T/mixed-$r" || world_fail "mixed-$r: not PGP/MIME"
    fi
    [ "$(grep -c '^DKIM-Signature:' "$T/mixed-$r")" = $NSIG ] || world_fail "mixed-$r: not $NSIG DKIM-Signature fields"
    v=$(verifiers "$T/mixed-$r")
    [ "$v" = "$(want pass)" ] || world_fail "mixed-$r: $v; want $(want pass)"
    echo "ok: mixed recipients, $r's copy: $v"
done
[ "$(grep -c 'pgp=skipped:reinjected' "$LOG")" = 2 ] || world_fail "not two copies back through the milter"

# simple/simple: the header fields we signed and those Postfix wrote must match byte for
# byte. libopendkim signs ed25519 wrongly with simple header canonicalization: such a
# configuration is refused (the old one stays), so the rsa key alone signs here.
reload() {
    before=$(grep -c 'reload: .*\(in use\|keeping\)' "$LOG")
    kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
    world_wait_for 20 sh -c "[ \$(grep -c 'reload: .*\\(in use\\|keeping\\)' '$LOG') -gt $before ]" ||
        world_fail "the milter did not reload"
}
sed -i 's|^\[dkim\]$|[dkim]\ncanonicalization = simple/simple|' "$WORLD_DIR/mailward/milter.conf"
reload
grep -q "reload: .*ed.pem: an ed25519 key needs relaxed header canonicalization.*keeping" "$LOG" ||
    world_fail "ed25519 with simple/simple was not refused"
echo "ok: ed25519 with simple header canonicalization refused at reload"
printf '*@valid.test rsa-valid\n' >"$T/signingtable"
sed -i '/^ed-valid/d' "$T/keytable"
reload
grep -q 'reload: configuration .* in use' "$LOG" || world_fail "simple/simple with rsa was refused"
NSIG=1
case_ simple alice@valid.test bob@valid.test 'pgp=encrypted:1,signed'
grep -q 'c=simple/simple' "$T/simple" || world_fail "simple: not signed with c=simple/simple"
echo "--- opendkim's Authentication-Results:"
cat "$T/opendkim-ar"
world_stop_daemons
exit 0
