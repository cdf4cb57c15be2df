# pki.sh - keys and certificates of the test world (sourced by world.sh)
#
# pki_make: a test CA ($W/pki/ca.pem), one certificate per MX of mx.list as its TLS
# column says, the policy hosts' certificates, and the DKIM keys ($W/keys/dkim-rsa.pem,
# $W/keys/dkim-ed25519.pem). Everything is made fresh at start-up (EC P-256 and ed25519
# keys: fast), so no key material lives in the source tree.
# pki_tlsa CERT: the "3 1 1" association data (SHA-256 of the public key) of CERT.

# pki_key FILE: a new P-256 private key.
pki_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>>"$W/log/pki.log"
}

# pki_leaf NAME ISSUER CN [DNS-NAME...]: $W/pki/NAME.{key,pem}, signed by the CA
# (ISSUER = ca) or by itself (ISSUER = self); the chain file NAME.chain holds key and cert.
pki_leaf() {
    local name issuer cn san d n
    name=$1 issuer=$2 cn=$3
    shift 3
    san=""
    for n in "$cn" "$@"; do san="${san:+$san,}DNS:$n"; done
    d=$W/pki
    pki_key "$d/$name.key" || return 1
    if [ "$issuer" = self ]; then
        openssl req -x509 -new -key "$d/$name.key" -out "$d/$name.pem" -days 3650 -subj "/CN=$cn" \
            -addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:FALSE" \
            -addext "extendedKeyUsage=serverAuth" 2>>"$W/log/pki.log" || return 1
    else
        printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' \
            "$san" >"$d/$name.ext"
        openssl req -new -key "$d/$name.key" -subj "/CN=$cn" 2>>"$W/log/pki.log" |
            openssl x509 -req -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")" -days 3650 \
                -extfile "$d/$name.ext" -out "$d/$name.pem" 2>>"$W/log/pki.log" || return 1
    fi
    cat "$d/$name.key" "$d/$name.pem" >"$d/$name.chain"
}

pki_tlsa() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}

# pki_dkim: the world's DKIM keys and their TXT record data, ready for a zone file
# (RSA data split into quoted strings of at most 250 bytes).
pki_dkim() {
    local k p
    k=$W/keys
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/dkim-rsa.pem" 2>>"$W/log/pki.log" &&
        openssl genpkey -algorithm ED25519 -out "$k/dkim-ed25519.pem" 2>>"$W/log/pki.log" || return 1
    p=$(openssl pkey -in "$k/dkim-rsa.pem" -pubout -outform DER | base64 -w0)
    printf '"v=DKIM1; k=rsa; "%s\n' "$(printf 'p=%s' "$p" | fold -w 250 | sed 's/.*/ "&"/' | tr -d '\n')" \
        >"$k/dkim-rsa.txt"
    # RFC 8463: the ed25519 p= is the bare 32-byte key, the tail of its SPKI encoding.
    p=$(openssl pkey -in "$k/dkim-ed25519.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
    printf '"v=DKIM1; k=ed25519; p=%s"\n' "$p" >"$k/dkim-ed25519.txt"
}

pki_make() {
    local d dkim name addr tls names hosts pids p
    d=$W/pki
    mkdir -p "$d" "$W/keys" || return 1
    pki_dkim &
    dkim=$!
    pki_key "$d/ca.key" &&
        openssl req -x509 -new -key "$d/ca.key" -out "$d/ca.pem" -days 3650 \
            -subj "/CN=mailward test world CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$W/log/pki.log" || return 1
    pids=$dkim
    while read -r name addr tls names; do
        case $tls in
        valid) pki_leaf "mx-$name" ca "mx-$name.world.test" $names ;;
        wrongname) pki_leaf "mx-$name" ca wrong-name.invalid ;;
        selfsigned) pki_leaf "mx-$name" self "mx-$name.world.test" $names ;;
        none) continue ;;
        *) echo "world: mx.list: $name: unknown TLS kind $tls" >&2 && return 1 ;;
        esac && pki_tlsa "$d/mx-$name.pem" >"$d/mx-$name.tlsa" &
        pids="$pids $!"
    done <<LIST
$(grep -v '^#' "$here/mx.list" | grep .)
LIST
    # Policy hosts: one certificate naming every host that must verify, one for the rest.
    hosts=$(awk '!/^#/ && NF && $2 != "wrongcert" { print "mta-sts." $1 }' "$here/policy-hosts.list")
    pki_leaf policyhost ca policyhost.world.test $hosts &
    pids="$pids $!"
    pki_leaf policyhost-wrong ca wrong-name.invalid &
    pids="$pids $!"
    for p in $pids; do wait "$p" || return 1; done
}
