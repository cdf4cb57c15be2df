#!/bin/sh
# tests/ctl/check.sh - mailwardctl check DOMAIN in the test world: the world's
# resolver (DNSSEC with its trust anchor), its MTA-STS policy hosts (test CA)
# and zones. valid.test (DANE, SPF, DMARC p=reject, DKIM rsa/ed25519/revoked),
# dane-bad.test (TLSA usable but not matching the MX's certificate: a warning), bogus.test
# (every lookup bogus), sts.test policies (good, wrong-name certificate,
# redirect, testing, two TXT records, an MX that matches no pattern), SPF
# errors (two records, a bad term), DMARC (organizational fallback, p=none,
# a broken record); --json parsed by Python, exit codes, the text form.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/world/lib.sh"
world_up
conf=$WORLD_DIR/mailward/ctl.conf
cat >"$conf" <<CONF
[general]
user =
plugin_dir = $top_builddir/plugins/.libs
[dns]
forwarders = $WORLD_RESOLVER
trust_anchor_file = $WORLD_ANCHORS
timeout_ms = 3000
[mta-sts]
ca_file = $WORLD_CA
timeout = 5
CONF
out=$WORLD_DIR/mailward/check.out
err=$WORLD_DIR/mailward/check.err
pass=0

# run WANT-RC ARGS...: mailwardctl inside the world, its exit status asserted.
run() {
    local want=$1 rc
    shift
    world_exec "$top_builddir/ctl/mailwardctl" -c "$conf" "$@" >"$out" 2>"$err"
    rc=$?
    if [ "$rc" != "$want" ]; then
        cat "$out" "$err" >&2
        world_fail "mailwardctl $* exited $rc, want $want"
    fi
    if grep -q 'Sanitizer\|runtime error' "$err"; then
        cat "$err" >&2
        world_fail "mailwardctl $*: sanitizer report"
    fi
    pass=$((pass + 1))
}
# json WANT-RC DOMAIN [ARGS...] <<PY: --json check, then the Python assertions on d (the
# document) and i (its items).
json() {
    local want=$1
    shift
    run "$want" --json check "$@"
    /usr/bin/python3 -c "
import json, sys
d = json.load(open('$out'))
i = d['items']
exec(sys.stdin.read())
" || { cat "$out" >&2; world_fail "check $*: JSON assertions"; }
}

json 0 valid.test --selector rsa <<'PY'
assert d['domain'] == 'valid.test' and d['failed'] is False, d
assert i['dane']['verdict'] == 'ok', i['dane']
assert i['dane']['details']['mx dnssec'] == 'secure'
assert i['dane']['details']['mx'] == '10 mx.valid.test'
assert 'TLSA secure' in i['dane']['details']['host mx.valid.test']
assert '3 1 1 usable' in i['dane']['details']['host mx.valid.test']
assert i['dane']['details']['verdict'].startswith('all ')
assert 'matches 1 of 1 end-entity' in i['dane']['details']['certificate mx.valid.test'], i['dane']
assert i['spf']['verdict'] == 'ok' and i['spf']['details']['record'] == 'v=spf1 ip4:127.0.0.0/8 -all'
assert i['dmarc']['verdict'] == 'ok' and i['dmarc']['details']['p'] == 'reject'
assert i['dmarc']['details']['adkim'] == 's' and i['dmarc']['details']['pct'] == '100'
assert i['dkim']['verdict'] == 'ok' and i['dkim']['details']['key'] == 'rsa 2048 bits', i['dkim']
assert i['mta-sts']['verdict'] == 'none', i['mta-sts']
assert list(i) == ['mta-sts', 'dane', 'spf', 'dmarc', 'dkim']
PY
json 0 valid.test --selector ed <<'PY'
assert i['dkim']['verdict'] == 'ok' and i['dkim']['details']['key'] == 'ed25519 256 bits', i['dkim']
PY
json 1 valid.test --selector revoked <<'PY'
assert d['failed'] is True
assert i['dkim']['verdict'] == 'fail' and i['dkim']['details']['key'] == 'revoked', i['dkim']
assert [k for k in i if i[k]['verdict'] == 'fail'] == ['dkim']
PY
json 1 valid.test --selector nokey <<'PY'
assert i['dkim']['verdict'] == 'fail' and 'no key record at nokey._domainkey.valid.test' in i['dkim']['summary']
PY
# Without --selector there is no DKIM item.
json 0 valid.test <<'PY'
assert 'dkim' not in i
PY
json 0 dane-bad.test <<'PY'
# The TLSA record is usable but does not match the certificate the MX serves: a warning.
assert i['dane']['verdict'] == 'warn', i['dane']
assert '3 1 1 usable' in i['dane']['details']['host mx.dane-bad.test']
assert 'matches none of 1' in i['dane']['details']['certificate mx.dane-bad.test'], i['dane']
assert 'do not match the certificate' in i['dane']['summary'], i['dane']
assert i['dmarc']['verdict'] == 'none'
PY
json 1 bogus.test <<'PY'
assert i['dane']['verdict'] == 'fail' and i['dane']['details']['mx dnssec'] == 'bogus', i['dane']
assert 'DNSSEC validation' in i['dane']['summary']
assert i['dane']['details']['bogus.test MX'].startswith('DNSSEC bogus ('), i['dane']
assert i['spf']['verdict'] == 'fail' and 'DNSSEC bogus' in i['spf']['summary'], i['spf']
assert i['mta-sts']['verdict'] == 'fail' and i['dmarc']['verdict'] == 'fail'
PY

# MTA-STS
json 0 enforce.sts.test <<'PY'
s = i['mta-sts']
assert s['verdict'] == 'ok', s
assert s['details']['id'] == 'world1' and s['details']['mode'] == 'enforce', s
assert s['details']['mx patterns'] == 'mx.valid.test'
assert s['details']['mx hosts'] == 'mx.valid.test (matches)'
assert s['details']['certificate'].startswith('verified')
assert 'HTTP 200, text/plain' in s['details']['fetch']
assert i['dane']['verdict'] == 'none' and i['spf']['verdict'] == 'none'
PY
json 0 wildcard.sts.test <<'PY'
assert i['mta-sts']['verdict'] == 'ok' and i['mta-sts']['details']['mx patterns'] == '*.valid.test'
PY
json 1 badcert.sts.test <<'PY'
s = i['mta-sts']
assert s['verdict'] == 'fail' and 'policy fetch' in s['summary'], s
assert 'mta-sts.badcert.sts.test' in s['summary'] and 'subject name' in s['summary'], s
assert 'mode' not in s['details']
PY
json 1 redirect.sts.test <<'PY'
assert i['mta-sts']['verdict'] == 'fail' and 'HTTP status 301' in i['mta-sts']['summary']
PY
json 0 testing.sts.test <<'PY'
assert i['mta-sts']['verdict'] == 'warn' and 'testing' in i['mta-sts']['summary']
PY
json 1 notfound.sts.test <<'PY'
assert i['mta-sts']['summary'].endswith('mta-sts.txt: HTTP status 404'), i['mta-sts']
PY
json 1 twotxt.sts.test <<'PY'
assert i['mta-sts']['verdict'] == 'fail' and '2 v=STSv1 records' in i['mta-sts']['summary']
PY
# An MX host the policy does not name: fail with enforce, warn with testing.
ub() { world_exec unbound-control -c "$WORLD_DIR/dns/unbound.conf" "$@" >/dev/null; }
ub local_data 'wrongmx.sts.test 1 IN MX 10 mx.valid.test' || world_fail "unbound-control"
ub local_data 'testing.sts.test 1 IN MX 10 mx.plain.test' || world_fail "unbound-control"
json 1 wrongmx.sts.test <<'PY'
s = i['mta-sts']
assert s['verdict'] == 'fail', s
assert s['summary'] == 'MX host mx.valid.test matches no mx pattern of the policy', s
assert s['details']['mx hosts'] == 'mx.valid.test (NO MATCH)'
PY
json 0 testing.sts.test <<'PY'
s = i['mta-sts']
assert s['verdict'] == 'warn', s
assert 'MX host mx.plain.test matches no mx pattern of the policy' in s['notes'], s
assert 'mode testing: senders report failures but deliver anyway' in s['notes'], s
PY
ub local_data_remove wrongmx.sts.test
ub local_data_remove testing.sts.test

# SPF errors
json 1 twice.spf.test <<'PY'
assert i['spf']['verdict'] == 'fail' and '2 v=spf1 records' in i['spf']['summary'], i['spf']
assert i['spf']['details']['record (another)'] in ('v=spf1 -all', 'v=spf1 +all')
PY
json 1 perm.spf.test <<'PY'
assert i['spf']['verdict'] == 'fail' and '"frob:x"' in i['spf']['summary'], i['spf']
PY
json 0 neutral.spf.test <<'PY'
assert i['spf']['verdict'] == 'warn' and '?all' in i['spf']['summary'], i['spf']
PY
json 0 incl.spf.test <<'PY'
assert i['spf']['verdict'] == 'ok' and i['spf']['details']['dns lookups'].startswith('1 '), i['spf']
PY

# DMARC: the organizational domain's sp=, its own p=none, a broken record
json 0 news.dmarc.test <<'PY'
m = i['dmarc']
assert m['verdict'] == 'ok' and m['summary'] == 'policy reject', m
assert m['details']['found at'] == '_dmarc.dmarc.test' and m['details']['organizational domain'] == 'dmarc.test'
PY
json 0 dmarc.test <<'PY'
assert i['dmarc']['verdict'] == 'warn' and i['dmarc']['details']['p'] == 'none', i['dmarc']
PY
json 1 bad.dmarc.test <<'PY'
assert i['dmarc']['verdict'] == 'fail', i['dmarc']
PY

# The text form: one section per item with its verdict.
run 0 check valid.test --selector rsa
grep -q '^check valid.test$' "$out" || world_fail "text: header"
grep -q '^dane     ok    every MX host has usable TLSA records' "$out" || world_fail "text: dane"
grep -q '^dmarc    ok    policy reject$' "$out" || world_fail "text: dmarc"
grep -q '^    key: rsa 2048 bits$' "$out" || world_fail "text: dkim key"
run 1 check badcert.sts.test
grep -q '^mta-sts  fail  policy fetch: ' "$out" || world_fail "text: badcert"

# Usage and configuration errors.
run 64 check
run 64 check 'bad domain'
run 64 check valid.test --selector 'a b'
run 64 check valid.test extra
run 78 -c "$WORLD_DIR/nonexistent.conf" check valid.test
echo "PASS: $pass mailwardctl runs"
