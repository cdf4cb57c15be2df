#!/bin/sh
# serve.sh - publishing our own policies in the test world:
#  - mailwardctl sts init derives the mx patterns from the world's DNS, writes the policy
#    file, prints the records; the id stays while the policy does and changes with it;
#  - mailwardctl tlsa (STARTTLS to a world MX, a file, --next) agrees with openssl;
# mailward-policyd then publishes the MTA-STS policies ([mta-sts-publish]), and real
# peers use them:
#  - each domain's policy over HTTPS with its own certificate (SNI), exact RFC 8461 text,
#    HSTS; wrong Host, other paths, other methods, oversized headers get errors; TLS
#    reports by POST are parsed (201, 400, 415, 413); TLS 1.1 and non-AEAD ciphers are
#    refused; a slowloris client is closed within the timeout while others are served;
#  - SIGHUP loads a new certificate for new connections; an open keep-alive
#    connection keeps working;
#  - postfix-mta-sts-resolver fetches our policy and answers "secure" with our mx;
#  - the sending Postfix, asking that resolver, delivers to pub.sts.test over verified
#    TLS and defers mail for pubbad.sts.test, whose MX has a certificate for another name.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
. "$top_srcdir/tests/publish/lib.sh"
world_up
d=$WORLD_DIR/mailward
world_start_milter probe </dev/null # the sending Postfix's smtpd needs its milter
pub_cert pub mta-sts.pub.sts.test mta-sts.pub.sts.test
pub_cert shared mta-sts.pubbad.sts.test mta-sts.pubbad.sts.test
pub_dns pub.sts.test mx.valid.test
pub_dns pubbad.sts.test mxwrong.sts.test
sts_txt pubbad.sts.test bad1

# mailwardctl sts init: the mx patterns from the real MX records, the policy file, the
# records to publish; the id stays while the policy does, and changes with it.
{ world_daemon_conf policyd tls-rules && printf '[mta-sts-publish]\npolicy_file = %s\n' "$d/policies"; } >"$d/ctl.conf"
ctl() {
    world_exec "$top_builddir/ctl/mailwardctl" -c "$d/ctl.conf" "$@" || world_fail "mailwardctl $* failed"
}
sts_id() { sed -n 's/^_mta-sts\.pub\.sts\.test\.	*IN TXT	*"v=STSv1; id=\([A-Za-z0-9]*\)"$/\1/p' "$d/init"; }
ctl sts init pub.sts.test --mode enforce --max-age 86400 >"$d/init"
cat "$d/init"
id1=$(sts_id)
[ -n "$id1" ] || world_fail "sts init printed no _mta-sts record"
grep -q "^new policy, id $id1\$" "$d/init" || world_fail "sts init did not say the policy is new"
grep -q '^_smtp\._tls\.pub\.sts\.test\.[[:space:]]*IN TXT[[:space:]]*"v=TLSRPTv1; rua=mailto:tlsrpt@pub\.sts\.test"$' "$d/init" ||
    world_fail "sts init printed no _smtp._tls record"
grep -qx "pub.sts.test mode=enforce max_age=86400 mx=mx.valid.test id=$id1" "$d/policies" ||
    world_fail "policy file: $(cat "$d/policies")"
# The domain's own certificate goes into its line; later runs keep it.
sed -i "s|^pub.sts.test .*|& cert=$d/pub.pem key=$d/pub.key|" "$d/policies"
ctl sts init pub.sts.test --mode enforce --max-age 86400 >"$d/init"
[ "$(sts_id)" = "$id1" ] && grep -q "^the policy is unchanged: keep id $id1\$" "$d/init" ||
    world_fail "unchanged policy: $(cat "$d/init")"
ctl sts init pub.sts.test --mode testing --max-age 86400 >"$d/init"
id2=$(sts_id)
[ -n "$id2" ] && [ "$id2" != "$id1" ] && grep -q "its id must change (RFC 8461 section 3.1), from $id1 to $id2" "$d/init" ||
    world_fail "changed policy: $(cat "$d/init")"
ctl sts init pub.sts.test --mode enforce --max-age 86400 >"$d/init"
id3=$(sts_id)
[ -n "$id3" ] && [ "$id3" != "$id2" ] || world_fail "changed back: $(cat "$d/init")"
grep -qx "pub.sts.test mode=enforce max_age=86400 mx=mx.valid.test cert=$d/pub.pem key=$d/pub.key id=$id3" "$d/policies" ||
    world_fail "policy file after the changes: $(cat "$d/policies")"
sts_txt pub.sts.test "$id3"
echo "ok: sts init: mx from DNS, ids $id1 (kept), $id2, $id3; records printed"

# mailwardctl tlsa: the MX's certificate over STARTTLS and a file, against openssl's own
# computation; --next prints both records and the rollover order.
want=$(pub_spki "$WORLD_DIR/pki/mx-valid.pem")
got=$(ctl tlsa "$WORLD_MX_VALID:25" --mx mx.valid.test)
[ "$got" = "_25._tcp.mx.valid.test. IN TLSA 3 1 1 $want" ] || world_fail "tlsa over STARTTLS: [$got], want $want"
next=$(pub_spki "$d/pub.pem")
ctl tlsa "$WORLD_DIR/pki/mx-valid.pem" --next "$d/pub.pem" --mx mx.valid.test >"$d/tlsa"
[ "$(sed -n 1p "$d/tlsa")" = "_25._tcp.mx.valid.test. IN TLSA 3 1 1 $want" ] &&
    [ "$(sed -n 2p "$d/tlsa")" = "_25._tcp.mx.valid.test. IN TLSA 3 1 1 $next" ] &&
    grep -q 'publish both records' "$d/tlsa" && grep -q 'install the next certificate' "$d/tlsa" ||
    world_fail "tlsa --next: $(cat "$d/tlsa")"
got=$(ctl tlsa "$d/pub.pem")
[ "$got" = "_25._tcp.mta-sts.pub.sts.test. IN TLSA 3 1 1 $next" ] || world_fail "tlsa of a file: [$got]"
echo "ok: tlsa records match openssl's (STARTTLS, file, --next rollover)"
world_start_policyd tls-rules <<CONF
[tls-rules]
table =
[mta-sts-publish]
listen = $PUB_ADDR:$PUB_PORT
domains = pubbad.sts.test
mode = enforce
mx = mxwrong.sts.test
max_age = 3600
cert_file = $d/shared.pem
key_file = $d/shared.key
policy_file = $d/policies
timeout = 3
max_header_size = 4096
CONF
world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" "$PUB_ADDR:$PUB_PORT" ||
    world_fail "the publishing listener did not start"

# The policies, byte for byte, each over its own certificate (curl verifies it against the CA).
fetch() {
    world_exec curl -sS --cacert "$WORLD_CA" --resolve "mta-sts.$1:$PUB_PORT:$PUB_ADDR" \
        -D "$d/headers" -o "$d/body" "https://mta-sts.$1/.well-known/mta-sts.txt" ||
        world_fail "GET mta-sts.$1 failed"
}
fetch pub.sts.test
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.valid.test\r\nmax_age: 86400\r\n' >"$d/want"
cmp -s "$d/body" "$d/want" || world_fail "pub.sts.test policy: $(od -c "$d/body" | head)"
grep -qi '^Content-Type: text/plain' "$d/headers" || world_fail "no text/plain: $(cat "$d/headers")"
grep -qi '^Strict-Transport-Security: max-age=31536000' "$d/headers" || world_fail "no HSTS header"
head -n1 "$d/headers" | grep -q '^HTTP/1.1 200' || world_fail "status: $(head -n1 "$d/headers")"
fetch pubbad.sts.test
printf 'version: STSv1\r\nmode: enforce\r\nmx: mxwrong.sts.test\r\nmax_age: 3600\r\n' >"$d/want"
cmp -s "$d/body" "$d/want" || world_fail "pubbad.sts.test policy: $(od -c "$d/body" | head)"
echo "ok: both policies served, each with its own certificate"

# Errors, and the listener still serves afterwards.
expect() {
    got=$(pub_get "$1" "$2" "${3:-}")
    case $got in "$4"*) echo "ok: $1 $2 ${3:+(+$3 header bytes) }-> $got" ;;
        *) world_fail "$1 $2: got [$got], want $4" ;; esac
}
expect mta-sts.pub.sts.test /.well-known/mta-sts.txt "" "HTTP/1.1 200"
expect mta-sts.other.test /.well-known/mta-sts.txt "" "HTTP/1.1 404"
expect pub.sts.test /.well-known/mta-sts.txt "" "HTTP/1.1 404"
expect mta-sts.pub.sts.test /index.html "" "HTTP/1.1 404"
expect mta-sts.pub.sts.test /.well-known/mta-sts.txt/../x "" "HTTP/1.1 404"
expect mta-sts.pub.sts.test /.well-known/mta-sts.txt 20000 "HTTP/1.1 4"
code=$(world_exec curl -s -o /dev/null -w '%{http_code}' -X PUT --cacert "$WORLD_CA" \
    --resolve "mta-sts.pub.sts.test:$PUB_PORT:$PUB_ADDR" https://mta-sts.pub.sts.test/.well-known/mta-sts.txt)
[ "$code" = 501 ] || world_fail "PUT: $code, want 501"
echo "ok: PUT -> 501"
# TLS reports by POST (parsed by lib/tlsrpt.c): accepted, refused, wrong type, too large.
post() {
    world_exec curl -s -o "$d/post" -w '%{http_code}' --cacert "$WORLD_CA" \
        --resolve "mta-sts.pub.sts.test:$PUB_PORT:$PUB_ADDR" -H "Content-Type: $1" \
        --data-binary "@$2" https://mta-sts.pub.sts.test/tlsrpt
}
gzip -c "$top_srcdir/tests/tlsrpt/valid.json" >"$d/report.gz"
[ "$(post application/tlsrpt+gzip "$d/report.gz")" = 201 ] || world_fail "gzip report: $(cat "$d/post")"
[ "$(post application/tlsrpt+json "$top_srcdir/tests/tlsrpt/bad-date.json")" = 400 ] ||
    world_fail "a report with a bad date was not refused with 400"
[ "$(post text/plain "$top_srcdir/tests/tlsrpt/valid.json")" = 415 ] || world_fail "text/plain not 415"
head -c 2000000 /dev/zero >"$d/big"
code=$(post application/tlsrpt+gzip "$d/big")
[ "$code" = 413 ] || world_fail "a 2 MB body: $code, want 413"
grep -q 'tlsrpt via=https .*accepted' "$d/policyd.log" || world_fail "the accepted report was not logged"
echo "ok: TLS reports by POST: 201, 400, 415, 413"

# TLS below 1.2 and a non-AEAD cipher are refused.
! world_exec curl -s -o /dev/null --tls-max 1.1 --cacert "$WORLD_CA" \
    --resolve "mta-sts.pub.sts.test:$PUB_PORT:$PUB_ADDR" https://mta-sts.pub.sts.test/ ||
    world_fail "TLS 1.1 accepted"
! world_exec openssl s_client -connect "$PUB_ADDR:$PUB_PORT" -tls1_2 -cipher AES128-SHA </dev/null >/dev/null 2>&1 ||
    world_fail "TLS 1.2 with AES128-SHA (no forward secrecy, no AEAD) accepted"
echo "ok: TLS 1.1 and AES128-SHA refused"

# Slowloris: closed within the timeout (3 s) while another client is served meanwhile.
world_exec /usr/bin/python3 "$top_srcdir/tests/publish/client.py" slowloris "$PUB_ADDR" "$PUB_PORT" \
    mta-sts.pub.sts.test "$WORLD_CA" 10 >"$d/slow" &
slow=$!
sleep 1
expect mta-sts.pub.sts.test /.well-known/mta-sts.txt "" "HTTP/1.1 200"
wait $slow
secs=$(cat "$d/slow")
case $secs in open | data | "") world_fail "slowloris connection: $secs" ;; esac
awk -v s="$secs" 'BEGIN { exit !(s >= 2 && s <= 5) }' || world_fail "slowloris closed after $secs s, want about 3"
echo "ok: slowloris closed after $secs s; others served meanwhile"

# Certificate reload on SIGHUP: the open connection keeps its certificate and is still
# served; a new connection gets the new certificate.
pid=$(cat "$d/policyd.pid")
pub_cert pub2 mta-sts.pub.sts.test mta-sts.pub.sts.test
cat >"$d/reload.sh" <<SH
cp "$d/pub2.pem" "$d/pub.pem" && cp "$d/pub2.key" "$d/pub.key" && kill -HUP $pid
i=0
until grep -q 'certificates reloaded' "$d/policyd.log"; do i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.1; done
SH
world_exec /usr/bin/python3 "$top_srcdir/tests/publish/client.py" keepalive "$PUB_ADDR" "$PUB_PORT" \
    mta-sts.pub.sts.test "$WORLD_CA" sh "$d/reload.sh" >"$d/keepalive" || world_fail "keep-alive client failed"
old=$(openssl x509 -in "$WORLD_DIR/mailward/pub2.pem" -outform DER | sha256sum | cut -d' ' -f1)
[ "$(sed -n 1p "$d/keepalive")" = "HTTP/1.1 200 OK" ] && [ "$(sed -n 2p "$d/keepalive")" = "HTTP/1.1 200 OK" ] ||
    world_fail "keep-alive across the reload: $(cat "$d/keepalive")"
[ "$(sed -n 4p "$d/keepalive")" = "$old" ] || world_fail "a new connection did not get the new certificate"
[ "$(sed -n 3p "$d/keepalive")" != "$old" ] || world_fail "the open connection's certificate changed?"
echo "ok: SIGHUP reloaded the certificate; the keep-alive connection stayed up"

# postfix-mta-sts-resolver fetches our policy: secure, with our mx.
sts_start_resolver
got=$(sts_ask pub.sts.test "$STS_RESOLVER_PORT")
case $got in "OK secure match=mx.valid.test"*) echo "ok: resolver: $got" ;;
    *) world_fail "postfix-mta-sts-resolver answered [$got] for pub.sts.test" ;; esac

# A sending Postfix using that resolver: verified TLS to our MX, a wrong-name MX deferred.
world_postconf sender "smtp_tls_policy_maps=socketmap:inet:127.0.0.1:$STS_RESOLVER_PORT:postfix"
maillog=$WORLD_DIR/postfix/sender/maillog
world_send alice@valid.test bob@pub.sts.test --h-Subject "published enforce"
msg=$(world_wait_delivered valid bob@pub.sts.test)
grep -q 'with ESMTPS' "$msg" || world_fail "not over TLS: $(grep -m1 '^Received:' "$msg")"
grep -q 'Verified TLS connection established to mx.valid.test' "$maillog" ||
    world_fail "the sender did not verify mx.valid.test"
echo "ok: bob@pub.sts.test delivered over verified TLS"
world_send alice@valid.test carol@pubbad.sts.test --h-Subject "published, bad cert"
line=$(world_wait_queued carol@pubbad.sts.test)
echo "$line" | grep -q 'Server certificate not verified' || world_fail "not deferred for the certificate: $line"
[ ! -e "$WORLD_MAIL/wrongname/carol@pubbad.sts.test" ] || world_fail "delivered despite our policy"
echo "ok: carol@pubbad.sts.test deferred (certificate not verified)"
grep -q 'mta-sts-publish: .* pub.sts.test GET /.well-known/mta-sts.txt -> 200' "$d/policyd.log" ||
    world_fail "no request logged"
world_exec curl -sf http://127.0.0.1:9470/metrics >"$d/policyd.prom" || world_fail "metrics scrape"
grep -Eq '^mailward_mta_sts_publish_requests_total\{code="200"\} ([5-9]|[1-9][0-9]+)$' "$d/policyd.prom" &&
    grep -Eq '^mailward_mta_sts_publish_requests_total\{code="404"\} 4$' "$d/policyd.prom" ||
    world_fail "publish metrics: $(grep publish "$d/policyd.prom")"
echo "ok: $(grep -c '^mailward_mta_sts_publish_requests_total' "$d/policyd.prom") publish request counters"
sts_stop_resolver
world_stop_daemons
echo "PASS: published MTA-STS policies served, enforced by a real resolver and Postfix"
