#!/bin/sh
# postfix.sh - the spf plugin end to end: mail from outside clients, presented to the
# world's sending Postfix with XCLIENT (swaks --xclient-addr) so that Postfix and
# mailward-milter see a client address of the test networks, relayed to the MX of
# valid.test (the sending instance is its relay: relay_domains). A pass and a softfail
# (softfail_action = mark) reach the mailbox with our Authentication-Results spf= entries
# and Received-SPF on top; a fail is refused at MAIL FROM (fail_action = reject).
set -u
. "$top_srcdir/tests/world/lib.sh"
world_up

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter spf <<'CONF'
[milter]
internal_hosts = 203.0.113.0/24
[spf]
fail_action = reject
CONF
: >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF
world_postconf sender 'smtpd_authorized_xclient_hosts = 127.0.0.0/8' 'relay_domains = valid.test'

# header FILE NAME: the first NAME header of FILE, unfolded (line breaks removed).
header() {
    awk -v name="$2:" 'h && /^[ \t]/ { printf "%s", $0; next } h { exit }
        index($0, name) == 1 { h = 1; printf "%s", $0 }' "$1"
}

# send FROM TO CLIENT-ADDR HELO: one SMTP session through XCLIENT; swaks' transcript in $T.
T=$WORLD_DIR/spf-postfix
mkdir -p "$T"
send() {
    world_exec swaks --server "$WORLD_SENDER" --from "$1" --to "$2" --xclient-addr "$3" \
        --ehlo "$4" --h-Subject "spf $1" >"$T/swaks-$1" 2>&1
}

send alice@pass.spf.test bob@valid.test 198.51.100.7 helo.spf.test ||
    { cat "$T/swaks-alice@pass.spf.test"; world_fail "the pass was not accepted"; }
send s@soft.spf.test carol@valid.test 192.0.2.99 badhelo.spf.test ||
    { cat "$T/swaks-s@soft.spf.test"; world_fail "the softfail was not accepted"; }
if send m@fail.spf.test dave@valid.test 192.0.2.99 badhelo.spf.test; then
    world_fail "the fail was accepted"
fi
grep -q '^<\*\* 550[ -]5\.7\.23 SPF: fail\.spf\.test does not designate 192\.0\.2\.99 as permitted sender' \
    "$T/swaks-m@fail.spf.test" || { cat "$T/swaks-m@fail.spf.test"; world_fail "no 550 5.7.23 at MAIL FROM"; }
echo "ok: fail refused at MAIL FROM: $(grep -m1 '550' "$T/swaks-m@fail.spf.test")"

msg=$(world_wait_delivered valid bob@valid.test)
got=$(header "$msg" Authentication-Results)
want='Authentication-Results: mx.world.test; spf=pass smtp.mailfrom=alice@pass.spf.test; spf=pass smtp.helo=helo.spf.test'
[ "$(echo "$got" | tr -s ' \t' ' ')" = "$want" ] || world_fail "pass: got '$got', want '$want'"
got=$(header "$msg" Received-SPF)
want='Received-SPF: pass (mx.world.test: domain of alice@pass.spf.test designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from="alice@pass.spf.test"; helo=helo.spf.test; mechanism="ip4:198.51.100.0/24"; receiver=mx.world.test; identity=mailfrom;'
[ "$got" = "$want" ] || world_fail "pass: got '$got', want '$want'"
# Ours went on top at the sending Postfix: below the MX's Received, above the sending
# Postfix's own, which names the XCLIENT address and the HELO.
top=$(awk '/^[^ \t]/ { sub(/:.*/, ""); print }' "$msg" | grep -v '^Return-Path$\|^Delivered-To$' | head -n 4 | tr '\n' ' ')
[ "$top" = "Received Authentication-Results Received-SPF Received " ] || world_fail "header order: $top"
sed -n '/^Received-SPF:/,$p' "$msg" | grep -m1 '^Received:' | grep -q '^Received: from helo.spf.test (.*\[198.51.100.7\])' ||
    world_fail "the sending Postfix's Received is not below Received-SPF or did not see the XCLIENT address"
echo "ok: pass delivered with $want"

msg=$(world_wait_delivered valid carol@valid.test)
got=$(header "$msg" Authentication-Results)
want='Authentication-Results: mx.world.test; spf=softfail smtp.mailfrom=s@soft.spf.test; spf=fail smtp.helo=badhelo.spf.test'
[ "$(echo "$got" | tr -s ' \t' ' ')" = "$want" ] || world_fail "softfail: got '$got', want '$want'"
header "$msg" Received-SPF | grep -q '^Received-SPF: softfail (mx.world.test: domain of transitioning s@soft.spf.test does not designate 192.0.2.99 as permitted sender) client-ip=192.0.2.99;' ||
    world_fail "softfail: no Received-SPF"
echo "ok: softfail delivered and marked"
[ ! -d "$WORLD_MAIL/valid/dave@valid.test" ] || world_fail "the refused message was delivered"
grep -q 'from=<m@fail.spf.test> spf=fail spf_helo=fail plugin=spf action=reject' "$WORLD_DIR/mailward/milter.log" ||
    world_fail "no reject in the milter's log"
world_stop_daemons
echo "PASS: SPF verdicts through Postfix"
