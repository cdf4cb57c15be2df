#!/bin/sh
# postfix.sh - DMARC end to end: mail submitted to the world's sending Postfix, which
# passes it through mailward-milter with "plugins = spf dkim dmarc". A forgery of
# valid.test (p=reject) is refused at end of data with the milter's 550 5.7.1 and the
# reason in the maillog and is never delivered; the genuine message (SPF aligned) is
# delivered with dmarc=pass; a failure under p=quarantine lands in Postfix's hold queue.
set -u
. "$top_srcdir/tests/world/lib.sh"
world_up
# No client of the world is internal here, so the mail is inbound to the milter.
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "spf dkim dmarc" <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF
: >"$WORLD_DIR/mailward/tls-rules"
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF
maillog=$WORLD_DIR/postfix/sender/maillog
token=dmarc-$$-$(date +%s)

# The forgery: From valid.test, envelope and SPF pass of dmarc.test (not aligned), unsigned.
out=$(world_exec swaks --server "$WORLD_SENDER" --from mallory@dmarc.test --to bob@valid.test \
    --h-From '"The CEO" <ceo@valid.test>' --h-Subject "forged $token" --body "forged $token" 2>&1)
rc=$?
echo "$out" >>"$WORLD_DIR/log/swaks.log"
[ $rc != 0 ] || world_fail "swaks: the forgery was accepted"
echo "$out" | grep -q '^<\*\* *550 5.7.1 rejected by the DMARC policy of valid.test' ||
    world_fail "the client did not get the milter's 550 5.7.1: $out"
echo "ok: the client got: $(echo "$out" | grep '^<\*\* *550')"
world_wait_for "$WORLD_WAIT" grep -q 'milter-reject: END-OF-MESSAGE from [^ ]*: 5.7.1 rejected by the DMARC policy of valid.test' "$maillog" ||
    world_fail "no milter-reject with the DMARC reason in the sender's maillog"
echo "ok: maillog: $(grep -o 'milter-reject: END-OF-MESSAGE .*' "$maillog" | head -n 1)"

# The genuine message from valid.test (SPF pass, strictly aligned) is delivered.
world_send alice@valid.test bob@valid.test --h-From 'Alice <alice@valid.test>' \
    --h-Subject "genuine $token" --body "genuine $token"
msg=$(world_wait_delivered valid bob@valid.test)
grep -q "^Subject: genuine $token" "$msg" || world_fail "the delivered message is not the genuine one"
awk '/^Authentication-Results:/ { ar = 1; print; next } ar && /^[ \t]/ { print; next } { ar = 0 }' "$msg" |
    tr -d '\n' | grep -q 'mx.world.test;.*dmarc=pass (p=reject) header.from=valid.test' ||
    world_fail "no dmarc=pass in the delivered message's Authentication-Results"
! grep -rlq "forged $token" "$WORLD_MAIL/valid/" || world_fail "the forgery was delivered"
echo "ok: genuine mail delivered with dmarc=pass, the forgery nowhere"

# p=quarantine: accepted, and held by Postfix.
world_send alice@valid.test carol@valid.test --h-From 'x@quarantine.dmarc.test' \
    --h-Subject "quarantine $token" --body "quarantine $token"
held() {
    world_queue_json | grep '"queue_name": *"hold"' | grep -q 'carol@valid.test'
}
world_wait_for "$WORLD_WAIT" held || world_fail "the p=quarantine failure is not in the hold queue"
# Postfix logs its own text for a hold; the milter logs the reason.
grep -q 'milter-hold: END-OF-MESSAGE from .* to=<carol@valid.test>' "$maillog" ||
    world_fail "no milter-hold in the sender's maillog"
grep -q 'held: DMARC policy of quarantine.dmarc.test: quarantine' "$WORLD_DIR/mailward/milter.log" ||
    world_fail "the milter did not log why it held the message"
echo "ok: held: $(grep -o 'milter-hold: END-OF-MESSAGE .*' "$maillog" | head -n 1)"

world_stop_daemons
echo "PASS: Postfix refused the DMARC forgery, delivered the genuine mail, held the quarantined"
