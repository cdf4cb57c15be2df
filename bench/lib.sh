# bench/lib.sh - what the bench/run-*.sh scripts share (sourced after tests/world/lib.sh).
#
#   bench_init NAME          world up, the load clients located, $B (scratch dir) made
#   bench_median CMD...      runs CMD $BENCH_RUNS times (each prints one load-client line),
#                            prints the line whose rate= is the median
#   bench_field LINE KEY     the value of KEY=... in a load-client line (unit stripped)
#   bench_result SECTION CASE LINE [NOTE]   appends a row to $BENCH_RESULTS (tab-separated)
#   bench_cpu "PIDS" CMD...  runs a load client, adds daemon_cpu=: the CPU time (user and
#                            system, every thread) the processes PIDS spent per message or
#                            request of that run; the client reports its own (client_cpu=)
#   bench_rss_watch PID      samples PID's VmRSS every 0.1 s into $B/rss.PID until
#                            bench_rss_stop PID, which prints the peak in MB
#   bench_start NAME PORT CMD...   starts a peer daemon inside the world, waits for PORT
#   bench_stop NAME          SIGTERM to a peer started with bench_start
# Environment: BENCH_SECONDS (per run, default 5), BENCH_RUNS (default 3), BENCH_RESULTS
# (default $top_srcdir/bench/results.tsv), BENCH_CONNS (default 8).
set -u
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_CONNS=${BENCH_CONNS:-8}
BENCH_RESULTS=${BENCH_RESULTS:-$top_srcdir/bench/results.tsv}

bench_init() {
    . "$top_srcdir/tests/world/lib.sh"
    MILTER_LOAD=${MILTER_LOAD:-$top_builddir/bench/milter-load}
    SOCKETMAP_LOAD=${SOCKETMAP_LOAD:-$top_builddir/bench/socketmap-load}
    for b in "$MILTER_LOAD" "$SOCKETMAP_LOAD"; do
        [ -x "$b" ] || { echo "bench: $b is not built (make in $top_builddir)"; exit 1; }
    done
    world_up
    B=$WORLD_DIR/bench-$1
    mkdir -p "$B"
    BENCH_PEERS=
}

bench_field() {
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=\([0-9.]*\).*/\1/p" | head -n 1
}

bench_median() {
    local i
    : >"$B/runs"
    i=0
    while [ $i -lt "$BENCH_RUNS" ]; do
        "$@" >>"$B/runs" 2>>"$B/runs.err" || echo "rate=0 error" >>"$B/runs"
        i=$((i + 1))
    done
    # sort by rate, take the middle line
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rate=/) { r = $i; sub(/^rate=/, "", r); sub(/\/s$/, "", r) } print r "\t" $0 }' \
        "$B/runs" | sort -n | awk -v n="$BENCH_RUNS" 'NR == int((n + 1) / 2) { sub(/^[^\t]*\t/, ""); print }'
}

# bench_ticks PIDS: the CPU clock ticks PIDS have used (fields utime, stime of
# /proc/PID/stat, counted after the command name, which may hold spaces).
bench_ticks() {
    local p t
    t=0
    for p in $1; do
        t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0)))
    done
    echo "$t"
}

bench_cpu() {
    local pids t0 t1 line n
    pids=$1
    shift
    t0=$(bench_ticks "$pids")
    line=$("$@") || return 1
    t1=$(bench_ticks "$pids")
    n=$(bench_field "$line" messages)
    [ -n "$n" ] || n=$(bench_field "$line" requests)
    printf '%s daemon_cpu=%sus\n' "$line" "$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="${n:-0}" \
        'BEGIN { printf("%.1f", (n > 0 ? d * 1e6 / hz / n : 0)) }')"
}

bench_result() {
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$BENCH_RESULTS"
    printf '%-10s %-34s %s %s\n' "$1" "$2" "$3" "${4:-}"
}

bench_rss_watch() {
    (
        while kill -0 "$1" 2>/dev/null && [ ! -e "$B/rss.$1.stop" ]; do
            sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null
            sleep 0.1
        done >"$B/rss.$1"
    ) &
    BENCH_RSS_PID=$!
}

bench_rss_stop() {
    touch "$B/rss.$1.stop"
    wait "$BENCH_RSS_PID" 2>/dev/null
    rm -f "$B/rss.$1.stop"
    sort -n "$B/rss.$1" | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }'
}

# bench_start NAME PORT CMD...: CMD runs in the world's namespace, its PID kept as NAME.
bench_start() {
    local name port
    name=$1 port=$2
    shift 2
    ip netns exec "$WORLD_NS" "$@" </dev/null >"$B/$name.log" 2>&1 &
    eval "BENCH_PID_$name=\$!"
    BENCH_PEERS="$BENCH_PEERS $name"
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" 30 "127.0.0.1:$port" ||
        world_fail "$name did not start: $(tail -n 5 "$B/$name.log")"
}

bench_pid() {
    eval "echo \${BENCH_PID_$1:-}"
}

bench_stop() {
    local pid
    pid=$(bench_pid "$1")
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    eval "BENCH_PID_$1="
}

bench_stop_all() {
    local p
    for p in $BENCH_PEERS; do bench_stop "$p"; done
    world_stop_daemons
}

# bench_milter_pid: the PID of mailward-milter started by world_start_milter.
bench_milter_pid() {
    echo "${WORLD_DAEMONS##*milter:}" | awk '{ print $1 }'
}

bench_policyd_pid() {
    echo "${WORLD_DAEMONS##*policyd:}" | awk '{ print $1 }'
}

# bench_body KB: a text body of about KB kilobytes (72-character lines) on stdout.
bench_body() {
    awk -v kb="$1" 'BEGIN { l = "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnop"
        n = int(kb * 1024 / 73) + 1; for (i = 0; i < n; i++) print l }'
}

# bench_message OUT KB ID: an unsigned message From alice@valid.test with a KB body.
bench_message() {
    {
        printf 'From: Alice <alice@valid.test>\nTo: Bob <bob@example.net>\n'
        printf 'Subject: benchmark message %s of %s KB\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n' "$3" "$2"
        printf 'Message-ID: <bench-%s@valid.test>\nMIME-Version: 1.0\nContent-Type: text/plain\n\n' "$3"
        bench_body "$2"
    } >"$1"
}

# bench_mailward_inbound: mailward-milter verifying (spf dkim dmarc; 127.0.0.1 is no
# internal host here, so the load client's mail is inbound); MW is its address.
bench_mailward_inbound() {
    WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "spf dkim dmarc" <<CONF
[milter]
internal_hosts = 192.0.2.255/32
[dkim]
verify = yes
[dmarc]
verify = yes
CONF
    MW=127.0.0.1:${WORLD_MILTER_SOCKET##*:}
}

# bench_opendkim_verify [LINE...]: opendkim verifying on 127.0.0.1:8892 with the world's
# rsa. and ed._domainkey.valid.test records through TestDNSData (its libunbound resolves
# nothing in the world); LINEs are added to its configuration.
bench_opendkim_verify() {
    local sel v l
    for sel in rsa ed; do
        v=$(world_exec dig +short "$sel._domainkey.valid.test" TXT | sed 's/" "//g; s/^"//; s/"$//')
        echo "$sel._domainkey.valid.test $v"
    done >"$B/dnsdata"
    {
        printf 'Mode v\nSocket inet:8892@127.0.0.1\nTestDNSData file:%s\n' "$B/dnsdata"
        printf 'AuthservID mx.world.test\nBackground no\nSyslog no\nInternalHosts -\n'
        for l in "$@"; do echo "$l"; done
    } >"$B/opendkim.conf"
    bench_start opendkim 8892 opendkim -f -x "$B/opendkim.conf"
}
