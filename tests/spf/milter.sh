#!/bin/sh
# milter.sh - the spf plugin in the real mailward-milter ("plugins = spf") in the test
# world: the world's resolver and the SPF records of spf.test (tests/world/zones), SMTP
# connections replayed by tests/spf/milter-client.py the way Postfix sends them, several
# messages per connection. Asserts the exact Authentication-Results entries and
# Received-SPF headers with both engines, reject at MAIL FROM (550 5.7.23 / 5.7.24),
# tempfail (451 4.4.3), no check of outbound mail, check_helo, reload and the log line.
set -u
. "$top_srcdir/tests/world/lib.sh"
world_up

CLIENT=$top_srcdir/tests/spf/milter-client.py
PORT=${WORLD_MILTER_SOCKET##*:}
LOG=$WORLD_DIR/mailward/milter.log
T=$WORLD_DIR/spf
mkdir -p "$T"

# conv NAME CLIENT-ADDR HELO SENDER...: one connection; its output in $T/NAME.
conv() {
    name=$1
    shift
    world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "$PORT" "$@" >"$T/$name" ||
        world_fail "$name: the milter client failed"
}

# expect NAME WANT-FILE: the output of conversation NAME is exactly WANT-FILE.
expect() {
    diff -u "$2" "$T/$1" >"$T/$1.diff" || { cat "$T/$1.diff"; world_fail "$1: unexpected answer"; }
    echo "ok: $1 ($(grep -c '^---' "$T/$1") messages)"
}

# The libspf2 engine names no deciding mechanism and words its problems its own way:
# compare its answers with those two key-value pairs taken out of both sides.
strip_engine() {
    sed -e 's/ mechanism=[^ ;]*;//' -e 's/ problem="[^"]*";//' "$1"
}

start_milter() { # ENGINE, more [spf] lines on stdin
    engine=$1
    WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter spf <<CONF
[milter]
internal_hosts = 203.0.113.0/24
[spf]
engine = $engine
$(cat)
CONF
}

reload() {
    n=$(grep -c 'reload: configuration .* in use' "$LOG")
    kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
    i=0
    until [ "$(grep -c 'reload: configuration .* in use' "$LOG")" -gt "$n" ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && world_fail "the milter did not reload"
        sleep 0.1
    done
}

R='Received-SPF:'
A='Authentication-Results: mx.world.test;'
cat >"$T/marks.want" <<EOF
--- alice@pass.spf.test
insert 0 $R pass (mx.world.test: domain of alice@pass.spf.test designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from="alice@pass.spf.test"; helo=helo.spf.test; mechanism="ip4:198.51.100.0/24"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom=alice@pass.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- a@incl.spf.test
insert 0 $R pass (mx.world.test: domain of a@incl.spf.test designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from="a@incl.spf.test"; helo=helo.spf.test; mechanism="include:pass.spf.test"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom=a@incl.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- m@mxd.spf.test
insert 0 $R pass (mx.world.test: domain of m@mxd.spf.test designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from="m@mxd.spf.test"; helo=helo.spf.test; mechanism=mx; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom=m@mxd.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- n@neutral.spf.test
insert 0 $R neutral (mx.world.test: 198.51.100.7 is neither permitted nor denied by domain of n@neutral.spf.test) client-ip=198.51.100.7; envelope-from="n@neutral.spf.test"; helo=helo.spf.test; mechanism=?all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=neutral smtp.mailfrom=n@neutral.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- x@nospf.spf.test
insert 0 $R none (mx.world.test: domain of x@nospf.spf.test does not designate permitted sender hosts) client-ip=198.51.100.7; envelope-from="x@nospf.spf.test"; helo=helo.spf.test; problem="no SPF record at 'nospf.spf.test'"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=none smtp.mailfrom=x@nospf.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- p@perm.spf.test
insert 0 $R permerror (mx.world.test: permanent error in processing domain of p@perm.spf.test) client-ip=198.51.100.7; envelope-from="p@perm.spf.test"; helo=helo.spf.test; problem="syntax error in the SPF record at term 'frob:x'"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=permerror smtp.mailfrom=p@perm.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- t@twice.spf.test
insert 0 $R permerror (mx.world.test: permanent error in processing domain of t@twice.spf.test) client-ip=198.51.100.7; envelope-from="t@twice.spf.test"; helo=helo.spf.test; problem="more than one SPF record at 'twice.spf.test'"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=permerror smtp.mailfrom=t@twice.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- r@refused.spf.test
insert 0 $R temperror (mx.world.test: error in processing during lookup of domain of r@refused.spf.test) client-ip=198.51.100.7; envelope-from="r@refused.spf.test"; helo=helo.spf.test; mechanism="include:refused.test"; problem="DNS lookup of the SPF record failed for 'refused.test'"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=temperror smtp.mailfrom=r@refused.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- t@temp.spf.test
insert 0 $R temperror (mx.world.test: error in processing during lookup of domain of t@temp.spf.test) client-ip=198.51.100.7; envelope-from="t@temp.spf.test"; helo=helo.spf.test; mechanism="include:timeout.test"; problem="DNS lookup of the SPF record failed for 'timeout.test'"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=temperror smtp.mailfrom=t@temp.spf.test; spf=pass smtp.helo=helo.spf.test
accept
--- <>
insert 0 $R pass (mx.world.test: domain of postmaster@helo.spf.test designates 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from="<>"; helo=helo.spf.test; mechanism=a; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom=postmaster@helo.spf.test; spf=pass smtp.helo=helo.spf.test
accept
EOF
cat >"$T/fails.want" <<EOF
--- alice@pass.spf.test
insert 0 $R fail (mx.world.test: domain of alice@pass.spf.test does not designate 192.0.2.99 as permitted sender) client-ip=192.0.2.99; envelope-from="alice@pass.spf.test"; helo=badhelo.spf.test; mechanism=-all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=fail smtp.mailfrom=alice@pass.spf.test; spf=fail smtp.helo=badhelo.spf.test
accept
--- s@soft.spf.test
insert 0 $R softfail (mx.world.test: domain of transitioning s@soft.spf.test does not designate 192.0.2.99 as permitted sender) client-ip=192.0.2.99; envelope-from="s@soft.spf.test"; helo=badhelo.spf.test; mechanism=~all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=softfail smtp.mailfrom=s@soft.spf.test; spf=fail smtp.helo=badhelo.spf.test
accept
--- <>
insert 0 $R fail (mx.world.test: domain of postmaster@badhelo.spf.test does not designate 192.0.2.99 as permitted sender) client-ip=192.0.2.99; envelope-from="<>"; helo=badhelo.spf.test; mechanism=-all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=fail smtp.mailfrom=postmaster@badhelo.spf.test; spf=fail smtp.helo=badhelo.spf.test
accept
EOF
# IPv6 clients; an address literal as HELO (not checkable: none); a sender with a quoted
# local part, one without a local part, one without a domain; the null sender with no HELO.
cat >"$T/odd.want" <<EOF
--- alice@pass.spf.test
insert 0 $R pass (mx.world.test: domain of alice@pass.spf.test designates 2001:db8:5::7 as permitted sender) client-ip="2001:db8:5::7"; envelope-from="alice@pass.spf.test"; helo="[192.0.2.1]"; mechanism="ip6:2001:db8:5::/48"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom=alice@pass.spf.test; spf=none smtp.helo="[192.0.2.1]"
accept
--- a@a6.spf.test
insert 0 $R fail (mx.world.test: domain of a@a6.spf.test does not designate 2001:db8:5::7 as permitted sender) client-ip="2001:db8:5::7"; envelope-from="a@a6.spf.test"; helo="[192.0.2.1]"; mechanism=-all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=fail smtp.mailfrom=a@a6.spf.test; spf=none smtp.helo="[192.0.2.1]"
accept
--- "a (b)"@pass.spf.test
insert 0 $R pass (mx.world.test: domain of "a \(b\)"@pass.spf.test designates 2001:db8:5::7 as permitted sender) client-ip="2001:db8:5::7"; envelope-from="\"a (b)\"@pass.spf.test"; helo="[192.0.2.1]"; mechanism="ip6:2001:db8:5::/48"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom="\"a (b)\"@pass.spf.test"; spf=none smtp.helo="[192.0.2.1]"
accept
EOF
cat >"$T/odd2.want" <<EOF
--- a@a6.spf.test
insert 0 $R pass (mx.world.test: domain of a@a6.spf.test designates 2001:db8:6::7 as permitted sender) client-ip="2001:db8:6::7"; envelope-from="a@a6.spf.test"; mechanism=a; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=pass smtp.mailfrom=a@a6.spf.test
accept
--- @pass.spf.test
insert 0 $R fail (mx.world.test: domain of postmaster@pass.spf.test does not designate 2001:db8:6::7 as permitted sender) client-ip="2001:db8:6::7"; envelope-from="@pass.spf.test"; mechanism=-all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=fail smtp.mailfrom=postmaster@pass.spf.test
accept
--- nodomain
insert 0 $R none (mx.world.test: domain of postmaster@nodomain does not designate permitted sender hosts) client-ip="2001:db8:6::7"; envelope-from="nodomain"; problem="not a domain name that SPF can check"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=none smtp.mailfrom=postmaster@nodomain
accept
--- <>
insert 0 $R none (mx.world.test: domain of <> does not designate permitted sender hosts) client-ip="2001:db8:6::7"; envelope-from="<>"; problem="no HELO name for the null sender"; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=none
accept
EOF
cat >"$T/actions.want" <<EOF
--- m@fail.spf.test
MAIL 550 5.7.23 SPF: fail.spf.test does not designate 192.0.2.99 as permitted sender: 192.0.2.99 is not one of fail.spf.test's designated mail servers
--- s@soft.spf.test
MAIL 550 5.7.23 SPF: soft.spf.test does not designate 192.0.2.99 as permitted sender
--- p@perm.spf.test
MAIL 550 5.7.24 SPF: perm.spf.test has an SPF record in error: syntax error in the SPF record at term 'frob:x'
--- r@refused.spf.test
MAIL 451 4.4.3 SPF: temporary DNS failure checking refused.spf.test, try again later
--- n@neutral.spf.test
insert 0 $R neutral (mx.world.test: 192.0.2.99 is neither permitted nor denied by domain of n@neutral.spf.test) client-ip=192.0.2.99; envelope-from="n@neutral.spf.test"; helo=badhelo.spf.test; mechanism=?all; receiver=mx.world.test; identity=mailfrom;
insert 0 $A spf=neutral smtp.mailfrom=n@neutral.spf.test
accept
EOF

for engine in native libspf2; do
    start_milter $engine </dev/null
    conv marks 198.51.100.7 helo.spf.test alice@pass.spf.test a@incl.spf.test m@mxd.spf.test \
        n@neutral.spf.test x@nospf.spf.test p@perm.spf.test t@twice.spf.test r@refused.spf.test \
        t@temp.spf.test ""
    # Received-SPF is folded before blanks to lines of at most 78 characters.
    conv raw 198.51.100.7 helo.spf.test --raw alice@pass.spf.test
    /usr/bin/python3 - "$T/raw" "$T/marks.want" $engine <<'PY' || world_fail "Received-SPF folding"
import re, sys
raw = [l for l in open(sys.argv[1]) if l.startswith("insert 0 Received-SPF: ")][0]
want = [l for l in open(sys.argv[2]) if l.startswith("insert 0 Received-SPF: ")][0]
lines = raw.rstrip("\n")[len("insert 0 "):].split("\\n")
assert len(lines) > 2, lines
assert all(len(l) <= 78 for l in lines), lines
assert all(l.startswith(" ") for l in lines[1:]), lines
flat = "insert 0 " + "".join(lines) + "\n"
if sys.argv[3] == "libspf2":
    want = re.sub(r' mechanism=[^ ;]*;', '', want)
assert flat == want, (lines, want)
PY
    echo "ok: Received-SPF folded into $(grep -o '\\n' "$T/raw" | wc -l) continuation lines"
    conv fails 192.0.2.99 badhelo.spf.test alice@pass.spf.test s@soft.spf.test ""
    conv odd '2001:db8:5::7' '[192.0.2.1]' alice@pass.spf.test a@a6.spf.test '"a (b)"@pass.spf.test'
    conv odd2 '2001:db8:6::7' - a@a6.spf.test @pass.spf.test nodomain ""
    # An IPv4-mapped IPv6 client is checked as the IPv4 address (RFC 7208 section 5).
    conv mapped '::ffff:198.51.100.7' helo.spf.test alice@pass.spf.test
    head -n 4 "$T/marks.want" >"$T/mapped.want"
    # Outbound mail (internal_hosts, SMTP AUTH) is not checked: no entry, no header.
    conv outbound 203.0.113.5 helo.spf.test alice@pass.spf.test
    conv auth 192.0.2.99 badhelo.spf.test --auth bob m@fail.spf.test
    printf -- '--- alice@pass.spf.test\naccept\n' >"$T/outbound.want"
    printf -- '--- m@fail.spf.test\naccept\n' >"$T/auth.want"
    for c in marks fails odd odd2 mapped; do
        if [ $engine = native ]; then
            cp "$T/$c.want" "$T/$c.exp"
        else
            strip_engine "$T/$c.want" >"$T/$c.exp"
            strip_engine "$T/$c" >"$T/$c.got" && mv "$T/$c.got" "$T/$c"
        fi
        expect "$c" "$T/$c.exp"
    done
    expect outbound "$T/outbound.want"
    expect auth "$T/auth.want"
    # Actions, applied by a reload; no HELO check.
    cat >>"$WORLD_DIR/mailward/milter.conf" <<'CONF'
check_helo = no
fail_action = reject
softfail_action = reject
permerror_action = reject
temperror_action = tempfail
CONF
    reload
    conv actions 192.0.2.99 badhelo.spf.test m@fail.spf.test s@soft.spf.test p@perm.spf.test \
        r@refused.spf.test n@neutral.spf.test
    if [ $engine = native ]; then
        cp "$T/actions.want" "$T/actions.exp"
    else
        # libspf2 words problems its own way and expands %{d} of the explanation wrong.
        libspf2_text='s/in error: .*/in error/; s/one of .*'"'"'s designated/one of D'"'"'s designated/'
        strip_engine "$T/actions.want" | sed "$libspf2_text" >"$T/actions.exp"
        strip_engine "$T/actions" | sed "$libspf2_text" >"$T/actions.got"
        mv "$T/actions.got" "$T/actions"
    fi
    expect actions "$T/actions.exp"
    grep -q 'SPF1: inbound client=client.example\[192.0.2.99\] from=<m@fail.spf.test> spf=fail plugin=spf action=reject' "$LOG" ||
        world_fail "$engine: no reject in the log"
    world_stop_daemons
    grep -q 'SPF1: inbound client=client.example\[198.51.100.7\] from=<alice@pass.spf.test> spf=pass spf_helo=pass action=accept' "$LOG" ||
        world_fail "$engine: no spf item in the log line"
    grep -q 'SPF1: outbound .* from=<alice@pass.spf.test> action=accept' "$LOG" ||
        world_fail "$engine: outbound log line"
    echo "ok: engine $engine"
done
