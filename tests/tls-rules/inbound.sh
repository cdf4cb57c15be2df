#!/bin/sh
# inbound.sh - tls-rules require_tls_from through the world's real Postfix: the sending
# instance asks mailward-policyd (check_policy_service) at RCPT. Mail from a listed
# sender domain arriving in clear is refused with require_tls_reply (450 4.7.1, then
# 550 5.7.1 after a SIGHUP) and a text naming the rule; the same mail over STARTTLS,
# mail from unlisted domains and the null sender are accepted and delivered.
. "$top_srcdir/tests/world/lib.sh"
world_up
world_start_milter probe </dev/null
world_start_policyd tls-rules <<'CONF'
[tls-rules]
table =
require_tls_from = valid.test .sub.plain.test
require_tls_reply = 450 4.7.1
CONF
world_postconf sender "smtpd_recipient_restrictions = check_policy_service inet:$WORLD_POLICY_SERVICE, permit_mynetworks, reject_unauth_destination"

# smtp FROM RCPT TLS(yes|no): one SMTP transaction with the sending Postfix; prints the
# RCPT reply ("CODE TEXT"), and sends the message when RCPT was accepted.
smtp() {
    world_exec /usr/bin/python3 - "$WORLD_SENDER" "$1" "$2" "$3" <<'PY'
import smtplib, ssl, sys
host, sender, rcpt, tls = sys.argv[1:5]
s = smtplib.SMTP(host, 25, timeout=20)
s.ehlo("client.world.test")
if tls == "yes":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo("client.world.test")
s.mail(sender)
code, text = s.rcpt(rcpt)
print(code, text.decode())
if code == 250:
    s.data(("From: <%s>\r\nTo: <%s>\r\nSubject: inbound tls %s\r\n\r\nhello\r\n" % (sender, rcpt, tls)).encode())
s.quit()
PY
}

# expect WHAT GOT WANT-PREFIX
expect() {
    case "$2" in "$3"*) echo "ok: $1: $2" ;; *) world_fail "$1: got [$2], want [$3...]" ;; esac
}

reason='mail from valid.test must arrive over TLS (tls-rules require_tls_from valid.test)'
expect "listed domain in clear" "$(smtp alice@valid.test bob@valid.test no)" \
    "450 4.7.1 <bob@valid.test>: Recipient address rejected: $reason"
expect "listed domain over TLS" "$(smtp alice@valid.test bob@valid.test yes)" "250 "
expect "subdomain entry in clear" "$(smtp x@a.sub.plain.test bob@valid.test no)" \
    "450 4.7.1 <bob@valid.test>: Recipient address rejected: mail from a.sub.plain.test must arrive over TLS (tls-rules require_tls_from .sub.plain.test)"
expect "unlisted domain in clear" "$(smtp carol@plain.test dave@valid.test no)" "250 "
expect "null sender in clear" "$(smtp '' erin@valid.test no)" "250 "
msg=$(world_wait_delivered valid bob@valid.test)
grep -q '^Subject: inbound tls yes' "$msg" || world_fail "the TLS message was not delivered: $msg"
world_wait_delivered valid dave@valid.test >/dev/null
grep -q "tls-rules: client 127.0.0.2 sender domain valid.test without TLS: require_tls_from valid.test" \
    "$WORLD_DIR/mailward/policyd.log" || world_fail "the refusal was not logged"

# 550 5.7.1 after a reload.
sed -i 's/^require_tls_reply = .*/require_tls_reply = 550 5.7.1/' "$WORLD_DIR/mailward/policyd.conf"
for d in $WORLD_DAEMONS; do [ "${d%%:*}" = policyd ] && kill -HUP "${d##*:}"; done
world_wait_for 10 grep -q "reloaded $WORLD_DIR/mailward/policyd.conf" "$WORLD_DIR/mailward/policyd.log" ||
    world_fail "policyd did not reload"
expect "listed domain in clear, 550" "$(smtp alice@valid.test frank@valid.test no)" \
    "550 5.7.1 <frank@valid.test>: Recipient address rejected: $reason"
[ ! -e "$WORLD_MAIL/valid/frank@valid.test" ] || world_fail "refused mail was delivered"
world_stop_daemons
echo "PASS: require_tls_from refuses clear-text mail from listed domains, naming the rule"
