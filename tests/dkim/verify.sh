#!/bin/sh
# verify.sh - the dkim plugin verifies inbound mail: the real mailward-milter with
# "plugins = dkim" in the test world (its resolver, the world's DKIM keys for
# valid.test: rsa._domainkey, ed._domainkey), messages signed by dkimpy's dkimsign
# and replayed by tests/dkim/client.py the way Postfix sends them.
set -u
command -v dkimsign >/dev/null 2>&1 || { echo "SKIP: dkimsign (python3-dkim) not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
world_up

T=$WORLD_DIR/dkim
mkdir -p "$T"
CLIENT=$top_srcdir/tests/dkim/client.py
PORT=${WORLD_MILTER_SOCKET##*:}

# dkimpy wants an ed25519 key as the base64 of its 32-byte seed, not PEM.
openssl pkey -in "$WORLD_DKIM_ED25519" -outform DER | tail -c 32 | base64 >"$T/ed.b64" ||
    world_fail "cannot convert the ed25519 key"

cat >"$T/msg" <<'MSG'
From: Alice <alice@valid.test>
To: bob@example.net
Subject: a subject that is folded
	onto a second line
Message-ID: <dkim-test@valid.test>

Hello Bob,

this is the body.
MSG

sign() { # sign IN OUT SELECTOR KEY [DKIMSIGN-ARGS...]
    in=$1 out=$2 sel=$3 key=$4
    shift 4
    dkimsign "$@" "$sel" valid.test "$key" <"$in" >"$out" || world_fail "dkimsign $sel failed"
}
sign "$T/msg" "$T/rsa" rsa "$WORLD_DKIM_RSA"
# simple header canonicalization: the plugin must rebuild the headers exactly.
sign "$T/msg" "$T/ed" ed "$T/ed.b64" --signalg ed25519-sha256 --hcanon simple
sign "$T/rsa" "$T/two" ed "$T/ed.b64" --signalg ed25519-sha256
sed 's/this is the body/this is another body/' "$T/rsa" >"$T/changed"
sign "$T/msg" "$T/nokey" nokey "$WORLD_DKIM_RSA"

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter dkim <<CONF
[dkim]
verify = yes
CONF

# check FILE WANT: the AR header the milter inserts for FILE equals WANT (B1, B2 are
# replaced by the first 8 characters of FILE's first and second b=).
check() {
    b1=$(python3 "$CLIENT" b8 "$1" | sed -n 1p)
    b2=$(python3 "$CLIENT" b8 "$1" | sed -n 2p)
    want=$(printf '%s' "$2" | sed -e "s|B1|$b1|" -e "s|B2|$b2|")
    got=$(world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "$PORT" 198.51.100.7 "$1") ||
        world_fail "client failed on $(basename "$1")"
    [ "$got" = "$want" ] || world_fail "$(basename "$1"): got '$got', want '$want'"
    echo "ok: $(basename "$1"): $got"
}
ID=mx.world.test
check "$T/rsa" "$ID; dkim=pass header.d=valid.test header.s=rsa header.a=rsa-sha256 header.b=B1"
check "$T/ed" "$ID; dkim=pass header.d=valid.test header.s=ed header.a=ed25519-sha256 header.b=B1"
check "$T/two" "$ID; dkim=pass header.d=valid.test header.s=ed header.a=ed25519-sha256 header.b=B1; dkim=pass header.d=valid.test header.s=rsa header.a=rsa-sha256 header.b=B2"
check "$T/changed" "$ID; dkim=fail (body hash mismatch) header.d=valid.test header.s=rsa header.a=rsa-sha256 header.b=B1"
check "$T/msg" "$ID; dkim=none"
check "$T/nokey" "$ID; dkim=permerror (key not found in DNS) header.d=valid.test header.s=nokey header.a=rsa-sha256 header.b=B1"

log=$WORLD_DIR/mailward/milter.log
grep -q '4DKIM: inbound .*dkim=pass:valid.test:rsa' "$log" || world_fail "no dkim item in the log line"

# Every verdict is counted per method and result: 4 pass (rsa, ed, two x2), 1 fail, 1 permerror.
metric() {
    world_exec curl -sf http://127.0.0.1:9469/metrics |
        awk -v k="mailward_milter_verdicts_total{method=\"dkim\",result=\"$1\"}" '$1 == k { print $2 }'
}
[ "$(metric pass)" = 4 ] || world_fail "dkim pass verdicts counted: [$(metric pass)], want 4"
[ "$(metric fail)" = 1 ] || world_fail "dkim fail verdicts counted: [$(metric fail)], want 1"
[ "$(metric permerror)" = 1 ] || world_fail "dkim permerror verdicts: [$(metric permerror)], want 1"
echo "ok: verdict counters"

# verify = no, applied by a reload: the plugin stays silent.
sed -i 's/^verify = yes$/verify = no/' "$WORLD_DIR/mailward/milter.conf"
kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
i=0
until grep -q 'reload: configuration .* in use' "$log"; do
    i=$((i + 1))
    [ $i -gt 200 ] && world_fail "the milter did not reload"
    sleep 0.1
done
got=$(world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "$PORT" 198.51.100.7 "$T/rsa") ||
    world_fail "client failed after reload"
case $got in *dkim=*) world_fail "verify = no still reports: $got" ;; esac
echo "ok: verify = no: $got"

world_stop_daemons
exit 0
