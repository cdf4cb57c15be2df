#!/bin/sh
# bench/pgp.sh - what OpenPGP encryption costs per message: mailward-milter with the pgp
# plugin (GPGME, one context per worker thread) fed by bench/milter-load, next to its floor,
# raw `gpg --encrypt` (and `gpg --encrypt --sign`) on the same message with the same keystore.
#   sudo bench/pgp.sh [BUILD-DIR]
# Cases: encrypt to bob (sign = never) and encrypt+sign (alice's key signs inside), at 1 and
# 2 concurrent sessions (gpg: 1 and 2 loops side by side). Prints a table: messages/s,
# milliseconds per message and lane (conns x 1000 / rate), and mailward's cost over gpg's.
# A measurement, not a test; never part of make check.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/_build/default}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/bench/lib.sh"
bench_init pgp

KS=$WORLD_GNUPG/bench
G() { gpg --homedir "$KS" --batch --no-tty --pinentry-mode loopback --passphrase '' "$@"; }
mkdir -m 700 "$KS"
G --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import public keys"
gpg --homedir "$WORLD_GNUPG/alice@valid.test" --batch --export-secret-keys alice@valid.test |
    G --import 2>/dev/null || world_fail "import alice's secret key"
bench_message "$B/msg.eml" 2 1
# milter-load's corpus: the same message; the body alone (after the empty line) is what
# mailward encrypts, the whole file is what gpg gets (a slightly larger input: the floor
# stays a floor).
mkdir -p "$B/corpus" && cp "$B/msg.eml" "$B/corpus/"

# gpg_load CONNS SECONDS GPG-ARGS...: CONNS loops of gpg on the message for SECONDS; one
# milter-load-like line "messages= seconds= rate=".
gpg_load() {
    local c s i
    c=$1 s=$2
    shift 2
    i=0
    t0=$(date +%s%N)
    while [ $i -lt "$c" ]; do
        (
            n=0 end=$(($(date +%s) + s))
            while [ "$(date +%s)" -lt $end ]; do
                G --trust-model always --armor "$@" -r bob@valid.test -o - "$B/msg.eml" >/dev/null 2>&1 ||
                    exit 1
                n=$((n + 1))
            done
            echo $n >"$B/gpg.$i"
        ) &
        i=$((i + 1))
    done
    wait
    t1=$(date +%s%N)
    awk -v t="$(((t1 - t0) / 1000000))" '{ n += $1 } END { printf "messages=%d seconds=%.2f rate=%.2f/s\n", n, t / 1000, n * 1000 / t }' "$B"/gpg.*
    rm -f "$B"/gpg.*
}

start() { # start SIGN: mailward-milter with the pgp plugin
    WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
encrypt = always
sign = $1
reinject =
CONF
}
MW=127.0.0.1:${WORLD_MILTER_SOCKET##*:}
rows=$B/rows
: >"$rows"
row() { # row CASE CONNS MAILWARD-LINE GPG-LINE
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$(bench_field "$3" rate)" "$(bench_field "$4" rate)" >>"$rows"
    [ "$(bench_field "$3" matched)" = "$(bench_field "$3" messages)" ] ||
        echo "bench: $1 c=$2: not every message was encrypted: $3" >&2
}
for sign in never always; do
    start $sign
    case $sign in never) name=encrypt gargs=--encrypt ;; *) name=encrypt+sign gargs="--encrypt --sign -u alice@valid.test" ;; esac
    # warm up: the first messages start the worker threads' GPGME contexts and gpg-agent
    world_exec "$MILTER_LOAD" -c 2 -n 4 -f alice@valid.test -r bob@valid.test "$MW" "$B/corpus" >/dev/null 2>&1
    for c in 1 2; do
        mw=$(bench_median world_exec "$MILTER_LOAD" -c $c -t "$BENCH_SECONDS" -f alice@valid.test \
            -r bob@valid.test -m multipart/encrypted "$MW" "$B/corpus")
        # shellcheck disable=SC2086 # gargs is a word list
        g=$(bench_median gpg_load $c "$BENCH_SECONDS" $gargs)
        row $name $c "$mw" "$g"
    done
    world_stop_daemons
done

echo
echo "pgp encrypt path (2 KB text message, one recipient key, $BENCH_SECONDS s x $BENCH_RUNS runs, median)"
awk -F'\t' 'BEGIN { printf "%-13s %5s %14s %10s %14s %10s %8s\n", "case", "conns", "mailward msg/s", "ms/msg", "gpg msg/s", "ms/msg", "ratio" }
    { mwms = $3 > 0 ? $2 * 1000 / $3 : 0; gms = $4 > 0 ? $2 * 1000 / $4 : 0
      printf "%-13s %5d %14.1f %10.1f %14.1f %10.1f %7.2fx\n", $1, $2, $3, mwms, $4, gms, (gms > 0 ? mwms / gms : 0) }' "$rows"
echo "ratio: mailward's milliseconds per message over raw gpg's (1.00x = no overhead over the gpg floor)"
exit 0
