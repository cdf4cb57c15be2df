#!/bin/sh
# postfix.sh - conf-examples/postfix-main.cf and postfix-master.cf, loaded as they
# are by the world's sending Postfix (only paths and the world's CA changed):
# postconf prints no warning, "postfix check" passes, a message goes through
# mailward-milter and the socketmap TLS policy, check_policy_service refuses clear
# mail from a require_tls_from domain, and the re-injection port runs no milter.
. "$top_srcdir/tests/world/lib.sh"
world_up
S=$WORLD_DIR/postfix/sender
T=$WORLD_DIR/examples
mkdir -p "$T"

WORLD_PLUGIN_DIR=$top_builddir/tests/plugins/.libs world_start_milter probe </dev/null
printf 'notls.test encrypt\n' >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
require_tls_from = cleartext.test
CONF

# main.cf: the world's settings minus every key the example sets, then the example.
keys=$(sed -n 's/^\([a-z_0-9]*\) *=.*/\1/p' "$top_srcdir/conf-examples/postfix-main.cf" | sort -u)
[ "$(echo "$keys" | wc -l)" -ge 20 ] || world_fail "example keys not found"
awk -v keys="$keys" 'BEGIN { n = split(keys, k, "\n"); for (i = 1; i <= n; i++) drop[k[i]] = 1 }
    /^[a-z_0-9]+ *=/ { split($0, f, / *=/); skip = (f[1] in drop); if (skip) next }
    /^[ \t]/ && skip { next }
    { skip = 0; print }' "$S/main.cf" >"$T/main.cf"
sed -e "s|/etc/ssl/private/ssl-cert-snakeoil.key, /etc/ssl/certs/ssl-cert-snakeoil.pem|$WORLD_DIR/pki/mx-valid.chain|" \
    "$top_srcdir/conf-examples/postfix-main.cf" >>"$T/main.cf"
printf 'smtp_tls_CAfile = %s\n' "$WORLD_CA" >>"$T/main.cf"
cp "$T/main.cf" "$S/main.cf"
cat "$top_srcdir/conf-examples/postfix-master.cf" >>"$S/master.cf"

postconf -c "$S" -n >"$T/postconf.out" 2>"$T/postconf.err" || world_fail "postconf -n failed"
[ -s "$T/postconf.err" ] && { cat "$T/postconf.err"; world_fail "postconf warns"; }
grep -qx 'milter_default_action = tempfail' "$T/postconf.out" || world_fail "no milter_default_action"
grep -qx 'smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:mailward' "$T/postconf.out" ||
    world_fail "smtp_tls_policy_maps not as in the example"
postconf -c "$S" -M 127.0.0.1:10026/inet 2>>"$T/postconf.err" | grep -q 'smtpd_milters=' ||
    world_fail "no re-injection service in master.cf"
[ -s "$T/postconf.err" ] && { cat "$T/postconf.err"; world_fail "postconf -M warns"; }
world_exec postfix -c "$S" check >"$T/check.out" 2>&1 || { cat "$T/check.out"; world_fail "postfix check failed"; }
[ -s "$T/check.out" ] && { cat "$T/check.out"; world_fail "postfix check warns"; }
world_exec postfix -c "$S" stop >/dev/null 2>&1
world_exec postfix -c "$S" start >"$T/start.out" 2>&1 || { cat "$T/start.out"; world_fail "postfix start"; }
world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" 127.0.0.2:25 127.0.0.1:10026 ||
    world_fail "the example's services do not listen"
echo "ok 1 the examples load: no postconf warning, postfix check passes"

world_send alice@valid.test bob@valid.test --h-Subject example-milter
msg=$(world_wait_delivered valid bob@valid.test)
grep -q '^X-Mailward-Probe:' "$msg" || world_fail "the message did not pass mailward-milter"
world_send alice@valid.test carol@notls.test --h-Subject example-policy
line=$(world_wait_queued carol@notls.test)
echo "$line" | grep -q 'TLS is required, but was not offered' || world_fail "no TLS policy from the socketmap: $line"
echo "ok 2 smtpd_milters and smtp_tls_policy_maps of the example: milter header, tls-rules policy applied"

# An outside client (not in mynetworks) sending to a domain this host relays for: the
# recipient restrictions reach check_policy_service.
world_postconf sender 'mynetworks = 127.0.0.1/32 127.0.0.2/32' 'relay_domains = valid.test'
world_exec swaks --server "$WORLD_SENDER" --local-interface 127.0.0.9 --from carol@cleartext.test --to bob@valid.test \
    >"$T/swaks-clear.log" 2>&1 && world_fail "clear mail from a require_tls_from domain was accepted"
grep -q '<\*\* *450 4.7.1' "$T/swaks-clear.log" || { cat "$T/swaks-clear.log"; world_fail "no 450 4.7.1"; }
echo "ok 3 check_policy_service of the example: 450 4.7.1 for clear mail from cleartext.test"

world_exec swaks --server 127.0.0.1:10026 --from alice@valid.test --to dave@valid.test --h-Subject reinjected \
    >"$T/swaks-reinject.log" 2>&1 || { cat "$T/swaks-reinject.log"; world_fail "re-injection port refused"; }
msg=$(world_wait_delivered valid dave@valid.test)
grep -q '^Subject: reinjected' "$msg" || world_fail "wrong message at dave"
grep -q '^X-Mailward-Probe:' "$msg" || world_fail "the re-injection port did not run the milter"
echo "ok 4 the re-injection port 127.0.0.1:10026 delivers through mailward-milter (for DKIM signing)"
world_stop_daemons
