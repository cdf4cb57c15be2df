#!/bin/sh
# two-mta.sh - two mailward-policyd instances (two MTAs of a fleet) share one Redis
# found through Sentinel: a policy fetched by the first is served by the second from
# the shared cache, without a fetch of its own (the policy host counts its requests);
# both metrics endpoints show it (a Redis hit on the second).
set -u
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
. "$top_srcdir/tests/fleet/lib.sh"
world_up
fleet_redis_up

WORLD_REDIS=$FLEET_SENTINEL sts_start_policyd <<CONF
[cache]
redis_username = mailward
redis_password = mwpass
CONF
fleet_start_policyd2

want="OK secure match=mx.valid.test servername=hostname"
got=$(sts_ask enforce.sts.test) || world_fail "lookup on the first instance failed"
[ "$got" = "$want" ] || world_fail "first instance: [$got], want [$want]"
[ "$(sts_gets enforce.sts.test)" = 1 ] || world_fail "the first lookup did not fetch once"
world_wait_for 5 fleet_has_key 6391 enforce.sts.test || world_fail "the policy is not in Redis"

got=$(sts_ask enforce.sts.test "${FLEET_SOCKETMAP2##*:}") || world_fail "lookup on the second failed"
[ "$got" = "$want" ] || world_fail "second instance: [$got], want [$want]"
[ "$(sts_gets enforce.sts.test)" = 1 ] ||
    world_fail "the second instance fetched again ($(sts_gets enforce.sts.test) requests)"
echo "ok: a policy fetched by one MTA is served to the other from the shared Redis"

hits=$(world_exec curl -sf http://127.0.0.1:9472/metrics |
    awk '$1 == "mailward_cache_lookups_total{result=\"hit\"}" { print $2 }')
[ "${hits:-0}" -ge 1 ] || world_fail "the second instance counted no cache hit: [$hits]"
fetches=$(world_exec curl -sf http://127.0.0.1:9472/metrics |
    awk '$1 ~ /^mailward_http_fetches_total/ { s += $2 } END { print s + 0 }')
[ "$fetches" = 0 ] || world_fail "the second instance counted $fetches HTTPS fetches"
fetches=$(world_exec curl -sf http://127.0.0.1:9470/metrics |
    awk '$1 == "mailward_http_fetches_total{result=\"ok\"}" { print $2 }')
[ "$fetches" = 1 ] || world_fail "the first instance counted [$fetches] HTTPS fetches, want 1"
echo "ok: metrics: one fetch on the first MTA, a cache hit and no fetch on the second"
world_stop_daemons
