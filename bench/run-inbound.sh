#!/bin/sh
# bench/run-inbound.sh - inbound verification throughput and latency: mailward-milter
# (plugins spf dkim dmarc) side by side with opendkim alone, opendkim + opendmarc (chained
# the way Postfix chains milters: each message through one, then the other) and
# pyspf-milter, all fed by bench/milter-load in the same test world.
# Corpora: "small" (2 KB bodies) and "mixed" (2 KB to 1 MB bodies), each signed rsa-sha256
# and ed25519-sha256 by dkimpy with the world's valid.test keys. DNS is warm: one
# discarded warm-up run per peer first. opendkim reads the key records from TestDNSData
# (its libunbound resolves nothing in the world, tests/dkim/interop.sh): no DNS at all
# for it, an advantage. Also a one-connection run of each on the small corpus (latency).
#   sudo bench/run-inbound.sh [BUILD-DIR]
# A measurement, not a test. Rows go to $BENCH_RESULTS (bench/lib.sh).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build/default}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/bench/lib.sh"
command -v dkimsign >/dev/null 2>&1 || { echo "bench: dkimsign (python3-dkim) missing"; exit 1; }
bench_init inbound

# ---- corpus
openssl pkey -in "$WORLD_DKIM_ED25519" -outform DER | tail -c 32 | base64 >"$B/ed.b64"
mkdir -p "$B/small" "$B/mixed" "$B/plain"
sign() { # sign IN OUT rsa|ed
    if [ "$3" = rsa ]; then
        dkimsign rsa valid.test "$WORLD_DKIM_RSA" <"$1" >"$2"
    else
        dkimsign --signalg ed25519-sha256 ed valid.test "$B/ed.b64" <"$1" >"$2"
    fi || world_fail "dkimsign failed"
}
n=0
for kb in 2 2 16 128 1024; do
    for alg in rsa ed; do
        n=$((n + 1))
        bench_message "$B/plain/$n.eml" $kb $n
        sign "$B/plain/$n.eml" "$B/mixed/$n-$kb-$alg.eml" $alg
        [ $kb = 2 ] && cp "$B/mixed/$n-$kb-$alg.eml" "$B/small/"
    done
done

# ---- peers
bench_mailward_inbound
bench_opendkim_verify "AlwaysAddARHeader yes"

echo 192.0.2.255 >"$B/ignore"
have_opendmarc=0
if command -v opendmarc >/dev/null 2>&1; then
    cat >"$B/opendmarc.conf" <<CONF
Socket                  inet:8893@127.0.0.1
AuthservID              mx.world.test
TrustedAuthservIDs      mx.world.test
IgnoreHosts             $B/ignore
SPFSelfValidate         true
RejectFailures          false
PublicSuffixList        /usr/share/publicsuffix/public_suffix_list.dat
Background              false
Syslog                  false
PidFile                 $B/opendmarc.pid
CONF
    bench_start opendmarc 8893 opendmarc -f -c "$B/opendmarc.conf" && have_opendmarc=1
fi
have_pyspf=0
if command -v pyspf-milter >/dev/null 2>&1; then
    cat >"$B/pyspf.conf" <<CONF
debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.255/32
Socket = inet:8894@127.0.0.1
PidFile = $B/pyspf.pid
UserID = root
InternalHosts = 192.0.2.255
CONF
    bench_start pyspf 8894 pyspf-milter "$B/pyspf.conf" && have_pyspf=1
fi

# load NAME TARGETS CORPUS CONNS MATCH PIDS: warm-up, then the median of BENCH_RUNS runs,
# with the CPU time PIDS (the daemons) spent per message.
load() {
    world_exec "$MILTER_LOAD" -c "$4" -t 1 -m "$5" "$2" "$B/$3" >/dev/null 2>&1
    line=$(bench_median bench_cpu "$6" world_exec "$MILTER_LOAD" -c "$4" -t "$BENCH_SECONDS" -m "$5" "$2" "$B/$3")
    bench_result inbound "$1 $3 c=$4" "$line"
}

mw_pid=$(bench_milter_pid)
dkim_pid=$(bench_pid opendkim)
both="$dkim_pid $(bench_pid opendmarc)"
for c in "small $BENCH_CONNS" "mixed $BENCH_CONNS" "small 1"; do
    set -- $c # the second pass: latency with one connection (nothing queued behind another)
    load mailward "$MW" "$1" "$2" dkim=pass "$mw_pid"
    load opendkim 127.0.0.1:8892 "$1" "$2" dkim=pass "$dkim_pid"
    [ $have_opendmarc = 1 ] && load opendkim+opendmarc 127.0.0.1:8892,127.0.0.1:8893 "$1" "$2" dmarc=pass "$both"
    [ $have_pyspf = 1 ] && load pyspf-milter 127.0.0.1:8894 "$1" "$2" Received-SPF "$(bench_pid pyspf)"
done
bench_result inbound "rspamd" "-" "not measured: rspamd is not installed; its milter proxy needs rspamd's own Redis-backed setup (not done here)"
bench_stop_all
exit 0
