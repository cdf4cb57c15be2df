#!/bin/sh
# sentinel.sh - mailward-policyd (mta-sts) on "redis = sentinel://..." with ACL
# credentials: a Redis master, a replica and three Redis Sentinels on the world's
# loopback. Lookups run without pause while the master is killed (SIGKILL); the
# sentinels promote the replica; the daemon must give no wrong answer meanwhile (the
# in-process cache and live fetches carry it), must find the new master by itself (no
# restart: the same process answers and exits 0 at the end), and a policy fetched after
# the failover must be written to the new master.
set -u
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
. "$top_srcdir/tests/fleet/lib.sh"
world_up
fleet_redis_up
[ "$(fleet_master_port)" = 6391 ] || world_fail "sentinels do not name 6391 as master"

log=$WORLD_DIR/mailward/policyd.log
WORLD_REDIS=$FLEET_SENTINEL sts_start_policyd <<CONF
[cache]
redis_username = mailward
redis_password = mwpass
CONF
grep -q 'redis sentinel: master mw is 127.0.0.1:6391' "$log" || world_fail "no master discovered"

# The answers before the failover are the reference; each is written to the master.
DOMAINS="enforce.sts.test testing.sts.test wildcard.sts.test none.sts.test"
for d in $DOMAINS; do
    sts_ask "$d" >"$WORLD_DIR/fleet/want.$d" || world_fail "lookup of $d failed"
    echo "reference: $d -> $(cat "$WORLD_DIR/fleet/want.$d")"
done
fleet_cli 6391 --scan --pattern 'mailward:*' >"$WORLD_DIR/fleet/keys.before"
grep -q 'enforce.sts.test' "$WORLD_DIR/fleet/keys.before" ||
    world_fail "no key of enforce.sts.test on the master: $(cat "$WORLD_DIR/fleet/keys.before")"
world_wait_for 10 fleet_has_key 6392 enforce.sts.test || world_fail "the replica did not get the keys"

# Load: batches of pipelined lookups (every domain 5 times), each answer checked
# against the reference.
set --
: >"$WORLD_DIR/fleet/want.batch"
for i in 1 2 3 4 5; do
    for d in $DOMAINS; do
        set -- "$@" "mailward $d"
        cat "$WORLD_DIR/fleet/want.$d" >>"$WORLD_DIR/fleet/want.batch"
    done
done
load() {
    n=0 bad=0
    # Stops with the test, also when it fails (world_fail exits the parent shell).
    while [ ! -e "$WORLD_DIR/fleet/stop" ] && kill -0 $$ 2>/dev/null; do
        world_exec /usr/bin/python3 "$top_srcdir/tests/policyd/client.py" socketmap \
            "${WORLD_SOCKETMAP##*:}" "$@" >"$WORLD_DIR/fleet/got.batch" 2>&1
        if ! cmp -s "$WORLD_DIR/fleet/got.batch" "$WORLD_DIR/fleet/want.batch"; then
            bad=$((bad + 1))
            diff "$WORLD_DIR/fleet/want.batch" "$WORLD_DIR/fleet/got.batch" >>"$WORLD_DIR/fleet/wrong"
        fi
        n=$((n + $#))
    done
    echo "$n $bad" >"$WORLD_DIR/fleet/load.result"
}
load "$@" 2>/dev/null &
loadpid=$!
sleep 1

pid=$(cat "$WORLD_DIR/mailward/policyd.pid")
t0=$(date +%s)
eval kill -KILL \$FLEET_PID_6391
echo "killed the master at $t0"
world_wait_for 40 fleet_master_is 6392 || world_fail "the sentinels did not promote the replica"
echo "promoted after $(($(date +%s) - t0)) s"
# The load is served from the in-process cache, which never asks Redis: lookups of
# names not seen before do, and each is a chance to find the new master.
followed() {
    probe=$((probe + 1))
    sts_ask "probe$probe.valid.test" >/dev/null
    grep -q 'redis sentinel: master mw is 127.0.0.1:6392' "$log" &&
        grep -q 'redis .* is reachable again' "$log"
}
probe=0
world_wait_for 40 followed || world_fail "mailward-policyd did not follow the promoted replica"
echo "followed after $(($(date +%s) - t0)) s"
sleep 1
touch "$WORLD_DIR/fleet/stop"
wait $loadpid
read -r n bad <"$WORLD_DIR/fleet/load.result"
echo "load: $n lookups during the failover, $bad batches with a wrong answer"
[ "$bad" = 0 ] || world_fail "wrong answers: $(head -5 "$WORLD_DIR/fleet/wrong")"
[ "$n" -ge 100 ] || world_fail "only $n lookups ran during the failover"

# A policy first fetched now lands on the new master; same process as before.
sts_ask multi.sts.test >/dev/null || world_fail "lookup of multi.sts.test failed"
world_wait_for 5 fleet_has_key 6392 multi.sts.test ||
    world_fail "the new policy was not written to the new master"
echo "ok: new cache writes go to the new master"
[ "$(cat "$WORLD_DIR/mailward/policyd.pid")" = "$pid" ] || world_fail "mailward-policyd restarted"
curl_up=$(world_exec curl -sf http://127.0.0.1:9470/metrics | awk '$1 == "mailward_redis_up" { print $2 }')
[ "$curl_up" = 1 ] || world_fail "mailward_redis_up is [$curl_up] after the failover"
echo "ok: mailward_redis_up = 1"
world_stop_daemons
