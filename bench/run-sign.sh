#!/bin/sh
# bench/run-sign.sh - outbound DKIM signing: mailward-milter (plugin dkim, key and signing
# tables) side by side with opendkim in signing mode, the same key (the world's rsa key for
# valid.test: rsa-sha256, relaxed/relaxed), the same unsigned corpus (2 KB and 2 KB to 1 MB bodies)
# from an internal host (127.0.0.1), fed by bench/milter-load.
#   sudo bench/run-sign.sh [BUILD-DIR]
# A measurement, not a test. Rows go to $BENCH_RESULTS (bench/lib.sh).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build/default}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/bench/lib.sh"
bench_init sign

mkdir -p "$B/small" "$B/mixed"
n=0
for kb in 2 2 16 128 1024; do
    n=$((n + 1))
    bench_message "$B/mixed/$n-$kb.eml" $kb $n
    [ $kb = 2 ] && cp "$B/mixed/$n-$kb.eml" "$B/small/"
done
cp "$WORLD_DKIM_RSA" "$B/rsa.pem"
chmod 600 "$B/rsa.pem"

# One rsa-sha256 signature each: Debian's opendkim 2.11 tempfails every message when its
# KeyTable holds the world's ed25519 key (PEM or the raw base64 seed), so ed25519 signing
# is not compared.
printf 'rsa-valid valid.test:rsa:%s\n' "$B/rsa.pem" >"$B/keytable"
printf '*@valid.test rsa-valid\n' >"$B/signingtable"

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter dkim <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[dkim]
verify = no
key_table = $B/keytable
signing_table = refile:$B/signingtable
CONF
MW=127.0.0.1:${WORLD_MILTER_SOCKET##*:}

echo 127.0.0.0/8 >"$B/internal"
cat >"$B/opendkim.conf" <<CONF
Mode                    s
Socket                  inet:8892@127.0.0.1
KeyTable                file:$B/keytable
SigningTable            refile:$B/signingtable
RequireSafeKeys         no
Canonicalization        relaxed/relaxed
InternalHosts           $B/internal
Background              no
Syslog                  no
CONF
bench_start opendkim 8892 opendkim -f -x "$B/opendkim.conf"

load() { # load NAME TARGET CORPUS CONNS PID
    world_exec "$MILTER_LOAD" -c "$4" -t 1 -m DKIM-Signature "$2" "$B/$3" >/dev/null 2>&1
    bench_result sign "$1 $3 c=$4" \
        "$(bench_median bench_cpu "$5" world_exec "$MILTER_LOAD" -c "$4" -t "$BENCH_SECONDS" -m DKIM-Signature "$2" "$B/$3")"
}
for corpus in small mixed; do
    load mailward "$MW" $corpus "$BENCH_CONNS" "$(bench_milter_pid)"
    load opendkim 127.0.0.1:8892 $corpus "$BENCH_CONNS" "$(bench_pid opendkim)"
done
bench_stop_all
exit 0
