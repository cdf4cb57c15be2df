#!/bin/sh
# world.sh - bring the mailward test world up or down
#
# Usage: world.sh up DIR       build a world in the (new or empty) directory DIR and start it
#        world.sh down DIR     stop every process of that world, remove its namespace
#        world.sh exec DIR CMD run CMD inside the world's network namespace
#        world.sh gc           take down worlds whose owner process is gone
#
# A world is a network namespace of its own (only its loopback, so it touches nothing on
# the host and several worlds run side by side on the same fixed addresses) with: unbound
# as authoritative server and validating resolver for the zones of zones.list, a test CA,
# the MTA-STS policy hosts of policy-hosts.list (policyhost.py), redis-server, a sending
# Postfix and the receiving Postfix instances of mx.list, and GnuPG homes for the users of
# users.list. Everything is made fresh at start-up. DIR/env lists the addresses for tests
# (see README.md); DIR/log/ holds every log. WORLD_OWNER=PID ties the world to a process:
# when that process is gone, "world.sh gc" (run by every "up") takes the world down.
# Needs root and ip-netns(8). Exit 77 when either is missing (automake's "skip").
set -u
here=$(cd "$(dirname "$0")" && pwd)
registry=/run/mailward-worlds

# die MESSAGE: a world half brought up is taken down again before exiting.
die() {
    echo "world: $*" >&2
    [ -n "${W:-}" ] && [ -f "$W/env" ] && down "$W"
    exit 1
}

# stamp WHAT: a line in $W/log/world.log with the seconds since start-up began.
stamp() {
    echo "$(($(date +%s%N) / 1000000 - t0)) ms: $*" >>"$W/log/world.log"
}

# world_exec CMD...: CMD inside the namespace, which sees $W/netns-resolv.conf as /etc/resolv.conf.
world_exec() {
    ip netns exec "$WORLD_NS" "$@"
}

# world_bg NAME CMD...: a server inside the namespace, in the background, logging to
# $W/log/NAME.log. "down" finds it with "ip netns pids", not by the PID of this shell.
world_bg() {
    local name
    name=$1
    shift
    world_exec "$@" </dev/null >"$W/log/$name.log" 2>&1 &
}

. "$here/pki.sh"
. "$here/dns.sh"
. "$here/postfix.sh"

# users_make: a GnuPG home per user of users.list, made inside the namespace so that the
# agents gpg starts are found and stopped with the rest of the world.
users_make() {
    local addr name home fpr pids
    mkdir -p "$W/gnupg" || return 1
    pids=""
    while read -r addr name; do
        home=$W/gnupg/$addr
        mkdir -m 700 -p "$home" || return 1
        (
            exec 2>>"$W/log/gpg.log"
            g() { world_exec gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' "$@"; }
            g --quick-gen-key "$name <$addr>" ed25519 cert,sign never &&
                fpr=$(g --with-colons --list-keys "<$addr>" | awk -F: '$1 == "fpr" { print $10; exit }') &&
                g --quick-add-key "$fpr" cv25519 encr never &&
                g --armor --export "$fpr" >"$home.asc" && echo "$fpr" >"$home.fpr"
        ) &
        pids="$pids $!"
    done <<LIST
$(grep -v '^#' "$here/users.list" | grep .)
LIST
    for p in $pids; do wait "$p" || return 1; done
    cat "$W"/gnupg/*.asc >"$W/gnupg/all.asc"
}

# env_write: DIR/env, the addresses and files a test needs (sourced by lib.sh).
env_write() {
    cat >"$W/env" <<ENV
WORLD_NS='$WORLD_NS'
WORLD_DIR='$W'
WORLD_OWNER='$WORLD_OWNER'
WORLD_RESOLVER=127.0.0.1
WORLD_ANCHORS='$W/dns/anchors.ds'
WORLD_CA='$W/pki/ca.pem'
WORLD_REDIS=127.0.0.1:6379
WORLD_POLICYHOST=127.0.0.20
WORLD_SENDER=127.0.0.2
WORLD_SOCKETMAP='$WORLD_SOCKETMAP'
WORLD_POLICY_SERVICE=127.0.0.1:10040
WORLD_MILTER_SOCKET='$WORLD_MILTER_SOCKET'
WORLD_MILTER_LISTEN='inet:${WORLD_MILTER_SOCKET##*:}@127.0.0.1'
WORLD_DKIM_RSA='$W/keys/dkim-rsa.pem'
WORLD_DKIM_ED25519='$W/keys/dkim-ed25519.pem'
WORLD_MAIL='$W/mail'
WORLD_GNUPG='$W/gnupg'
WORLD_LOG='$W/log'
ENV
    grep -v '^#' "$here/mx.list" | awk 'NF { printf "WORLD_MX_%s=%s\n", toupper($1), $2 }' >>"$W/env"
}

# wait_ready: polls until every server answers, at most 30 s.
wait_ready() {
    local ports
    ports="127.0.0.1:53 127.0.0.1:6379 127.0.0.20:443 127.0.0.2:25"
    ports="$ports $(grep -v '^#' "$here/mx.list" | awk 'NF { printf "%s:25 ", $2 }')"
    world_exec /usr/bin/python3 "$here/wait-ports.py" 30 $ports || return 1
    # TCP port 53 opens before unbound has loaded its zones: ask a real question.
    local i
    i=0
    while [ $i -lt 100 ]; do
        world_exec dig +short +time=1 +tries=1 @127.0.0.1 world.test SOA 2>/dev/null | grep -q . && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "world: the resolver does not answer" >&2
    return 1
}

up() {
    local d
    [ "$(id -u)" = 0 ] || { echo "world: needs root" >&2; exit 77; }
    ip netns list >/dev/null 2>&1 || { echo "world: ip netns is unavailable" >&2; exit 77; }
    gc
    mkdir -p "$1" || die "cannot make $1"
    W=$(cd "$1" && pwd)
    [ -e "$W/env" ] && die "$W already holds a world"
    # Postfix's master must traverse every parent of its data directory as user postfix.
    d=$W
    while [ "$d" != / ]; do
        [ "$(stat -c %a "$d")" = 700 ] && chmod 755 "$d"
        d=$(dirname "$d")
    done
    chmod 755 "$W"
    mkdir -p "$W/log"
    t0=$(($(date +%s%N) / 1000000))
    WORLD_OWNER=${WORLD_OWNER:-$PPID}
    WORLD_NS=mw-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
    WORLD_SOCKETMAP=127.0.0.1:8461
    WORLD_MILTER_SOCKET=inet:127.0.0.1:8891
    # The env file comes first: "down" finds the namespace through it, whenever it runs.
    env_write
    mkdir -p "$registry" && echo "$W" >"$registry/$WORLD_NS"
    trap 'down "$W"; exit 130' INT
    trap 'down "$W"; exit 143' TERM
    trap 'down "$W"; exit 129' HUP
    ip netns add "$WORLD_NS" || die "cannot add namespace $WORLD_NS"
    world_exec ip link set lo up || die "cannot set up the loopback"
    # 127.0.0.0/8 is routed to lo, but Postfix listens only on addresses an interface has.
    for a in 127.0.0.2 127.0.0.20 127.0.0.53 $(grep -v '^#' "$here/mx.list" | awk 'NF { print $2 }'); do
        world_exec ip addr add "$a/32" dev lo || die "cannot add $a"
    done
    mkdir -p "/etc/netns/$WORLD_NS"
    printf 'nameserver 127.0.0.1\noptions trust-ad edns0\n' >"/etc/netns/$WORLD_NS/resolv.conf"

    stamp "namespace $WORLD_NS"
    users_make &
    users=$!
    pki_make || die "cannot make the keys and certificates"
    stamp "keys and certificates"
    # Postfix needs only the certificates: it starts while the zones are made.
    { postfix_make && postfix_start; } &
    postfix=$!
    dns_make || die "cannot make the zones"
    stamp "zones"
    dns_start
    world_bg policyhost /usr/bin/python3 "$here/policyhost.py" 127.0.0.20 443 "$here/policy-hosts.list" "$W/pki"
    mkdir -p "$W/redis"
    world_bg redis redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "$W/redis"
    wait $postfix || die "cannot start Postfix (see $W/log/postfix-*.start)"
    stamp "Postfix started"
    wait $users || die "cannot make the GnuPG users (see $W/log/gpg.log)"
    stamp "GnuPG users"
    wait_ready || die "the world did not come up (see $W/log)"
    stamp "ready"
}

# down DIR: every process in the namespace gets TERM, then KILL; the namespace goes.
down() {
    local W ns i pids home
    W=$(cd "$1" 2>/dev/null && pwd) || return 0
    [ -f "$W/env" ] || return 0
    ns=$(sed -n "s/^WORLD_NS='\(.*\)'$/\1/p" "$W/env")
    [ -n "$ns" ] || return 0
    if ip netns pids "$ns" >/dev/null 2>&1; then
        for home in "$W"/gnupg/*/; do
            [ -d "$home" ] && gpgconf --homedir "$home" --kill all 2>/dev/null
        done
        pids=$(ip netns pids "$ns")
        [ -n "$pids" ] && kill $pids 2>/dev/null
        i=0
        while [ -n "$(ip netns pids "$ns")" ] && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        pids=$(ip netns pids "$ns")
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null && sleep 0.2
        ip netns del "$ns" || echo "world: cannot remove namespace $ns" >&2
    fi
    rm -rf "/etc/netns/$ns" "$registry/$ns"
}

# gc: takes down the worlds whose owner process has gone (a test killed with SIGKILL).
gc() {
    local f dir owner
    for f in "$registry"/mw-*; do
        [ -f "$f" ] || continue
        dir=$(cat "$f")
        owner=$(sed -n "s/^WORLD_OWNER='\(.*\)'$/\1/p" "$dir/env" 2>/dev/null)
        if [ -z "$owner" ] || ! kill -0 "$owner" 2>/dev/null; then
            down "$dir"
            rm -f "$f"
        fi
    done
}

cmd=${1:-}
case $cmd in
up)
    [ $# = 2 ] || die "usage: world.sh up DIR"
    up "$2"
    ;;
down)
    [ $# = 2 ] || die "usage: world.sh down DIR"
    down "$2"
    ;;
exec)
    [ $# -ge 3 ] || die "usage: world.sh exec DIR CMD..."
    . "$2/env" || exit 1
    shift 2
    exec ip netns exec "$WORLD_NS" "$@"
    ;;
gc) gc ;;
*) die "usage: world.sh up|down DIR, world.sh exec DIR CMD..., world.sh gc" ;;
esac
