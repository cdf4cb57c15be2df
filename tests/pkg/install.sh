#!/bin/sh
# install.sh - the Debian package from clone to running daemons: copies the source
# tree, builds it with "dpkg-buildpackage -us -uc -b" (from scratch, tests off),
# installs the .deb, checks what it put where (binaries, plugins, man pages, units,
# conffile, the mailward user), starts mailward-milter and mailward-policyd with the
# installed units' ExecStartPre/ExecStart lines as user mailward (systemd does not run
# in CI containers) inside a private network namespace, asks each one something real
# (a milter option negotiation, a policy delegation request, a socketmap lookup,
# the metrics page), stops them and purges the package.
# Run by dev/check after the suites (it takes minutes); by hand: sudo tests/pkg/install.sh
# Exit 77 (skip) without root or dpkg-buildpackage; MW_PKG_KEEP=1 keeps the build dir.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i)"; exit 77; }
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
    { echo "SKIP: no dpkg-buildpackage/debhelper"; exit 77; }
if dpkg-query -W -f '${Status}' mailward 2>/dev/null | grep -q 'ok installed'; then
    echo "SKIP: a mailward package is installed here already; not touching it"
    exit 77
fi
tmp=$(mktemp -d /tmp/mw-pkg.XXXXXX)
installed=0
cleanup() {
    [ $installed = 1 ] && dpkg --purge mailward >/dev/null 2>&1
    [ "${MW_PKG_KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    exit 1
}
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
start=$(date +%s)

# The source as a fresh clone has it: the committed tree (git archive HEAD), else a copy.
src=$tmp/mailward
mkdir -p "$src"
if git -C "$top_srcdir" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    git -C "$top_srcdir" archive HEAD | tar -C "$src" -xf -
else
    (cd "$top_srcdir" && tar --exclude=./_build -cf - .) | tar -C "$src" -xf -
fi
[ -x "$src/debian/rules" ] || fail "no debian/rules in the copied tree"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 2)" \
    dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || fail "dpkg-buildpackage"
deb=$(ls "$tmp"/mailward_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no .deb built"
ok "dpkg-buildpackage built $(basename "$deb") in $(($(date +%s) - start)) s"

dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || fail "dpkg -i"
installed=1
for f in /usr/sbin/mailward-milter /usr/sbin/mailward-policyd /usr/sbin/mailwardctl \
    /usr/lib/mailward/plugins/tls-rules.so /usr/lib/mailward/plugins/dkim.so /usr/lib/mailward/plugins/pgp.so \
    /usr/share/man/man8/mailward-milter.8.gz /usr/share/man/man8/mailward-policyd.8.gz \
    /usr/share/man/man8/mailwardctl.8.gz /usr/share/man/man5/mailward.conf.5.gz \
    /lib/systemd/system/mailward-milter.service /lib/systemd/system/mailward-policyd.service \
    /usr/share/doc/mailward/examples/postfix-main.cf /etc/mailward/mailward.conf; do
    [ -e "$f" ] || fail "the package does not install $f"
done
dpkg-query -W -f '${Conffiles}\n' mailward | grep -q '^ /etc/mailward/mailward.conf ' ||
    fail "/etc/mailward/mailward.conf is not a conffile"
id mailward >/dev/null 2>&1 || fail "no mailward user after postinst"
[ -L /etc/systemd/system/multi-user.target.wants/mailward-milter.service ] ||
    fail "mailward-milter.service is not enabled"
/usr/sbin/mailwardctl -c /etc/mailward/mailward.conf config >"$tmp/ctl.log" 2>&1 ||
    fail "mailwardctl config rejects the installed mailward.conf"
ok "dpkg -i: daemons, plugins, man pages, enabled units, conffile, user mailward"

# The daemons as their units start them, in a namespace of their own (no port clash).
cat >"$tmp/run.sh" <<'RUN'
set -u
tmp=$1
ip link set lo up
install -d -m 0755 -o mailward -g mailward /run/mailward
as_unit() { # UNIT KEY: exec the unit's KEY= line as its User= with NoNewPrivileges
    line=$(sed -n "s/^$2=//p" "/lib/systemd/system/$1")
    [ -n "$line" ] || { echo "$1: no $2"; exit 1; }
    exec setpriv --reuid=mailward --regid=mailward --init-groups --no-new-privs $line
}
for d in milter policyd; do
    (as_unit mailward-$d.service ExecStartPre) >"$tmp/$d-pre.log" 2>&1 || { echo "$d: ExecStartPre failed"; exit 1; }
    as_unit mailward-$d.service ExecStart >"$tmp/$d.log" 2>&1 &
    eval "pid_$d=\$!"
done
/usr/bin/python3 "$2/tests/world/wait-ports.py" 20 127.0.0.1:8891 127.0.0.1:8461 127.0.0.1:10040 ||
    { echo "the daemons do not listen"; exit 1; }
for pid in $pid_milter $pid_policyd; do
    [ "$(stat -c %U /proc/$pid)" = mailward ] || { echo "$(cat /proc/$pid/comm) not running as mailward"; exit 1; }
done
/usr/bin/python3 "$2/tests/pkg/probe.py" >"$tmp/probe.log" 2>&1 || { cat "$tmp/probe.log"; exit 1; }
cat "$tmp/probe.log"
mkdir -p "$tmp/pf" && : >"$tmp/pf/main.cf"
a=$(postmap -c "$tmp/pf" -q pkgtest.invalid socketmap:inet:127.0.0.1:8461:mailward)
[ "$a" = encrypt ] || { echo "socketmap: [$a], want [encrypt]"; exit 1; }
echo "socketmap pkgtest.invalid -> $a"
curl -sf http://127.0.0.1:9469/metrics | grep -q '^mailward_' || { echo "no milter metrics"; exit 1; }
rc=0
for d in milter policyd; do
    eval "pid=\$pid_$d"
    kill -TERM "$pid"
    wait "$pid" || { echo "mailward-$d exited $? on SIGTERM"; rc=1; }
done
exit $rc
RUN
printf 'pkgtest.invalid encrypt\n' >>/etc/mailward/tls-rules
unshare --net sh "$tmp/run.sh" "$tmp" "$top_srcdir" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; fail "the installed daemons"; }
cat "$tmp/run.log"
ok "the installed units' commands run as mailward: milter negotiates, policyd answers, metrics served"

dpkg --purge mailward >"$tmp/purge.log" 2>&1 || fail "dpkg --purge"
installed=0
for f in /usr/sbin/mailward-milter /etc/mailward/mailward.conf /usr/lib/mailward /var/lib/mailward; do
    [ -e "$f" ] && fail "$f is left after purge"
done
ok "dpkg --purge removes it all ($(($(date +%s) - start)) s in total)"
