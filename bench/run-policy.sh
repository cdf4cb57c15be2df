#!/bin/sh
# bench/run-policy.sh - MTA-STS socketmap lookups: mailward-policyd (plugin mta-sts) side
# by side with postfix-mta-sts-resolver (mta-sts-daemon, the tool a Postfix admin would
# pick instead), same world DNS, CA, policy hosts and load client (bench/socketmap-load).
#   warm:      three enforce domains asked over and over (answers from the caches);
#              32 connections with one question in flight each (how Postfix asks), then
#              pipelined (depth 64)
#   cold:      distinct domains, each asked once (a _mta-sts TXT lookup per question; they
#              do not exist: NOTFOUND after an NXDOMAIN)
#   sudo bench/run-policy.sh [BUILD-DIR]
# A measurement, not a test. Rows go to $BENCH_RESULTS (bench/lib.sh).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build/default}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/bench/lib.sh"
command -v mta-sts-daemon >/dev/null 2>&1 || { echo "bench: postfix-mta-sts-resolver not installed"; exit 1; }
bench_init policy
. "$top_srcdir/tests/mta-sts/lib.sh"

printf 'enforce.sts.test\nwildcard.sts.test\nmulti.sts.test\n' >"$B/warm.keys"
# cold keys: fresh names per run (run number in the name), more than a run can ask
cold_keys() {
    awk -v p="$1" 'BEGIN { for (i = 0; i < 300000; i++) print p i ".nx.sts.test" }' >"$B/cold-$1.keys"
}

STS_PLUGINS=mta-sts sts_start_policyd </dev/null
STS_RESOLVER_LOG=warn STS_RESOLVER_CACHE=10000 sts_start_resolver
MW=127.0.0.1:${WORLD_SOCKETMAP##*:}
RS=127.0.0.1:$STS_RESOLVER_PORT
for d in enforce.sts.test wildcard.sts.test multi.sts.test; do
    a=$(sts_sorted "$(sts_ask "$d")")
    b=$(sts_sorted "$(sts_ask "$d" "$STS_RESOLVER_PORT")")
    [ "$a" = "$b" ] || echo "note: $d: mailward [$a] resolver [$b]"
done

smload() { world_exec "$SOCKETMAP_LOAD" "$@"; }
pids() { if [ "$1" = mailward ]; then bench_policyd_pid; else echo "$STS_RESOLVER_PID"; fi; }
run=0
cold() { # cold PREFIX ADDR CONNS: each run asks names never asked before
    run=$((run + 1))
    cold_keys "$1$run"
    smload -c "$3" -t "$BENCH_SECONDS" -o "$2" "$B/cold-$1$run.keys"
}
for conns in 32; do
    for peer in mailward:$MW resolver:$RS; do
        name=${peer%%:*} addr=${peer#*:}
        smload -c "$conns" -t 1 "$addr" "$B/warm.keys" >/dev/null
        pid=$(pids "$name")
        bench_result policy "$name warm c=$conns d=1" \
            "$(bench_median bench_cpu "$pid" smload -c "$conns" -t "$BENCH_SECONDS" "$addr" "$B/warm.keys")"
        bench_result policy "$name warm c=$conns d=64" \
            "$(bench_median bench_cpu "$pid" smload -c "$conns" -d 64 -t "$BENCH_SECONDS" "$addr" "$B/warm.keys")"
        bench_result policy "$name cold c=$conns d=1" "$(bench_median bench_cpu "$pid" cold "$name" "$addr" "$conns")"
    done
done
sts_stop_resolver
world_stop_daemons
exit 0
