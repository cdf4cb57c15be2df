#!/bin/sh
# redis.sh - Redis killed (SIGKILL), started again and hung (SIGSTOP) while mailward-policyd
# answers socketmap lookups on 8 connections: every answer is the domain's policy or TEMP,
# never a weaker one (no NOTFOUND for a domain with a policy, no policy for one without),
# no connection is dropped, the daemon keeps running and uses Redis again by itself.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
world_up
printf 'notls.test encrypt\n' >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd "tls-rules mta-sts dane" <<CONF
[cache]
redis_timeout_ms = 250
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
[mta-sts]
ca_file = $WORLD_CA
timeout = 5
CONF
pid=$(fault_policyd_alive policyd)
log=$WORLD_DIR/mailward/policyd.log
secure='OK secure match=mx\.valid\.test servername=hostname'
# The first lookups fill Redis.
[ "$(fault_ask enforce.sts.test)" = "OK secure match=mx.valid.test servername=hostname" ] ||
    world_fail "enforce.sts.test: $(fault_ask enforce.sts.test)"
world_wait_for 10 sh -c "[ \"\$(ip netns exec $WORLD_NS redis-cli -p 6379 dbsize)\" -gt 0 ]" ||
    world_fail "nothing was written to Redis"

fault_load 14 8 "notls.test=OK encrypt" "enforce.sts.test=$secure|TEMP .*" \
    "valid.test=OK dane-only|TEMP .*" "plain.test=NOTFOUND |TEMP .*" \
    "testing.sts.test=NOTFOUND |TEMP .*" "wildcard.sts.test=OK secure match=\.valid\.test servername=hostname|TEMP .*" &
load=$!
sleep 2
redis=$(fault_pid redis-server)
kill -KILL "$redis"
echo "redis-server $redis killed"
sleep 3
fault_redis_start
echo "redis-server started again"
sleep 3
redis=$(fault_pid redis-server)
kill -STOP "$redis"
echo "redis-server $redis stopped (hung)"
sleep 3
kill -CONT "$redis"
wait $load
rc=$?
cat "$WORLD_DIR/load.out"
[ $rc = 0 ] || world_fail "a wrong answer or a dropped connection under the Redis faults"
grep -q "redis $WORLD_REDIS unreachable" "$log" || world_fail "no log line for Redis going away"
echo "ok: every answer right while Redis was killed, restarted and hung"

# Recovery without a restart: the daemon uses the new Redis (keys written there again).
world_wait_for 20 sh -c "fault() { [ \"\$(ip netns exec $WORLD_NS redis-cli -p 6379 dbsize)\" -gt 0 ]; }; \
    ip netns exec $WORLD_NS /usr/bin/python3 $top_srcdir/tests/policyd/client.py socketmap \
    ${WORLD_SOCKETMAP##*:} 'mailward multi.sts.test' >/dev/null; fault" ||
    world_fail "mailward-policyd did not write to Redis after it came back"
grep -q "redis $WORLD_REDIS is reachable again" "$log" || world_fail "no log line for Redis coming back"
[ "$(fault_policyd_alive policyd)" = "$pid" ] || world_fail "mailward-policyd was restarted"
echo "ok: Redis used again without a restart"
world_stop_daemons
echo "PASS: redis faults"
