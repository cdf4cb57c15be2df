#!/bin/sh
# interop.sh - our dkim= verdicts against two independent verifiers on the same input:
# dkimpy (tests/dkim/pyverify.py) and opendkim's milter in verify mode, both run in the
# world beside mailward-milter. Messages are signed by opendkim's library
# (opendkim-testmsg: simple/simple, rsa-sha1) and by dkimpy (rsa-sha256 and
# ed25519-sha256, relaxed and simple, several signatures, l=, oversigned headers), all
# with folded headers and an 8-bit body; some are changed after signing; keys come from
# the world's DNS (valid.test: rsa, ed, a revoked key "p=", a selector with no key).
# For every signature (by its header.b) our verdict must be the expected one and equal
# dkimpy's and opendkim's, except where a case names opendkim's differing verdict and
# why. opendkim gets the world's key records through TestDNSData (copied from the
# world's DNS with dig): Debian's opendkim 2.11 resolves nothing inside the world
# (its libunbound sends no query; opendkim-testkey says "record not found").
set -u
command -v opendkim-testmsg >/dev/null 2>&1 || { echo "SKIP: opendkim-tools not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/dkim/lib.sh"
world_up

T=$WORLD_DIR/dkim-interop
mkdir -p "$T"
CLIENT=$top_srcdir/tests/dkim/client.py
SIGN="/usr/bin/python3 $top_srcdir/tests/dkim/sign.py"
RSA=$WORLD_DKIM_RSA
openssl pkey -in "$WORLD_DKIM_ED25519" -outform DER | tail -c 32 | base64 >"$T/ed.b64" ||
    world_fail "cannot convert the ed25519 key"
ED=$T/ed.b64

cat >"$T/msg" <<'MSG'
From: Alice <alice@valid.test>
To: Bob <bob@example.net>,
	Carol <carol@example.net>
Subject: interop: a subject that is
   folded twice
	over three lines
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <interop@valid.test>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Köln, ünïcödé in the body.
A line with trailing blanks   
	and a tab.


MSG

# Signers. os: opendkim's own library; py: dkimpy.
opendkim-testmsg -d valid.test -k "$RSA" -s rsa <"$T/msg" >"$T/os-simple" ||
    world_fail "opendkim-testmsg cannot sign"
$SIGN --canon relaxed/relaxed rsa valid.test "$RSA" <"$T/msg" >"$T/py-relaxed" || world_fail "sign"
$SIGN --canon simple/simple rsa valid.test "$RSA" <"$T/msg" >"$T/py-simple" || world_fail "sign"
$SIGN --ed25519 ed valid.test "$ED" <"$T/msg" >"$T/py-ed" || world_fail "sign"
$SIGN --ed25519 ed valid.test "$ED" <"$T/os-simple" >"$T/two" || world_fail "sign"
$SIGN --length rsa valid.test "$RSA" <"$T/msg" >"$T/length" || world_fail "sign"
printf 'Text appended below the l= count.\n' >>"$T/length"
$SIGN --oversign rsa valid.test "$RSA" <"$T/msg" >"$T/oversigned" || world_fail "sign"
# A second Subject added after oversigning breaks the signature.
sed '0,/^Subject:/s//Subject: injected\nSubject:/' "$T/oversigned" >"$T/oversigned-added"
sed 's/Köln/Bonn/' "$T/py-relaxed" >"$T/body-changed"
sed 's/^Message-ID: <interop@/Message-ID: <changed@/' "$T/py-simple" >"$T/header-changed"
$SIGN revoked valid.test "$RSA" <"$T/msg" >"$T/revoked" || world_fail "sign"
$SIGN nokey valid.test "$RSA" <"$T/msg" >"$T/nokey" || world_fail "sign"

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter dkim <<CONF
[dkim]
verify = yes
CONF

# opendkim in verify mode, fed the world's key records.
dkim_opendkim_start "$T" 8892 mx.world.test rsa ed revoked

# verdicts FILE [PORT]: a milter's (default: ours) "B8=RESULT" per signature, sorted
# ("none" for an unsigned message).
verdicts() {
    port=${2:-${WORLD_MILTER_SOCKET##*:}}
    ar=$(world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "$port" 198.51.100.7 "$1") ||
        world_fail "client failed on $(basename "$1") (port $port)"
    echo "$(basename "$1"): $ar" >>"$T/ar.$port"
    printf '%s\n' "$ar" | tr ';' '\n' |
        sed -n 's/^ *dkim=\([a-z]*\).*header\.b=\([^ ;]*\).*/\2=\1/p;s/^ *dkim=none.*/none/p' |
        sort | tr '\n' ' '
}

# reference FILE: dkimpy's verdicts, the same form.
reference() {
    world_exec /usr/bin/python3 "$top_srcdir/tests/dkim/pyverify.py" "$1" | sort | tr '\n' ' '
}

# case_ FILE EXPECTED [OPENDKIM]: we and dkimpy give EXPECTED ("B8=RESULT ..." with B1/B2
# for the first and second signature from the top); opendkim gives OPENDKIM (default:
# the same; "-": no verdict at all).
fails=0
subst() { printf '%s\n' $1 | sed -e "s|^B1=|$b1=|" -e "s|^B2=|$b2=|" | sort | tr '\n' ' '; }
case_() {
    f=$T/$1
    b1=$(/usr/bin/python3 "$CLIENT" b8 "$f" | sed -n 1p)
    b2=$(/usr/bin/python3 "$CLIENT" b8 "$f" | sed -n 2p)
    want=$(subst "$2")
    owant=$(subst "${3:-$2}")
    [ "${3:-}" = - ] && owant=
    ours=$(verdicts "$f")
    py=$(reference "$f")
    od=$(verdicts "$f" 8892)
    if [ "$ours" != "$want" ]; then
        echo "WRONG: $1: mailward [$ours], want [$want] (dkimpy [$py], opendkim [$od])"
        fails=$((fails + 1))
    elif [ "$py" != "$want" ]; then
        echo "DIFFER: $1: dkimpy [$py], want [$want]"
        fails=$((fails + 1))
    elif [ "$od" != "$owant" ]; then
        echo "DIFFER: $1: opendkim [$od], want [$owant]"
        fails=$((fails + 1))
    else
        echo "ok: $1: mailward [$ours] dkimpy [$py] opendkim [$od]"
    fi
}

case_ msg "none"
# RFC 8301: an rsa-sha1 signature is never valid; opendkim 2.11 still passes it.
case_ os-simple "B1=fail" "B1=pass"
case_ py-relaxed "B1=pass"
case_ py-simple "B1=pass"
case_ py-ed "B1=pass"
case_ two "B1=pass B2=fail" "B1=pass B2=pass"
case_ length "B1=pass"
case_ oversigned "B1=pass"
case_ oversigned-added "B1=fail"
case_ body-changed "B1=fail"
case_ header-changed "B1=fail"
case_ revoked "B1=fail"
# opendkim's TestDNSData has no "no such name": it adds no verdict for a key it lacks.
case_ nokey "B1=permerror" -

echo "--- mailward's Authentication-Results:"
cat "$T/ar.${WORLD_MILTER_SOCKET##*:}"
echo "--- opendkim's:"
cat "$T/ar.8892"
[ $fails = 0 ] || world_fail "$fails case(s) where the verdicts differ or are wrong"
world_stop_daemons
exit 0
