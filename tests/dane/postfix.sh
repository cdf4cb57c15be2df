#!/bin/sh
# postfix.sh - DANE end to end: the world's sending Postfix (smtp_dns_support_level =
# dnssec, smtp_tls_security_level = may) asks mailward-policyd (dane, then tls-rules with
# default_level = encrypt: "encrypt everything") for each next hop's TLS policy:
#   valid.test     TLSA matches the MX certificate: delivered, "Verified TLS connection"
#   dane-bad.test  TLSA matches nothing (same MX, whose certificate the test CA signed,
#                  so "encrypt" would deliver: only DANE refuses it): deferred, so the
#                  forced-TLS default did not switch DANE off
#   bogus.test     expired DNSSEC signatures: deferred
#   notls.test     forced encrypt and the MX offers no STARTTLS: deferred
#   plain.test     unsigned, no DANE: the forced encrypt, delivered over TLS
# and with policyd's DNS down: TEMP for a domain it never saw (deferred), the cached
# verdict for valid.test (delivered).
. "$top_srcdir/tests/world/lib.sh"
world_up
world_start_milter probe </dev/null
world_start_policyd "dane tls-rules" <<CONF
[tls-rules]
table =
default_level = encrypt
CONF
MAILLOG=$WORLD_DIR/postfix/sender/maillog
[ "$(postconf -c "$WORLD_DIR/postfix/sender" -h smtp_dns_support_level)" = dnssec ] ||
    world_fail "the sending Postfix does not use smtp_dns_support_level = dnssec"

world_send alice@valid.test bob@valid.test --h-Subject "dane valid"
world_send alice@valid.test carol@dane-bad.test --h-Subject "dane mismatch"
world_send alice@valid.test dave@bogus.test --h-Subject "dane bogus"
world_send alice@valid.test erin@notls.test --h-Subject "forced tls"
world_send alice@valid.test frank@plain.test --h-Subject "no dane"

msg=$(world_wait_delivered valid bob@valid.test)
grep -q '^Subject: dane valid' "$msg" || world_fail "bob@valid.test: wrong message $msg"
grep -Eq 'Verified TLS connection established to mx\.valid\.test\[127\.0\.0\.11\]:25' "$MAILLOG" ||
    world_fail "no verified TLS connection to mx.valid.test logged"
grep -Eq 'to=<bob@valid.test>, relay=mx\.valid\.test\[127\.0\.0\.11\]:25.*status=sent' "$MAILLOG" ||
    world_fail "bob@valid.test: no status=sent"
echo "ok: valid.test delivered over DANE-verified TLS"

line=$(world_wait_queued carol@dane-bad.test)
echo "dane-bad.test: $line"
grep -Eq 'to=<carol@dane-bad.test>.*status=deferred' "$MAILLOG" ||
    world_fail "carol@dane-bad.test: no deferral logged"
grep -q 'server certificate verification failed for mx.dane-bad.test\[127.0.0.11\]:25: .*no matching DANE TLSA records' "$MAILLOG" ||
    world_fail "dane-bad.test: the log does not say the certificate failed DANE"
echo "$line" | grep -q '"delay_reason": "Server certificate not verified"' ||
    world_fail "dane-bad.test: unexpected queue reason: $line"
! grep -Eq 'to=<carol@dane-bad.test>.*status=sent' "$MAILLOG" || world_fail "dane-bad.test delivered"
echo "ok: dane-bad.test deferred"

line=$(world_wait_queued dave@bogus.test)
echo "bogus.test: $line"
! grep -Eq 'to=<dave@bogus.test>.*status=sent' "$MAILLOG" || world_fail "bogus.test delivered"
echo "ok: bogus.test deferred (Postfix's own MX lookup fails validation first)"

line=$(world_wait_queued erin@notls.test)
echo "$line" | grep -q 'TLS is required, but was not offered' ||
    world_fail "notls.test: the queue does not name the TLS reason: $line"
echo "ok: notls.test deferred (forced TLS, no STARTTLS)"

msg=$(world_wait_delivered valid frank@plain.test)
grep -q '^Subject: no dane' "$msg" || world_fail "frank@plain.test: wrong message $msg"
grep -Eq 'to=<frank@plain.test>, relay=mx\.plain\.test.*status=sent' "$MAILLOG" ||
    world_fail "frank@plain.test: no status=sent"
grep -Eq 'TLS connection established to mx\.plain\.test' "$MAILLOG" ||
    world_fail "plain.test was not sent over TLS"
echo "ok: plain.test delivered over TLS (forced encrypt, no DANE)"

world_stop_daemons

# policyd's DNS fails (its resolver is the world's server that never answers) while
# Postfix's works: a domain with a cached verdict keeps its DANE policy and is
# delivered; one without gets TEMP and stays queued, not sent with a weaker policy.
world_start_milter probe </dev/null
saved=$WORLD_RESOLVER
WORLD_RESOLVER=127.0.0.53
world_start_policyd "dane tls-rules" <<CONF
[tls-rules]
table =
default_level = encrypt
CONF
WORLD_RESOLVER=$saved
world_send alice@valid.test gina@valid.test --h-Subject "cached dane"
world_send alice@valid.test hal@cname.valid.test --h-Subject "dns down"
world_wait_delivered valid gina@valid.test >/dev/null
line=$(world_wait_queued hal@cname.valid.test)
echo "cname.valid.test: $line"
grep -q 'socketmap server temporary error: DANE: MX lookup for cname.valid.test failed (timeout)' "$MAILLOG" ||
    world_fail "Postfix did not get policyd's TEMP for cname.valid.test"
[ "$(grep -c 'Verified TLS connection established to mx.valid.test' "$MAILLOG")" -ge 2 ] ||
    world_fail "gina@valid.test was not sent over verified TLS"
grep -Eq 'to=<hal@cname.valid.test>.*status=deferred' "$MAILLOG" || world_fail "cname.valid.test not deferred"
echo "ok: TEMP from policyd defers; a cached DANE verdict still delivers"

for r in carol@dane-bad.test dave@bogus.test erin@notls.test hal@cname.valid.test; do
    [ ! -e "$WORLD_MAIL/valid/$r" ] && [ ! -e "$WORLD_MAIL/notls/$r" ] || world_fail "$r was delivered"
done
world_stop_daemons
echo "PASS: Postfix delivers DANE domains verified and defers what DANE or the rules refuse"
