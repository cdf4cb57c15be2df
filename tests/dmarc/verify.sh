#!/bin/sh
# verify.sh - the dmarc plugin judges inbound mail: the real mailward-milter with
# "plugins = spf dkim dmarc" in the test world (its resolver; valid.test has p=reject with
# strict alignment, dmarc.test and its subdomains the other policies: see
# tests/world/zones/dmarc.test.zone), messages signed by dkimpy's dkimsign with the
# world's key and replayed by tests/dkim/client.py the way Postfix sends them. Only the
# spf and dkim plugins' verdicts count: forged Authentication-Results and Received-SPF
# headers in a message change nothing.
set -u
command -v dkimsign >/dev/null 2>&1 || { echo "SKIP: dkimsign (python3-dkim) not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
world_up

T=$WORLD_DIR/dmarc
mkdir -p "$T"
CLIENT=$top_srcdir/tests/dkim/client.py
PORT=${WORLD_MILTER_SOCKET##*:}
GOOD=127.0.0.9     # SPF allows 127.0.0.0/8 for valid.test, dmarc.test, strict.dmarc.test
BAD=198.51.100.7   # SPF allows it nowhere

# msg NAME HEADER... : a message whose headers are the arguments (one per argument).
msg() {
    name=$1
    shift
    {
        for h in "$@"; do printf '%s\n' "$h"; done
        printf 'To: bob@example.net\nSubject: dmarc test %s\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n' "$name"
        printf 'Message-ID: <%s@dmarc.test>\n\nHello Bob,\n\nthis is %s.\n' "$name" "$name"
    } >"$T/$name"
}
# sign NAME DOMAIN: NAME.signed, signed with d=DOMAIN s=rsa.
sign() {
    dkimsign rsa "$2" "$WORLD_DKIM_RSA" <"$T/$1" >"$T/$1.signed" || world_fail "dkimsign $1 failed"
}
# run FILE ADDR MAIL-FROM: what the milter answers (AR line, held line, or refused line).
run() {
    world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "$PORT" "$2" "$T/$1" "$3" ||
        world_fail "client failed on $1"
}
# check FILE ADDR MAIL-FROM WANT [HELD]: the dmarc= entry of the AR header (or the refusal)
# is WANT; HELD, when given, is the quarantine reason that must follow.
check() {
    out=$(run "$1" "$2" "$3")
    case $4 in
    refused:*) got=$out ;;
    *) got=$(printf '%s\n' "$out" | sed -n 1p | tr ';' '\n' | sed -n 's/^ *\(dmarc=.*\)$/\1/p') ;;
    esac
    [ "$got" = "$4" ] || world_fail "$1 from $2 <$3>: got '$got', want '$4' (all: $out)"
    held=$(printf '%s\n' "$out" | sed -n 's/^held: //p')
    [ "$held" = "${5:-}" ] || world_fail "$1: held '$held', want '${5:-}'"
    echo "ok: $1 from $2 <$3>: $got${5:+ / held: $5}"
}

msg aligned 'From: Alice <alice@valid.test>'
sign aligned valid.test
msg forged 'From: "The CEO" <ceo@valid.test>'
cp "$T/forged" "$T/own-sig" && sign own-sig dmarc.test
# Upstream verdicts claiming a pass are never read.
msg claims 'Authentication-Results: mx.world.test; spf=pass smtp.mailfrom=valid.test; dkim=pass header.d=valid.test; dmarc=pass header.from=valid.test' \
    'Authentication-Results: upstream.example; dmarc=pass header.from=valid.test' \
    'Received-SPF: pass (valid.test: 198.51.100.7 is allowed) client-ip=198.51.100.7' \
    'From: ceo@valid.test'
msg sub-valid 'From: ceo@sub.valid.test'
msg relaxed 'From: x@relaxed.dmarc.test'
sign relaxed dmarc.test
msg strict 'From: x@strict.dmarc.test'
sign strict dmarc.test
cp "$T/strict" "$T/strict-own" && sign strict-own strict.dmarc.test
msg quarantine 'From: x@quarantine.dmarc.test'
msg none 'From: x@none.dmarc.test'
msg pct0 'From: x@pct0.dmarc.test'
msg org 'From: x@dmarc.test'
msg news 'From: x@news.dmarc.test'
msg nopolicy 'From: x@plain-mail.world.test'
msg bad 'From: x@bad.dmarc.test'
msg two 'From: x@two.dmarc.test'
msg other 'From: x@other.dmarc.test'
msg timeout 'From: x@timeout.test'
msg twofrom 'From: a@valid.test' 'From: b@dmarc.test'
sign twofrom valid.test
msg twodomains 'From: a@valid.test, "B" <b@dmarc.test>'
sign twodomains valid.test
msg samedomain 'From: a@valid.test, b@VALID.test'
sign samedomain valid.test
msg nofrom 'Sender: a@valid.test'
msg badfrom 'From: Alice alice@valid.test'

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "spf dkim dmarc" <<CONF
[dmarc]
verify = yes
CONF

# Pass through an aligned DKIM signature (strict: d= is the From domain) or aligned SPF.
check aligned.signed $BAD bounce@dmarc.test 'dmarc=pass (p=reject) header.from=valid.test'
check forged $GOOD alice@valid.test 'dmarc=pass (p=reject) header.from=valid.test'
REJECT_VALID='refused: 550 5.7.1 rejected by the DMARC policy of valid.test: no SPF or DKIM pass aligned with the From domain'
# Forgeries of a p=reject domain: no signature; the forger's own good signature and SPF.
check forged $BAD alice@valid.test "$REJECT_VALID"
check own-sig.signed $GOOD mallory@dmarc.test "$REJECT_VALID"
check claims $BAD alice@valid.test "$REJECT_VALID"
# The same failure with a null sender: SPF speaks for the HELO, which is not aligned.
check forged $BAD "" "$REJECT_VALID"
# A subdomain without a record: the organizational domain's p=reject.
check sub-valid $BAD alice@valid.test 'refused: 550 5.7.1 rejected by the DMARC policy of sub.valid.test: no SPF or DKIM pass aligned with the From domain'

# Relaxed against strict alignment (DKIM, then SPF).
check relaxed.signed $BAD alice@valid.test 'dmarc=pass (p=reject) header.from=relaxed.dmarc.test'
check relaxed $GOOD bounce@dmarc.test 'dmarc=pass (p=reject) header.from=relaxed.dmarc.test'
REJECT_STRICT='refused: 550 5.7.1 rejected by the DMARC policy of strict.dmarc.test: no SPF or DKIM pass aligned with the From domain'
check strict.signed $BAD alice@valid.test "$REJECT_STRICT"
check strict $GOOD bounce@dmarc.test "$REJECT_STRICT"
check strict-own.signed $BAD alice@valid.test 'dmarc=pass (p=reject) header.from=strict.dmarc.test'
check strict $GOOD bounce@strict.dmarc.test 'dmarc=pass (p=reject) header.from=strict.dmarc.test'

# The other policies, pct and sp.
check quarantine $BAD alice@valid.test 'dmarc=fail (p=quarantine) header.from=quarantine.dmarc.test' \
    'DMARC policy of quarantine.dmarc.test: quarantine'
check none $BAD alice@valid.test 'dmarc=fail (p=none) header.from=none.dmarc.test'
check pct0 $BAD alice@valid.test 'dmarc=fail (p=reject dis=quarantine) header.from=pct0.dmarc.test' \
    'DMARC policy of pct0.dmarc.test: quarantine'
check org $BAD alice@valid.test 'dmarc=fail (p=none) header.from=dmarc.test'
check news $BAD alice@valid.test 'refused: 550 5.7.1 rejected by the DMARC policy of news.dmarc.test: no SPF or DKIM pass aligned with the From domain'
check news $GOOD bounce@dmarc.test 'dmarc=pass (p=none sp=reject) header.from=news.dmarc.test'

# No policy, broken policies, DNS failure.
check nopolicy $BAD alice@valid.test 'dmarc=none (no DMARC record) header.from=plain-mail.world.test'
check bad $BAD alice@valid.test 'dmarc=permerror (invalid DMARC record: bad tag value) header.from=bad.dmarc.test'
check two $BAD alice@valid.test 'dmarc=permerror (2 DMARC records at _dmarc.two.dmarc.test) header.from=two.dmarc.test'
check other $BAD alice@valid.test 'refused: 550 5.7.1 rejected by the DMARC policy of other.dmarc.test: no SPF or DKIM pass aligned with the From domain'
out=$(run timeout $BAD alice@valid.test | sed -n 1p | tr ';' '\n' | sed -n 's/^ *\(dmarc=.*\)$/\1/p')
case $out in
'dmarc=temperror (DNS timeout for _dmarc.timeout.test) header.from=timeout.test' | \
    'dmarc=temperror (DNS failure for _dmarc.timeout.test) header.from=timeout.test') echo "ok: timeout: $out" ;;
*) world_fail "timeout: got '$out'" ;;
esac

# The author: exactly one From header with one domain, else never judged by one of them.
check twofrom.signed $GOOD alice@valid.test 'refused: 550 5.7.1 2 From headers: DMARC cannot judge this message'
check twodomains.signed $GOOD alice@valid.test 'refused: 550 5.7.1 From addresses in several domains: valid.test, dmarc.test: DMARC cannot judge this message'
check samedomain.signed $BAD alice@valid.test 'dmarc=pass (p=reject) header.from=valid.test'
check nofrom $GOOD alice@valid.test 'dmarc=permerror (no From header)'
check badfrom $GOOD alice@valid.test 'dmarc=permerror (From header: malformed local part)'

log=$WORLD_DIR/mailward/milter.log
grep -q '4DKIM: inbound .* dmarc=fail:valid.test:reject .*action=reject' "$log" ||
    world_fail "no dmarc=fail:valid.test:reject item in a log line"
grep -q 'dmarc=fail:quarantine.dmarc.test:quarantine' "$log" || world_fail "no quarantine log item"
grep -q 'dmarc=pass:valid.test:none' "$log" || world_fail "no pass log item"
metric() {
    world_exec curl -sf http://127.0.0.1:9469/metrics |
        awk -v k="mailward_milter_verdicts_total{method=\"dmarc\",result=\"$1\"}" '$1 == k { print $2 }'
}
[ "$(metric fail)" = 13 ] || world_fail "dmarc fail verdicts counted: [$(metric fail)], want 13"
[ "$(metric pass)" = 8 ] || world_fail "dmarc pass verdicts counted: [$(metric pass)], want 8"
echo "ok: log items and verdict counters"

# Only mark, by a reload: reject_action, quarantine_action, multiple_from = mark,
# temperror_action = tempfail.
cat >>"$WORLD_DIR/mailward/milter.conf" <<'CONF'
reject_action = mark
quarantine_action = mark
multiple_from = mark
temperror_action = tempfail
CONF
kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
i=0
until [ "$(grep -c 'reload: configuration .* in use' "$log")" -ge 1 ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && world_fail "the milter did not reload"
    sleep 0.1
done
check forged $BAD alice@valid.test 'dmarc=fail (p=reject) header.from=valid.test'
check quarantine $BAD alice@valid.test 'dmarc=fail (p=quarantine) header.from=quarantine.dmarc.test'
check twofrom.signed $GOOD alice@valid.test 'dmarc=permerror (2 From headers)'
check timeout $BAD alice@valid.test 'refused: 451 4.4.3 the DMARC policy of timeout.test could not be looked up, try again later'
grep -q 'dmarc=fail:valid.test:mark' "$log" || world_fail "no mark log item"

# dmarc judges what spf and dkim recorded before it: another order is refused.
for order in "dmarc spf dkim" "spf dmarc dkim" "dmarc"; do
    sed "s/^plugins = spf dkim dmarc\$/plugins = $order/" "$WORLD_DIR/mailward/milter.conf" >"$T/order.conf"
    grep -q "^plugins = $order\$" "$T/order.conf" || world_fail "no plugins line to change"
    out=$("$top_builddir/milter/mailward-milter" -n -c "$T/order.conf" 2>&1) &&
        world_fail "plugins = $order accepted"
    echo "$out" | grep -Eq 'list (spf|dkim) before dmarc|dmarc needs spf or dkim before it' ||
        world_fail "plugins = $order: $out"
    echo "ok: plugins = $order refused: $(echo "$out" | grep dmarc | head -n 1)"
done

# An unreadable public suffix list is a configuration error.
{ cat "$WORLD_DIR/mailward/milter.conf" && echo "public_suffix_list = $T/nonexistent.dat"; } >"$T/psl.conf"
out=$("$top_builddir/milter/mailward-milter" -n -c "$T/psl.conf" 2>&1) && world_fail "a missing PSL accepted"
echo "$out" | grep -q "public_suffix_list (.*psl.conf:[0-9]*): $T/nonexistent.dat: No such file" ||
    world_fail "missing PSL: $out"
echo "ok: missing PSL refused: $(echo "$out" | grep public_suffix_list | head -n 1)"

# verify = no, by a reload: the plugin stays silent.
echo "verify = no" >>"$WORLD_DIR/mailward/milter.conf"
sed -i '/^verify = yes$/d' "$WORLD_DIR/mailward/milter.conf"
kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
i=0
until [ "$(grep -c 'reload: configuration .* in use' "$log")" -ge 2 ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && world_fail "the milter did not reload"
    sleep 0.1
done
out=$(run forged $BAD alice@valid.test)
case $out in *dmarc=* | refused:*) world_fail "verify = no still judges: $out" ;; esac
echo "ok: verify = no: $out"

# Outbound mail (from internal_hosts) is not judged.
out=$(run forged 127.0.0.1 alice@valid.test)
case $out in *dmarc=* | refused:*) world_fail "outbound mail judged: $out" ;; esac
echo "ok: outbound not judged: $out"

world_stop_daemons
exit 0
