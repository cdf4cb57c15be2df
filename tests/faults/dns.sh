#!/bin/sh
# dns.sh - the world's DNS server hung (SIGSTOP), then refusing (a server failure for
# every name of valid.test and sts.test) while mailward-policyd (tls-rules, mta-sts,
# dane) answers socketmap lookups on 6 connections: policies it has seen are still
# answered, every time (a cached policy beats TEMP); a domain it never saw is answered
# TEMP, never NOTFOUND (which would let Postfix send with a weaker policy); bogus
# signatures are TEMP; a local rule (a fallback behind dane) is its policy or TEMP; the daemon answers again once DNS is back, without a restart.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
world_up
printf 'notls.test encrypt\n' >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd "tls-rules mta-sts dane" <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
[mta-sts]
ca_file = $WORLD_CA
timeout = 3
recheck_interval = 1
CONF
pid=$(fault_policyd_alive policyd)
secure='OK secure match=mx.valid.test servername=hostname'
expect() {
    got=$(fault_ask "$1") || world_fail "lookup of $1 failed"
    echo "$got" | grep -Eqx "$2" || world_fail "$1: answered [$got], want [$2]"
    echo "ok: $1 -> [$got]"
}
unbound_ctl() {
    world_exec unbound-control -c "$WORLD_DIR/dns/unbound.conf" "$@" >/dev/null ||
        world_fail "unbound-control $* failed"
}
# What the daemon has seen before the faults.
expect enforce.sts.test "$secure"
expect valid.test "OK dane-only"
expect bogus.test "TEMP .*"
# load SECONDS KEY=REGEX...: the load, with the policies seen above that must hold.
load() {
    local secs
    secs=$1
    shift
    fault_load "$secs" 6 "notls.test=OK encrypt|TEMP .*" "enforce.sts.test=$secure" "valid.test=OK dane-only" \
        "bogus.test=TEMP .*" "$@"
}

# 1. DNS hung: every query times out.
unbound=$(fault_pid unbound)
kill -STOP "$unbound"
load 8 "multi.sts.test=TEMP .*" "dane-bad.test=TEMP .*" ||
    { kill -CONT "$unbound"; cat "$WORLD_DIR/load.out"; world_fail "a wrong answer while DNS was hung"; }
kill -CONT "$unbound"
cat "$WORLD_DIR/load.out"
echo "ok: DNS hung: cached policies served, new domains TEMP"

# 2. DNS fails at once (refused) for both zones; unbound's cache of them is flushed.
unbound_ctl local_zone valid.test. refuse
unbound_ctl local_zone sts.test. refuse
unbound_ctl flush_zone valid.test.
unbound_ctl flush_zone sts.test.
load 6 "wrongmx.sts.test=TEMP .*" "testing.sts.test=TEMP .*|NOTFOUND " \
    "wildcard.sts.test=TEMP .*" || { cat "$WORLD_DIR/load.out"; world_fail "a wrong answer while DNS refused"; }
cat "$WORLD_DIR/load.out"
grep -q 'wildcard.sts.test \[TEMP' "$WORLD_DIR/load.out" || world_fail "no TEMP for a new domain"
echo "ok: DNS failing: cached policies served, new domains TEMP"

# 3. DNS back: new domains get their policies, without a restart.
unbound_ctl local_zone_remove valid.test.
unbound_ctl local_zone_remove sts.test.
world_wait_for 20 sh -c "[ \"\$(ip netns exec $WORLD_NS /usr/bin/python3 $top_srcdir/tests/policyd/client.py \
    socketmap ${WORLD_SOCKETMAP##*:} 'mailward wrongmx.sts.test')\" = 'OK secure match=mxwrong.sts.test servername=hostname' ]" ||
    world_fail "wrongmx.sts.test has no policy after DNS came back: $(fault_ask wrongmx.sts.test)"
expect enforce.sts.test "$secure"
expect dane-bad.test "OK dane-only"
[ "$(fault_policyd_alive policyd)" = "$pid" ] || world_fail "mailward-policyd was restarted"
world_stop_daemons
echo "PASS: dns faults"
