#!/bin/sh
# answers.sh - mailward-policyd with the mta-sts plugin answers every MTA-STS case of the
# test world over its socketmap exactly as postfix-mta-sts-resolver does (run side by side
# in the same world): enforce policies with their patterns, testing and none policies,
# every misbehaving policy host (wrong certificate name, redirect, wrong content type,
# oversized, slow, 404, garbage), missing, doubled, invalid and mixed TXT records,
# parent-domain keys, DNS failures (refused, bogus). Then what is cached (Redis), the settings
# testing_answer, tlsrpt and ca_file after a reload, and an unreadable ca_file.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
world_up
sts_start_policyd <<CONF
timeout = 3
CONF
sts_start_resolver

secure() {
    echo "OK secure match=$1 servername=hostname"
}
NOTFOUND='NOTFOUND '
# Each case: key, the answer wanted, and only where postfix-mta-sts-resolver knowingly
# differs, its answer. The one difference: it accepts any id in the TXT record, where
# RFC 8461 section 3.1 allows 1 to 32 letters and digits and makes a record with another
# id "syntactically invalid": no policy.
while IFS='|' read -r key want theirs; do
    [ -n "$key" ] || continue
    got=$(sts_ask "$key") || world_fail "socketmap lookup of $key failed"
    ref=$(sts_ask "$key" "$STS_RESOLVER_PORT") || world_fail "mta-sts-daemon lookup of $key failed"
    [ "$(sts_sorted "$got")" = "$(sts_sorted "$want")" ] ||
        world_fail "$key: mailward-policyd answered [$got], want [$want]"
    [ "$(sts_sorted "$ref")" = "$(sts_sorted "${theirs:-$want}")" ] ||
        world_fail "$key: mailward-policyd answered [$got], postfix-mta-sts-resolver [$ref]"
    echo "ok: $key -> [$got] (resolver: [$ref])"
done <<CASES
enforce.sts.test|$(secure mx.valid.test)
wildcard.sts.test|$(secure .valid.test)
multi.sts.test|$(secure mx.valid.test:.sts.test)
othertxt.sts.test|$(secure mx.valid.test)
wrongmx.sts.test|$(secure mxwrong.sts.test)
testing.sts.test|$NOTFOUND
none.sts.test|$NOTFOUND
badcert.sts.test|$NOTFOUND
redirect.sts.test|$NOTFOUND
ctype.sts.test|$NOTFOUND
oversized.sts.test|$NOTFOUND
slow.sts.test|$NOTFOUND
notfound.sts.test|$NOTFOUND
garbage.sts.test|$NOTFOUND
notxt.sts.test|$NOTFOUND
twotxt.sts.test|$NOTFOUND
badtxt.sts.test|$NOTFOUND|$(secure mx.valid.test)
plain.test|$NOTFOUND
refused.test|$NOTFOUND
bogus.test|$NOTFOUND
valid.test|$NOTFOUND
.enforce.sts.test|$NOTFOUND
.sts.test|$NOTFOUND
ENFORCE.STS.TEST.|$(secure mx.valid.test)
CASES
sts_stop_resolver

# The redirect was not followed (no request for mta-sts.enforce.sts.test came from it:
# mailward fetched enforce's own policy once, the resolver once).
[ "$(sts_gets enforce.sts.test)" = 2 ] ||
    world_fail "mta-sts.enforce.sts.test got $(sts_gets enforce.sts.test) requests, want 2"
grep -q 'redirect.sts.test: policy fetch failed: HTTP status 301' "$WORLD_DIR/mailward/policyd.log" ||
    world_fail "no log line for the redirect"
grep -q "badcert.sts.test: policy fetch failed: .*mta-sts.badcert.sts.test" "$WORLD_DIR/mailward/policyd.log" ||
    world_fail "no log line for the wrong certificate name"
grep -q 'twotxt.sts.test: _mta-sts TXT: 2 v=STSv1 records' "$WORLD_DIR/mailward/policyd.log" ||
    world_fail "no log line for the two TXT records"

# What is cached: the enforce policy until max_age (86400 s), "none" for negative_ttl.
entry=$(sts_redis GET mailward:mta-sts:enforce.sts.test)
echo "$entry" | head -n 1 | grep -Eq '^mw-sts1 policy [0-9]+ [0-9]+ world1$' ||
    world_fail "cached enforce entry: [$entry]"
ttl=$(sts_redis TTL mailward:mta-sts:enforce.sts.test)
[ "$ttl" -gt 86000 ] && [ "$ttl" -le 86400 ] || world_fail "enforce entry TTL $ttl, want about 86400"
[ "$(sts_redis GET mailward:mta-sts:notxt.sts.test)" = "mw-sts1 none" ] || world_fail "notxt not cached as none"
ttl=$(sts_redis TTL mailward:mta-sts:notxt.sts.test)
[ "$ttl" -gt 0 ] && [ "$ttl" -le 600 ] || world_fail "none entry TTL $ttl, want at most negative_ttl (600)"
# Parent-domain keys are answered without any lookup: nothing cached for ".sts.test".
[ "$(sts_redis EXISTS mailward:mta-sts:sts.test)" = 0 ] || world_fail "a parent-domain key was looked up"

# A cached policy answers without a new fetch.
n=$(sts_gets wildcard.sts.test)
sts_expect wildcard.sts.test "$(secure .valid.test)"
[ "$(sts_gets wildcard.sts.test)" = "$n" ] || world_fail "a cached policy was fetched again"

# testing_answer = enforce and tlsrpt = yes, after a reload (SIGHUP); ca_file is emptied
# at the same time, so new fetches trust the system store only, where the world's CA is
# not: a valid policy on a host with a test-CA certificate is then no policy.
sts_policy dyn.sts.test enforce 86400 mx.valid.test
sts_txt dyn.sts.test one
sed -i 's|^ca_file = .*|ca_file =|' "$WORLD_DIR/mailward/policyd.conf"
cat >>"$WORLD_DIR/mailward/policyd.conf" <<CONF
testing_answer = enforce
tlsrpt = yes
CONF
kill -HUP "${WORLD_DAEMONS##*:}"
want="$(secure mx.valid.test) policy_type=sts policy_domain=testing.sts.test mx_host_pattern=mx.valid.test"
want="$want { policy_string = version: STSv1 } { policy_string = mode: testing }"
want="$want { policy_string = mx: mx.valid.test } { policy_string = max_age: 86400 }"
world_wait_for 10 sts_answers testing.sts.test "$want" ||
    world_fail "after reload testing.sts.test answered [$(sts_ask testing.sts.test)], want [$want]"
want="$(secure .valid.test) policy_type=sts policy_domain=wildcard.sts.test mx_host_pattern=*.valid.test"
want="$want { policy_string = version: STSv1 } { policy_string = mode: enforce }"
want="$want { policy_string = mx: *.valid.test } { policy_string = max_age: 86400 }"
sts_expect wildcard.sts.test "$want"
sts_expect none.sts.test "NOTFOUND "
sts_expect dyn.sts.test "NOTFOUND "
grep -q 'dyn.sts.test: policy fetch failed: SSL certificate problem' "$WORLD_DIR/mailward/policyd.log" ||
    world_fail "no log line for the untrusted certificate"
world_stop_daemons

# A ca_file that cannot be read is a configuration error (exit 78, naming file and line).
sed "s|^ca_file =.*|ca_file = $WORLD_DIR/no-such-ca.pem|" "$WORLD_DIR/mailward/policyd.conf" \
    >"$WORLD_DIR/mailward/bad.conf"
"$top_builddir/policyd/mailward-policyd" -n -c "$WORLD_DIR/mailward/bad.conf" \
    >"$WORLD_DIR/mailward/bad.log" 2>&1
rc=$?
[ $rc = 78 ] || world_fail "unreadable ca_file: exit $rc, want 78"
grep -q "bad.conf:[0-9]*:.*no-such-ca.pem: cannot read" "$WORLD_DIR/mailward/bad.log" ||
    world_fail "unreadable ca_file: $(cat "$WORLD_DIR/mailward/bad.log")"
echo "PASS: mta-sts answers every case like postfix-mta-sts-resolver"
