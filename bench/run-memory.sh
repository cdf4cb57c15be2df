#!/bin/sh
# bench/run-memory.sh - peak resident memory (VmRSS sampled every 0.1 s) of each daemon
# while 1, 100 and 500 connections load it: mailward-milter (spf dkim dmarc) vs opendkim
# (verify) with bench/milter-load on the 2 KB signed corpus; mailward-policyd (mta-sts)
# vs postfix-mta-sts-resolver with bench/socketmap-load (warm keys). Then the verify path
# with one message of 1 MB and one of 50 MB: the milter's RSS must not follow the size.
#   sudo bench/run-memory.sh [BUILD-DIR]
# A measurement, not a test. Rows go to $BENCH_RESULTS (bench/lib.sh); values in MB.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build/default}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/bench/lib.sh"
bench_init memory
. "$top_srcdir/tests/mta-sts/lib.sh"
SECS=${BENCH_MEMORY_SECONDS:-3}

openssl pkey -in "$WORLD_DKIM_ED25519" -outform DER | tail -c 32 | base64 >"$B/ed.b64"
mkdir -p "$B/small" "$B/1m" "$B/50m"
bench_message "$B/p1.eml" 2 1
dkimsign rsa valid.test "$WORLD_DKIM_RSA" <"$B/p1.eml" >"$B/small/rsa.eml" || world_fail "dkimsign failed"
dkimsign --signalg ed25519-sha256 ed valid.test "$B/ed.b64" <"$B/p1.eml" >"$B/small/ed.eml"
for size in 1:1024 50:51200; do
    bench_message "$B/p$size.eml" "${size#*:}" "big${size%%:*}"
    dkimsign rsa valid.test "$WORLD_DKIM_RSA" <"$B/p$size.eml" >"$B/${size%%:*}m/msg.eml" || world_fail "dkimsign failed"
done

bench_mailward_inbound
bench_opendkim_verify
STS_RESOLVER_LOG=warn STS_RESOLVER_CACHE=10000 sts_start_resolver
STS_PLUGINS=mta-sts sts_start_policyd </dev/null
printf 'enforce.sts.test\nwildcard.sts.test\nmulti.sts.test\n' >"$B/warm.keys"

# rss NAME PID CMD...: peak RSS of PID while CMD runs; the row notes CMD's result line.
rss() {
    local name pid out
    name=$1 pid=$2
    shift 2
    bench_rss_watch "$pid"
    out=$(world_exec "$@" 2>&1 | tail -n 1)
    bench_result memory "$name" "rss_peak=$(bench_rss_stop "$pid")MB" "$out"
}
MWP=$(bench_milter_pid)
ODP=$(bench_pid opendkim)
PDP=$(bench_policyd_pid)
for c in 1 100 500; do
    rss "mailward-milter c=$c" "$MWP" "$MILTER_LOAD" -c $c -t "$SECS" 127.0.0.1:8891 "$B/small"
    rss "opendkim c=$c" "$ODP" "$MILTER_LOAD" -c $c -t "$SECS" 127.0.0.1:8892 "$B/small"
    rss "mailward-policyd c=$c" "$PDP" "$SOCKETMAP_LOAD" -c $c -t "$SECS" "$WORLD_SOCKETMAP" "$B/warm.keys"
    rss "mta-sts-resolver c=$c" "$STS_RESOLVER_PID" "$SOCKETMAP_LOAD" -c $c -t "$SECS" 127.0.0.1:$STS_RESOLVER_PORT "$B/warm.keys"
done
for m in 1m 50m; do
    rss "mailward-milter $m message" "$MWP" "$MILTER_LOAD" -c 1 -n 2 -t 120 -m dkim=pass 127.0.0.1:8891 "$B/$m"
    rss "opendkim $m message" "$ODP" "$MILTER_LOAD" -c 1 -n 2 -t 120 -m dkim=pass 127.0.0.1:8892 "$B/$m"
done
sts_stop_resolver
bench_stop_all
exit 0
