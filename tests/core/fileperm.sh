#!/bin/sh
# fileperm.sh - both daemons refuse key, table and key-ring files that others could read
# or change (lib/fileperm.c), at start and at SIGHUP reload, and say which file and the fix:
#  - DKIM private key 0644 / 0640 group root / owned by nobody: refused; 0600 root, 0600
#    mailward and 0640 root:mailward (with user = mailward): accepted;
#  - KeyTable / SigningTable / [tls-rules] table / [pgp] policy_table / [mta-sts-publish]
#    policy_file / [mta-sts] ca_file 0666: refused; 0644 and 0664 group root: accepted;
#  - [pgp] gnupg_home 0777 or owned by another user: refused; 0700: accepted;
#  - [pgp] passphrase_file and the [mta-sts-publish] key_file 0644: refused;
#  - the configuration file 0644 holding [cache] redis_password: refused; 0600 accepted;
#  - a running milter and policyd given SIGHUP after a key / table went unsafe keep the
#    running configuration, log the file and the fix, and go on serving.
# Runs outside the test world: the daemons are started on loopback ports only.
set -u
B=$top_builddir
T=$(mktemp -d /tmp/mw-fileperm.XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/*.out "$T"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
    exit 1
}
id mailward >/dev/null 2>&1 || { echo "SKIP: no mailward user"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chown)"; exit 77; }
n=0

# refused DAEMON CONF FILE WHY FIX: DAEMON -n exits 78 and names FILE, WHY and FIX.
refused() {
    "$B/$1/mailward-$1" -n -c "$2" >"$T/n.out" 2>&1
    rc=$?
    [ "$rc" = 78 ] || fail "$1 -n with $3 $(stat -c '%a %U:%G' "$3"): exit $rc, not 78"
    grep -q "$3: unsafe .*$4.*(run \"$5 $3\")" "$T/n.out" || fail "$1 -n: no message about $3 ($4, $5)"
    n=$((n + 1))
}
# accepted DAEMON CONF: DAEMON -n says the configuration is OK.
accepted() {
    "$B/$1/mailward-$1" -n -c "$2" >"$T/n.out" 2>&1 || fail "$1 -n -c $2: exit $? ($(stat -c '%a %U:%G' "$3"))"
    grep -q 'configuration OK' "$T/n.out" || fail "$1 -n: no \"configuration OK\""
    n=$((n + 1))
}

base() { # base PLUGINS-OF-MILTER PLUGINS-OF-POLICYD USER
    cat <<EOF
[general]
user = $3
plugin_dir = $B/plugins/.libs
metrics_listen =
[dns]
forwarders = 127.0.0.1@9
trust_anchor_file =
timeout_ms = 200
[milter]
socket = inet:18931@127.0.0.1
plugins = $1
pid_file =
[policyd]
socketmap_listen = 127.0.0.1:18932
policy_listen =
metrics_listen =
plugins = $2
pid_file =
EOF
}

# DKIM: key and tables.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/dkim.key" 2>/dev/null ||
    fail "openssl genpkey"
printf 'sel._domainkey.ex.test ex.test:sel:%s\n' "$T/dkim.key" >"$T/keytable"
printf '*@ex.test sel._domainkey.ex.test\n' >"$T/signtable"
dkim() { printf '[dkim]\nsign = yes\nkey_table = %s\nsigning_table = %s\n' "$T/keytable" "$T/signtable"; }
{ base dkim "" "" && dkim; } >"$T/dkim.conf"
{ base dkim "" mailward && dkim; } >"$T/dkim-mw.conf"
chmod 644 "$T/dkim.key"
refused milter "$T/dkim.conf" "$T/dkim.key" "others may access it" "chmod 600"
chmod 640 "$T/dkim.key"
refused milter "$T/dkim.conf" "$T/dkim.key" "its group, not the run user's own group, may read it" "chmod 600"
chmod 600 "$T/dkim.key"
chown nobody "$T/dkim.key"
refused milter "$T/dkim.conf" "$T/dkim.key" "owned by a user other than root or the run user" "chown root"
refused milter "$T/dkim-mw.conf" "$T/dkim.key" "owned by a user other than root or the run user" "chown mailward"
chown mailward "$T/dkim.key"
accepted milter "$T/dkim-mw.conf" "$T/dkim.key"
chown root:mailward "$T/dkim.key"
chmod 640 "$T/dkim.key"
accepted milter "$T/dkim-mw.conf" "$T/dkim.key"
chown root:root "$T/dkim.key"
chmod 600 "$T/dkim.key"
accepted milter "$T/dkim.conf" "$T/dkim.key"
for t in keytable signtable; do
    chmod 666 "$T/$t"
    refused milter "$T/dkim.conf" "$T/$t" "anyone may write it" "chmod go-w"
    chown root:nogroup "$T/$t"
    chmod 664 "$T/$t"
    refused milter "$T/dkim.conf" "$T/$t" "a group other than root's or the run user's may write it" "chmod g-w"
    chown root:root "$T/$t"
    accepted milter "$T/dkim.conf" "$T/$t"
    chmod 644 "$T/$t"
done
echo "ok: dkim key and tables"

# [tls-rules] table in mailward-policyd.
printf 'example.test secure\n' >"$T/tls-rules"
{ base "" tls-rules "" && printf '[tls-rules]\ntable = %s\n' "$T/tls-rules"; } >"$T/rules.conf"
chmod 666 "$T/tls-rules"
refused policyd "$T/rules.conf" "$T/tls-rules" "anyone may write it" "chmod go-w"
chmod 644 "$T/tls-rules"
accepted policyd "$T/rules.conf" "$T/tls-rules"
echo "ok: tls-rules table"

# [mta-sts] ca_file: whoever writes it picks the trusted policy hosts.
cp /etc/ssl/certs/ca-certificates.crt "$T/ca.pem" 2>/dev/null || printf '\n' >"$T/ca.pem"
{ base "" "mta-sts tls-rules" "" && printf '[tls-rules]\ntable =\n[mta-sts]\nca_file = %s\n' "$T/ca.pem"; } >"$T/sts.conf"
chmod 666 "$T/ca.pem"
refused policyd "$T/sts.conf" "$T/ca.pem" "anyone may write it" "chmod go-w"
chmod 644 "$T/ca.pem"
accepted policyd "$T/sts.conf" "$T/ca.pem"
echo "ok: mta-sts ca_file"

# [pgp]: gnupg_home, policy_table, passphrase_file.
mkdir -m 777 "$T/gnupg"
printf 'x@ex.test never\n' >"$T/pgp-policy"
printf 'not-a-real-passphrase\n' >"$T/pgp-pass"
chmod 600 "$T/pgp-pass"
{ base pgp "" "" && printf '[pgp]\ngnupg_home = %s\npolicy_table = %s\npassphrase_file = %s\n' \
    "$T/gnupg" "$T/pgp-policy" "$T/pgp-pass"; } >"$T/pgp.conf"
refused milter "$T/pgp.conf" "$T/gnupg" "group or others may access it" "chmod 700"
chmod 755 "$T/gnupg"
refused milter "$T/pgp.conf" "$T/gnupg" "group or others may access it" "chmod 700"
chmod 700 "$T/gnupg"
chown mailward "$T/gnupg"
refused milter "$T/pgp.conf" "$T/gnupg" "not owned by the run user" "chown -R root"
chown root "$T/gnupg"
chmod 666 "$T/pgp-policy"
refused milter "$T/pgp.conf" "$T/pgp-policy" "anyone may write it" "chmod go-w"
chmod 644 "$T/pgp-policy"
chmod 644 "$T/pgp-pass"
refused milter "$T/pgp.conf" "$T/pgp-pass" "others may access it" "chmod 600"
chmod 600 "$T/pgp-pass"
accepted milter "$T/pgp.conf" "$T/gnupg"
echo "ok: pgp gnupg_home, policy_table, passphrase_file"

# [mta-sts-publish]: the TLS key and the policy file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=mta-sts.ex.test -addext subjectAltName=DNS:mta-sts.ex.test \
    -keyout "$T/pub.key" -out "$T/pub.pem" 2>/dev/null || fail "openssl req"
printf 'ex.test mode=testing max_age=86400 mx=mx.ex.test\n' >"$T/policies"
{ base "" tls-rules "" && printf '[tls-rules]\ntable =\n[mta-sts-publish]\nlisten = 127.0.0.1:18933\ncert_file = %s\nkey_file = %s\npolicy_file = %s\n' \
    "$T/pub.pem" "$T/pub.key" "$T/policies"; } >"$T/pub.conf"
chmod 644 "$T/pub.key"
refused policyd "$T/pub.conf" "$T/pub.key" "others may access it" "chmod 600"
chmod 600 "$T/pub.key"
chmod 666 "$T/policies"
refused policyd "$T/pub.conf" "$T/policies" "anyone may write it" "chmod go-w"
chmod 644 "$T/policies"
accepted policyd "$T/pub.conf" "$T/pub.key"
echo "ok: mta-sts-publish key_file and policy_file"

# The configuration file itself when it holds redis_password.
{ base "" tls-rules "" && printf '[tls-rules]\ntable =\n[cache]\nredis_password = not-the-password\n'; } >"$T/redis.conf"
chmod 644 "$T/redis.conf"
refused policyd "$T/redis.conf" "$T/redis.conf" "others may access it" "chmod 600"
refused milter "$T/redis.conf" "$T/redis.conf" "others may access it" "chmod 600"
chmod 600 "$T/redis.conf"
accepted policyd "$T/redis.conf" "$T/redis.conf"
accepted milter "$T/redis.conf" "$T/redis.conf"
echo "ok: a configuration holding redis_password must be private"

# Reload: both daemons running, a file made unsafe, SIGHUP: kept, logged, still serving.
# wait_log FILE PATTERN: up to 10 s for PATTERN in FILE.
wait_log() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "no \"$2\" in $1"
        sleep 0.1
    done
}
"$B/milter/mailward-milter" -f -c "$T/dkim.conf" </dev/null >"$T/milter.log" 2>&1 &
MPID=$!
PIDS="$PIDS $MPID"
printf 'example.test secure\n' >"$T/tls-rules"
"$B/policyd/mailward-policyd" -f -c "$T/rules.conf" </dev/null >"$T/policyd.log" 2>&1 &
PPID2=$!
PIDS="$PIDS $PPID2"
wait_log "$T/milter.log" 'signing with 1 key'
wait_log "$T/policyd.log" 'started'
chmod 644 "$T/dkim.key"
kill -HUP "$MPID"
wait_log "$T/milter.log" "reload: .*$T/dkim.key: unsafe secret file: mode 0644.*(run \"chmod 600 $T/dkim.key\"); keeping the running configuration"
chmod 666 "$T/tls-rules"
kill -HUP "$PPID2"
wait_log "$T/policyd.log" "reload: .*$T/tls-rules: unsafe table: mode 0666.*(run \"chmod go-w $T/tls-rules\").*keeping the running configuration"
kill -0 "$MPID" 2>/dev/null || fail "the milter died at the refused reload"
kill -0 "$PPID2" 2>/dev/null || fail "policyd died at the refused reload"
# Fixed: the next reload takes the file.
chmod 600 "$T/dkim.key"
chmod 644 "$T/tls-rules"
kill -HUP "$MPID" "$PPID2"
wait_log "$T/milter.log" 'reload: configuration .* in use'
wait_log "$T/policyd.log" 'reloaded '
kill -TERM "$MPID" "$PPID2"
wait "$MPID" || fail "milter exit $?"
wait "$PPID2" || fail "policyd exit $?"
PIDS=""
n=$((n + 4))
echo "ok: SIGHUP with an unsafe key or table keeps the running configuration and says why"
echo "$n passed, 0 failed"
