#!/bin/sh
# smoke-deliver.sh - a message submitted to the sending Postfix passes through
# mailward-milter (with the test plugin "probe") and reaches the receiving MX's mailbox,
# over TLS, with the milter's headers in it.
. "$top_srcdir/tests/world/lib.sh"
world_up
# No client of the world is internal here, so the message is inbound to the milter.
world_start_milter probe <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF
: >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF

token=smoke-$$-$(date +%s)
world_send alice@valid.test bob@valid.test --h-Subject "$token" --body "body $token"
msg=$(world_wait_delivered valid bob@valid.test)

grep -q "^Subject: $token" "$msg" || world_fail "the delivered message is not ours"
grep -q "^body $token" "$msg" || world_fail "the body did not arrive"
grep -q '^X-Mailward-Probe: inbound' "$msg" || world_fail "no X-Mailward-Probe header: the milter did not run"
# Our Authentication-Results header, with the probe's entry.
awk '/^Authentication-Results:/ { ar = 1; print; next } ar && /^[ \t]/ { print; next } { ar = 0 }' "$msg" |
    tr -d '\n' | grep -q 'mx.world.test;.*x-probe=pass' || world_fail "no Authentication-Results with x-probe=pass"
# The MX received it over TLS (smtpd_tls_received_header) from the sending instance.
grep -q 'using TLSv1' "$msg" || world_fail "the message did not travel over TLS"
grep -q 'status=sent' "$WORLD_DIR/postfix/sender/maillog" || world_fail "the sender logged no delivery"
# mailward-milter counted the message on its Prometheus endpoint.
n=$(world_exec curl -sf http://127.0.0.1:9469/metrics |
    awk '$1 == "mailward_milter_messages_total{direction=\"inbound\",action=\"accept\"}" { print $2 }')
[ "${n:-0}" -ge 1 ] || world_fail "mailward_milter_messages_total did not count the message: [$n]"
world_stop_daemons
echo "PASS: delivered through mailward-milter to $msg"
