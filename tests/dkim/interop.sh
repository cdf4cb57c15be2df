#!/bin/sh
# interop.sh - our dkim= verdicts equal an independent verifier's (dkimpy) on the same
# input. Messages are signed by opendkim's library (opendkim-testmsg: simple/simple,
# rsa-sha1) and by dkimpy (rsa-sha256 and ed25519-sha256, relaxed and simple, several
# signatures, l=, oversigned headers), all with folded headers and an 8-bit body; some are
# changed after signing; keys come from the world's DNS (valid.test: rsa, ed, a revoked key
# "p=", a selector with no key). For every signature (by its header.b) our verdict must be
# the expected one and equal dkimpy's, except where the case names dkimpy's differing
# verdict and why. (opendkim's own milter is not the reference: Debian's opendkim 2.11
# resolves nothing inside the world -- opendkim-testkey reports "record not found" for
# keys dig shows -- so its verdicts would be DNS failures.)
set -u
command -v opendkim-testmsg >/dev/null 2>&1 || { echo "SKIP: opendkim-tools not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
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

# verdicts FILE: our "B8=RESULT" per signature, sorted ("none" for an unsigned message).
verdicts() {
    ar=$(world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "${WORLD_MILTER_SOCKET##*:}" 198.51.100.7 "$1") ||
        world_fail "client failed on $(basename "$1")"
    echo "$(basename "$1"): $ar" >>"$T/ar"
    printf '%s\n' "$ar" | tr ';' '\n' |
        sed -n 's/^ *dkim=\([a-z]*\).*header\.b=\([^ ;]*\).*/\2=\1/p;s/^ *dkim=none.*/none/p' |
        sort | tr '\n' ' '
}

# reference FILE: dkimpy's verdicts, the same form.
reference() {
    world_exec /usr/bin/python3 "$top_srcdir/tests/dkim/pyverify.py" "$1" | sort | tr '\n' ' '
}

# case_ FILE EXPECTED [REFERENCE]: we give EXPECTED ("B8=RESULT ..." with B1/B2 for the
# first and second signature from the top) and dkimpy gives REFERENCE (default: the same).
fails=0
case_() {
    f=$T/$1
    b1=$(/usr/bin/python3 "$CLIENT" b8 "$f" | sed -n 1p)
    b2=$(/usr/bin/python3 "$CLIENT" b8 "$f" | sed -n 2p)
    want=$(printf '%s\n' $2 | sed -e "s|^B1=|$b1=|" -e "s|^B2=|$b2=|" | sort | tr '\n' ' ')
    ref=$(printf '%s\n' ${3:-$2} | sed -e "s|^B1=|$b1=|" -e "s|^B2=|$b2=|" | sort | tr '\n' ' ')
    ours=$(verdicts "$f")
    theirs=$(reference "$f")
    if [ "$ours" != "$want" ]; then
        echo "WRONG: $1: mailward [$ours], want [$want] (dkimpy [$theirs])"
        fails=$((fails + 1))
    elif [ "$theirs" != "$ref" ]; then
        echo "DIFFER: $1: dkimpy [$theirs], want [$ref] (mailward [$ours])"
        fails=$((fails + 1))
    else
        echo "ok: $1: mailward [$ours] dkimpy [$theirs]"
    fi
}

case_ msg "none"
# RFC 8301: an rsa-sha1 signature is never valid.
case_ os-simple "B1=fail"
case_ py-relaxed "B1=pass"
case_ py-simple "B1=pass"
case_ py-ed "B1=pass"
case_ two "B1=pass B2=fail"
case_ length "B1=pass"
case_ oversigned "B1=pass"
case_ oversigned-added "B1=fail"
case_ body-changed "B1=fail"
case_ header-changed "B1=fail"
case_ revoked "B1=fail"
case_ nokey "B1=permerror"

echo "--- mailward's Authentication-Results:"
cat "$T/ar"
[ $fails = 0 ] || world_fail "$fails case(s) where the verdicts differ or are wrong"
world_stop_daemons
exit 0
