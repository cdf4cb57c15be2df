# lib.sh - what the publishing tests share (sourced after tests/world/lib.sh)
#
#   pub_cert NAME DNS-NAME...     $WORLD_DIR/mailward/NAME.{key,pem}: a P-256 key and a
#                                 certificate from the world's CA for the DNS-NAMEs
#   pub_dns DOMAIN MX [ADDR]      DOMAIN MX 10 MX and mta-sts.DOMAIN A ADDR (default
#                                 $PUB_ADDR), published at run time in the world's resolver
#   pub_get HOST PATH [PAD]       GET PATH with Host HOST (SNI mta-sts.pub.sts.test) from the
#                                 listener, PAD bytes of extra header; prints the status line
#   pub_spki CERT                 the "3 1 1" data of CERT, computed by openssl alone
PUB_ADDR=127.0.0.21
PUB_PORT=443

pub_cert() {
    local name cn san n d
    name=$1 cn=$2 d=$WORLD_DIR/mailward
    shift
    san=""
    for n in "$@"; do san="${san:+$san,}DNS:$n"; done
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$name.key" 2>/dev/null &&
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$d/$name.ext" &&
        openssl req -new -key "$d/$name.key" -subj "/CN=$cn" 2>/dev/null |
        openssl x509 -req -CA "$WORLD_DIR/pki/ca.pem" -CAkey "$WORLD_DIR/pki/ca.key" \
            -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 30 \
            -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null ||
        world_fail "cannot make the certificate $name"
}

pub_dns() {
    sts_unbound local_data "$1. 300 IN MX 10 $2."
    sts_unbound local_data "mta-sts.$1. 300 IN A ${3:-$PUB_ADDR}"
}

pub_get() {
    world_exec /usr/bin/python3 "$top_srcdir/tests/publish/client.py" get "$PUB_ADDR" "$PUB_PORT" \
        mta-sts.pub.sts.test "$WORLD_CA" "$2" "$1" ${3:-}
}

pub_spki() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}
