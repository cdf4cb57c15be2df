#!/bin/sh
# bench/policyd.sh - MTA-STS lookup throughput, mailward-policyd (plugin mta-sts) side by
# side with postfix-mta-sts-resolver (mta-sts-daemon, the tool a Postfix admin would pick
# instead), in one test world, with the same DNS, CA and load client
# (bench/socketmap-load.c: CONNS connections, one question at a time each, as Postfix asks).
#   cached:   three enforce domains asked over and over (answers from the daemons' caches)
#   uncached: distinct domains, each asked once (a _mta-sts TXT lookup per question; they
#             do not exist, so the answer is NOTFOUND after an NXDOMAIN)
# Prints one line per daemon and case, then the ratios mailward/resolver.
#   sudo bench/policyd.sh [BUILD-DIR] [SECONDS] [CONNS]
# A measurement, not a test: nothing here passes or fails.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${1:-$top_srcdir/_build/default}
SECS=${2:-10}
CONNS=${3:-50}
export top_srcdir top_builddir
command -v mta-sts-daemon >/dev/null 2>&1 || { echo "bench: postfix-mta-sts-resolver not installed"; exit 1; }
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
world_up
LOAD=$WORLD_DIR/socketmap-load
${CC:-cc} -O2 -o "$LOAD" "$top_srcdir/bench/socketmap-load.c" || world_fail "cannot build the load client"

printf 'enforce.sts.test\nwildcard.sts.test\nmulti.sts.test\n' >"$WORLD_DIR/cached.keys"
for prefix in m r; do
    i=0
    while [ $i -lt 200000 ]; do echo "$prefix$i.nx.sts.test"; i=$((i + 1)); done >"$WORLD_DIR/uncached-$prefix.keys"
done

STS_PLUGINS=mta-sts sts_start_policyd </dev/null
STS_RESOLVER_LOG=warn STS_RESOLVER_CACHE=10000 sts_start_resolver

MW_PORT=${WORLD_SOCKETMAP##*:}
# Warm both caches, and check both daemons answer the same for the cached domains.
for d in enforce.sts.test wildcard.sts.test multi.sts.test; do
    a=$(sts_sorted "$(sts_ask "$d")")
    b=$(sts_sorted "$(sts_ask "$d" "$STS_RESOLVER_PORT")")
    [ "$a" = "$b" ] || echo "note: $d: mailward [$a] resolver [$b]"
done

# run NAME PORT KEYS MODE: print the load client's line; the rate goes to $WORLD_DIR/rate.NAME.
run() {
    out=$(world_exec "$LOAD" 127.0.0.1 "$2" mailward "$CONNS" "$SECS" "$3" "$4") || world_fail "load client failed on $1"
    echo "$1: $out"
    echo "$out" | sed -n 's/.*rate=\([0-9]*\)\/s.*/\1/p' >"$WORLD_DIR/rate.$(echo "$1" | tr ' ' '-')"
}
rate() { cat "$WORLD_DIR/rate.$1"; }
ratio() { awk -v a="$(rate "$1")" -v b="$(rate "$2")" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
run "mailward cached" "$MW_PORT" "$WORLD_DIR/cached.keys" cycle
run "resolver cached" "$STS_RESOLVER_PORT" "$WORLD_DIR/cached.keys" cycle
run "mailward uncached" "$MW_PORT" "$WORLD_DIR/uncached-m.keys" once
run "resolver uncached" "$STS_RESOLVER_PORT" "$WORLD_DIR/uncached-r.keys" once
echo "ratio cached   mailward/resolver: $(ratio mailward-cached resolver-cached) ($CONNS connections, ${SECS} s each)"
echo "ratio uncached mailward/resolver: $(ratio mailward-uncached resolver-uncached)"
sts_stop_resolver
world_stop_daemons
