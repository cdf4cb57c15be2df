#!/bin/sh
# smoke-tls-encrypt.sh - a tls-rules entry forcing "encrypt" for a domain whose MX offers
# no STARTTLS: mailward-policyd answers the socketmap lookup with "encrypt", the sending
# Postfix defers the message (it is never delivered in clear) and postqueue -j names the
# TLS reason. A domain without a rule, same MX, still gets its mail (the control).
. "$top_srcdir/tests/world/lib.sh"
world_up
world_start_milter probe </dev/null
printf 'notls.test encrypt\n' >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF

answer=$(world_socketmap notls.test) || world_fail "socketmap lookup of notls.test failed"
[ "$answer" = encrypt ] || world_fail "socketmap answered [$answer], want [encrypt]"

world_send alice@valid.test carol@notls.test --h-Subject "must be encrypted"
line=$(world_wait_queued carol@notls.test)
echo "$line"
echo "$line" | grep -q 'TLS is required, but was not offered' || world_fail "the queue does not name the TLS reason: $line"
grep -q 'to=<carol@notls.test>.*status=deferred' "$WORLD_DIR/postfix/sender/maillog" ||
    world_fail "the sender did not log a deferral"
[ ! -e "$WORLD_MAIL/notls/carol@notls.test" ] || world_fail "the message was delivered in clear"

# The control: clear.notls.test (same MX, no rule: ".notls.test" would cover it) gets its
# mail in clear, so the deferral above is the rule's doing.
world_send alice@valid.test erin@clear.notls.test --h-Subject control
world_wait_delivered notls erin@clear.notls.test >/dev/null
[ ! -e "$WORLD_MAIL/notls/carol@notls.test" ] || world_fail "the message was delivered in clear"
world_stop_daemons
echo "PASS: mail for notls.test stays queued with the TLS reason"
