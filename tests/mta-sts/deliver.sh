#!/bin/sh
# deliver.sh - Postfix end to end with the mta-sts plugin: the sending Postfix asks
# mailward-policyd (smtp_tls_policy_maps) for each next hop. Mail for enforce.sts.test
# (MTA-STS enforce, MX mx.valid.test with a valid test-CA certificate) is delivered over
# verified TLS. Mail for wrongmx.sts.test (MTA-STS enforce, MX mxwrong.sts.test whose
# certificate names wrong-name.invalid) stays deferred and is never delivered. The
# control: nosts.sts.test, same MX without MTA-STS, gets its mail (opportunistic TLS), so
# the deferral is the policy's doing.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
world_up
world_start_milter probe </dev/null
# The production chain: DANE first (sts.test is unsigned: no DANE, so MTA-STS answers).
STS_PLUGINS="dane mta-sts tls-rules" sts_start_policyd </dev/null
maillog=$WORLD_DIR/postfix/sender/maillog

world_send alice@valid.test bob@enforce.sts.test --h-Subject "mta-sts enforce"
msg=$(world_wait_delivered valid bob@enforce.sts.test)
grep -q 'with ESMTPS' "$msg" || world_fail "the message did not arrive over TLS: $(grep -m1 '^Received:' "$msg")"
grep -q 'Verified TLS connection established to mx.valid.test\[127.0.0.11\]:25' "$maillog" ||
    world_fail "the sender did not verify mx.valid.test"
echo "ok: bob@enforce.sts.test delivered over verified TLS"

world_send alice@valid.test carol@wrongmx.sts.test --h-Subject "mta-sts wrong certificate"
line=$(world_wait_queued carol@wrongmx.sts.test)
echo "$line"
echo "$line" | grep -q 'Server certificate not verified' ||
    world_fail "the queue does not name the certificate: $line"
grep -q 'to=<carol@wrongmx.sts.test>.*status=deferred' "$maillog" || world_fail "no deferral logged"

world_send alice@valid.test erin@nosts.sts.test --h-Subject control
msg=$(world_wait_delivered wrongname erin@nosts.sts.test)
grep -q 'with ESMTPS' "$msg" || world_fail "the control did not use TLS"
# Still not delivered after the control went through, and still deferred.
[ ! -e "$WORLD_MAIL/wrongname/carol@wrongmx.sts.test" ] ||
    world_fail "mail for wrongmx.sts.test was delivered despite its policy"
world_queued_line carol@wrongmx.sts.test || world_fail "mail for wrongmx.sts.test left the queue"
world_stop_daemons
echo "PASS: MTA-STS enforce: valid MX delivered, wrong certificate name deferred"
