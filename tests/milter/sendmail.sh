#!/bin/sh
# sendmail.sh - mailward-milter behind Sendmail: conf-examples/sendmail.mc expands with
# Sendmail's own m4 files (package sendmail-cf) into the filter line and macro lists the
# milter needs, and the real daemon handles a conversation replayed as Sendmail sends it
# (tests/milter/sendmail.lua): inbound from an outside client, outbound when SMTP AUTH,
# the queue id Sendmail gives at MAIL in the log line.
set -u
command -v miltertest >/dev/null 2>&1 || { echo "SKIP: miltertest not installed"; exit 77; }
: "${top_builddir:?}" "${top_srcdir:?}"
T=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID"; fi
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    cat "$T/err.log" 2>/dev/null
    exit 1
}

# 1. The .mc fragment, in a minimal sendmail.mc, through Sendmail's cf.m4.
CF=/usr/share/sendmail/cf/m4/cf.m4
if [ -f "$CF" ] && command -v m4 >/dev/null 2>&1; then
    { echo "OSTYPE(\`linux')dnl"; cat "$top_srcdir/conf-examples/sendmail.mc"; echo "MAILER(\`smtp')dnl"; } >"$T/test.mc"
    m4 "$CF" "$T/test.mc" >"$T/test.cf" 2>"$T/m4.err" || { cat "$T/m4.err"; fail "m4 failed"; }
    grep -q '^Xmailward, S=inet:8891@127.0.0.1, F=T, T=C:30s;S:5m;R:5m;E:10m$' "$T/test.cf" ||
        fail "no filter line in sendmail.cf"
    grep -q '^O InputMailFilters=mailward$' "$T/test.cf" || fail "filter not enabled"
    for m in 'connect:{client_addr}' 'connect:{daemon_name}' 'envfrom:i' 'envfrom:{auth_authen}' \
        'envrcpt:i' 'helo:{tls_version}'; do
        stage=${m%%:*} name=${m#*:}
        grep "^O Milter.macros.$stage=" "$T/test.cf" | grep -qF "$name" ||
            fail "sendmail.cf does not send $name at $stage"
    done
    echo "ok: sendmail.mc expands to the filter line and the macros the milter reads"
else
    echo "note: sendmail-cf not installed, the .mc fragment is not expanded"
fi

# 2. The daemon, fed as Sendmail feeds it.
cat >"$T/milter.conf" <<CONF
[general]
user =
plugin_dir = $top_builddir/tests/plugins/.libs
metrics_listen =
[milter]
socket = unix:$T/sock
authserv_id = mx.test.example
internal_hosts = 127.0.0.1/32
plugins = probe
pid_file = $T/milter.pid
CONF
"$top_builddir/milter/mailward-milter" -f -c "$T/milter.conf" 2>"$T/err.log" &
PID=$!
i=0
until [ -S "$T/sock" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "the milter did not start"
    sleep 0.1
done
mt() {
    miltertest -D SOCK="unix:$T/sock" -D ARID=mx.test.example "$@" -s "$top_srcdir/tests/milter/sendmail.lua" \
        >"$T/mt.out" 2>&1 || { cat "$T/mt.out"; fail "miltertest $*"; }
}
mt -D ADDR=198.51.100.9 -D QID=3AN8fQ0a012345 -D DIR=inbound
echo "ok: inbound message from an outside client"
mt -D ADDR=198.51.100.9 -D QID=3AN8fQ0a012346 -D AUTH=alice -D DIR=outbound
echo "ok: SMTP AUTH makes it outbound"
i=0
until grep -q '3AN8fQ0a012346: outbound' "$T/err.log"; do
    i=$((i + 1))
    [ $i -gt 50 ] && fail "no log line with Sendmail's queue id"
    sleep 0.1
done
grep -q '3AN8fQ0a012345: inbound client=client.test.example\[198.51.100.9\] from=<alice@example.org>' "$T/err.log" ||
    fail "the inbound log line lacks the queue id or client"
echo "ok: log lines carry Sendmail's queue id"
kill -TERM "$PID"
wait "$PID" || fail "mailward-milter exited with $? on SIGTERM"
PID=
exit 0
