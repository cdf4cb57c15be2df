#!/bin/sh
# bench/run-all.sh - every benchmark of BENCHMARKS.md in one run, then its tables.
#   sudo bench/run-all.sh [--quick] [--no-install] [BUILD-DIR]
# Installs the peers (bench/packages) with apt-get unless --no-install, runs bench/run-*.sh
# (and bench/pgp.sh when present) against BUILD-DIR (default _build/default; it must be
# built: make), each bounded by timeout(1), writes bench/results.tsv and the tables between
# the result markers of BENCHMARKS.md. Default: 3 runs of 5 s per case (medians), about
# 10 minutes; --quick: 1 run of 2 s, about 2-3 minutes. Non-interactive; run it as root on
# an otherwise idle machine. A script that fails is reported and the others still run.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
quick=0 install=1 build=
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    -*) echo "usage: run-all.sh [--quick] [--no-install] [BUILD-DIR]" >&2; exit 64 ;;
    *) build=$a ;;
    esac
done
top_builddir=$(cd "${build:-$top_srcdir/_build/default}" && pwd) || exit 66
[ "$(id -u)" = 0 ] || { echo "run-all.sh: run as root (the test world needs it)" >&2; exit 77; }
for b in milter/mailward-milter policyd/mailward-policyd bench/milter-load bench/socketmap-load; do
    [ -x "$top_builddir/$b" ] || { echo "run-all.sh: $top_builddir/$b is not built (make)" >&2; exit 66; }
done
if [ $install = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        $(grep -v '^#' "$top_srcdir/bench/packages") >/dev/null || echo "run-all.sh: apt-get failed; peers missing are skipped" >&2
fi
if [ $quick = 1 ]; then
    export BENCH_SECONDS=${BENCH_SECONDS:-2} BENCH_RUNS=${BENCH_RUNS:-1} BENCH_MESSAGES=${BENCH_MESSAGES:-500}
    export BENCH_MEMORY_SECONDS=${BENCH_MEMORY_SECONDS:-2}
    limit=240
else
    export BENCH_SECONDS=${BENCH_SECONDS:-5} BENCH_RUNS=${BENCH_RUNS:-3} BENCH_MESSAGES=${BENCH_MESSAGES:-2000}
    limit=480
fi
export BENCH_RESULTS=$top_srcdir/bench/results.tsv
: >"$BENCH_RESULTS"
rm -f "$top_srcdir/bench/results-pgp.txt"
started=$(date +%s)
failed=
for s in inbound sign policy e2e memory; do
    echo "=== bench/run-$s.sh"
    timeout -k 10 $limit "$top_srcdir/bench/run-$s.sh" "$top_builddir" || failed="$failed $s"
done
if [ -x "$top_srcdir/bench/pgp.sh" ]; then
    echo "=== bench/pgp.sh"
    timeout -k 10 $limit "$top_srcdir/bench/pgp.sh" "$top_builddir" >"$top_srcdir/bench/results-pgp.out" ||
        failed="$failed pgp"
    cat "$top_srcdir/bench/results-pgp.out"
    # its table (from its title line on) goes into BENCHMARKS.md as it is
    sed -n '/^pgp encrypt path/,$p' "$top_srcdir/bench/results-pgp.out" >"$top_srcdir/bench/results-pgp.txt"
fi
took=$(($(date +%s) - started))
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
header="Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/run-all.sh$([ $quick = 1 ] && echo ' --quick')\` in ${took} s: $(nproc) x $cpu, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), load average before: $(cut -d' ' -f1-3 /proc/loadavg); BENCH_RUNS=$BENCH_RUNS x BENCH_SECONDS=$BENCH_SECONDS s per case (the median run is shown).${failed:+ Failed or timed out:$failed.}"
/usr/bin/python3 "$top_srcdir/bench/report.py" "$BENCH_RESULTS" "$top_srcdir/BENCHMARKS.md" "$header" ||
    echo "run-all.sh: could not write BENCHMARKS.md" >&2
echo "run-all.sh: ${took} s; results in bench/results.tsv and BENCHMARKS.md${failed:+; failed:$failed}"
[ -z "$failed" ]
