# lib.sh - sourced by the mailward-policyd integration tests: a temporary
# directory, free loopback ports, a configuration and rules table, starting
# the real daemon in the foreground and cleaning up after it (by its PID).
set -eu
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY missing"; exit 77; }
PD=$top_builddir/policyd/mailward-policyd
CLIENT="$PY $top_srcdir/tests/policyd/client.py"
T=$(mktemp -d /tmp/mw-policyd-test.XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- daemon log" >&2
    cat "$T/log" >&2 2>/dev/null || true
    exit 1
}

free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SM_PORT=$(free_port)
PL_PORT=$(free_port)
MX_PORT=$(free_port)

cat >"$T/rules" <<RULES
# outbound TLS rules for the tests
example.net encrypt
.example.net secure match=nexthop:dot-nexthop
exact.example.com dane-only
RULES

# write_config [EXTRA_TLS_RULES_LINES]
write_config() {
    cat >"$T/mw.conf" <<CONF
[general]
user =
plugin_dir = $top_builddir/plugins/.libs
[policyd]
socketmap_listen = 127.0.0.1:$SM_PORT
policy_listen = 127.0.0.1:$PL_PORT
plugins = tls-rules
pid_file = $T/policyd.pid
metrics_listen = 127.0.0.1:$MX_PORT
request_timeout = 5
idle_timeout = 60
[tls-rules]
table = $T/rules
require_tls_from = .example.org secure.example
CONF
}
write_config

start_daemon() {
    "$PD" -c "$T/mw.conf" -f -d >"$T/log" 2>&1 &
    PID=$!
    i=0
    while [ ! -s "$T/policyd.pid" ]; do
        kill -0 "$PID" 2>/dev/null || fail "daemon exited at start-up"
        i=$((i + 1))
        [ $i -lt 100 ] || fail "daemon did not write its pid file"
        sleep 0.1
    done
    [ "$(cat "$T/policyd.pid")" = "$PID" ] || fail "pid file holds $(cat "$T/policyd.pid"), not $PID"
}

# A private Postfix configuration directory, so postmap needs no /etc/postfix.
postfix_dir() {
    mkdir -p "$T/postfix"
    echo "compatibility_level = 3.6" >"$T/postfix/main.cf"
}

# metric NAME{LABELS}: its value from the daemon's Prometheus endpoint ("" if absent).
metric() {
    curl -sf "http://127.0.0.1:$MX_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# expect WHAT GOT WANT
expect() {
    [ "$2" = "$3" ] || fail "$1: got [$2], want [$3]"
}
