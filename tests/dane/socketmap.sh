#!/bin/sh
# socketmap.sh - the dane plugin in the real mailward-policyd, asked over the socketmap
# about the test world's zones (DNSSEC-validated through the world's resolver), then
# with tls-rules before and after it in the chain:
#   - one answer per kind of zone: DANE with matching and with mismatching TLSA
#     (dane-only: the certificate check is Postfix's), expired signatures (TEMP),
#     unsigned (NOTFOUND), time-outs and refusals (TEMP), no MX (the domain itself is
#     the host), an MX that is a CNAME (TLSA at the target), partial DANE ("dane"),
#     parent-domain keys (NOTFOUND);
#   - a burst of questions for one domain shares one DNS walk; verdicts live in Redis
#     and a second daemon answers from there; the last DANE verdict answers for a
#     domain whose DNS fails (stale);
#   - tls-rules: default_level = encrypt keeps dane-only for DANE domains, rules marked
#     override win only from before dane, partial DANE under forced TLS is dane-only.
. "$top_srcdir/tests/world/lib.sh"
world_up
PORT=${WORLD_SOCKETMAP##*:}
LOG=$WORLD_DIR/mailward/policyd.log

# ask DOMAIN...: the answers ("STATUS text"), one per line, one pipelined connection.
ask() {
    world_exec /usr/bin/python3 - "$PORT" "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"".join(b"%d:%s," % (len(q), q) for q in (("mailward " + d).encode() for d in sys.argv[2:])))
buf = b""
for _ in sys.argv[2:]:
    while True:
        head, sep, rest = buf.partition(b":")
        if sep and len(rest) > int(head):
            print(rest[:int(head)].decode())
            buf = rest[int(head) + 1:]
            break
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
PY
}

# expect DOMAIN ANSWER: the socketmap answers DOMAIN exactly so.
expect() {
    local got
    got=$(ask "$1") || world_fail "socketmap lookup of $1 failed"
    [ "$got" = "$2" ] || world_fail "$1: got [$got], want [$2]"
    echo "ok: $1 -> $2"
}

# mx_lookups DOMAIN: how many MX lookups of DOMAIN the daemon logged.
mx_lookups() {
    grep -c "debug: dane: $1: $1 type 15:" "$LOG"
}

redis() {
    world_exec redis-cli -h "${WORLD_REDIS%:*}" -p "${WORLD_REDIS##*:}" "$@"
}

world_start_policyd dane <<'CONF'
[general]
debug = yes
CONF

# A burst for one domain (different spellings of it, pipelined) shares one walk.
out=$(ask dane-bad.test dane-bad.test Dane-Bad.TEST. dane-bad.test dane-bad.test)
[ "$(echo "$out" | sort -u)" = "OK dane-only" ] || world_fail "burst: [$out]"
[ "$(mx_lookups dane-bad.test)" = 1 ] || world_fail "burst: $(mx_lookups dane-bad.test) MX lookups, want 1"
echo "ok: 5 questions for dane-bad.test, 1 DNS walk"

expect valid.test "OK dane-only"
expect dane-bad.test "OK dane-only"
expect bogus.test "TEMP DANE: DNSSEC validation of the MX records of bogus.test failed"
expect plain.test "NOTFOUND "
expect notls.test "NOTFOUND "
expect nosuch.valid.test "NOTFOUND "
expect timeout.test "TEMP DANE: MX lookup for timeout.test failed (timeout)"
expect refused.test "TEMP DANE: MX lookup for refused.test failed (server failure)"
expect mx.valid.test "OK dane-only"        # no MX records: the domain itself is the host
expect cname.valid.test "OK dane-only"     # MX -> alias CNAME mx: TLSA at the target
expect mixed.valid.test "OK dane"          # one MX host with TLSA, one without
expect .valid.test "NOTFOUND "             # parent-domain key: no DNS at all
grep -q 'debug: dane: cname.valid.test: _25._tcp.mx.valid.test type 52: OK, secure' "$LOG" ||
    world_fail "cname.valid.test: no TLSA lookup at the CNAME target"
grep -q 'dane: bogus.test: bogus.test type 15 is bogus: .*signature expired' "$LOG" ||
    world_fail "the bogus answer's reason was not logged"

# Postfix's own socketmap client gets the same, from the cache.
ans=$(world_socketmap valid.test) || world_fail "postmap -q valid.test failed"
[ "$ans" = dane-only ] || world_fail "postmap: got [$ans]"
[ "$(mx_lookups valid.test)" = 1 ] || world_fail "valid.test looked up $(mx_lookups valid.test) times"
echo "ok: postmap -q valid.test -> dane-only"

# Verdicts are in Redis: the class, the zone's TTL (300 s, within min_ttl..max_ttl), and
# the last DANE verdict for a day; none for failures.
v=$(redis GET mailward:dane:valid.test)
case "$v" in "all usable TLSA records at 1 MX host") ;; *) world_fail "redis dane:valid.test = [$v]" ;; esac
ttl=$(redis TTL mailward:dane:valid.test)
[ "$ttl" -gt 200 ] && [ "$ttl" -le 300 ] || world_fail "redis dane:valid.test ttl $ttl"
ttl=$(redis TTL mailward:dane-last:valid.test)
[ "$ttl" -gt 86000 ] || world_fail "redis dane-last:valid.test ttl $ttl"
[ "$(redis GET mailward:dane:plain.test)" = "none the MX records of plain.test are not DNSSEC-signed" ] ||
    world_fail "redis dane:plain.test = [$(redis GET mailward:dane:plain.test)]"
[ "$(redis EXISTS mailward:dane:bogus.test)" = 0 ] || world_fail "a failure was cached"
[ "$(redis EXISTS mailward:dane-last:plain.test)" = 0 ] || world_fail "a non-DANE verdict kept as last"
echo "ok: verdicts cached in Redis with their TTLs"

# Counted in the metrics.
n=$(world_exec curl -sf http://127.0.0.1:9470/metrics |
    awk '$1 == "mailward_dane_verdicts_total{verdict=\"all\"}" { print $2 }')
[ "${n:-0}" -ge 4 ] || world_fail "metrics: all verdicts counted: [$n]"
world_stop_daemons

# A second daemon (empty memory) answers from Redis without DNS; a domain whose DNS now
# fails gets its last DANE verdict (here planted for bogus.test) instead of TEMP.
redis SET mailward:dane-last:bogus.test "all planted by the test" EX 600 >/dev/null
: >"$LOG"
world_start_policyd dane <<'CONF'
[general]
debug = yes
CONF
expect valid.test "OK dane-only"
[ "$(mx_lookups valid.test)" = 0 ] || world_fail "valid.test was looked up again, not read from Redis"
grep -q "dane: valid.test: cached all" "$LOG" || world_fail "no cache hit logged"
expect bogus.test "OK dane-only"
grep -q "warning: dane: bogus.test: DNSSEC validation of the MX records of bogus.test failed: answering the last verdict (all: planted by the test)" "$LOG" ||
    world_fail "the stale answer was not logged"
redis DEL mailward:dane-last:bogus.test >/dev/null
world_stop_daemons

# tls-rules after dane (the default order): default_level = encrypt keeps DANE; a rule
# marked override cannot win from there, and the daemon says so; "dane" level.
cat >"$WORLD_DIR/mailward/tls-rules" <<'RULES'
valid.test override encrypt
plain.test verify
.sub.plain.test may
RULES
: >"$LOG"
world_start_policyd "dane tls-rules" <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
default_level = encrypt
[dane]
level = dane
CONF
grep -q 'rules marked "override", but \[policyd\] plugins asks dane first' "$LOG" ||
    world_fail "no warning about override rules behind dane"
expect valid.test "OK dane"            # level = dane; the override rule is behind dane
expect dane-bad.test "OK dane"
expect plain.test "OK verify"          # a rule, no published policy
expect notls.test "OK encrypt"         # default_level
expect x.sub.plain.test "OK may"
expect .plain.test "NOTFOUND "         # default_level is not for parent keys
expect mixed.valid.test "OK dane"      # dane cannot see a rule behind it
expect bogus.test "TEMP DANE: DNSSEC validation of the MX records of bogus.test failed"
world_stop_daemons

# tls-rules first: override wins, other rules and default_level are fallbacks that dane
# and the rest of the chain may beat, and forced TLS makes partial DANE dane-only.
: >"$LOG"
world_start_policyd "tls-rules dane" <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
default_level = encrypt
CONF
! grep -q 'rules marked "override"' "$LOG" || world_fail "override warning with tls-rules first"
expect valid.test "OK encrypt"         # override
expect dane-bad.test "OK dane-only"    # fallback encrypt, DANE wins
expect mixed.valid.test "OK dane-only" # partial DANE under forced TLS
expect cname.valid.test "OK dane-only"
expect plain.test "OK verify"
expect notls.test "OK encrypt"
expect bogus.test "TEMP DANE: DNSSEC validation of the MX records of bogus.test failed"
world_stop_daemons

# SIGTERM while walks are in flight (a time-out zone, fresh names) and drain_timeout 0:
# the cache and the resolver answer the pending work before the plugin goes, and the
# daemon exits 0 with a clean (sanitizer) log.
: >"$LOG"
world_start_policyd "dane tls-rules" <<'CONF'
[policyd]
drain_timeout = 0
CONF
world_exec /usr/bin/python3 - "$PORT" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"".join(b"%d:%s," % (len(q), q) for q in
                   (b"mailward timeout.test", b"mailward a.timeout.test", b"mailward x1.valid.test",
                    b"mailward x2.valid.test", b"mailward mixed.valid.test")))
time.sleep(5)
PY
asker=$!
sleep 0.5 # the answers for timeout.test are 3 s away
world_stop_daemons
kill "$asker" 2>/dev/null
wait "$asker" 2>/dev/null
grep -q 'drain_timeout: .* still waiting for answers: exiting' "$LOG" ||
    world_fail "the daemon did not exit with lookups in flight"
sed -n '/mailward-policyd stopped/,$p' "$LOG" | grep -q 'dane: timeout.test: MX lookup for timeout.test failed' ||
    world_fail "the pending walk was not ended by closing the resolver"
! grep -q 'still in progress at exit' "$LOG" || world_fail "a walk outlived the resolver"
echo "ok: SIGTERM with DNS walks in flight: clean exit"
echo "PASS: dane socketmap answers"
