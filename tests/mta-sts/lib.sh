# lib.sh - what the mta-sts plugin's world tests share (sourced after tests/world/lib.sh)
#
#   sts_start_policyd             mailward-policyd with the mta-sts plugin (or the plugins
#                                 in $STS_PLUGINS), trusting the world's CA; extra
#                                 [mta-sts] lines on stdin
#   sts_ask KEY [PORT]            one socketmap lookup on its own connection; prints the
#                                 raw reply ("OK secure match=...", "NOTFOUND ")
#   sts_expect KEY WANT           fail unless mailward-policyd answers KEY with WANT
#   sts_answers KEY WANT          the same as a condition (for world_wait_for)
#   sts_gets DOMAIN               how many requests policyhost.py got for mta-sts.DOMAIN
#   sts_txt DOMAIN [ID]           (re)publish _mta-sts.DOMAIN TXT "v=STSv1; id=ID;" (TTL 1);
#                                 without ID: a TXT record that is no STSv1 record
#   sts_policy DOMAIN [MODE MAX_AGE MX...]   the policy a "file" host serves; without
#                                 MODE: remove it (the host answers 404)
#   sts_start_resolver            postfix-mta-sts-resolver (mta-sts-daemon) on
#                                 127.0.0.1:$STS_RESOLVER_PORT, trusting the world's CA
#                                 (log level $STS_RESOLVER_LOG, default debug; cache
#                                 size $STS_RESOLVER_CACHE, default 1000)
#   sts_sorted ANSWER             ANSWER with the match= list sorted (the resolver lists
#                                 the patterns in no fixed order)
#   sts_redis ARGS...             redis-cli against the world's Redis
STS_RESOLVER_PORT=8462

sts_start_policyd() {
    {
        printf '[mta-sts]\nca_file = %s\n' "$WORLD_CA"
        cat
    } >"$WORLD_DIR/mailward/mta-sts.conf"
    # Not in a pipeline: world_start_policyd must run in this shell (it records the PID).
    world_start_policyd "${STS_PLUGINS:-mta-sts}" <"$WORLD_DIR/mailward/mta-sts.conf"
}

sts_ask() {
    world_exec /usr/bin/python3 "$top_srcdir/tests/policyd/client.py" socketmap \
        "${2:-${WORLD_SOCKETMAP##*:}}" "mailward $1"
}

sts_expect() {
    local got
    got=$(sts_ask "$1") || world_fail "socketmap lookup of $1 failed"
    [ "$got" = "$2" ] || world_fail "$1: mailward-policyd answered [$got], want [$2]"
    echo "ok: $1 -> $got"
}

# sts_answers KEY WANT: true when mailward-policyd answers KEY with WANT (for world_wait_for).
sts_answers() {
    [ "$(sts_ask "$1")" = "$2" ]
}

sts_gets() {
    grep -c "^mta-sts\.$1 \"GET " "$WORLD_LOG/policyhost.log"
}

sts_unbound() {
    world_exec unbound-control -c "$WORLD_DIR/dns/unbound.conf" "$@" >/dev/null ||
        world_fail "unbound-control $* failed"
}

sts_txt() {
    sts_unbound local_data_remove "_mta-sts.$1."
    if [ $# -lt 2 ]; then
        sts_unbound local_data "_mta-sts.$1. 1 IN TXT \"no policy here\""
    else
        sts_unbound local_data "_mta-sts.$1. 1 IN TXT \"v=STSv1; id=$2;\""
    fi
}

sts_policy() {
    local domain mode max_age mx
    domain=$1
    mkdir -p "$WORLD_DIR/sts-policy"
    if [ $# -lt 2 ]; then
        rm -f "$WORLD_DIR/sts-policy/$domain"
        return
    fi
    mode=$2 max_age=$3
    shift 3
    {
        printf 'version: STSv1\r\nmode: %s\r\n' "$mode"
        for mx in "$@"; do printf 'mx: %s\r\n' "$mx"; done
        printf 'max_age: %s\r\n' "$max_age"
    } >"$WORLD_DIR/sts-policy/$domain.new" && mv "$WORLD_DIR/sts-policy/$domain.new" "$WORLD_DIR/sts-policy/$domain"
}

sts_start_resolver() {
    cat >"$WORLD_DIR/mailward/mta-sts-daemon.yml" <<YML
host: 127.0.0.1
port: $STS_RESOLVER_PORT
reuse_port: true
shutdown_timeout: 2
cache:
  type: internal
  options:
    cache_size: ${STS_RESOLVER_CACHE:-1000}
default_zone:
  strict_testing: false
  timeout: 4
YML
    SSL_CERT_FILE=$WORLD_CA ip netns exec "$WORLD_NS" mta-sts-daemon -v "${STS_RESOLVER_LOG:-debug}" \
        -c "$WORLD_DIR/mailward/mta-sts-daemon.yml" </dev/null >"$WORLD_LOG/mta-sts-daemon.log" 2>&1 &
    STS_RESOLVER_PID=$!
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" \
        "127.0.0.1:$STS_RESOLVER_PORT" || world_fail "mta-sts-daemon did not start"
}

sts_stop_resolver() {
    [ -n "${STS_RESOLVER_PID:-}" ] || return 0
    kill -TERM "$STS_RESOLVER_PID" 2>/dev/null
    wait "$STS_RESOLVER_PID" 2>/dev/null
    STS_RESOLVER_PID=
}

sts_sorted() {
    echo "$1" | awk '{
        for (i = 1; i <= NF; i++)
            if ($i ~ /^match=/) {
                n = split(substr($i, 7), p, ":")
                for (a = 1; a <= n; a++)
                    for (b = a + 1; b <= n; b++)
                        if (p[b] < p[a]) { t = p[a]; p[a] = p[b]; p[b] = t }
                s = "match=" p[1]
                for (a = 2; a <= n; a++) s = s ":" p[a]
                $i = s
            }
        print
    }'
}

sts_redis() {
    world_exec redis-cli -h "${WORLD_REDIS%:*}" -p "${WORLD_REDIS##*:}" "$@"
}

# now_ms: milliseconds since the epoch.
now_ms() {
    echo $(($(date +%s%N) / 1000000))
}
