#!/bin/sh
# resolve.sh - lib/dns against a real unbound serving signed and unsigned
# test zones (tests/lib/dnsworld.sh); runs tests/unit/test-dns with the world.
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/dnsworld.sh"
dnsworld_have_tools || exit 77

dir=$(mktemp -d "${TMPDIR:-/tmp}/mw-dns.XXXXXX") || exit 1
trap 'dnsworld_stop; rm -rf "$dir"' EXIT INT TERM
dnsworld_init "$dir"

a200=$(printf '%0200d' 0 | tr 0 a)
b100=$(printf '%0100d' 0 | tr 0 b)
tlsa=$(printf '%064d' 0 | tr 0 c)

dnsworld_zone secure.test "
www 1234 IN A 192.0.2.1
www 1234 IN AAAA 2001:db8::1
@ 1800 IN MX 10 mx.secure.test.
mx IN A 192.0.2.25
_25._tcp.mx 900 IN TLSA 3 1 1 $tlsa
long IN TXT \"$a200\" \"$b100\"
alias 700 IN CNAME www
" signed || exit 1
dnsworld_zone plain.test "
www 600 IN A 192.0.2.2
@ IN MX 20 mail.plain.test.
@ IN MX 0 .
txt IN TXT \"v=spf1 -all\"
" plain || exit 1
dnsworld_zone bogus.test "
www IN A 192.0.2.3
" expired || exit 1
dnsworld_conf 'local-zone: "fail.test." always_refuse' 'local-zone: "drop.test." deny'
dnsworld_start || exit 1

MW_DNS_TEST_PORT=$DNSWORLD_PORT MW_DNS_TEST_ANCHORS=$DNSWORLD_ANCHORS \
    "$top_builddir/tests/unit/test-dns"
