#!/bin/sh
# postfix.sh - the pgp plugin end to end: mail submitted to the world's sending Postfix
# (through mailward-milter) reaches bob's mailbox only as ciphertext that bob decrypts;
# a message to bob and dave (no key) leaves bob's copy encrypted and gives dave a clear,
# signed copy through the milter-free re-injection port 127.0.0.1:10026; a message to
# three key holders and dave gives each key holder their own ciphertext (bcc_privacy =
# per-recipient: one key id, theirs; gpg and rnp decrypt; RFC 9788 headers inside) and dave
# a clear copy that gpg --verify and sqv accept.
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

# 3. Three key holders (bob, carol, erin) and dave: each key holder's copy is encrypted to
# their key alone (bcc_privacy = per-recipient), bob's in the transaction, carol's and erin's
# re-injected; dave's clear copy is signed.
for u in carol erin; do
    H=$T/$u && mkdir -m 700 "$H"
    G "$H" --quick-gen-key "$u <$u@valid.test>" ed25519 cert,sign never 2>/dev/null &&
        G "$H" --quick-add-key "$(G "$H" --with-colons -k | awk -F: '$1 == "fpr" { print $10; exit }')" \
            cv25519 encr never 2>/dev/null || world_fail "key for $u"
    G "$H" --export "$u@valid.test" | G "$KS" --import 2>/dev/null || world_fail "keystore imports $u"
    G "$H" --import "$ALICE.asc" 2>/dev/null || world_fail "$u imports alice"
done
home() { case $1 in bob) echo "$BOB" ;; *) echo "$T/$1" ;; esac; }
subkey() { G "$(home "$1")" --with-colons -k | awk -F: '$1 == "sub" { print $5; exit }'; }
mkdir -m 700 "$T/empty"
token=bcc-$$-$(date +%s)
world_exec swaks --server "$WORLD_SENDER" --from alice@valid.test \
    --to bob@valid.test,carol@valid.test,erin@valid.test,dave@valid.test \
    --h-Subject "$token" --h-Cc "List <list@example.org>" --body "body $token" \
    >>"$WORLD_DIR/log/swaks.log" 2>&1 || world_fail "swaks"
for u in bob carol erin; do
    case $u in bob) n=3 ;; *) n=1 ;; esac
    msg=$(world_wait_delivered valid $u@valid.test $n)
    grep -q "$token" "$msg" && world_fail "$u's copy holds clear text"
    [ "$(ls "$WORLD_MAIL/valid/$u@valid.test/new" | wc -l)" = $n ] || world_fail "$u: more than one copy"
    outer=$(/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" encrypted "$msg" "$T") ||
        world_fail "$u: not RFC 3156"
    [ "$outer" = "subject=[...]" ] || world_fail "$u: outer $outer"
    # Exactly one public-key packet, for this user's encryption subkey: nobody else's key id.
    ids=$(G "$T/empty" --list-packets "$T/cipher.asc" 2>/dev/null |
        awk '/pubkey enc packet/ { for (i = 1; i < NF; i++) if ($i == "keyid") print $(i + 1) }')
    [ "$ids" = "$(subkey $u)" ] || world_fail "$u: key ids in the ciphertext: $ids (own: $(subkey $u))"
    for o in bob carol erin; do
        [ $o = $u ] || ! echo "$ids" | grep -q "$(subkey $o)" || world_fail "$u's copy names $o's key"
    done
    gpg --homedir "$(home $u)" --batch --pinentry-mode loopback --passphrase '' --status-fd 3 \
        -d "$T/cipher.asc" >"$T/inner.$u" 3>"$T/status.$u" 2>/dev/null || world_fail "gpg: $u cannot decrypt"
    grep -q "GOODSIG.*alice@valid.test" "$T/status.$u" || world_fail "$u: no good signature of alice inside"
    G "$(home $u)" --export-secret-keys $u@valid.test >"$T/$u.sec" || world_fail "export $u"
    mkdir -p "$T/rnp-$u"
    rnpkeys --homedir "$T/rnp-$u" --import "$T/$u.sec" >/dev/null 2>&1 || world_fail "rnp import $u"
    rnp --homedir "$T/rnp-$u" --password '' -d "$T/cipher.asc" --output "$T/inner.rnp.$u" >/dev/null 2>&1 ||
        world_fail "rnp: $u cannot decrypt"
    cmp -s "$T/inner.$u" "$T/inner.rnp.$u" || world_fail "$u: rnp and gpg disagree"
    # RFC 9788: hp="cipher", protected-headers="v1", the real fields inside, one HP-Outer
    # per outer field with the outer value (Subject: the neutral one).
    in=$(/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" inner "$T/inner.$u")
    out=$(/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" inner "$msg")
    for want in hp=cipher protected-headers=v1 "subject=$token" 'hp-outer-subject=[...]' \
        "text=body $token"; do
        echo "$in" | grep -qxF "$want" || world_fail "$u: inner lacks $want: $in"
    done
    for h in from to cc date message-id; do
        v=$(echo "$out" | grep "^$h=") || world_fail "$u: outer has no $h"
        echo "$in" | grep -qxF "$v" || world_fail "$u: inner $h differs from outer $v"
        echo "$in" | grep -qxF "hp-outer-$v" || world_fail "$u: no HP-Outer for $v"
    done
    echo "$in" | grep -q "^to=.*carol@valid.test.*dave@valid.test" || world_fail "$u: inner To"
done
grep -q 'pgp=encrypted:3,signed,per-recipient,reinjected:1' "$WORLD_DIR/mailward/milter.log" ||
    world_fail "no per-recipient log item"
clear=$(world_wait_delivered valid dave@valid.test 2)
grep -q "^Subject: $token" "$clear" || world_fail "dave's copy has no clear Subject"
grep -q 'BEGIN PGP MESSAGE' "$clear" && world_fail "dave's copy is encrypted"
# The maildir stores LF line ends; the signed part is checked in its CRLF wire form.
sed 's/\r*$/\r/' "$clear" >"$T/clear.crlf"
/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" signed "$T/clear.crlf" "$T" >/dev/null ||
    world_fail "dave: not RFC 3156 signed"
G "$BOB" --verify "$T/sig.asc" "$T/data" 2>/dev/null || world_fail "dave's copy: gpg --verify fails"
sqv --keyring "$ALICE.asc" "$T/sig.asc" "$T/data" >/dev/null || world_fail "dave's copy: sqv fails"
grep -q "body $token" "$T/data" || world_fail "dave's signed part lacks the body"
inner=$(/usr/bin/python3 "$top_srcdir/tests/pgp/check.py" inner "$T/data")
echo "$inner" | grep -qxF "subject=$token" && echo "$inner" | grep -qx 'hp=clear' ||
    world_fail "dave's signed part has no protected header (RFC 9788 hp=clear): $inner"
echo "ok 3 per-recipient: bob, carol, erin each hold ciphertext with only their key id (gpg and rnp decrypt, RFC 9788 headers inside); dave a clear copy (gpg --verify, sqv)"
world_stop_daemons
