#!/bin/sh
# cache.sh - the mta-sts plugin's policy cache against a policy that changes under it
# (dyn.sts.test: its TXT record is set with unbound-control, its policy host serves a
# file): the TXT id is checked but an unchanged id fetches nothing; a changed id fetches
# the new policy; a failed fetch (404) keeps the cached policy in force, as does a TXT
# record that is no longer there; a policy is fetched again before it expires. Then a
# slow policy host: lookups of it share one fetch, are answered NOTFOUND at the time
# limit, the failure is remembered, and a lookup of another domain meanwhile is not
# delayed. "No policy" is remembered for negative_ttl only. Finally SIGTERM with a fetch
# and a lookup in flight.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
world_up
secure() {
    echo "OK secure match=$1 servername=hostname"
}
log=$WORLD_DIR/mailward/policyd.log
gets_want() {
    [ "$(sts_gets "$1")" = "$2" ] || world_fail "$3: mta-sts.$1 got $(sts_gets "$1") requests, want $2"
}

sts_policy dyn.sts.test enforce 86400 mx.valid.test
sts_txt dyn.sts.test one
sts_start_policyd <<CONF
timeout = 5
recheck_interval = 1
negative_ttl = 2
CONF

# The first lookup fetches; lookups over the next seconds check the (unchanged) id only.
sts_expect dyn.sts.test "$(secure mx.valid.test)"
gets_want dyn.sts.test 1 "first lookup"
for i in 1 2 3; do
    sleep 1.2
    sts_expect dyn.sts.test "$(secure mx.valid.test)"
done
sleep 0.5
gets_want dyn.sts.test 1 "id unchanged"

# A new id: the cached policy answers until the new one is fetched (in the background).
sts_policy dyn.sts.test enforce 86400 mx.sts.test
sts_txt dyn.sts.test two
sleep 1.5
sts_expect dyn.sts.test "$(secure mx.valid.test)"
world_wait_for 10 sts_answers dyn.sts.test "$(secure mx.sts.test)" ||
    world_fail "the policy with id two was not fetched: $(sts_ask dyn.sts.test)"
gets_want dyn.sts.test 2 "id changed"
echo "ok: id change fetched the new policy"

# Another new id, but the policy host now answers 404: the cached policy stays in force
# (retried every negative_ttl), never NOTFOUND.
sts_policy dyn.sts.test
sts_txt dyn.sts.test three
sleep 1.5
for i in 1 2 3 4 5 6 7 8; do
    sts_expect dyn.sts.test "$(secure mx.sts.test)"
    sleep 0.5
done
[ "$(sts_gets dyn.sts.test)" -ge 3 ] || world_fail "no fetch was tried after id three"
grep -q 'dyn.sts.test: policy fetch failed: HTTP status 404, not 200: keeping the cached policy (id two' "$log" ||
    world_fail "no log line for keeping the cached policy"
echo "ok: failed fetches keep the cached policy"

# The record is gone (a TXT record that is no v=STSv1 record): the policy stays too.
sts_txt dyn.sts.test
for i in 1 2 3 4; do
    sleep 0.8
    sts_expect dyn.sts.test "$(secure mx.sts.test)"
done

# Back: a new policy with max_age 4. Half of max_age later it is fetched again although
# its id did not change, so it never expires while lookups come: 8 s of lookups, every
# answer the policy, and several fetches.
sts_policy dyn.sts.test enforce 4 mx.valid.test '*.sts.test'
sts_txt dyn.sts.test four
world_wait_for 10 sts_answers dyn.sts.test "$(secure mx.valid.test:.sts.test)" ||
    world_fail "the policy with id four was not fetched: $(sts_ask dyn.sts.test)"
n=$(sts_gets dyn.sts.test)
for i in $(seq 16); do
    sts_expect dyn.sts.test "$(secure mx.valid.test:.sts.test)" >/dev/null
    sleep 0.5
done
m=$(sts_gets dyn.sts.test)
[ "$m" -ge $((n + 2)) ] || world_fail "max_age 4: $((m - n)) fetches in 8 s, want at least 2"
ttl=$(sts_redis TTL mailward:mta-sts:dyn.sts.test)
[ "$ttl" -ge 1 ] && [ "$ttl" -le 4 ] || world_fail "max_age 4 policy cached with TTL $ttl"
echo "ok: refreshed $((m - n)) times before expiry"

# A slow policy host (one byte a second): four lookups at once share one fetch and get
# NOTFOUND at the 5 s limit; a lookup of another domain meanwhile is answered at once
# (the time bounds are loose: a busy machine must not fail them, a blocked loop would).
t0=$(now_ms)
pids=
for i in 1 2 3 4; do
    sts_ask slow.sts.test >"$WORLD_DIR/slow.$i" 2>&1 &
    pids="$pids $!"
done
sleep 0.5
t1=$(now_ms)
sts_expect enforce.sts.test "$(secure mx.valid.test)"
t2=$(now_ms)
[ $((t2 - t1)) -lt 2500 ] || world_fail "enforce.sts.test took $((t2 - t1)) ms while slow.sts.test was fetched"
for p in $pids; do wait "$p"; done
t3=$(now_ms)
for i in 1 2 3 4; do
    [ "$(cat "$WORLD_DIR/slow.$i")" = "NOTFOUND " ] || world_fail "slow lookup $i: $(cat "$WORLD_DIR/slow.$i")"
done
[ $((t3 - t0)) -ge 4500 ] && [ $((t3 - t0)) -lt 9000 ] ||
    world_fail "slow lookups took $((t3 - t0)) ms, want the 5 s limit"
gets_want slow.sts.test 1 "four lookups at once"
# The failure is remembered: the next lookup is answered at once, without a fetch.
t4=$(now_ms)
sts_expect slow.sts.test "NOTFOUND "
t5=$(now_ms)
[ $((t5 - t4)) -lt 2500 ] || world_fail "remembered failure took $((t5 - t4)) ms"
gets_want slow.sts.test 1 "remembered failure"
echo "ok: slow host: one fetch for 4 lookups in $((t3 - t0)) ms, others answered in $((t2 - t1)) ms"

# "No policy" is remembered for negative_ttl (2 s) only.
sts_expect notxt.sts.test "NOTFOUND "
[ "$(sts_redis GET mailward:mta-sts:notxt.sts.test)" = "mw-sts1 none" ] || world_fail "notxt not cached"
sleep 2.5
[ "$(sts_redis EXISTS mailward:mta-sts:notxt.sts.test)" = 0 ] || world_fail "notxt cached beyond negative_ttl"

# The metrics endpoint counted the discoveries by result.
metric() {
    world_exec curl -sf http://127.0.0.1:9470/metrics |
        awk -v m="mailward_mta_sts_discoveries_total{result=\"$1\"}" '$1 == m { print $2 }'
}
[ "$(metric new)" -ge 5 ] || world_fail "metrics: new policies counted: [$(metric new)]"
[ "$(metric failed)" -ge 2 ] || world_fail "metrics: failures counted: [$(metric failed)]"
[ "$(metric unchanged)" -ge 2 ] || world_fail "metrics: unchanged ids counted: [$(metric unchanged)]"
[ "$(metric none)" -ge 1 ] || world_fail "metrics: no-record results counted: [$(metric none)]"
world_stop_daemons

# SIGTERM with work in flight (a policy fetch from the slow host, a TXT lookup in a zone
# that times out) and drain_timeout 0: the resolver's close ends the lookup, the plugin's
# fini the fetch, and the daemon exits 0 with a clean (sanitizer) log.
log2=$WORLD_DIR/mailward/policyd.log
sts_start_policyd <<CONF
timeout = 5
[policyd]
drain_timeout = 0
CONF
sts_ask slow.sts.test >/dev/null 2>&1 &
a1=$!
sts_ask timeout.test >/dev/null 2>&1 &
a2=$!
sleep 1
world_stop_daemons
wait $a1 $a2 2>/dev/null
grep -q 'drain_timeout: .* still waiting for answers: exiting' "$log2" ||
    world_fail "the daemon did not exit with lookups in flight"
sed -n '/mailward-policyd stopped/,$p' "$log2" | grep -q 'mta-sts: timeout.test: TXT lookup failed' ||
    world_fail "the pending TXT lookup was not ended by closing the resolver"
! grep -q 'callbacks still pending at exit' "$log2" || world_fail "a callback outlived the plugin"
echo "ok: SIGTERM with a fetch and a lookup in flight: clean exit"
echo "PASS: mta-sts cache: id checks, re-fetch, failed fetches keep the policy, refresh, shared fetches"
