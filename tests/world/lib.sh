# lib.sh - what a test sources to run in the mailward test world (see README.md)
#
#   . "$top_srcdir/tests/world/lib.sh"
#   world_up                       build and start a world (exit 77 without root or ip netns);
#                                  a trap takes it down on exit, failure or interruption
#   world_exec CMD...              CMD inside the world's namespace
#   world_start_policyd [PLUGINS]  mailward-policyd with $WORLD_DIR/mailward/policyd.conf
#                                  (base config; sections on stdin are appended)
#   world_start_milter [PLUGINS]   mailward-milter, the same way (milter.conf)
#   world_send FROM TO [SWAKS-ARGS...]  submit a message to the sending Postfix with swaks
#   world_wait_delivered MX RCPT [N]    wait until MX's maildir for RCPT holds N messages
#                                  (default 1); prints the newest message's file
#   world_queue_json               postqueue -j of the sending Postfix
#   world_wait_queued RCPT         wait until a message to RCPT sits in the queue with a
#                                  delay_reason (a delivery was tried); prints its JSON line
#   world_postconf NAME KEY=VALUE...   change a Postfix instance's main.cf and reload it
#   world_socketmap KEY            postmap -q KEY over mailward-policyd's socketmap
#   world_stop_daemons             SIGTERM the daemons; fail unless each exits 0 with a clean log
#   world_fail MESSAGE             print MESSAGE and the world's logs, exit 1
# After world_up every variable of $WORLD_DIR/env is set (WORLD_NS, WORLD_DIR, WORLD_CA, ...).
# The waits give up after WORLD_WAIT seconds (default 30): a bound, never an assertion.
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
WORLD_SH=$top_srcdir/tests/world/world.sh
WORLD_WAIT=${WORLD_WAIT:-30}
WORLD_DIR=

world_down() {
    [ -n "$WORLD_DIR" ] || return 0
    "$WORLD_SH" down "$WORLD_DIR"
    if [ "${WORLD_KEEP:-0}" = 1 ]; then
        echo "world: kept $WORLD_DIR"
    else
        rm -rf "$WORLD_DIR"
    fi
    WORLD_DIR=
}

world_up() {
    local rc
    # dev/check sets this for distcheck: the suites already ran the world twice.
    [ "${MW_SKIP_WORLD:-0}" = 1 ] && { echo "SKIP: MW_SKIP_WORLD=1"; exit 77; }
    [ "$(id -u)" = 0 ] || { echo "SKIP: the test world needs root"; exit 77; }
    ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns is unavailable"; exit 77; }
    trap 'world_down' EXIT
    trap 'world_down; exit 130' INT
    trap 'world_down; exit 143' TERM
    trap 'world_down; exit 129' HUP
    WORLD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mw-world.XXXXXX")
    WORLD_OWNER=$$ "$WORLD_SH" up "$WORLD_DIR"
    rc=$?
    [ $rc = 0 ] || { [ $rc = 77 ] && exit 77; WORLD_DIR_FAILED=$WORLD_DIR; world_fail "the world did not come up"; }
    . "$WORLD_DIR/env"
    mkdir -p "$WORLD_DIR/mailward"
}

world_exec() {
    ip netns exec "$WORLD_NS" "$@"
}

world_fail() {
    local f
    echo "FAIL: $*" >&2
    for f in "${WORLD_DIR:-${WORLD_DIR_FAILED:-/nonexistent}}"/log/*.log \
        "${WORLD_DIR:-/nonexistent}"/postfix/*/maillog "${WORLD_DIR:-/nonexistent}"/mailward/*.log; do
        [ -s "$f" ] || continue
        echo "--- $f (last 40 lines)" >&2
        tail -n 40 "$f" >&2
    done
    exit 1
}

# world_daemon_conf NAME PLUGINS: the base configuration of mailward-NAME in this world.
world_daemon_conf() {
    local name plugins plugin_dir
    name=$1 plugins=$2
    plugin_dir=$top_builddir/plugins/.libs
    [ "$name" = milter ] && plugin_dir=$top_builddir/tests/plugins/.libs
    cat <<CONF
; written by tests/world/lib.sh
[general]
user =
plugin_dir = ${WORLD_PLUGIN_DIR:-$plugin_dir}
stats_interval = ${WORLD_STATS_INTERVAL:-0}
metrics_listen = 127.0.0.1:$([ "$name" = milter ] && echo 9469 || echo 9471)
[dns]
forwarders = $WORLD_RESOLVER
trust_anchor_file = $WORLD_ANCHORS
timeout_ms = 3000
[cache]
backend = redis
redis = $WORLD_REDIS
CONF
    if [ "$name" = milter ]; then
        printf '[milter]\nsocket = %s\nauthserv_id = mx.world.test\nplugins = %s\npid_file = %s\n' \
            "$WORLD_MILTER_LISTEN" "$plugins" "$WORLD_DIR/mailward/milter.pid"
    else
        printf '[policyd]\nsocketmap_listen = %s\npolicy_listen = %s\nplugins = %s\npid_file = %s\nmetrics_listen = 127.0.0.1:9470\n' \
            "$WORLD_SOCKETMAP" "$WORLD_POLICY_SERVICE" "$plugins" "$WORLD_DIR/mailward/policyd.pid"
    fi
}

# world_start_daemon NAME PLUGINS PORT: config from the base and stdin, start, wait for PORT.
world_start_daemon() {
    local name bin conf i
    name=$1
    bin=$top_builddir/$name/mailward-$name
    [ -x "$bin" ] || world_fail "$bin is not built"
    conf=$WORLD_DIR/mailward/$name.conf
    { world_daemon_conf "$name" "$2" && cat; } >"$conf"
    chmod 600 "$conf" # it may hold redis_password: the daemons refuse it readable by others
    # ip netns exec execs the daemon: $! is its PID (a shell function here would not be).
    ip netns exec "$WORLD_NS" "$bin" -f -c "$conf" </dev/null >"$WORLD_DIR/mailward/$name.log" 2>&1 &
    WORLD_DAEMONS="${WORLD_DAEMONS:-} $name:$!"
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" "127.0.0.1:$3" ||
        world_fail "mailward-$name did not start"
}

# world_stop_daemons: SIGTERM to every daemon a test started; each must exit 0 with no
# sanitizer report in its log. Call it at the end of a scenario.
world_stop_daemons() {
    local d name pid rc
    for d in ${WORLD_DAEMONS:-}; do
        name=${d%%:*} pid=${d##*:}
        kill -TERM "$pid" 2>/dev/null
        wait "$pid"
        rc=$?
        [ $rc = 0 ] || world_fail "mailward-$name exited with status $rc on SIGTERM"
        ! grep -Eq 'Sanitizer|runtime error' "$WORLD_DIR/mailward/$name.log" ||
            world_fail "mailward-$name: sanitizer report"
    done
    WORLD_DAEMONS=
}

world_start_policyd() {
    world_start_daemon policyd "${1:-tls-rules}" "${WORLD_SOCKETMAP##*:}"
}

world_start_milter() {
    world_start_daemon milter "${1:-}" "${WORLD_MILTER_SOCKET##*:}"
}

world_send() {
    local from to
    from=$1 to=$2
    shift 2
    world_exec swaks --server "$WORLD_SENDER" --from "$from" --to "$to" "$@" \
        >>"$WORLD_DIR/log/swaks.log" 2>&1 || world_fail "swaks could not submit $from -> $to"
}

# world_wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 when time is up.
world_wait_for() {
    local n i
    n=$(($1 * 5))
    shift
    i=0
    while ! "$@"; do
        i=$((i + 1))
        [ $i -lt $n ] || return 1
        sleep 0.2
    done
}

world_count_mail() {
    [ "$(find "$WORLD_MAIL/$1/$2/new" -type f 2>/dev/null | wc -l)" -ge "$3" ]
}

world_wait_delivered() {
    world_wait_for "$WORLD_WAIT" world_count_mail "$1" "$2" "${3:-1}" ||
        world_fail "no delivery to $2 at MX $1"
    ls -t "$WORLD_MAIL/$1/$2/new"/* | head -n 1
}

world_queue_json() {
    world_exec postqueue -c "$WORLD_DIR/postfix/sender" -j
}

# world_queued_line RCPT: $WORLD_DIR/queued.json gets the postqueue -j line of the message
# whose recipient RCPT has a delay_reason.
world_queued_line() {
    world_queue_json | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if any(r.get("address") == sys.argv[1] and r.get("delay_reason") for r in msg.get("recipients", [])):
        print(line.strip())
        sys.exit(0)
sys.exit(1)' "$1" >"$WORLD_DIR/queued.json"
}

world_wait_queued() {
    world_wait_for "$WORLD_WAIT" world_queued_line "$1" || world_fail "no deferred message to $1 in the queue"
    cat "$WORLD_DIR/queued.json"
}

world_postconf() {
    local name
    name=$1
    shift
    postconf -c "$WORLD_DIR/postfix/$name" -e "$@" && world_exec postfix -c "$WORLD_DIR/postfix/$name" reload 2>/dev/null ||
        world_fail "cannot change Postfix instance $name"
}

world_socketmap() {
    world_exec postmap -c "$WORLD_DIR/postfix/sender" -q "$1" "socketmap:inet:$WORLD_SOCKETMAP:mailward"
}
