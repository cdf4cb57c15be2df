#!/bin/sh
# fuzz/campaign.sh BINDIR SECONDS [TARGET...] - a longer fuzzing run: each target
# (default: every fuzz-* binary in BINDIR, as fuzz/build.sh makes them) runs for
# SECONDS on one core, on a scratch corpus BINDIR/corpus-NAME seeded from
# fuzz/corpus/NAME, with crashes, leaks and timeouts written to BINDIR/artifacts/.
# Prints one tab-separated line per target:
#   target  seconds  runs  exec/s  corpus  crashes
# and exits 1 when any target found something. Run it under `nice -n 19` beside
# other work; a target's run is cut at SECONDS, never earlier.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
secs=$2
shift 2
[ $# -gt 0 ] || set -- $(cd "$bin" && ls fuzz-* | sed 's/^fuzz-//')
mkdir -p "$bin/artifacts"
found=0
printf 'target\tseconds\truns\texec/s\tcorpus\tcrashes\n'
for name in "$@"; do
    scratch=$bin/corpus-$name
    log=$bin/campaign-$name.log
    mkdir -p "$scratch"
    seeds=$src/fuzz/corpus/$name
    [ -d "$seeds" ] || seeds=
    start=$(date +%s)
    "$bin/fuzz-$name" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 \
        -artifact_prefix="$bin/artifacts/$name-" -print_final_stats=1 \
        "$scratch" $seeds >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    crashes=$(ls "$bin/artifacts" 2>/dev/null | grep -c "^$name-")
    [ "$rc" = 0 ] || found=1
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$took" "${runs:-?}" "${rate:-?}" \
        "$(ls "$scratch" | wc -l)" "$crashes"
done
exit $found
