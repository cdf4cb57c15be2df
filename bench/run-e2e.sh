#!/bin/sh
# bench/run-e2e.sh - end to end through Postfix: smtp-source -> the world's sending Postfix
# (127.0.0.2:25) -> smtp-sink, messages/s from the first connection to an empty queue.
#   alone:     no milter, no TLS policy lookups
#   mailward:  mailward-milter (spf dkim dmarc) and mailward-policyd (mta-sts, TLS policy
#              of the next hop through socketmap), as a mailward install runs
#   opendkim:  opendkim verifying (TestDNSData, as in run-inbound.sh)
#   null-milter: mailward-milter with no plugin: the milter protocol alone (libmilter's
#              round trips on both sides), the floor under any libmilter milter
# The message is the 2 KB rsa-signed one of the inbound corpus, from 127.0.0.1.
#   sudo bench/run-e2e.sh [BUILD-DIR]
# A measurement, not a test. Rows go to $BENCH_RESULTS (bench/lib.sh). $BENCH_MESSAGES
# messages per run (default 2000), $BENCH_SESSIONS parallel SMTP sessions (default 16).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build/default}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/bench/lib.sh"
command -v smtp-source >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v dkimsign >/dev/null 2>&1 || { echo "bench: dkimsign (python3-dkim) missing"; exit 1; }
bench_init e2e
MESSAGES=${BENCH_MESSAGES:-2000}
SESSIONS=${BENCH_SESSIONS:-16}
SINK=127.0.0.40:2525
Q=$WORLD_DIR/postfix/sender/queue

bench_message "$B/plain.eml" 2 e2e
dkimsign rsa valid.test "$WORLD_DKIM_RSA" <"$B/plain.eml" | sed 's/$/\r/' >"$B/msg" || world_fail "dkimsign failed"

ip netns exec "$WORLD_NS" smtp-sink -u postfix -c "$SINK" 256 </dev/null >"$B/sink.log" 2>&1 &
SINK_PID=$!
world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" 30 "$SINK" || world_fail "smtp-sink did not start"
world_postconf sender "relayhost = [${SINK%:*}]:${SINK##*:}" 'smtp_tls_security_level = none' \
    'default_destination_concurrency_limit = 32' 'smtpd_client_connection_count_limit = 0'

queue_empty() {
    [ -z "$(find "$Q/incoming" "$Q/active" "$Q/maildrop" "$Q/deferred" -type f 2>/dev/null | head -n 1)" ]
}

# one: submit MESSAGES and time until the queue is empty; prints a load-client-like line.
one() {
    local t0 t1 deferred
    t0=$(date +%s.%N)
    world_exec smtp-source -s "$SESSIONS" -m "$MESSAGES" -f alice@valid.test -t bob@example.net \
        -F "$B/msg" 127.0.0.2:25 >/dev/null 2>&1 || return 1
    world_wait_for 120 queue_empty || return 1
    t1=$(date +%s.%N)
    deferred=$(find "$Q/deferred" -type f 2>/dev/null | wc -l)
    awk -v n="$MESSAGES" -v a="$t0" -v b="$t1" -v d="$deferred" \
        'BEGIN { printf "messages=%d seconds=%.2f rate=%.1f/s deferred=%d\n", n, b - a, n / (b - a), d }'
}

measure() { # measure NAME MILTERS POLICYMAPS
    world_postconf sender "smtpd_milters = $2" "smtp_tls_policy_maps = $3"
    sleep 1
    MESSAGES_SAVED=$MESSAGES
    MESSAGES=200 one >/dev/null # warm-up: processes forked, DNS and caches warm
    bench_result e2e "postfix+$1 s=$SESSIONS" "$(bench_median one)"
}

measure alone "" ""

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "" </dev/null
measure null-milter "$WORLD_MILTER_SOCKET" ""
world_stop_daemons

bench_mailward_inbound
. "$top_srcdir/tests/mta-sts/lib.sh"
STS_PLUGINS="tls-rules mta-sts" sts_start_policyd <<CONF
CONF
measure mailward "$WORLD_MILTER_SOCKET" "socketmap:inet:$WORLD_SOCKETMAP:mailward"
world_stop_daemons

bench_opendkim_verify
measure opendkim inet:127.0.0.1:8892 ""
bench_stop_all
kill "$SINK_PID" 2>/dev/null
exit 0
