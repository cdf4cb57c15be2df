#!/bin/sh
# systemd.sh - conf-examples/mailward-milter.service and mailward-policyd.service pass
# "systemd-analyze verify" (with the binaries of this build in place of /usr/sbin),
# carry the hardening they promise, and their ExecStartPre/ExecStart lines accept the
# annotated conf-examples/mailward.conf (-n). Skips without systemd-analyze.
set -u
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# The build's plugins; the tls-rules table the Debian package ships (debian/tls-rules).
sed -e "s|^plugin_dir = .*|plugin_dir = $top_builddir/plugins/.libs|" -e "s|/etc/mailward/tls-rules|$tmp/tls-rules|" \
    "$top_srcdir/conf-examples/mailward.conf" >"$tmp/mailward.conf"
cp "$top_srcdir/debian/tls-rules" "$tmp/tls-rules"
n=0
for d in milter policyd; do
    unit=$top_srcdir/conf-examples/mailward-$d.service
    for want in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes RuntimeDirectory=mailward \
        User=mailward 'ExecReload=/bin/kill -HUP $MAINPID' "ExecStart=/usr/sbin/mailward-$d -f -c /etc/mailward/mailward.conf"; do
        grep -qxF "$want" "$unit" || fail "mailward-$d.service: no line $want"
    done
    sed -e "s|/usr/sbin/mailward-$d|$top_builddir/$d/mailward-$d|g" \
        -e "s|/etc/mailward/mailward.conf|$tmp/mailward.conf|g" "$unit" >"$tmp/mailward-$d.service"
    systemd-analyze verify --man=no "$tmp/mailward-$d.service" >"$tmp/verify" 2>&1
    rc=$?
    # verify also complains about units it cannot see here (postfix.service): only this one counts.
    if [ $rc != 0 ] || grep -q "mailward-$d.service" "$tmp/verify"; then
        cat "$tmp/verify"
        fail "systemd-analyze verify mailward-$d.service"
    fi
    # The ExecStartPre line, run as the unit would run it: the example validates.
    pre=$(sed -n 's/^ExecStartPre=//p' "$tmp/mailward-$d.service")
    [ -n "$pre" ] || fail "mailward-$d.service: no ExecStartPre"
    $pre >"$tmp/pre.out" 2>&1 || { cat "$tmp/pre.out"; fail "mailward-$d.service: $pre"; }
    n=$((n + 1))
    echo "ok $n mailward-$d.service verifies; mailward-$d -n accepts conf-examples/mailward.conf"
done
