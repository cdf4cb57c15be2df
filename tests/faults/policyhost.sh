#!/bin/sh
# policyhost.sh - misbehaving MTA-STS policy hosts against mailward-policyd (mta-sts):
# slow (one byte a second), garbage, oversized (128 KiB), endless (no length, no end),
# redirecting, resetting (RST), wrong content type, wrong certificate. Each lookup of a
# domain it never saw ends within the time limit with NOTFOUND (RFC 8461 section 5);
# a cached policy stays in force when its host turns into any of them (the TXT id
# changes, so each is fetched); hundreds of failing fetches leave the daemon's resident
# memory where it was.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
world_up
sts_policy dyn.sts.test enforce 86400 mx.valid.test
sts_txt dyn.sts.test one
sts_start_policyd <<CONF
timeout = 3
negative_ttl = 0
recheck_interval = 1
CONF
pid=$(fault_policyd_alive policyd)
log=$WORLD_DIR/mailward/policyd.log
bad="slow garbage oversized endless redirect reset ctype badcert"

# 1. Never seen: NOTFOUND within the time limit (3 s; 5 s allowed for a loaded machine).
for how in $bad; do
    t0=$(now_ms)
    sts_expect "$how.sts.test" 'NOTFOUND '
    t=$(($(now_ms) - t0))
    [ $t -lt 5000 ] || world_fail "$how.sts.test took $t ms"
    echo "ok: $how.sts.test answered in $t ms"
done

# 2. A cached policy outlives its host turning bad: each behaviour gets a new TXT id,
# so the daemon fetches, fails and keeps the policy.
fetched_since() {
    [ "$(sts_ask dyn.sts.test)" = "$want" ] || world_fail "dyn.sts.test: $(sts_ask dyn.sts.test)"
    [ "$(sts_gets dyn.sts.test)" -gt "$1" ]
}
want="OK secure match=mx.valid.test servername=hostname"
sts_expect dyn.sts.test "$want"
n=0
for how in slow garbage oversized endless redirect reset notfound; do
    n=$((n + 1))
    printf '@%s\n' "$how" >"$WORLD_DIR/sts-policy/dyn.sts.test"
    before=$(sts_gets dyn.sts.test)
    sts_txt dyn.sts.test "bad$n"
    world_wait_for 15 fetched_since "$before" || world_fail "dyn.sts.test was not fetched again ($how)"
    for i in 1 2 3 4; do
        sts_expect dyn.sts.test "$want" >/dev/null
        sleep 0.3
    done
    echo "ok: dyn.sts.test keeps its policy while its host is $how"
done
[ "$(grep -c 'dyn.sts.test: .*keeping the cached policy (id one' "$log")" -ge 5 ] ||
    world_fail "fewer than 5 failed refreshes of dyn.sts.test were logged"

# 3. Memory: 12 s of lookups on 6 connections, every one a new
# fetch of a bad host (negative_ttl = 0); the resident size may not grow by 4 MiB.
keys=""
for how in garbage oversized endless redirect reset ctype badcert; do
    keys="$keys $how.sts.test=NOTFOUND.?"
done
gets0=$(grep -c '"GET ' "$WORLD_LOG/policyhost.log")
rss0=$(fault_rss "$pid")
# shellcheck disable=SC2086
fault_load 12 6 $keys || { cat "$WORLD_DIR/load.out"; world_fail "a wrong answer from a bad host"; }
cat "$WORLD_DIR/load.out"
rss1=$(fault_rss "$pid")
gets=$(($(grep -c '"GET ' "$WORLD_LOG/policyhost.log") - gets0))
echo "RSS before ${rss0} KiB, after ${rss1} KiB, $gets fetches"
[ "$gets" -ge 200 ] || world_fail "only $gets fetches of bad hosts"
# ASan keeps freed memory in its quarantine (256 MiB): there the size says nothing, and
# LeakSanitizer at exit checks for leaks instead; the default build checks the size.
if grep -q -- '-fsanitize' "$top_builddir/Makefile"; then
    echo "sanitizer build: resident size not compared (ASan quarantine)"
else
    [ $((rss1 - rss0)) -lt 4096 ] || world_fail "RSS grew by $((rss1 - rss0)) KiB over $gets failed fetches"
fi
[ "$(fault_policyd_alive policyd)" = "$pid" ] || world_fail "mailward-policyd was restarted"
world_stop_daemons
echo "PASS: policy host faults"
