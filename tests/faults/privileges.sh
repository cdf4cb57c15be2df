#!/bin/sh
# privileges.sh - both daemons started as root with user = mailward drop root after
# binding: every uid and gid of the process is mailward's, and they still answer.
# mailward-policyd with a redis_password (Redis unreachable: the connection is tried
# and fails, which is logged) never writes the password to its log, not even with -d.
. "$top_srcdir/tests/policyd/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
id mailward >/dev/null 2>&1 || { echo "SKIP: no user mailward"; exit 77; }
uid=$(id -u mailward) gid=$(id -g mailward)
chmod 755 "$T"
SECRET=Sekrit-$$-pw
sed -i -e 's/^user =.*/user = mailward/' "$T/mw.conf"
cat >>"$T/mw.conf" <<CONF
[cache]
backend = redis
redis = 127.0.0.1:$(free_port)
redis_password = $SECRET
CONF
chmod 600 "$T/mw.conf" # the daemons refuse a file holding redis_password readable by others
start_daemon
ids_of() {
    awk -v u="$uid" -v g="$gid" '/^Uid:/ { ok = ($2 == u && $3 == u && $4 == u && $5 == u) }
        /^Gid:/ { ok = ok && ($2 == g && $3 == g && $4 == g && $5 == g) } END { exit !ok }' "/proc/$1/status"
}
sleep 0.5
ids_of "$PID" || fail "mailward-policyd still has root ids: $(grep -E '^(Uid|Gid):' /proc/$PID/status)"
[ "$($CLIENT socketmap "$SM_PORT" 'mailward example.net')" = "OK encrypt" ] || fail "no answer as mailward"
[ "$(ps -o user= -p "$PID")" = mailward ] || fail "ps does not show user mailward"
grep -q 'running as user mailward' "$T/log" || fail "no log line for the switch"
echo "ok: mailward-policyd runs as mailward"
grep -q "$SECRET" "$T/log" && fail "the Redis password is in the log"
grep -q "redis .*unreachable" "$T/log" || fail "Redis was not tried"
echo "ok: no password in the log"
kill "$PID"; wait "$PID" || true
PID=

mkdir -m 755 "$T/milter"
cat >"$T/milter.conf" <<CONF
[general]
user = mailward
plugin_dir = $top_builddir/plugins/.libs
metrics_listen =
[milter]
socket = inet:$(free_port)@127.0.0.1
authserv_id = mx.test.example
plugins =
pid_file = $T/milter/milter.pid
CONF
port=$(sed -n 's/^socket = inet:\([0-9]*\)@.*/\1/p' "$T/milter.conf")
"$top_builddir/milter/mailward-milter" -f -c "$T/milter.conf" >"$T/milter.log" 2>&1 &
PID=$!
$PY "$top_srcdir/tests/world/wait-ports.py" 30 "127.0.0.1:$port" || fail "mailward-milter did not start: $(cat "$T/milter.log")"
ids_of "$PID" || fail "mailward-milter still has root ids: $(grep -E '^(Uid|Gid):' /proc/$PID/status)"
$PY "$top_srcdir/tests/faults/milterwire.py" "$port" >"$T/wire.out" 2>&1 ||
    fail "mailward-milter does not serve as mailward: $(tail -3 "$T/wire.out") $(tail "$T/milter.log")"
echo "ok: mailward-milter runs as mailward"
echo "PASS: privileges"
