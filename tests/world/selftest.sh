#!/bin/sh
# selftest.sh - the test world itself, with real clients and without mailward's daemons:
# DNSSEC (secure, bogus, refused, timeout), TLSA data, the MTA-STS policy hosts and their
# misbehaviours, Redis, GnuPG users, and Postfix delivering between instances (DANE
# verified against the world's DNSSEC, the TLS variants, refusal on a TLSA mismatch).
. "$top_srcdir/tests/world/lib.sh"
world_up

# DNS: the signed zone validates (AD), bogus fails, refused fails at once, timeout times out.
world_exec dig +dnssec valid.test MX | grep -q 'flags:.* ad' || world_fail "valid.test: no AD flag"
world_exec dig plain.test MX | grep -q 'flags:.* ad' && world_fail "plain.test: AD flag on an unsigned zone"
world_exec dig bogus.test MX | grep -q 'status: SERVFAIL' || world_fail "bogus.test: not SERVFAIL"
world_exec dig refused.test MX | grep -q 'status: REFUSED' || world_fail "refused.test: not REFUSED"
world_exec dig +time=2 +tries=1 x.timeout.test A >/dev/null && world_fail "x.timeout.test answered"
tlsa=$(world_exec dig +short _25._tcp.mx.valid.test TLSA | tr -d ' ' | tr A-F a-f)
[ "$tlsa" = "311$(cat "$WORLD_DIR/pki/mx-valid.tlsa")" ] || world_fail "TLSA of mx.valid.test: $tlsa"
world_exec dig +short rsa._domainkey.valid.test TXT | grep -q 'k=rsa; " "p=' || world_fail "no DKIM RSA record"
world_exec dig +short _mta-sts.enforce.sts.test TXT | grep -q 'v=STSv1' || world_fail "no _mta-sts record"

# Policy hosts: status, type, size and certificate of each behaviour.
fetch() {
    world_exec curl -sS --max-time 5 --cacert "$WORLD_CA" -o "$WORLD_DIR/body" \
        -w '%{http_code} %{content_type} %{size_download}' "https://mta-sts.$1/.well-known/mta-sts.txt"
}
out=$(fetch enforce.sts.test) && [ "${out%% *}" = 200 ] || world_fail "enforce: $out"
grep -q '^mode: enforce' "$WORLD_DIR/body" && grep -q '^mx: mx.valid.test' "$WORLD_DIR/body" ||
    world_fail "enforce: wrong policy"
fetch badcert.sts.test >/dev/null 2>&1 && world_fail "badcert: the certificate verified"
out=$(fetch redirect.sts.test) && [ "${out%% *}" = 301 ] || world_fail "redirect: $out"
out=$(fetch ctype.sts.test) && case $out in "200 text/html"*) ;; *) world_fail "ctype: $out" ;; esac
out=$(fetch oversized.sts.test) && [ "${out##* }" -gt 65536 ] || world_fail "oversized: $out"
out=$(fetch notfound.sts.test) && [ "${out%% *}" = 404 ] || world_fail "notfound: $out"
out=$(fetch garbage.sts.test) && [ "${out%% *}" = 200 ] && ! grep -q '^version: STSv1' "$WORLD_DIR/body" ||
    world_fail "garbage: $out"
world_exec curl -sS --max-time 2 --cacert "$WORLD_CA" -o /dev/null \
    https://mta-sts.slow.sts.test/.well-known/mta-sts.txt 2>/dev/null && world_fail "slow: fetched within 2 s"

# Redis and GnuPG.
[ "$(world_exec redis-cli -h 127.0.0.1 -p 6379 PING)" = PONG ] || world_fail "redis: no PONG"
echo "secret $$" >"$WORLD_DIR/plain.txt"
gpg_alice="gpg --homedir $WORLD_GNUPG/alice@valid.test --batch --pinentry-mode loopback --passphrase ''"
world_exec sh -c "$gpg_alice --import $WORLD_GNUPG/bob@valid.test.asc && $gpg_alice --trust-model always \
    -o $WORLD_DIR/enc.asc -a -e -r bob@valid.test $WORLD_DIR/plain.txt" 2>/dev/null ||
    world_fail "gpg: cannot encrypt to bob"
world_exec gpg --homedir "$WORLD_GNUPG/bob@valid.test" --batch --pinentry-mode loopback --passphrase '' \
    -d "$WORLD_DIR/enc.asc" 2>/dev/null | grep -q "secret $$" || world_fail "gpg: bob cannot decrypt"

# Postfix without mailward: DANE through the world's DNSSEC, then the TLS variants.
world_postconf sender "smtpd_milters =" "smtp_tls_policy_maps =" "smtp_tls_security_level = dane"
world_send alice@valid.test bob@valid.test --h-Subject dane
world_wait_delivered valid bob@valid.test >/dev/null
grep -q 'Verified TLS connection established to mx.valid.test' "$WORLD_DIR/postfix/sender/maillog" ||
    world_fail "DANE did not verify mx.valid.test"
world_send alice@valid.test bob@dane-bad.test --h-Subject dane-bad
line=$(world_wait_queued bob@dane-bad.test)
echo "$line" | grep -q 'certificate not verified' || world_fail "dane-bad: $line"
for mx in wrongname selfsigned notls; do
    world_send alice@valid.test "u@$mx.test" --h-Subject "$mx"
    msg=$(world_wait_delivered "$mx" "u@$mx.test")
    if [ $mx = notls ]; then
        grep -q 'using TLS' "$msg" && world_fail "notls: TLS was used"
    else
        grep -q 'using TLS' "$msg" || world_fail "$mx: no TLS"
    fi
done
grep -q 'Untrusted TLS connection established to mx.selfsigned.test' "$WORLD_DIR/postfix/sender/maillog" ||
    world_fail "selfsigned: not untrusted"
echo "PASS: the world works"
