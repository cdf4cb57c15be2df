# lib.sh - what the fault tests share (sourced after tests/world/lib.sh)
#
#   fault_pid NAME              the PID of the world's process whose comm is NAME (the
#                               world's own redis-server, unbound, ...): one PID or fail
#   fault_redis_start           start the world's redis-server again (as world.sh does)
#   fault_policyd_alive         fail unless mailward-policyd is still running
#   fault_rss PID               the resident set size of PID in KiB
#   fault_load SECONDS CONNS KEY=REGEX...   smload.py in the world against policyd's
#                               socketmap; its output goes to $WORLD_DIR/load.out
#   fault_ask KEY               one socketmap lookup on its own connection (raw reply)
FAULT_DIR=$top_srcdir/tests/faults

fault_pid() {
    local p found
    found=
    for p in $(ip netns pids "$WORLD_NS"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] || continue
        [ -z "$found" ] || world_fail "more than one $1 in the world ($found $p)"
        found=$p
    done
    [ -n "$found" ] || world_fail "no $1 in the world"
    echo "$found"
}

fault_redis_start() {
    ip netns exec "$WORLD_NS" redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
        --dir "$WORLD_DIR/redis" </dev/null >>"$WORLD_LOG/redis.log" 2>&1 &
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" "$WORLD_REDIS" ||
        world_fail "redis-server did not start again"
}

fault_policyd_alive() {
    local d
    for d in ${WORLD_DAEMONS:-}; do
        [ "${d%%:*}" = "$1" ] || continue
        kill -0 "${d##*:}" 2>/dev/null || world_fail "mailward-$1 is gone"
        echo "${d##*:}"
        return 0
    done
    world_fail "mailward-$1 was not started"
}

fault_rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

fault_load() {
    local secs conns
    secs=$1 conns=$2
    shift 2
    world_exec /usr/bin/python3 "$FAULT_DIR/smload.py" "${WORLD_SOCKETMAP##*:}" "$secs" "$conns" "$@" \
        >"$WORLD_DIR/load.out" 2>&1
}

fault_ask() {
    world_exec /usr/bin/python3 "$top_srcdir/tests/policyd/client.py" socketmap \
        "${WORLD_SOCKETMAP##*:}" "mailward $1"
}
