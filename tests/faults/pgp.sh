#!/bin/sh
# pgp.sh - the pgp plugin under faults: gpg-agent killed (SIGKILL) again and again while
# messages are encrypted and signed, then gnupg_home and TMPDIR on a full 2 MiB tmpfs.
# Every message ends encrypted in bob's mailbox or refused with a 4xx (the client keeps
# it and retries); none is ever delivered in clear; the milter keeps running.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
world_up
T=$WORLD_DIR/pgp
SMALL=$T/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=2m,mode=0700 mw-fault "$SMALL" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
trap 'umount -l "$SMALL" 2>/dev/null; world_down' EXIT
G() { home=$1; shift; gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' "$@"; }
ALICE=$WORLD_GNUPG/alice@valid.test
KS=$SMALL/gnupg
mkdir -m 700 "$KS" "$SMALL/tmp"
G "$KS" --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import public keys"
G "$ALICE" --export-secret-keys alice@valid.test >"$T/alice.sec" || world_fail "export alice"
G "$KS" --import "$T/alice.sec" 2>/dev/null || world_fail "import alice's secret key"
TMPDIR=$SMALL/tmp WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
CONF
world_postconf sender "smtp_tls_policy_maps ="
pid=$(fault_policyd_alive milter)
sent=0 refused=0

# send TOKEN: one message to bob; counts it as sent (250) or refused (4xx).
send() {
    out=$(world_exec swaks --server "$WORLD_SENDER" --from alice@valid.test --to bob@valid.test \
        --h-Subject "$1" --body "body $1 $(head -c 3000 /dev/zero | tr '\0' x)" 2>&1)
    if [ $? = 0 ]; then
        sent=$((sent + 1))
    elif echo "$out" | grep -q '^<\*\* *4[0-9][0-9]'; then
        refused=$((refused + 1))
    else
        echo "$out" >&2
        world_fail "$1: neither accepted nor refused with 4xx"
    fi
}
kill_agents() {
    local p
    # The agent of $KS only (gpg may have started it outside the world's namespace).
    for p in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = gpg-agent ] || continue
        tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "$KS" && kill -KILL "$p" && echo "gpg-agent $p killed"
    done
    return 0
}

# 1. gpg-agent killed before and while each message is signed.
for i in 1 2 3; do
    kill_agents
    ( sleep 0.$((i * 3)); kill_agents ) &
    killer=$!
    send "agent-$i-$$"
    wait $killer
done
echo "agent killed: $sent accepted, $refused refused with 4xx"

# 2. The disk of gnupg_home and TMPDIR is full.
dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null
for i in 1 2; do
    send "full-$i-$$"
done
echo "after the disk filled: $sent accepted, $refused refused with 4xx"
rm -f "$SMALL/fill"

# Every accepted message is delivered, encrypted; nothing arrives in clear.
[ $sent -gt 0 ] && { world_wait_delivered valid bob@valid.test "$sent" >/dev/null; }
sleep 2
n=$(find "$WORLD_MAIL/valid/bob@valid.test/new" -type f 2>/dev/null | wc -l)
[ "$n" = "$sent" ] || world_fail "$n messages delivered, $sent accepted"
for f in $(find "$WORLD_MAIL/valid/bob@valid.test/new" -type f 2>/dev/null); do
    grep -q "body .*-$$" "$f" && world_fail "$f was delivered in clear"
    grep -q 'BEGIN PGP MESSAGE' "$f" || world_fail "$f is not encrypted"
done
[ "$(world_queue_json | wc -l)" = 0 ] || world_fail "messages left in the queue"
[ "$(fault_policyd_alive milter)" = "$pid" ] || world_fail "mailward-milter was restarted"
echo "ok: $sent delivered encrypted, $refused refused with 4xx, none in clear"
world_stop_daemons
echo "PASS: pgp faults"
