#!/bin/sh
# cache.sh - "mailwardctl cache show|flush DOMAIN" against the world's Redis: what
# mailward-policyd cached about a domain (MTA-STS policy, DANE verdicts) is shown, in
# text and JSON, and flushed; the memory backend and an unreachable Redis are errors
# that say so, never an empty answer.
set -u
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/mta-sts/lib.sh"
world_up
CTL=$top_builddir/ctl/mailwardctl
STS_PLUGINS="dane mta-sts" sts_start_policyd </dev/null
CONF=$WORLD_DIR/mailward/policyd.conf
sts_expect enforce.sts.test "OK secure match=mx.valid.test servername=hostname"
sts_expect valid.test "OK dane-only"
ctl() { world_exec "$CTL" -c "$CONF" "$@"; }

out=$(ctl cache show enforce.sts.test) || world_fail "cache show failed: $out"
echo "$out" | grep -q '^mta-sts:enforce.sts.test$' || world_fail "no mta-sts entry shown: $out"
echo "$out" | grep -q '^    mw-sts1 policy ' || world_fail "the policy entry is not shown: $out"
echo "$out" | grep -q '^    mode: enforce' || world_fail "the cached policy body is not shown: $out"
echo "ok: show enforce.sts.test"
ctl --json cache show VALID.test. >"$WORLD_DIR/c.json" || world_fail "cache show --json failed"
/usr/bin/python3 - "$WORLD_DIR/c.json" <<'PY' || world_fail "JSON: $(cat "$WORLD_DIR/c.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["domain"] == "valid.test", d
assert "dane:valid.test" in d["entries"], d
PY
echo "ok: show --json (name lower-cased, trailing dot dropped)"

out=$(ctl cache flush enforce.sts.test) || world_fail "flush failed: $out"
echo "$out" | grep -q '^deleted mta-sts:enforce.sts.test$' || world_fail "flush said: $out"
[ -z "$(sts_redis --scan --pattern '*mta-sts:enforce.sts.test')" ] || world_fail "the key is still in Redis"
out=$(ctl cache show enforce.sts.test)
[ "$out" = "nothing cached for enforce.sts.test" ] || world_fail "after flush: $out"
echo "ok: flush deletes from Redis"

ctl cache show 'bad..name' >/dev/null 2>&1
[ $? = 65 ] || world_fail "a bad name is not refused with 65"
sed 's/^backend = redis$/backend = memory/' "$CONF" >"$WORLD_DIR/mem.conf"
world_exec "$CTL" -c "$WORLD_DIR/mem.conf" cache show valid.test 2>"$WORLD_DIR/err"
[ $? = 69 ] || world_fail "memory backend: not 69"
grep -q 'backend = memory' "$WORLD_DIR/err" || world_fail "memory backend: $(cat "$WORLD_DIR/err")"
sed 's/^redis = .*/redis = 127.0.0.1:1/' "$CONF" >"$WORLD_DIR/down.conf"
world_exec "$CTL" -c "$WORLD_DIR/down.conf" cache show valid.test >/dev/null 2>"$WORLD_DIR/err"
[ $? = 69 ] || world_fail "Redis down: not 69 ($(cat "$WORLD_DIR/err"))"
grep -q 'did not answer' "$WORLD_DIR/err" || world_fail "Redis down: $(cat "$WORLD_DIR/err")"
echo "ok: memory backend and unreachable Redis are errors that say so"
world_stop_daemons
exit 0
