#!/bin/sh
# valgrind.sh - both daemons under valgrind memcheck in the test world, with a short load:
# mailward-policyd (tls-rules, mta-sts, dane) answers socketmap lookups of every kind of
# domain and delegation requests, mailward-milter (spf, dkim, dmarc) serves well-formed
# and broken milter clients (tests/faults/milterwire.py); then SIGTERM. Each must exit 0:
# no memcheck error and no definite leak (--error-exitcode makes either a failure).
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind is not installed"; exit 77; }
# A sanitizer build cannot run under valgrind.
grep -q -- '-fsanitize' "$top_builddir/Makefile" && { echo "SKIP: sanitizer build"; exit 77; }
world_up
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --error-exitcode=99 --num-callers=30 --trace-children=no"

# vg_start NAME PLUGINS PORT: world_start_daemon, under valgrind (config sections on stdin).
vg_start() {
    local conf
    conf=$WORLD_DIR/mailward/$1.conf
    { world_daemon_conf "$1" "$2" && cat; } >"$conf"
    # shellcheck disable=SC2086
    ip netns exec "$WORLD_NS" "$top_builddir/libtool" --mode=execute $VG \
        "$top_builddir/$1/mailward-$1" -f -c "$conf" </dev/null >"$WORLD_DIR/mailward/$1.log" 2>&1 &
    WORLD_DAEMONS="${WORLD_DAEMONS:-} $1:$!"
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" 90 "127.0.0.1:$3" ||
        world_fail "mailward-$1 did not start under valgrind"
}

printf 'notls.test encrypt\n' >"$WORLD_DIR/mailward/tls-rules"
vg_start policyd "tls-rules mta-sts dane" "${WORLD_SOCKETMAP##*:}" <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
require_tls_from = .valid.test
[mta-sts]
ca_file = $WORLD_CA
timeout = 5
CONF
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs vg_start milter "spf dkim dmarc" "${WORLD_MILTER_SOCKET##*:}" <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF

any='.*'
export SMLOAD_TIMEOUT=90 # the first TLS fetch under valgrind is slow
# What is answered is the other tests' business (under valgrind fetches may time out):
# here every kind of lookup runs, and each gets a reply.
fault_load 10 2 "notls.test=OK encrypt" "enforce.sts.test=$any" "valid.test=$any" "bogus.test=$any" \
    "garbage.sts.test=$any" "refused.test=$any" "plain.test=$any" "dane-bad.test=$any" ||
    { cat "$WORLD_DIR/load.out"; world_fail "socketmap load under valgrind"; }
cat "$WORLD_DIR/load.out"
world_exec /usr/bin/python3 "$top_srcdir/tests/policyd/client.py" raw "${WORLD_SOCKETMAP##*:}" \
    '5:hello,99999999999:x,3:abc;' 2 >/dev/null 2>&1 || true
for sender in alice@valid.test mallory@plain.test; do
    world_exec /usr/bin/python3 "$top_srcdir/tests/policyd/client.py" policy "${WORLD_POLICY_SERVICE##*:}" \
        request=smtpd_access_policy protocol_state=RCPT client_address=192.0.2.9 \
        sender="$sender" recipient=bob@valid.test encryption_protocol= >/dev/null ||
        world_fail "policy delegation under valgrind"
done
# milterwire.py sends no malformed macro packets: libmilter's smfi_getsymval reads past
# its macro array when a packet has a name without a value (valgrind: invalid read in
# smfi_getsymval from mw_macros_take), a libmilter bug mailward cannot reach; the milter
# socket must be reachable by the MTA only (mailward.conf(5)).
world_exec /usr/bin/python3 "$FAULT_DIR/milterwire.py" "${WORLD_MILTER_SOCKET##*:}" >"$WORLD_DIR/milterwire.out" 2>&1 ||
    { cat "$WORLD_DIR/milterwire.out"; world_fail "milter clients under valgrind"; }
echo "ok: load done; $(grep -c '^ok' "$WORLD_DIR/milterwire.out") milter cases"
world_stop_daemons
echo "PASS: valgrind memcheck, no errors, no definite leaks"
