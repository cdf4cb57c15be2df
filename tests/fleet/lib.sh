# lib.sh - what the fleet tests share (sourced after tests/world/lib.sh and
# tests/mta-sts/lib.sh): a Redis master and replica with ACL users and three Redis
# Sentinels, all on the world's loopback, and a second mailward-policyd.
#
#   fleet_redis_up                 master 127.0.0.1:6391, replica :6392, sentinels
#                                  :26391-26393 watching master "mw" (down after 1 s);
#                                  every server has user "mailward" (password mwpass,
#                                  keys mailward:*) and requirepass rootpw; returns
#                                  when every sentinel knows the replica and the others
#   fleet_cli PORT ARGS...         redis-cli as user mailward on a data server
#   fleet_master_port              the port the sentinels name as master now
#   fleet_master_is PORT           ... is PORT (a condition for world_wait_for)
#   fleet_has_key PORT WORD        a mailward:* key containing WORD is on that server
#   fleet_start_policyd2 PLUGINS   a second mailward-policyd (socketmap :8463, metrics :9472)
#                                  with the configuration of the first; stdin appended
FLEET_SENTINEL=sentinel://127.0.0.1:26391,127.0.0.1:26392,127.0.0.1:26393/mw
FLEET_SOCKETMAP2=127.0.0.1:8463
command -v redis-sentinel >/dev/null 2>&1 || { echo "SKIP: redis-sentinel not installed"; exit 77; }

fleet_redis_conf() { # PORT [REPLICAOF-PORT]
    cat <<CONF
port $1
bind 127.0.0.1
save ""
appendonly no
dir $WORLD_DIR/fleet/$1
requirepass rootpw
masterauth rootpw
user mailward on >mwpass ~mailward:* +@all
CONF
    [ -n "${2:-}" ] && echo "replicaof 127.0.0.1 $2"
    return 0
}

fleet_sentinel_conf() { # PORT
    cat <<CONF
port $1
bind 127.0.0.1
dir $WORLD_DIR/fleet/$1
sentinel monitor mw 127.0.0.1 6391 2
sentinel auth-pass mw rootpw
sentinel down-after-milliseconds mw 1000
sentinel failover-timeout mw 4000
sentinel parallel-syncs mw 1
CONF
}

fleet_redis_up() {
    local p
    for p in 6391 6392 26391 26392 26393; do
        mkdir -p "$WORLD_DIR/fleet/$p"
    done
    fleet_redis_conf 6391 >"$WORLD_DIR/fleet/6391/redis.conf"
    fleet_redis_conf 6392 6391 >"$WORLD_DIR/fleet/6392/redis.conf"
    for p in 6391 6392; do
        ip netns exec "$WORLD_NS" redis-server "$WORLD_DIR/fleet/$p/redis.conf" \
            >"$WORLD_DIR/fleet/$p/log" 2>&1 &
        eval "FLEET_PID_$p=\$!"
    done
    for p in 26391 26392 26393; do
        fleet_sentinel_conf $p >"$WORLD_DIR/fleet/$p/sentinel.conf"
        ip netns exec "$WORLD_NS" redis-sentinel "$WORLD_DIR/fleet/$p/sentinel.conf" \
            >"$WORLD_DIR/fleet/$p/log" 2>&1 &
    done
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" \
        127.0.0.1:6391 127.0.0.1:6392 127.0.0.1:26391 127.0.0.1:26392 127.0.0.1:26393 ||
        world_fail "redis or sentinels did not start"
    world_wait_for 20 fleet_replica_synced || world_fail "the replica did not sync"
    # A failover needs a quorum of sentinels that know each other (hello messages on
    # the master, every 2 s) and know the replica (the master's INFO, every 10 s); a
    # master killed earlier is never replaced.
    world_wait_for 30 fleet_sentinels_ready ||
        world_fail "the sentinels did not find each other and the replica"
}

# fleet_sentinels_ready: every sentinel sees the replica and the two other sentinels.
fleet_sentinels_ready() {
    local p
    for p in 26391 26392 26393; do
        world_exec redis-cli -p $p SENTINEL master mw 2>/dev/null | awk '
            prev == "num-slaves" && $0 == "1" { r++ }
            prev == "num-other-sentinels" && $0 == "2" { s++ }
            { prev = $0 }
            END { exit !(r && s) }' || return 1
    done
}

fleet_cli() {
    local port
    port=$1
    shift
    world_exec redis-cli -p "$port" --user mailward --pass mwpass --no-auth-warning "$@"
}

fleet_replica_synced() {
    fleet_cli 6392 INFO replication | grep -q 'master_link_status:up'
}

# fleet_has_key PORT WORD: a mailward:* key containing WORD is on that server.
fleet_has_key() {
    fleet_cli "$1" --scan --pattern 'mailward:*' | grep -q "$2"
}

fleet_master_is() {
    [ "$(fleet_master_port)" = "$1" ]
}

fleet_master_port() {
    world_exec redis-cli -p 26391 SENTINEL get-master-addr-by-name mw 2>/dev/null | sed -n 2p
}

fleet_start_policyd2() {
    local conf
    conf=$WORLD_DIR/mailward/policyd2.conf
    sed -e "s/^socketmap_listen = .*/socketmap_listen = $FLEET_SOCKETMAP2/" \
        -e "s/^policy_listen = .*/policy_listen = 127.0.0.1:10041/" \
        -e "s/^metrics_listen = 127.0.0.1:9470/metrics_listen = 127.0.0.1:9472/" \
        -e "s|^pid_file = .*|pid_file = $WORLD_DIR/mailward/policyd2.pid|" \
        "$WORLD_DIR/mailward/policyd.conf" >"$conf"
    chmod 600 "$conf" # it holds redis_password
    ip netns exec "$WORLD_NS" "$top_builddir/policyd/mailward-policyd" -f -c "$conf" </dev/null \
        >"$WORLD_DIR/mailward/policyd2.log" 2>&1 &
    WORLD_DAEMONS="${WORLD_DAEMONS:-} policyd2:$!"
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" \
        "$FLEET_SOCKETMAP2" || world_fail "the second mailward-policyd did not start"
}
